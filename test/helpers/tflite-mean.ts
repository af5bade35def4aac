/**
 * TFLite's int8 MEAN over the spatial axes of NHWC, written for the tests from TFLite's reference
 * QuantizedMeanOrSum (kernels/internal/reference/reduce.h; TFLite Micro's int8 MEAN), apart from
 * the converter and the runtime: the multiplier of s_in/s_out is divided by the element count in
 * 64-bit integers (BigInt) after a left shift of min(floor(log2 n), 32, 31 + shift), and the sum
 * minus zp_in·n is requantized with it (tflite-requant.ts, double or single rounding).
 */
import { quantizeMultiplierRef, requant, type RoundingMode } from './tflite-requant.ts';

interface Q {
  s: number;
  zp: number;
}

/** y[b][c] = clamp(MBQM(Σ_hw x[b][h][w][c] − zp_in·n, M', s') + zp_out) for x int8 [batch][n][C]. */
export function meanRef(x: Int8Array, n: number, C: number, qi: Q, qo: Q, mode: RoundingMode): Int8Array {
  const base = quantizeMultiplierRef(qi.s / qo.s);
  let k = 0;
  while (2 ** (k + 1) <= n) k++;
  k = Math.min(k, 32, 31 + base.shift);
  const mult = Number((BigInt(base.mult) * 2n ** BigInt(k)) / BigInt(n));
  const shift = base.shift - k;
  const batch = x.length / (n * C);
  const y = new Int8Array(batch * C);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += x[(b * n + i) * C + c];
      const v = requant(mode, sum - qi.zp * n, mult, shift) + qo.zp;
      y[b * C + c] = Math.max(-128, Math.min(127, v));
    }
  return y;
}
