/**
 * The tables of .tflite LOGISTIC and TANH (tools/quantize/lut-tflite.ts) against TFLite itself:
 * a written model runs every int8 input value through both ops in the real interpreter
 * (tfjs-tflite); the `single` tables equal its outputs, and so does the converted blob (rounding
 * float, the interpreter's mode) in host simulation. The `double` tables equal TFLite's reference integer kernels as
 * transcribed in test/helpers/tflite-logistic.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { tfliteLut } from '../../tools/quantize/lut-tflite.ts';
import { readTflite } from '../../tools/readers/tflite/read.ts';
import { buildTfliteGraph } from '../../tools/graph/build-tflite.ts';
import { convertGraph } from '../../tools/pipeline.ts';
import { openSim } from '../../tools/cli/sim.ts';
import { TensorType } from '../../tools/readers/tflite/generated/tflite-subset_generated.ts';
import { loadTflite, type TfliteInterpreter } from '../helpers/tflite-interpreter.ts';
import { writeTflite, type TModel } from '../helpers/tflite-writer.ts';
import { tfliteActivationTableRef } from '../helpers/tflite-logistic.ts';

const LOGISTIC = 14;
const TANH = 28;
const SIGMOID_OUT = { scale: 1 / 256, zeroPoint: -128 };
const TANH_OUT = { scale: 1 / 128, zeroPoint: 0 };

/** x int8 [1, 256] -> LOGISTIC -> y, and x -> TANH -> z, at TFLite's fixed output quantizations. */
function model(scale: number, zeroPoint: number): TModel {
  const q = (s: number, z: number) => ({ type: TensorType.INT8, scale: [s], zeroPoint: [z] });
  return {
    tensors: [
      { name: 'x', shape: [1, 256], ...q(scale, zeroPoint) },
      { name: 'model/sigmoid/Sigmoid', shape: [1, 256], ...q(SIGMOID_OUT.scale, SIGMOID_OUT.zeroPoint) },
      { name: 'model/tanh/Tanh', shape: [1, 256], ...q(TANH_OUT.scale, TANH_OUT.zeroPoint) },
    ],
    ops: [
      { code: LOGISTIC, version: 2, inputs: [0], outputs: [1] },
      { code: TANH, version: 2, inputs: [0], outputs: [2] },
    ],
    inputs: [0],
    outputs: [1, 2],
    buffers: [null],
  };
}

// input quantizations of the kinds the converter produces (ranges about ±2 to ±12)
const CASES: [number, number][] = [
  [0.0123, 0],
  [0.05, -7],
  [0.0875, 13],
  [1 / 16, -128],
  [0.017, 100],
];
const ALL = Int8Array.from({ length: 256 }, (_, i) => i - 128);

describe('LOGISTIC/TANH tables against the TFLite interpreter', () => {
  const open: TfliteInterpreter[] = [];
  afterAll(() => open.forEach((t) => t.close()));

  for (const [scale, zp] of CASES) {
    it(`input scale ${scale}, zero point ${zp}: single tables and the blob equal the interpreter`, async () => {
      const bytes = writeTflite(model(scale, zp));
      const tfl = await loadTflite(bytes);
      open.push(tfl);
      const [sig, tanh] = tfl.run([ALL]);
      const inQ = { scale: Math.fround(scale), zeroPoint: zp };
      expect(Array.from(tfliteLut('sigmoid', inQ, SIGMOID_OUT, 'single'))).toEqual(Array.from(sig));
      expect(Array.from(tfliteLut('tanh', inQ, TANH_OUT, 'single'))).toEqual(Array.from(tanh));
      const r = await convertGraph(buildTfliteGraph(readTflite('lut.tflite', bytes)), { rounding: 'float' });
      const dev = (await openSim(r.blob)).run([ALL]);
      expect(Array.from(dev[0])).toEqual(Array.from(sig));
      expect(Array.from(dev[1])).toEqual(Array.from(tanh));
    }, 60_000);
  }
});

describe("LOGISTIC/TANH double tables against TFLite's reference integer kernels", () => {
  for (const [scale, zp] of [...CASES, [0.1, 0], [0.2, -3], [0.004, 50]] as [number, number][]) {
    it(`input scale ${scale}, zero point ${zp}`, () => {
      const inQ = { scale, zeroPoint: zp };
      const sig = tfliteLut('sigmoid', inQ, SIGMOID_OUT, 'double');
      const tanh = tfliteLut('tanh', inQ, TANH_OUT, 'double');
      expect(Array.from(sig)).toEqual(tfliteActivationTableRef('sigmoid', scale, zp));
      expect(Array.from(tanh)).toEqual(tfliteActivationTableRef('tanh', scale, zp));
      // within 1 LSB of the interpreter's float table
      const single = tfliteLut('sigmoid', inQ, SIGMOID_OUT, 'single');
      sig.forEach((v, i) => expect(Math.abs(v - single[i])).toBeLessThanOrEqual(1));
    });
  }

  it('the modes give different tables where the fixed-point kernel rounds the other way (input scale 0.03756, zero point -20)', () => {
    const inQ = { scale: 0.03756, zeroPoint: -20 };
    const double = tfliteLut('sigmoid', inQ, SIGMOID_OUT, 'double');
    const single = tfliteLut('sigmoid', inQ, SIGMOID_OUT, 'single');
    expect(Array.from(double)).toEqual(tfliteActivationTableRef('sigmoid', inQ.scale, inQ.zeroPoint));
    expect(double.filter((v, i) => v !== single[i]).length).toBeGreaterThan(0);
  });
});
