/**
 * tools/quantize/ranges.ts: the percentile and MSE ranges on distributions with known answers,
 * judged on the raw values (not the histogram the methods read), and calibrate() with each method.
 */
import { describe, expect, it } from 'vitest';
import {
  checkSampleCount,
  Histogram,
  mseRange,
  parseCalibrationMethod,
  percentileRange,
  rangeBy,
  roundTripMse,
  MIN_SAMPLES,
  type Range,
} from '../../tools/quantize/ranges.ts';
import { asymmetricQParams, quantizeValue } from '../../tools/quantize/qparams.ts';
import { calibrate } from '../../tools/quantize/calibrate.ts';
import { gauss, rng } from '../helpers/tfjs-train.ts';
import { UserError } from '../../tools/errors.ts';
import { readModel } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import { readArray } from '../../tools/readers/npy.ts';
import { repoRoot } from '../helpers/fixtures.ts';
import { resolve } from 'node:path';

/** 100,000 N(0, 1) values and 10 outliers at +40. */
function heavyTail(): Float32Array {
  const r = rng(5);
  const d = new Float32Array(100_010);
  for (let i = 0; i < 100_000; i++) d[i] = gauss(r);
  d.fill(40, 100_000);
  return d;
}

function histOf(d: Float32Array): Histogram {
  let lo = 0,
    hi = 0;
  for (const v of d) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const h = new Histogram(lo, hi);
  h.add(d);
  return h;
}

/** The int8 round-trip MSE over the raw values. */
function exactMse(d: Float32Array, r: Range): number {
  const q = asymmetricQParams(r.min, r.max);
  let se = 0;
  for (const x of d) se += ((quantizeValue(x, q) - q.zeroPoint) * q.scale - x) ** 2;
  return se / d.length;
}

describe('calibration ranges', () => {
  const d = heavyTail();
  const h = histOf(d);

  it('percentile clips the 0.01% tails: the outliers are cut, the Gaussian bulk is kept', () => {
    const r = percentileRange(h);
    // N(0,1): the 0.01% quantile is -3.72; 10 outliers in 100,010 values are exactly the top 0.01%
    expect(r.min).toBeGreaterThan(-4.5);
    expect(r.min).toBeLessThan(-3.2);
    expect(r.max).toBeLessThan(40);
    expect(r.max).toBeGreaterThan(3.2);
  });

  it('mse keeps rare far outliers that percentile clips (clipping them costs more than the coarser steps)', () => {
    const mm = rangeBy('minmax', { min: h.lo, max: h.hi }, h);
    const ms = mseRange(h);
    expect(exactMse(d, ms)).toBeLessThanOrEqual(exactMse(d, mm));
    expect(exactMse(d, ms)).toBeLessThan(exactMse(d, percentileRange(h)) / 10);
  });

  it('mse clips a long tail (Laplace) and lowers the round-trip error, measured on the raw values', () => {
    const r = rng(9);
    const lap = Float32Array.from({ length: 100_000 }, () => {
      const u = r() - 0.5;
      return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
    });
    const hl = histOf(lap);
    const mm = rangeBy('minmax', { min: hl.lo, max: hl.hi }, hl);
    const ms = mseRange(hl);
    // for 8 bits the optimum clips a Laplace tail only a little (about 10 scale units, Banner et al. 2019)
    expect(ms.max).toBeLessThan(hl.hi);
    expect(ms.min).toBeGreaterThan(hl.lo);
    expect(exactMse(lap, ms)).toBeLessThan(exactMse(lap, mm) * 0.95);
    // the histogram estimate of the error tracks the exact one
    expect(roundTripMse(hl, ms) / exactMse(lap, ms)).toBeCloseTo(1, 1);
  });

  it('a one-sided distribution (ReLU output) keeps 0 as its lower end', () => {
    const relu = d.map((v) => Math.max(0, v));
    const hr = histOf(relu);
    expect(percentileRange(hr).min).toBe(0);
    expect(mseRange(hr).min).toBe(0);
  });

  it('an unknown method or too few samples is one line naming what is allowed', () => {
    expect(() => parseCalibrationMethod('kl')).toThrow('--calibration-method kl: expected one of minmax, percentile, mse, auto');
    expect(() => checkSampleCount('percentile', 8)).toThrow(UserError);
    expect(() => checkSampleCount('percentile', 8)).toThrow(`needs at least ${MIN_SAMPLES.percentile} calibration samples, 8 given`);
    expect(() => checkSampleCount('minmax', 1)).not.toThrow();
  });

  it('calibrate: minmax gives the min/max qparams, the other methods narrower ranges inside them', async () => {
    const g = buildGraph(await readModel(resolve(repoRoot, 'examples/model/model.json')));
    const cal = readArray(resolve(repoRoot, 'examples/calibration.npy'));
    const x = [{ shape: cal.shape, data: Float32Array.from(cal.data as ArrayLike<number>) }];
    const mm = await calibrate(g, x, { method: 'minmax' });
    for (const [id, r] of mm.ranges) expect(mm.qparams.get(id)).toEqual(asymmetricQParams(r.min, r.max));
    for (const method of ['percentile', 'mse'] as const) {
      const c = await calibrate(g, x, { method });
      expect([...c.methods!.values()].every((m) => m === method)).toBe(true);
      for (const [id, q] of c.quantRanges!) {
        const r = c.ranges.get(id)!;
        expect(q.min).toBeGreaterThanOrEqual(r.min);
        expect(q.max).toBeLessThanOrEqual(r.max);
      }
    }
  });
});
