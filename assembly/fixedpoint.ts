// TFLite MultiplyByQuantizedMultiplier with double rounding (kernels/internal/common.h):
//   RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x << max(shift,0), mult), max(-shift,0))
// SRDHM(a, b) = (a*b + 2^30) >> 31 in i64 (equal to gemmlowp's nudge + truncating division),
// saturating only for a = b = INT32_MIN. RDPOT rounds half away from zero. shift in [-31, 30].

@inline export function srdhm(a: i32, b: i32): i32 {
  let r = <i32>((<i64>a * <i64>b + 0x40000000) >> 31);
  return (a == i32.MIN_VALUE && b == i32.MIN_VALUE) ? i32.MAX_VALUE : r;
}

@inline export function rdpot(x: i32, e: i32): i32 {
  let mask = (1 << e) - 1;
  let rem = x & mask;
  let thr = (mask >> 1) + (x >>> 31);
  return (x >> e) + <i32>(rem > thr);
}

export function mbqm(x: i32, mult: i32, shift: i32): i32 {
  let r: i32;
  if (shift > 0) {
    r = srdhm(x << shift, mult);
  } else {
    r = srdhm(x, mult);
    if (shift < 0) r = rdpot(r, -shift);
  }
  return r;
}

@inline export function clampI(v: i32, lo: i32, hi: i32): i32 {
  return v < lo ? lo : (v > hi ? hi : v);
}
