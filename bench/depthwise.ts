/**
 * DEPTHWISE_CONV2D cost on the MLPerf Tiny models that have it (vww, kws; ../shared/fixtures/tflite):
 * each converted with weights in RAM in the given rounding modes, the runtime's output checked
 * bit-exact against the integer reference (tools/blob/reference.ts) on the self-test input, then
 * executed wasm instructions per MAC of the DEPTHWISE_CONV2D ops (all, and per layer) and of the
 * whole model (tools/blob/count.ts).
 * `npx tsx bench/depthwise.ts [--wasm build/runtime.wasm] [--rounding double,single,float]`
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readModel } from '../tools/readers/index.ts';
import { buildGraph } from '../tools/graph/build.ts';
import { convertGraph } from '../tools/pipeline.ts';
import { runBlobReference } from '../tools/blob/reference.ts';
import { CountingRuntime } from '../tools/blob/count.ts';
import { ROUNDINGS, type Rounding } from '../tools/blob/spec.ts';
import { TFLITE_DIR } from './tflite.ts';

const MODELS = ['vww_96_int8.tflite', 'kws_ref_model.tflite'];

const { values } = parseArgs({ options: { wasm: { type: 'string', default: 'build/runtime.wasm' }, rounding: { type: 'string', default: 'double' } } });
const modes = values.rounding.split(',') as Rounding[];
const bad = modes.find((m) => !ROUNDINGS.includes(m));
if (bad) {
  console.error(`--rounding ${bad}: allowed ${ROUNDINGS.join(', ')}`);
  process.exit(2);
}
if (!existsSync(TFLITE_DIR)) {
  console.log(`${TFLITE_DIR} not found: nothing to measure`);
  process.exit(0);
}
const rt = await CountingRuntime.load(values.wasm);
for (const rounding of modes)
  for (const f of MODELS) {
    const g = buildGraph(await readModel(join(TFLITE_DIR, f)));
    const raw = (blob: Uint8Array, inputs: ArrayBufferView[]) =>
      runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice());
    const conv = await convertGraph(g, { weights: 'ram', rounding, runRaw: raw });
    const inputs = conv.selfTest!.inputs.map((b) => new Int8Array(b.buffer, b.byteOffset, b.byteLength));
    const want = runBlobReference(conv.blob, inputs);
    const c = rt.count(rt.init(conv.blob, false), inputs);
    if (!c.outputs.every((o, i) => o.length === want[i].length && o.every((v, k) => v === want[i][k]))) {
      console.error(`${f} (${rounding}): the runtime's output differs from the integer reference`);
      process.exit(1);
    }
    const dw = c.ops.filter((o) => o.op === 'DEPTHWISE_CONV2D');
    const sum = (xs: { executed: number; macs: number }[], k: 'executed' | 'macs') => xs.reduce((a, o) => a + o[k], 0);
    const layers = dw.map((o) => (o.executed / o.macs).toFixed(2)).join(' ');
    console.log(
      `${f} (${rounding}): model ${(c.executed / sum(c.ops, 'macs')).toFixed(3)} instr/MAC; DEPTHWISE_CONV2D ${(sum(dw, 'executed') / sum(dw, 'macs')).toFixed(2)} (${sum(dw, 'executed')} instructions); per layer ${layers}`,
    );
  }
