/**
 * Cost of a .tflite MEAN (op MEAN) beside the same global average as AVERAGE_POOL_2D (op
 * AVG_POOL2D, whose output keeps the input's quantization), on written models of MobileNet-like
 * head shapes: executed wasm instructions of the op per input element, exact counts of
 * build/runtime-flash.wasm (tools/blob/count.ts). `npx tsx bench/tflite-mean.ts` prints a table.
 */
import { join } from 'node:path';
import { readTflite } from '../tools/readers/tflite/read.ts';
import { buildTfliteGraph } from '../tools/graph/build-tflite.ts';
import { convertGraph } from '../tools/pipeline.ts';
import { CountingRuntime } from '../tools/blob/count.ts';
import { meanModel, writeTflite, type TModel } from '../test/helpers/tflite-writer.ts';
import { BuiltinOptions, Padding, Pool2DOptions } from '../tools/readers/tflite/generated/tflite-subset_generated.ts';
import { ROOT } from './models.ts';

const SHAPES: [number, number, number][] = [
  [3, 3, 256],
  [6, 6, 128],
  [7, 7, 1024],
];

/** The MEAN model turned into one AVERAGE_POOL_2D over the whole H x W (output at the input's quantization). */
function avgPoolModel(m: TModel, H: number, W: number): TModel {
  const t = m.tensors.map((x) => ({ ...x }));
  t[2] = { ...t[2], shape: [1, 1, 1, t[0].shape[3]], scale: t[0].scale, zeroPoint: t[0].zeroPoint };
  const pool = (b: Parameters<NonNullable<TModel['ops'][number]['options']>['build']>[0]) => Pool2DOptions.createPool2DOptions(b, Padding.VALID, W, H, W, H, 0);
  return { ...m, tensors: t, ops: [{ code: 1, version: 2, inputs: [0], outputs: [2], options: { type: BuiltinOptions.Pool2DOptions, build: pool } }] };
}

async function opCost(m: TModel, rt: CountingRuntime, elements: number): Promise<{ op: string; perElement: number }> {
  const r = await convertGraph(buildTfliteGraph(readTflite('bench.tflite', writeTflite(m))));
  const c = rt.count(rt.init(r.blob, true), [new Int8Array(elements).map((_, i) => (i * 37) % 256)]);
  const op = c.ops[0];
  return { op: op.op, perElement: op.executed / elements };
}

async function main(): Promise<void> {
  const rt = await CountingRuntime.load(join(ROOT, 'build/runtime-flash.wasm'));
  console.log('| input H x W x C | MEAN, instructions per element | AVG_POOL2D, instructions per element |');
  console.log('|---|---|---|');
  for (const [H, W, C] of SHAPES) {
    const m = meanModel({ shape: [1, H, W, C], inQ: [0.05, -3], outQ: [0.02, 4], keepDims: true });
    const mean = await opCost(m, rt, H * W * C);
    const avg = await opCost(avgPoolModel(m, H, W), rt, H * W * C);
    console.log(`| ${H} x ${W} x ${C} | ${mean.perElement.toFixed(2)} (${mean.op}) | ${avg.perElement.toFixed(2)} (${avg.op}) |`);
  }
}

main();
