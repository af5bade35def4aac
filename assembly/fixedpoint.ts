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

// The loaded blob's rounding mode (header flags, set by validateBlob): -1 = double (TFLite
// reference), 0 = single (TFLITE_SINGLE_ROUNDING). A mask, so the fast forms stay branch-free.
export let roundDouble: i32 = -1;

// Mode float (the TFLite interpreter with XNNPACK): DENSE/CONV2D/DEPTHWISE outputs requantize
// in float32 (outQF); every MBQM is single.
export let roundFloat: bool = false;

export function setRounding(single: bool, float: bool): void {
  roundDouble = single ? 0 : -1;
  roundFloat = float;
}

// x / 2^e rounded half to even, x >= 0 (x < 2^62: e > 62 gives 0).
// @ts-ignore: decorator
@inline function rneShr(x: i64, e: i32): i64 {
  if (e <= 0) return x;
  if (e > 62) return 0;
  let q = x >> e;
  let rem = x & ((<i64>1 << e) - 1);
  let half = <i64>1 << (e - 1);
  return q + <i64>(rem > half || (rem == half && (q & 1) != 0));
}

// x rounded to 24 significant bits, half to even (float32's rounding), x >= 0.
// @ts-ignore: decorator
@inline function rne24(x: i64): i64 {
  let d = 40 - <i32>clz(x);
  return d > 0 ? rneShr(x, d) << d : x;
}

// XNNPACK's fp32 requantization in integers (the runtime has no float ops): with S = mult *
// 2^(shift - 31) (24 significant bits, exact in float32), y = round-half-even(f32(f32(acc) * S))
// + zp, clamped. f32(acc) and the product's float32 rounding are both rne24 on exact integers
// (|acc| <= 2^31, mult < 2^31: the product is below 2^62); rounding is symmetric, so |acc| is
// rounded and the sign restored. Clamping after rounding equals XNNPACK's clamp before it (integer bounds).
export function outQF(acc: i32, mult: i32, shift: i32, zp: i32, lo: i32, hi: i32): i32 {
  let a = rne24(acc < 0 ? -<i64>acc : <i64>acc);
  let x = a * <i64>mult;
  let d = 40 - <i32>clz(x);
  if (d < 0) d = 0;
  let q = rneShr(x, d); // |v| = q * 2^(d - 31 + shift)
  let e = 31 - shift - d;
  let y = e >= 0 ? rneShr(q, e) : q << -e;
  if (y > 0xffff) y = 0xffff; // beyond every int8 bound: keeps the narrowing exact
  let v = <i32>y;
  return clampI((acc < 0 ? -v : v) + zp, lo, hi);
}

// TFLite MultiplyByQuantizedMultiplier with TFLITE_SINGLE_ROUNDING (kernels/internal/common.h):
//   (x * mult + 2^(30 - shift)) >> (31 - shift) in i64, truncated to i32. shift in [-31, 30].
// @ts-ignore: decorator
@inline export function mbqmS(x: i32, mult: i32, shift: i32): i32 {
  let S = <i64>(31 - shift);
  return <i32>((<i64>x * <i64>mult + (<i64>1 << (S - 1))) >> S);
}

// MBQM in the blob's rounding mode (elementwise ops: one predictable branch per element).
export function mbqm(x: i32, mult: i32, shift: i32): i32 {
  return roundDouble ? mbqmI(x, mult, shift) : mbqmS(x, mult, shift);
}

// Fast exact form of mbqmI for mult >= 0 and shift <= 0 (every DENSE/CONV/RNN row the converter
// emits with a multiplier < 1), one 64-bit expression instead of SRDHM + RDPOT:
//   with r = floor((x*m + 2^30) / 2^31) and rs = -shift, RDPOT(r, rs) = floor((r + c) / 2^rs),
//   c = half - [r < 0 and rs > 0] (half = 2^(rs-1), 0 for rs = 0). Nested floors merge:
//   = floor((x*m + 2^30 + c*2^31) / 2^(31+rs)).
// For m >= 0, r < 0 implies x < 0, and x < 0 with r = 0 gives floor((half - 1) / 2^rs) = 0 = RDPOT(0)
// for rs > 0, so [r < 0] may be replaced by [x < 0]: the term -2^31*[x < 0 and shift < 0] is
// sign-extend(x & shift & INT32_MIN). No saturation case exists (m != INT32_MIN). Other
// mult/shift values take the general path (the call keeps code small).
// Single rounding is the same expression without the 2^30 and sign terms, for every mult/shift:
// both terms and the general-path test are masked with roundDouble (no branch on the mode).
// @ts-ignore: decorator
@inline export function mbqmF(x: i32, mult: i32, shift: i32): i32 {
  let d = roundDouble;
  if (((mult | -shift) & d) < 0) return mbqm(x, mult, shift);
  let S = <i64>(31 - shift);
  return <i32>((<i64>x * <i64>mult + ((<i64>1 << (S - 1)) | <i64>(0x40000000 & d)) + <i64>(x & shift & d & i32.MIN_VALUE)) >> S);
}

// @ts-ignore: decorator
@inline export function clampI(v: i32, lo: i32, hi: i32): i32 {
  return v < lo ? lo : (v > hi ? hi : v);
}

// TFLite's MultiplyByQuantizedMultiplier for an int64 accumulator (the 16x8 paths,
// kernels/internal/common.cc): the multiplier reduced to 16 bits, one rounding:
//   reduced = mult < 0x7FFF0000 ? (mult + 2^15) >> 16 : 0x7FFF
//   y = (x * reduced + 2^(14 - shift)) >> (15 - shift), mult >= 0; TFLite asserts shift in [-31, 7],
//   the runtime accepts [-31, 14] (the right shift stays >= 1; same formula).
// @ts-ignore: decorator
@inline export function mbqm64(x: i64, mult: i32, shift: i32): i32 {
  let red: i64 = mult < 0x7FFF0000 ? <i64>((mult + 0x8000) >> 16) : 0x7FFF;
  let ts = <i64>(15 - shift);
  return <i32>((x * red + (<i64>1 << (ts - 1))) >> ts);
}

// TFLite's int16 LUT lookup (kernels/internal/common.h LUTLookup): 513 int16 entries, entry
// 256 + (v >> 7) interpolated linearly on the low 7 bits of v.
// @ts-ignore: decorator
@inline export function lut16(v: i32, t: usize): i32 {
  let e = t + (<usize>(256 + (v >> 7)) << 1);
  let base = <i32>load<i16>(e);
  return base + (((<i32>load<i16>(e, 2) - base) * (v & 0x7f) + 64) >> 7); // between two int16 entries
}
