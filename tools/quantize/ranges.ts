/**
 * Calibration methods: the int8 range of a tensor from the values it took on the calibration set.
 *
 *   minmax      the smallest and largest value (TFLite's legacy quantizer)
 *   percentile  the 0.01th and 99.99th percentiles: the rare extreme values are clipped so the
 *               bulk of the distribution gets finer steps
 *   mse         the range whose int8 round trip (TFLite's asymmetric scale and zero point,
 *               round half away from zero, clamp) has the least mean squared error over the
 *               values: rounding error against clipping error, searched on a grid of ranges
 *
 * Both percentile and mse read a histogram of the tensor's values over [min, max] (HISTOGRAM_BINS
 * bins); every range is widened to include 0, as TFLite's int8 scheme requires.
 */
import { UserError, EXIT } from '../errors.ts';
import { asymmetricQParams, quantizeValue } from './qparams.ts';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'mse', 'auto'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];
/** A method that computes a range (auto picks one of these per tensor). */
export type RangeMethod = Exclude<CalibrationMethod, 'auto'>;
export const RANGE_METHODS: readonly RangeMethod[] = ['minmax', 'percentile', 'mse'];

/**
 * The fewest calibration samples each method accepts: percentile and mse read the shape of the
 * value distribution, which a handful of inputs does not show (the 99.99th percentile of a few
 * inputs is their maximum); auto measures each candidate on the calibration set as well.
 */
export const MIN_SAMPLES: Record<CalibrationMethod, number> = { minmax: 1, percentile: 32, mse: 16, auto: 32 };

/**
 * convert's method when none is given: auto (each tensor's range by the error measured on the
 * calibration samples, tools/calibration-search.ts) when there are real samples enough for it,
 * else minmax. No one range rule wins everywhere: on the examples mse lifts the har classifier's
 * top-1 agreement from 99.4% to 99.6% and costs a bidirectional LSTM 0.9 dB and a point of
 * agreement, which min/max and percentile keep (docs/ACCURACY.md); auto measures and keeps the
 * better. Synthetic samples carry no distribution worth fitting; a streamed model is calibrated
 * on whole sequences, which auto does not measure; precision auto measures the layers itself.
 */
export function defaultCalibrationMethod(o: { real: boolean; samples: number; stream: boolean; precisionAuto: boolean }): CalibrationMethod {
  return o.real && o.samples >= MIN_SAMPLES.auto && !o.stream && !o.precisionAuto ? 'auto' : 'minmax';
}

const PERCENTILE = 99.99;
const HISTOGRAM_BINS = 2048;

export function parseCalibrationMethod(v: string): CalibrationMethod {
  if (!(CALIBRATION_METHODS as readonly string[]).includes(v))
    throw new UserError(`--calibration-method ${v}: expected one of ${CALIBRATION_METHODS.join(', ')}`, EXIT.USAGE);
  return v as CalibrationMethod;
}

/** Fewer samples than the method needs: one line with the minimum. */
export function checkSampleCount(method: CalibrationMethod, samples: number): void {
  const need = MIN_SAMPLES[method];
  if (samples < need)
    throw new UserError(
      `calibration: --calibration-method ${method} needs at least ${need} calibration samples, ${samples} given (minmax works from 1)`,
      EXIT.BAD_INPUT,
    );
}

export interface Range {
  min: number;
  max: number;
}

/** Counts of a tensor's values in HISTOGRAM_BINS equal bins over [lo, hi]. */
export class Histogram {
  readonly counts = new Float64Array(HISTOGRAM_BINS);
  total = 0;
  constructor(
    readonly lo: number,
    readonly hi: number,
  ) {}

  get width(): number {
    return (this.hi - this.lo) / HISTOGRAM_BINS;
  }

  add(d: ArrayLike<number>): void {
    const w = this.width;
    const last = HISTOGRAM_BINS - 1;
    for (let i = 0; i < d.length; i++) {
      const b = w > 0 ? Math.floor((d[i] - this.lo) / w) : 0;
      this.counts[b < 0 ? 0 : b > last ? last : b]++;
    }
    this.total += d.length;
  }

  center(b: number): number {
    return this.lo + (b + 0.5) * this.width;
  }

  /** The value below which a share `q` (0..1) of the values lie (interpolated inside its bin). */
  quantile(q: number): number {
    const want = q * this.total;
    let seen = 0;
    for (let b = 0; b < HISTOGRAM_BINS; b++) {
      const c = this.counts[b];
      if (seen + c >= want && c > 0) return this.lo + (b + (want - seen) / c) * this.width;
      seen += c;
    }
    return this.hi;
  }
}

/** Mean squared error of the int8 round trip of the histogram's values under range `r`. */
export function roundTripMse(h: Histogram, r: Range): number {
  const q = asymmetricQParams(r.min, r.max);
  let se = 0;
  for (let b = 0; b < HISTOGRAM_BINS; b++) {
    const c = h.counts[b];
    if (!c) continue;
    const x = h.center(b);
    const e = (quantizeValue(x, q) - q.zeroPoint) * q.scale - x;
    se += c * e * e;
  }
  return h.total ? se / h.total : 0;
}

export function percentileRange(h: Histogram, p = PERCENTILE): Range {
  const tail = (100 - p) / 100;
  return { min: Math.min(0, h.lo === 0 ? 0 : h.quantile(tail)), max: Math.max(0, h.hi === 0 ? 0 : h.quantile(1 - tail)) };
}

/** Shrink factors tried for each end of the range: 1 down to 0.2, denser near 1. */
const SHRINK = Array.from({ length: 33 }, (_, k) => 0.2 ** ((k / 32) ** 1.5));

/** The grid range (each end the full one times a SHRINK factor) with the least round-trip MSE. */
export function mseRange(h: Histogram): Range {
  let best: Range = { min: Math.min(0, h.lo), max: Math.max(0, h.hi) };
  let bestErr = roundTripMse(h, best);
  const los = h.lo < 0 ? SHRINK.map((f) => h.lo * f) : [0];
  const his = h.hi > 0 ? SHRINK.map((f) => h.hi * f) : [0];
  for (const min of los)
    for (const max of his) {
      const e = roundTripMse(h, { min, max });
      if (e < bestErr) {
        bestErr = e;
        best = { min, max };
      }
    }
  return best;
}

/** The range `method` gives a tensor with observed range `r` and value histogram `h`. */
export function rangeBy(method: RangeMethod, r: Range, h: Histogram | undefined): Range {
  if (method === 'minmax' || !h) return { min: Math.min(0, r.min), max: Math.max(0, r.max) };
  return method === 'percentile' ? percentileRange(h) : mseRange(h);
}
