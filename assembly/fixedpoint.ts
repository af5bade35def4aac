// TFLite MultiplyByQuantizedMultiplier with double rounding (kernels/internal/common.h):
//   RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x << max(shift,0), mult), max(-shift,0))
// SRDHM(a, b) = (a*b + 2^30) >> 31 in i64 (equal to gemmlowp's nudge + truncating division),
// saturating only for a = b = INT32_MIN. RDPOT rounds half away from zero. shift in [-31, 30].
//
// Branch-free form: with ls = max(shift, 0), rs = max(-shift, 0) both shifts are applied
// unconditionally (x << 0 and RDPOT by 0 are identities). The 64-bit product wraps to INT32_MIN
// exactly in the saturating case (a = b = INT32_MIN), and in no other case (|a*b| < 2^62 there),
// so `r - (r == INT32_MIN)` is the saturation.

// @ts-ignore: decorator
@inline export function mbqmI(x: i32, mult: i32, shift: i32): i32 {
  let ls = shift > 0 ? shift : 0;
  let rs = ls - shift;
  let r = <i32>((<i64>(x << ls) * <i64>mult + 0x40000000) >> 31);
  r -= <i32>(r == i32.MIN_VALUE);
  let mask = (1 << rs) - 1;
  return (r >> rs) + <i32>((r & mask) > (mask >> 1) + (r >>> 31));
}

export function mbqm(x: i32, mult: i32, shift: i32): i32 {
  return mbqmI(x, mult, shift);
}

// @ts-ignore: decorator
@inline export function clampI(v: i32, lo: i32, hi: i32): i32 {
  return v < lo ? lo : (v > hi ? hi : v);
}
