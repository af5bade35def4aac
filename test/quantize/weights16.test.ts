/**
 * int16 weights (convert --weight-precision int16, DENSE layout 3, CONV2D layout 2): the
 * per-channel int16 quantisation and int64 bias, and two models of the benchmark (bench/models.ts,
 * trained here with TensorFlow.js and cached under build/bench-models/) converted with int16
 * activations and int16 weights: the Dense autoencoder `ad` and the Conv1D classifier `cnn`. Their
 * outputs against tfjs predict must reach 60 dB SQNR (ad with int8 weights stops near the 53 dB
 * their rounding allows), the runtime equals the integer reference bit for bit, weights streamed
 * from flash (split into staging tiles) give the same bytes as the blob copied in, and verify
 * counts the larger blob in flash.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureModel, loadTfjs, readNpy, type BenchModelFiles } from '../../bench/models.ts';
import { bias64, hasW16, quantizeWeights16, w16ExtraBytes } from '../../tools/quantize/weights16.ts';
import { readModel } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import { convertGraph, rawInputs, uniformPrecision, type ConvertResult } from '../../tools/pipeline.ts';
import { calibrationTensors } from '../../tools/cli/convert.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { verify } from '../../tools/cli/verify-checks.ts';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { initTf, sqnr, tf } from '../helpers/tfjs-train.ts';

describe('per-channel int16 weights and the int64 bias', () => {
  it('the largest |w| of a channel maps to 32767, every weight within half a step, the bias saturates at 2^46', () => {
    const w = Float32Array.from([0.5, -0.25, 0.125, 0, -3, 1.5, 0.001, 2.9999]);
    const { q, scales } = quantizeWeights16(w, 2);
    expect(Array.from(q.slice(0, 4))).toEqual([32767, -16384, 8192, 0]);
    expect(q[4]).toBe(-32767);
    for (let i = 0; i < w.length; i++) expect(Math.abs(q[i] * scales[i >> 2] - w[i])).toBeLessThanOrEqual(scales[i >> 2] / 2 + 1e-12);
    // an all-zero channel keeps scale 1 and zero weights
    expect(Array.from(quantizeWeights16(new Float32Array(3), 1).q)).toEqual([0, 0, 0]);
    const b = bias64([1, -1e12, 1e12], Float64Array.from([1e-3, 1e-3, 1e-3]), 1e-3);
    expect(Array.from(b)).toEqual([1000000n, -(2n ** 46n), 2n ** 46n]);
    expect(Array.from(bias64(null, Float64Array.from([1, 2]), 1))).toEqual([0n, 0n]);
  });
});

const runRaw = (blob: Uint8Array, inputs: Uint8Array[]) =>
  runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice());

const CASES: { name: string; ops: Record<string, number>; int8Below?: number }[] = [
  { name: 'ad', ops: { DENSE: 10 }, int8Below: 60 },
  { name: 'cnn', ops: { CONV2D: 3, DENSE: 2 } },
];

describe.each(CASES)('$name with int16 activations and int16 weights', ({ name, ops, int8Below }) => {
  let f: BenchModelFiles;
  let floatOut: Float32Array;
  beforeAll(async () => {
    await initTf();
    f = await ensureModel(name);
    const test = readNpy(f.test);
    const m = await loadTfjs(f.modelJson);
    floatOut = Float32Array.from((m.predict(tf.tensor(test.data, test.shape)) as tf.Tensor).dataSync() as Float32Array);
  }, 600_000);

  async function convert(weightPrecision: 'int8' | 'int16', weights: 'ram' | 'flash'): Promise<ConvertResult> {
    const graph = await buildGraph(await readModel(f.modelJson), { batch: 1 });
    const calibration = calibrationTensors(graph, [f.calibration]);
    return convertGraph(graph, { batch: 1, calibration, weights, weightPrecision, precision: uniformPrecision(graph, 'int16'), runRaw });
  }

  /** raw int16 outputs of every test sample in the runtime (copy-in or streaming build) */
  async function run(r: ConvertResult, weights: 'ram' | 'flash'): Promise<{ raw: Int16Array[]; deq: Float32Array }> {
    const test = readNpy(f.test);
    const N = test.shape[0];
    const per = test.data.length / N;
    const sim = await DeviceSim.load(undefined, { weights });
    sim.initOrThrow(r.blob);
    expect(sim.selfTest()).toBe(0);
    const o = sim.model!.io.outputs[0];
    const raw: Int16Array[] = [];
    const deq: number[] = [];
    for (let i = 0; i < N; i++) {
      const x = rawInputs(r.lowered, [{ data: test.data.slice(i * per, (i + 1) * per), shape: [1, ...test.shape.slice(1)] }], 1);
      const y = sim.run([new Int16Array(x[0].buffer.slice(x[0].byteOffset, x[0].byteOffset + x[0].byteLength))])[0] as Int16Array;
      expect(y).toBeInstanceOf(Int16Array);
      if (i < 8) expect(Array.from(y), `sample ${i}: runtime == reference`).toEqual(Array.from(runBlobReference(r.blob, x)[0]));
      raw.push(Int16Array.from(y));
      for (const v of y) deq.push((v - o.zeroPoint) * o.scale);
    }
    return { raw, deq: Float32Array.from(deq) };
  }

  it('reaches 60 dB SQNR against tfjs, bit-exact, streamed == copied in, the flash cost in notes and verify', async () => {
    const w8 = await convert('int8', 'ram');
    const w16 = await convert('int16', 'ram');
    const wide = w16.lowered.ops.filter(hasW16);
    for (const [op, n] of Object.entries(ops)) expect(wide.filter((o) => o.name === op).length, op).toBe(n);
    const db8 = sqnr(floatOut, (await run(w8, 'ram')).deq);
    const ram = await run(w16, 'ram');
    const db16 = sqnr(floatOut, ram.deq);
    console.log(`${name} int16 activations: int8 weights ${db8.toFixed(1)} dB, int16 weights ${db16.toFixed(1)} dB`);
    expect(db16).toBeGreaterThanOrEqual(60);
    if (int8Below) expect(db8).toBeLessThan(int8Below);
    // the flash the notes state is the constants' growth
    const extra = wide.reduce((a, o) => {
      const p = o.params as Record<string, number>;
      return a + (o.name === 'DENSE' ? w16ExtraBytes(p.inDim, p.outDim) : w16ExtraBytes(p.kH * p.kW * p.inC, p.outC));
    }, 0);
    expect(w16.notes.join('\n')).toContain(`+${(extra / 1024).toFixed(1)} KiB of flash`);
    expect(w16.constBytes - w8.constBytes).toBeGreaterThanOrEqual(extra);
    // streamed from flash (the staging area holds one tile of an op's constants at a time): same bytes out
    const flash = await convert('int16', 'flash');
    const streamed = await run(flash, 'flash');
    expect(streamed.raw.map((y) => Array.from(y))).toEqual(ram.raw.map((y) => Array.from(y)));
    // verify's flash budget holds the larger blob
    const mem = async (r: ConvertResult) =>
      (await verify({ blobFile: `${name}.blob`, blobBytes: r.blob })).checks.find((c) => c.name === 'memory')!.figures as any;
    const [m8, m16] = [await mem(w8), await mem(w16)];
    expect(m16.flash.total - m8.flash.total).toBeGreaterThanOrEqual(extra);
  }, 600_000);
});

describe('ad: the Dense layers streamed in staging tiles', () => {
  it('split into tiles of 4-channel multiples with 2-byte weights and 8-byte biases, the same bytes out as copied in', async () => {
    await initTf();
    const f = await ensureModel('ad');
    const graph = await buildGraph(await readModel(f.modelJson), { batch: 1 });
    const calibration = calibrationTensors(graph, [f.calibration]);
    const base = { batch: 1, calibration, weightPrecision: 'int16' as const, precision: uniformPrecision(graph, 'int16'), runRaw };
    const ram = await convertGraph(graph, { ...base, weights: 'ram' });
    const flash = await convertGraph(graph, { ...base, weights: 'flash', staging: 6000 });
    const tiles = flash.lowered.ops.filter((o) => o.name === 'DENSE' && / \(tile \d+\)$/.test(o.layer));
    expect(tiles.length).toBeGreaterThan(50);
    expect(tiles.every((o) => o.params.layout === 3 && (o.params.outDim as number) % 4 === 0)).toBe(true);
    const x = readNpy(f.test);
    const per = x.data.length / x.shape[0];
    const outs = await Promise.all(
      [
        [ram, 'ram'],
        [flash, 'flash'],
      ].map(async ([r, w]) => {
        const sim = await DeviceSim.load(undefined, { weights: w as 'ram' | 'flash' });
        sim.initOrThrow((r as ConvertResult).blob);
        return Array.from({ length: 4 }, (_, i) => {
          sim.setInputFloat(0, x.data.subarray(i * per, (i + 1) * per));
          expect(sim.invoke()).toBe(0);
          return Array.from(sim.getOutputRaw(0));
        });
      }),
    );
    expect(outs[1]).toEqual(outs[0]);
  }, 600_000);
});
