/**
 * `npx tsx bench/precision.ts [model...]`: every bench model (bench/models.ts) converted with
 * int8 and with int16 activations (convert --precision int16: int8 weights, TFLite's 16x8; and with
 * --weight-precision int16: int16 Dense weights, 16x16), run on
 * its held-out test set in build/runtime.wasm (bit-exact vs the integer reference is checked),
 * compared with the float tfjs model (output SQNR; classifiers also top-1 agreement), with the
 * SQNR the model's int8 weights allow (float model with its kernels rounded to int8 per output
 * channel), arena, blob and executed wasm instructions of one inference. Writes
 * build/bench/precision.md and .json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureModel, loadTfjs, MODEL_NAMES, readNpy, ROOT, type BenchModelFiles } from './models.ts';
import { CountingRuntime } from '../tools/blob/count.ts';
import { readModel } from '../tools/readers/index.ts';
import { buildGraph } from '../tools/graph/build.ts';
import { convertGraph, rawInputs, uniformPrecision, type ConvertResult } from '../tools/pipeline.ts';
import { calibrationTensors } from '../tools/cli/convert.ts';
import { runBlobReference } from '../tools/blob/reference.ts';
import { DeviceSim } from '../firmware-host/node/host.ts';
import { dequantize } from '../tools/fixedpoint.ts';
import { tf, initTf, argmaxRows, agreement, sqnr } from '../test/helpers/tfjs-train.ts';
import type { Precision } from '../tools/quantize/qparams.ts';

const OUT = join(ROOT, 'build/bench');
const RUNTIME = join(ROOT, 'build/runtime.wasm');
/** samples also run through the (slow) integer reference */
const REF_SAMPLES = 20;

interface Row {
  model: string;
  precision: Precision;
  /** Dense and Conv weights (--weight-precision): int16 only with int16 activations */
  weightBits: 8 | 16;
  sqnrDb: number;
  top1: number | null;
  bitExact: boolean;
  arenaBytes: number;
  blobBytes: number;
  requantOps: number;
  executed: number;
}

async function convert(f: BenchModelFiles, p: Precision, weightBits: 8 | 16): Promise<ConvertResult> {
  const graph = await buildGraph(await readModel(f.modelJson), { batch: 1 });
  return convertGraph(graph, {
    batch: 1,
    weightPrecision: weightBits === 16 ? 'int16' : 'int8',
    calibration: calibrationTensors(graph, [f.calibration]),
    ...(p === 'int16' ? { precision: uniformPrecision(graph, 'int16') } : {}),
    runRaw: (blob, inputs) => runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice()),
  });
}

const typed = (conv: ConvertResult, raw: Uint8Array[]) =>
  raw.map((b, i) =>
    conv.lowered.tensors[conv.lowered.inputs[i]].dtype === 'int16'
      ? new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
      : new Int8Array(b.buffer, b.byteOffset, b.byteLength),
  );

async function measure(f: BenchModelFiles, p: Precision, weightBits: 8 | 16, floatOut: Float32Array): Promise<Row> {
  const conv = await convert(f, p, weightBits);
  const test = readNpy(f.test);
  const N = test.shape[0];
  const per = test.data.length / N;
  const sim = await DeviceSim.load(RUNTIME);
  sim.initOrThrow(conv.blob);
  if (sim.selfTest() !== 0) throw new Error(`${f.name} ${p}: self-test failed`);
  const outInfo = sim.model!.io.outputs[0];
  const ours = new Float32Array(floatOut.length);
  const outPer = floatOut.length / N;
  let bitExact = true;
  let first: ArrayBufferView[] = [];
  for (let i = 0; i < N; i++) {
    const raw = rawInputs(conv.lowered, [{ data: test.data.slice(i * per, (i + 1) * per), shape: [1, ...test.shape.slice(1)] }], 1);
    const inputs = typed(conv, raw);
    if (i === 0) first = inputs;
    const out = sim.run(inputs)[0];
    if (i < REF_SAMPLES) bitExact &&= runBlobReference(conv.blob, raw)[0].every((v, k) => v === out[k]);
    for (let k = 0; k < outPer; k++) ours[i * outPer + k] = dequantize(out[k], outInfo.scale, outInfo.zeroPoint);
  }
  const counter = await CountingRuntime.load(RUNTIME);
  const executed = counter.count(counter.init(conv.blob), first).executed;
  return {
    model: f.name,
    precision: p,
    weightBits,
    sqnrDb: sqnr(floatOut, ours),
    top1: f.task === 'classify' ? agreement(argmaxRows(floatOut, outPer), argmaxRows(ours, outPer)) : null,
    bitExact,
    arenaBytes: conv.plan.arenaSize,
    blobBytes: conv.blob.length,
    requantOps: conv.lowered.ops.filter((o) => o.name === 'REQUANT').length,
    executed,
  };
}

/** SQNR of the float model with every kernel rounded to int8 per output channel (what 16x8 can reach). */
async function weightsCeiling(f: BenchModelFiles, floatOut: Float32Array): Promise<number> {
  const m = await loadTfjs(f.modelJson);
  for (const l of m.layers) {
    const ws = l.getWeights();
    if (!ws.length) continue;
    const dw = l.getClassName().startsWith('DepthwiseConv');
    const names = l.weights.map((v) => v.name);
    l.setWeights(ws.map((w, i) => (/kernel/.test(names[i]) && w.shape.length >= 2 ? roundPerChannel(w, dw) : w)));
  }
  const test = readNpy(f.test);
  const y = m.predict(tf.tensor(test.data, test.shape)) as tf.Tensor;
  return sqnr(floatOut, y.dataSync() as Float32Array);
}

function roundPerChannel(w: tf.Tensor, depthwise: boolean): tf.Tensor {
  const d = w.dataSync() as Float32Array;
  const r = w.shape.length;
  const ch = depthwise ? w.shape[r - 2]! * w.shape[r - 1]! : w.shape[r - 1]!;
  const out = new Float32Array(d.length);
  for (let c = 0; c < ch; c++) {
    let mx = 0;
    for (let i = c; i < d.length; i += ch) mx = Math.max(mx, Math.abs(d[i]));
    const s = Math.fround(mx / 127);
    for (let i = c; i < d.length; i += ch) out[i] = s > 0 ? Math.max(-127, Math.min(127, Math.round(d[i] / s))) * s : 0;
  }
  return tf.tensor(out, w.shape);
}

async function main() {
  await initTf();
  const names = process.argv.slice(2).length ? process.argv.slice(2) : MODEL_NAMES;
  const rows: (Row & { ceilingDb: number })[] = [];
  for (const name of names) {
    const f = await ensureModel(name, (m) => process.stderr.write(`${m}\n`));
    const test = readNpy(f.test);
    const tfm = await loadTfjs(f.modelJson);
    const floatOut = Float32Array.from((tfm.predict(tf.tensor(test.data, test.shape)) as tf.Tensor).dataSync() as Float32Array);
    const ceilingDb = await weightsCeiling(f, floatOut);
    for (const [p, bits] of [
      ['int8', 8],
      ['int16', 8],
      ['int16', 16],
    ] as [Precision, 8 | 16][]) {
      const r = { ...(await measure(f, p, bits, floatOut)), ceilingDb };
      rows.push(r);
      process.stderr.write(
        `${name} ${p} w${bits}: SQNR ${r.sqnrDb.toFixed(1)} dB (int8-weights ceiling ${ceilingDb.toFixed(1)})${r.top1 !== null ? `, top-1 ${(100 * r.top1).toFixed(1)}%` : ''}\n`,
      );
    }
  }
  const md = [
    '| model | precision | Dense/Conv weights | output SQNR vs float (dB) | int8-weights ceiling (dB) | top-1 agreement | bit-exact | arena B | blob B | REQUANT ops | wasm instructions |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.precision} | int${r.weightBits} | ${r.sqnrDb.toFixed(1)} | ${r.ceilingDb.toFixed(1)} | ${r.top1 === null ? '-' : `${(100 * r.top1).toFixed(1)}%`} | ${r.bitExact ? 'yes' : 'NO'} | ${r.arenaBytes} | ${r.blobBytes} | ${r.requantOps} | ${r.executed} |`,
    ),
  ].join('\n');
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'precision.md'), md + '\n');
  writeFileSync(join(OUT, 'precision.json'), JSON.stringify(rows, null, 2));
  console.log(md);
}

await main();
