/**
 * Offline fixed-point math, bit-identical to the runtime (assembly/fixedpoint.ts) and to
 * TFLite/TFLM (quantization_util.cc QuantizeMultiplier; common.h MultiplyByQuantizedMultiplier
 * with double rounding: SaturatingRoundingDoublingHighMul + RoundingDivideByPOT).
 *
 * All integer helpers take and return JS numbers holding int32 values and are exact (no BigInt
 * on the hot path; `mbqmBig` is the BigInt oracle used by the tests).
 */

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const TWO31 = 2147483648;

/** std::round / TfLiteRound: round half away from zero. */
export function roundHalfAwayFromZero(v: number): number {
  if (!Number.isFinite(v)) return v;
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** C frexp: d = q * 2^e with |q| in [0.5, 1) (q = 0, e = 0 for d = 0). Exact. */
export function frexp(d: number): { q: number; e: number } {
  if (d === 0 || !Number.isFinite(d)) return { q: d, e: 0 };
  const a = Math.abs(d);
  let e = Math.max(-1073, Math.floor(Math.log2(a)) + 1);
  let q = a * Math.pow(2, -e);
  // correct the estimate (log2 can be off by one near powers of two); scaling by 2 is exact
  while (q < 0.5) {
    q *= 2;
    e -= 1;
  }
  while (q >= 1) {
    q /= 2;
    e += 1;
  }
  return { q: d < 0 ? -q : q, e };
}

/**
 * TFLite QuantizeMultiplier(double) -> { mult, shift }: mult in [2^30, 2^31) (or 0 for d = 0 or
 * tiny d), shift positive = left. Handles the q_fixed == 2^31 and shift < -31 cases like TFLite.
 */
export function quantizeMultiplier(d: number): { mult: number; shift: number } {
  if (d === 0) return { mult: 0, shift: 0 };
  if (!Number.isFinite(d)) throw new RangeError(`quantizeMultiplier: ${d} is not finite`);
  const { q, e } = frexp(d);
  let shift = e;
  let qFixed = roundHalfAwayFromZero(q * TWO31);
  if (qFixed === TWO31) {
    qFixed /= 2;
    shift += 1;
  }
  if (qFixed === -TWO31) {
    // cannot happen for |q| < 1 after rounding except q = -1 exactly; TFLite asserts <= INT32_MAX
    qFixed /= 2;
    shift += 1;
  }
  if (shift < -31) {
    shift = 0;
    qFixed = 0;
  }
  if (shift > 30) {
    // TFLite leaves shift > 30 to the kernels' checks (left shifts above 30 overflow int32)
    throw new RangeError(`quantizeMultiplier: ${d} is too large (shift ${shift} > 30)`);
  }
  return { mult: qFixed, shift };
}

/** Per-tensor effective scale as TFLite computes it: the product in float32, then double. */
export function perTensorScale(sIn: number, sW: number, sOut: number): number {
  return Math.fround(sIn * sW) / sOut;
}

/** gemmlowp SaturatingRoundingDoublingHighMul(a, b) on int32 values. */
function srdhm(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  // (a*b + 2^30) >> 31 (arithmetic), equal to gemmlowp's nudge + truncating division.
  // Split a = ah*2^16 + al (al in [0, 2^16)) so every partial product is exact in doubles.
  const al = a & 0xffff;
  const ah = a >> 16;
  const p = ah * b; // |p| < 2^46, exact
  const ph = Math.floor(p / 32768); // p = ph*2^15 + pl
  const pl = p - ph * 32768; // [0, 2^15)
  const low = pl * 65536 + al * b + 1073741824; // |low| < 2^48, exact
  return ph + Math.floor(low / TWO31);
}

/** gemmlowp RoundingDivideByPOT(x, e), e in [0, 31]: round half away from zero. */
function rdpot(x: number, e: number): number {
  if (e === 0) return x;
  const mask = e === 31 ? 0x7fffffff : (1 << e) - 1;
  const rem = x & mask;
  const thr = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > thr ? 1 : 0);
}

/**
 * MultiplyByQuantizedMultiplier(x, mult, shift), TFLite double rounding; x, mult int32,
 * shift in [-31, 30]. x << leftShift wraps to int32 (as the runtime does).
 */
function mbqmDouble(x: number, mult: number, shift: number): number {
  const ls = shift > 0 ? shift : 0;
  const rs = shift > 0 ? 0 : -shift;
  return rdpot(srdhm((x << ls) | 0, mult), rs);
}

/**
 * MultiplyByQuantizedMultiplier with TFLITE_SINGLE_ROUNDING: (x * mult + 2^(S-1)) >> S with
 * S = 31 - shift, in 64-bit, truncated to int32 (as the runtime). Exact in Numbers:
 * floor((A + 2^(S-1)) / 2^S) = floor((floor(A / 2^(S-1)) + 1) / 2), and A = x * mult is split
 * into x * (mult >> 16) * 2^16 + x * (mult & 0xffff), both products below 2^47.
 */
function mbqmSingle(x: number, mult: number, shift: number): number {
  const k = 30 - shift; // S - 1
  if (k < 16) return Number(BigInt.asIntN(32, (BigInt(x) * BigInt(mult) + (1n << BigInt(k))) >> BigInt(k + 1)));
  const hi = x * (mult >> 16);
  const lo = x * (mult & 0xffff);
  const f = Math.floor((hi + Math.floor(lo / 65536)) / 2 ** (k - 16));
  return Math.floor((f + 1) / 2) | 0;
}

let rounding: 'double' | 'single' | 'float' = 'double';

/**
 * Runs `f` with every mbqm in the given rounding mode (the blob's header property, as the
 * runtime holds it for the loaded blob). Restores the previous mode afterwards.
 */
export function withRounding<T>(mode: 'double' | 'single' | 'float', f: () => T): T {
  const prev = rounding;
  rounding = mode;
  try {
    return f();
  } finally {
    rounding = prev;
  }
}

/** MBQM in the current rounding mode (withRounding; double by default). */
export function mbqm(x: number, mult: number, shift: number): number {
  return rounding === 'double' ? mbqmDouble(x, mult, shift) : mbqmSingle(x, mult, shift);
}

/** round half to even (f32.nearest, lrintf). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The requantized output of a DENSE/CONV2D/DEPTHWISE accumulator before the zero point, in the
 * current mode: MBQM, or in mode float XNNPACK's round-half-even(f32(acc) · f32(mult · 2^(shift − 31))).
 */
export function requantOutput(acc: number, mult: number, shift: number): number {
  if (rounding !== 'float') return mbqm(acc, mult, shift);
  return roundHalfEven(Math.fround(Math.fround(acc) * Math.fround(mult * 2 ** (shift - 31))));
}

/** XNNPACK's float32 requantization scale f32(f32(sIn·sW) / sOut), the one mode float writes as mult/shift. */
export function xnnpackScale(sIn: number, sW: number, sOut: number): number {
  return Math.fround(Math.fround(Math.fround(sIn) * Math.fround(sW)) / Math.fround(sOut));
}

/** BigInt oracle for mbqm (slow; tests only). Follows gemmlowp literally (nudge + C division). */
export function mbqmBig(x: number, mult: number, shift: number): number {
  const ls = shift > 0 ? shift : 0;
  const rs = shift > 0 ? 0 : -shift;
  const a = (x << ls) | 0;
  let r: number;
  if (a === INT32_MIN && mult === INT32_MIN) r = INT32_MAX;
  else {
    const ab = BigInt(a) * BigInt(mult);
    const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
    r = Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, like C
  }
  if (rs === 0) return r;
  const mask = (1n << BigInt(rs)) - 1n;
  const big = BigInt(r);
  const rem = big & mask;
  const thr = (mask >> 1n) + (big < 0n ? 1n : 0n);
  return Number((big >> BigInt(rs)) + (rem > thr ? 1n : 0n));
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Quantize a real value: clamp(roundHalfAwayFromZero(x / scale) + zp, lo, hi). */
export function quantize(x: number, scale: number, zp: number, lo = -128, hi = 127): number {
  const q = roundHalfAwayFromZero(x / scale) + zp;
  if (Number.isNaN(q)) return clamp(zp, lo, hi);
  return clamp(q, lo, hi);
}

export function dequantize(q: number, scale: number, zp: number): number {
  return (q - zp) * scale;
}

/**
 * TFLite's MultiplyByQuantizedMultiplier for an int64 accumulator (the 16x8 kernels,
 * kernels/internal/common.cc): the multiplier reduced to 16 bits, one rounding.
 * x is an exact integer (|x| < 2^53); mult 0 or in [2^30, 2^31); shift in [-31, 14] (TFLite: [-31, 7]).
 * The result is taken to int32 as the runtime's i64 -> i32 wrap does.
 */
export function mbqm64(x: number, mult: number, shift: number): number {
  const reduced = mult < 0x7fff0000 ? (mult + 32768) >> 16 : 0x7fff;
  const ts = BigInt(15 - shift);
  const r = (BigInt(x) * BigInt(reduced) + (1n << (ts - 1n))) >> ts;
  return Number(BigInt.asIntN(32, r));
}

/** TFLite's int16 LUT lookup (LUTLookup): 513 int16 entries, interpolated on the low 7 bits. */
export function lut16Lookup(v: number, table: ArrayLike<number>): number {
  const i = 256 + (v >> 7);
  const base = table[i];
  return base + (((table[i + 1] - base) * (v & 0x7f) + 64) >> 7);
}
