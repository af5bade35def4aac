/**
 * TFLite's int8 MEAN over the spatial axes (op MEAN): the multiplier each rounding mode's
 * implementation derives, and the integer reference of the op.
 *   double, single: TFLite's reference QuantizedMeanOrSum (kernels/internal/reference/reduce.h,
 *     the int8 MEAN of TFLite's reference kernel and of TFLite Micro; older releases sent a
 *     keep_dims spatial mean through reference_integer_ops::Mean, which rounds twice: MBQM by
 *     s_in/s_out, then a rounded division by n): M, s = QuantizeMultiplier(s_in / s_out); with
 *     k = min(floor(log2 n), 32, 31 + s), M' = trunc(M·2^k / n) (int64), s' = s − k;
 *     y = MBQM(Σx − zp_in·n, M', s') + zp_out.
 *   float: XNNPACK's global average pooling (what the TFLite interpreter runs): the float32 scale
 *     f32(s_in / f32(s_out·n)) applied to f32(Σx − zp_in·n), rounded half to even.
 */
import type { Rounding } from '../blob/spec.ts';
import { clamp, quantizeMultiplier, requantOutput } from '../fixedpoint.ts';

export interface MeanTfliteParams {
  mult: number;
  shift: number;
}

/** The mult/shift of op MEAN for `n` elements per mean, in the blob's rounding mode (throws RangeError on a scale out of range). */
export function meanTfliteParams(sIn: number, sOut: number, n: number, rounding: Rounding | undefined): MeanTfliteParams {
  const f32 = Math.fround;
  if (rounding === 'float') return quantizeMultiplier(f32(f32(sIn) / f32(f32(sOut) * n)));
  const { mult, shift } = quantizeMultiplier(sIn / sOut);
  const k = Math.min(31 - Math.clz32(n), 32, 31 + shift);
  return { mult: Number((BigInt(mult) << BigInt(k)) / BigInt(n)), shift: shift - k };
}

/** Op MEAN on int8 NHWC `x` ([batch][inH·inW][channels]) with the blob's params, in the current rounding mode. */
export function refMean(p: Record<string, number>, x: Int8Array): Int8Array {
  const n = p.inH * p.inW;
  const C = p.channels;
  const y = new Int8Array(p.batch * C);
  for (let b = 0; b < p.batch; b++)
    for (let c = 0; c < C; c++) {
      let acc = -p.zpIn * n;
      for (let k = 0; k < n; k++) acc += x[(b * n + k) * C + c];
      y[b * C + c] = clamp(p.zpOut + requantOutput(acc, p.mult, p.shift), -128, 127);
    }
  return y;
}
