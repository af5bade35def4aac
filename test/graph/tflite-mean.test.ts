/**
 * .tflite MEAN over the spatial axes (op MEAN) on models the test writes (tflite-writer.ts):
 * several NHWC shapes, keep_dims both ways, equal and different input/output quantization, and a
 * FULLY_CONNECTED after the mean, converted and run in host simulation (weights in flash):
 *   --rounding double: every byte equal to TFLite's reference QuantizedMeanOrSum written in test/
 *     (test/helpers/tflite-mean.ts through tflite-reference.ts, the FULLY_CONNECTED included),
 *     and the mean alone within 1 LSB of the interpreter;
 *   --rounding single: every byte equal to the same reference with single rounding;
 *   --rounding float: every byte equal to the real TFLite interpreter (tfjs-tflite), which runs
 *     MEAN through XNNPACK's float32 requantization (single rounding differs from it where the
 *     exact mean lies on a half: equal scales, sums that are odd multiples of n/2).
 * Each blob's self-test also holds the runtime to the blob's integer reference (tools/blob/reference.ts).
 * Axes other than the spatial pair and inputs that are not 4-D are lint problems.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Rounding } from '../../tools/blob/spec.ts';
import { readTflite, type TfliteModel } from '../../tools/readers/tflite/read.ts';
import { buildTfliteGraph } from '../../tools/graph/build-tflite.ts';
import { convertGraph } from '../../tools/pipeline.ts';
import { openSim } from '../../tools/cli/sim.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { rng } from '../../tools/quantize/calibrate.ts';
import { lintLines } from '../../tools/errors.ts';
import { runTfliteReference } from '../helpers/tflite-reference.ts';
import { meanRef } from '../helpers/tflite-mean.ts';
import { loadTflite, type TfliteInterpreter } from '../helpers/tflite-interpreter.ts';
import { meanModel, writeTflite, type MeanSpec } from '../helpers/tflite-writer.ts';

const INPUTS = 40;

const CASES: [string, MeanSpec][] = [
  ['4x4x8, same quantization, keep_dims', { shape: [1, 4, 4, 8], inQ: [0.05, 3], outQ: [0.05, 3], keepDims: true }],
  ['4x4x8, same quantization', { shape: [1, 4, 4, 8], inQ: [0.05, -3], outQ: [0.05, -3], keepDims: false }],
  ['5x3x6, output rescaled, keep_dims', { shape: [1, 5, 3, 6], inQ: [0.05, 3], outQ: [0.021, -7], keepDims: true }],
  ['7x7x16, output rescaled', { shape: [1, 7, 7, 16], inQ: [0.1, -10], outQ: [0.03, 5], keepDims: false }],
  ['3x5x4, coarser output, axis [2, 1]', { shape: [1, 3, 5, 4], inQ: [0.02, 0], outQ: [0.2, 0], keepDims: true, axis: [2, 1] }],
  ['6x6x10, zero points -128, axis [-3, -2]', { shape: [1, 6, 6, 10], inQ: [0.0123, -128], outQ: [0.00777, -128], keepDims: false, axis: [-3, -2] }],
  ['1x9x5, finer output', { shape: [1, 1, 9, 5], inQ: [0.04, 2], outQ: [0.01, 1], keepDims: true }],
  ['8x8x32 then FULLY_CONNECTED(10), keep_dims', { shape: [1, 8, 8, 32], inQ: [0.08, -20], outQ: [0.03, -60], keepDims: true, fcUnits: 10 }],
  ['3x3x24 then FULLY_CONNECTED(6)', { shape: [1, 3, 3, 24], inQ: [0.06, 12], outQ: [0.06, 12], keepDims: false, fcUnits: 6 }],
];

function inputs(spec: MeanSpec, seed: number): Int8Array[] {
  const next = rng(seed);
  const size = spec.shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: INPUTS }, () => Int8Array.from({ length: size }, () => Math.floor(next() * 256) - 128));
}

async function device(m: TfliteModel, rounding: Rounding) {
  const r = await convertGraph(buildTfliteGraph(m), {
    rounding,
    runRaw: (blob, xs) => runBlobReference(blob, xs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice()),
  });
  expect(r.weights).toBe('flash');
  expect(r.lowered.ops.map((o) => o.name)).toContain('MEAN');
  const sim = await openSim(r.blob);
  expect(sim.selfTest()).toBe(0);
  return sim;
}

function count(a: ArrayLike<number>, b: ArrayLike<number>, acc = { equal: 0, total: 0 }) {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    acc.total++;
    if (a[i] === b[i]) acc.equal++;
  }
  return acc;
}

describe('.tflite MEAN (op MEAN)', () => {
  const interpreters: TfliteInterpreter[] = [];
  afterAll(() => interpreters.forEach((t) => t.close()));

  for (const [k, [name, spec]] of CASES.entries()) {
    it(`${name}: double = TFLite's reference, single = its single-rounding form, float = the interpreter`, async () => {
      const bytes = writeTflite(meanModel(spec));
      const m = readTflite(`mean_${k}.tflite`, bytes);
      const tfl = await loadTflite(bytes);
      interpreters.push(tfl);
      const xs = inputs(spec, 0x4d00 + k);
      const [, H, W, C] = spec.shape;
      const qi = { s: Math.fround(spec.inQ[0]), zp: spec.inQ[1] };
      const qo = { s: Math.fround(spec.outQ[0]), zp: spec.outQ[1] };
      const [double, single, float] = [await device(m, 'double'), await device(m, 'single'), await device(m, 'float')];
      const acc = { double: { equal: 0, total: 0 }, single: { equal: 0, total: 0 }, float: { equal: 0, total: 0 }, singleVsTfl: { equal: 0, total: 0 } };
      const seen = new Set<number>();
      let maxDoubleVsTfl = 0;
      for (const x of xs) {
        const want = tfl.run([x])[0];
        want.forEach((v) => seen.add(v));
        const d = double.run([x])[0];
        count(d, runTfliteReference(m, x).get(m.outputs[0])!, acc.double);
        d.forEach((v, i) => (maxDoubleVsTfl = Math.max(maxDoubleVsTfl, Math.abs(v - want[i]))));
        count(float.run([x])[0], want, acc.float);
        if (!spec.fcUnits) {
          const s = single.run([x])[0];
          count(s, meanRef(x, H * W, C, qi, qo, 'single'), acc.single);
          count(s, want, acc.singleVsTfl);
        }
      }
      console.log(
        `MEAN ${name}: double vs reference ${acc.double.equal}/${acc.double.total} (vs interpreter max ${maxDoubleVsTfl} LSB), float vs interpreter ${acc.float.equal}/${acc.float.total}` +
          (spec.fcUnits ? '' : `, single vs reference ${acc.single.equal}/${acc.single.total} (vs interpreter ${acc.singleVsTfl.equal})`),
      );
      expect(acc.double.equal).toBe(acc.double.total);
      expect(acc.float.equal).toBe(acc.float.total);
      expect(acc.single.equal).toBe(acc.single.total);
      // the mean alone: double rounding is within 1 LSB of the interpreter
      if (!spec.fcUnits) expect(maxDoubleVsTfl).toBeLessThanOrEqual(1);
      expect(seen.size).toBeGreaterThan(1);
    }, 120_000);
  }

  it("float: the scale is XNNPACK's f32(s_in / f32(s_out·n)), not f32(f32(s_in/s_out) / n) (sums where the two round apart)", async () => {
    const f32 = Math.fround;
    const next = rng(0x4d99);
    let checked = 0;
    while (checked < 4) {
      const [si, so] = [f32(0.001 + next() * 0.2), f32(0.001 + next() * 0.2)];
      const [H, W] = [1 + Math.floor(next() * 6), 1 + Math.floor(next() * 6)];
      const n = H * W;
      const [a, b] = [f32(f32(si / so) / n), f32(si / f32(so * n))];
      const round = (acc: number, scale: number) => {
        const v = f32(f32(acc) * scale);
        const r = Math.round(v);
        return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r; // half to even
      };
      const acc = Array.from({ length: 255 * n }, (_, i) => i - 128 * n).find((v) => round(v, a) !== round(v, b) && Math.abs(round(v, b)) < 100);
      if (a === b || acc === undefined) continue;
      const spec: MeanSpec = { shape: [1, H, W, 1], inQ: [si, 0], outQ: [so, 0], keepDims: true };
      const bytes = writeTflite(meanModel(spec));
      const tfl = await loadTflite(bytes);
      interpreters.push(tfl);
      // an input whose sum is acc
      let rem = acc;
      const x = Int8Array.from({ length: n }, (_, i) => {
        const v = Math.max(-128, Math.min(127, Math.round(rem / (n - i))));
        rem -= v;
        return v;
      });
      const want = tfl.run([x])[0][0];
      expect(want).toBe(round(acc, b));
      expect((await device(readTflite('mean_scale.tflite', bytes), 'float')).run([x])[0][0]).toBe(want);
      checked++;
    }
  }, 120_000);

  it('lint: an output shape that is not the mean of the input is refused', () => {
    const model = meanModel({ shape: [1, 5, 5, 16], inQ: [0.05, 0], outQ: [0.05, 0], keepDims: true });
    model.tensors[2].shape = [1, 5, 1, 16];
    const g = buildTfliteGraph(readTflite('bad_mean_shape.tflite', writeTflite(model)), { keepProblems: true });
    expect(lintLines(g.problems!)).toEqual([
      "layer 'global_average_pooling2d' (MEAN v2, operator 0) option output shape=[1,5,1,16]: not supported; supported: [1, 1, 1, 16] (keep_dims true of input [1, 5, 5, 16])",
    ]);
  });

  const lint: [string, Partial<MeanSpec>, RegExp][] = [
    ['one spatial axis', { axis: [1] }, /option axis=\[1\]: not supported; supported: a constant int32 axis tensor \[1, 2\]/],
    ['the channel axis', { axis: [1, 3] }, /option axis=\[1,3\]/],
    ['a 3-D input', { shape: [1, 4, 8], axis: [1] }, /option input rank=3: not supported; supported: 4 \(NHWC\)/],
  ];
  for (const [name, over, message] of lint) {
    it(`lint: ${name} is refused in one line naming MEAN and the allowed axes`, () => {
      const spec: MeanSpec = { shape: [1, 4, 4, 8], inQ: [0.05, 0], outQ: [0.05, 0], keepDims: false, ...over };
      const m = readTflite('bad_mean.tflite', writeTflite(meanModel(spec)));
      const g = buildTfliteGraph(m, { keepProblems: true });
      expect(g.problems).toHaveLength(1);
      expect(() => buildTfliteGraph(m)).toThrow(/1 unsupported layer\/option/);
      const line = lintLines(g.problems!)[0];
      expect(line).toMatch(/\(MEAN v2, operator 0\)/);
      expect(line).toMatch(message);
    });
  }
});
