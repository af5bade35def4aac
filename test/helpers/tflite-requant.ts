/**
 * TFLite's requantization, written for the tests from the formulas of TFLite's quantization spec
 * and kernels/internal/common.h, apart from the runtime's and the converter's code (BigInt,
 * exact rational rounding; no masks, no shared helpers). The runtime must match it bit for bit.
 *
 *   double (reference kernels, TFLite Micro):
 *     MultiplyByQuantizedMultiplier(x, M, s) = RDPOT(SRDHM(x * 2^max(s,0), M), max(-s,0))
 *     SRDHM(a, b) = a*b / 2^31 rounded to nearest, ties upward; INT32_MAX for a = b = INT32_MIN
 *     RDPOT(v, e) = v / 2^e rounded to nearest, ties away from zero
 *   single (TFLITE_SINGLE_ROUNDING):
 *     (x * M + 2^(30 - s)) >> (31 - s), the 64-bit result truncated to int32
 * x * 2^max(s,0) is taken modulo 2^32 as an int32 (C would overflow; the runtime wraps).
 */

export type RoundingMode = 'double' | 'single';

const MIN32 = -(2n ** 31n);
const MAX32 = 2n ** 31n - 1n;

/** floor(n / d) for d > 0 (BigInt `/` truncates toward zero). */
function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d < 0n ? q - 1n : q;
}

function srdhm(a: bigint, b: bigint): bigint {
  if (a === MIN32 && b === MIN32) return MAX32;
  return floorDiv(a * b + 2n ** 30n, 2n ** 31n);
}

function rdpot(v: bigint, e: number): bigint {
  if (e === 0) return v;
  const d = 2n ** BigInt(e);
  const mag = floorDiv((v < 0n ? -v : v) + d / 2n, d);
  return v < 0n ? -mag : mag;
}

function requantDouble(x: number, mult: number, shift: number): number {
  const left = BigInt.asIntN(32, BigInt(x) * 2n ** BigInt(Math.max(shift, 0)));
  return Number(rdpot(srdhm(left, BigInt(mult)), Math.max(-shift, 0)));
}

function requantSingle(x: number, mult: number, shift: number): number {
  const total = BigInt(31 - shift);
  return Number(BigInt.asIntN(32, floorDiv(BigInt(x) * BigInt(mult) + 2n ** (total - 1n), 2n ** total)));
}

export function requant(mode: RoundingMode, x: number, mult: number, shift: number): number {
  return mode === 'single' ? requantSingle(x, mult, shift) : requantDouble(x, mult, shift);
}

/**
 * TFLite QuantizeMultiplier (quantization_util.cc): real = q * 2^shift with q in [0.5, 1),
 * mult = round(q * 2^31) (half away from zero); mult = 2^31 becomes 2^30 with shift + 1; a shift
 * below -31 gives (0, 0).
 */
export function quantizeMultiplierRef(real: number): { mult: number; shift: number } {
  if (real === 0) return { mult: 0, shift: 0 };
  let shift = Math.floor(Math.log2(real)) + 1;
  let q = real / 2 ** shift;
  // log2 may be off by one near powers of two: bring q into [0.5, 1) exactly (powers of 2 are exact)
  if (q >= 1) {
    q /= 2;
    shift++;
  }
  if (q < 0.5) {
    q *= 2;
    shift--;
  }
  let mult = Math.round(q * 2 ** 31); // q > 0: Math.round is half away from zero here
  if (mult === 2 ** 31) {
    mult /= 2;
    shift++;
  }
  if (shift < -31) return { mult: 0, shift: 0 };
  return { mult, shift };
}
