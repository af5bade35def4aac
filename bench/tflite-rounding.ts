/**
 * Where `--rounding double` (TFLite's reference kernels, TFLite Micro) departs from the TFLite
 * interpreter, op by op, on the four MLPerf Tiny .tflite models.
 *
 * The interpreter exposes only the model's outputs, so the op-by-op comparison uses the `float`
 * blob in its place: `float` equals the interpreter on every output byte of these models
 * (test/graph/tflite-exact.test.ts). Both blobs run in the tapped runtime (tools/blob/op-tap.ts
 * compareOps) on the same seeded int8 inputs, and every op's outputs are compared twice: chained
 * (each blob on its own: a 1-LSB requantization difference feeds the next layer and grows) and
 * with each op of the double blob reading the float blob's inputs (the op's own arithmetic alone).
 *
 *   npx tsx bench/tflite-rounding.ts [--inputs N]       (default 20 inputs per model)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTflite, type TfliteModel } from '../tools/readers/tflite/read.ts';
import { buildTfliteGraph } from '../tools/graph/build-tflite.ts';
import { convertGraph } from '../tools/pipeline.ts';
import { compareOps, type OpDiff } from '../tools/blob/op-tap.ts';
import { rng } from '../tools/quantize/calibrate.ts';
import { packageFile } from '../tools/package-root.ts';

const DIR = join(import.meta.dirname, '../../shared/fixtures/tflite');
const MODELS = ['ad01_int8', 'kws_ref_model', 'vww_96_int8', 'pretrainedResnet_quant'];

function inputsFor(m: TfliteModel, seed: number, n: number): Int8Array[] {
  const next = rng(seed);
  const size = m.tensors[m.inputs[0]].shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => Int8Array.from({ length: size }, () => Math.floor(next() * 256) - 128));
}

const worst = (ds: OpDiff[]) => ds.reduce((a, d) => (d.maxLsb > a.maxLsb ? d : a), ds[0]);

async function main() {
  const i = process.argv.indexOf('--inputs');
  const n = i < 0 ? 20 : Number(process.argv[i + 1]);
  for (const [k, name] of MODELS.entries()) {
    const file = `${name}.tflite`;
    const m = readTflite(file, new Uint8Array(readFileSync(join(DIR, file))));
    const [d, f] = await Promise.all((['double', 'float'] as const).map((rounding) => convertGraph(buildTfliteGraph(m), { rounding })));
    const xs = inputsFor(m, 0x16_00 + k, n).map((x) => [x]);
    const { chained, forced } = await compareOps(d.blob, f.blob, packageFile('build', 'runtime-flash.wasm'), xs);
    console.log(`\n${name} (${n} inputs): double against float (= the interpreter), per op: chained | each op on float's inputs`);
    const pct = (x: OpDiff) => ((100 * x.differ) / x.total).toFixed(2).padStart(6);
    for (const [j, c] of chained.entries())
      console.log(
        `  ${String(j).padStart(3)} ${c.op.padEnd(17)} ${String(c.maxLsb).padStart(3)} LSB ${pct(c)}% | ${String(forced[j].maxLsb).padStart(2)} LSB ${pct(forced[j])}%  ${c.layer}`,
      );
    const sm = chained.findIndex((x) => x.op.startsWith('SOFTMAX'));
    const wf = worst(forced);
    console.log(
      `  summary: chained: ${sm > 0 ? `${chained[sm - 1].maxLsb} LSB before the softmax, ` : ''}${chained.at(-1)!.maxLsb} LSB at the outputs; each op on the same inputs: at most ${wf.maxLsb} LSB (${wf.op} ${wf.layer})`,
    );
  }
}

await main();
