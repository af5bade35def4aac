/**
 * gemmlowp's fixed-point arithmetic on int32 raws (fixedpoint.h), as TFLite's reference int8
 * SOFTMAX, LOGISTIC and TANH kernels use it: exact in plain numbers and BigInt.
 */
export const MAX = 2147483647;
const MIN = -2147483648;

/** SaturatingRoundingDoublingHighMul: (a·b + 2^30) >> 31, equal to gemmlowp's nudge + truncating division. */
export function srdhm(a: number, b: number): number {
  if (a === MIN && b === MIN) return MAX;
  return Number((BigInt(a) * BigInt(b) + (1n << 30n)) >> 31n);
}

/** RoundingDivideByPOT (half away from zero), exact for any exponent. */
export function rdpot(x: number, e: number): number {
  const d = 2 ** e;
  const q = Math.floor(x / d);
  const r = x - q * d;
  return q + (r > d / 2 || (r === d / 2 && x >= 0) ? 1 : 0);
}

/** SaturatingRoundingMultiplyByPOT<e>: a saturating left shift for e > 0, RoundingDivideByPOT for e <= 0. */
export function mulPot(x: number, e: number): number {
  if (e <= 0) return rdpot(x, -e);
  const t = 2 ** (31 - e) - 1;
  return x > t ? MAX : x < -t ? MIN : x * 2 ** e;
}

/** int32 wrap-around, as the C code's int32 additions. */
export const wrap = (v: number) => v | 0;

/** exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31. */
export function expQuarter(a: number): number {
  const c = 1895147668;
  const x = wrap(a + 2 ** 28);
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const poly = mulPot(wrap(srdhm(wrap(mulPot(x4, -2) + x3), 715827883) + x2), -1);
  return wrap(c + srdhm(c, wrap(x + poly)));
}
