/**
 * TFLite's int8 reference softmax (kernels/internal/reference/softmax.h, with gemmlowp's
 * fixedpoint.h and common.h GetReciprocal), transcribed for the tests apart from the runtime's
 * kernel and the converter's reference: BigInt fixed-point values that carry their integer bits,
 * gemmlowp's operators literally (nudged truncating SRDHM, mask/threshold RDPOT, Rescale by the
 * difference of integer bits), and Prepare's parameters (PreprocessSoftmaxScaling,
 * CalculateInputRadius) from test/helpers/tflite-requant.ts.
 */
import { quantizeMultiplierRef, requant, type RoundingMode } from './tflite-requant.ts';

export interface FP {
  raw: bigint;
  ib: number;
}
const MIN = -(2n ** 31n);
const MAX = 2n ** 31n - 1n;
const i32 = (v: bigint) => BigInt.asIntN(32, v);
const fp = (raw: bigint, ib: number): FP => ({ raw: i32(raw), ib });

function srdhm(a: bigint, b: bigint): bigint {
  if (a === MIN && b === MIN) return MAX;
  const ab = a * b;
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return (ab + nudge) / (1n << 31n); // truncates toward zero, as C
}
function rdpot(x: bigint, e: number): bigint {
  const mask = (1n << BigInt(e)) - 1n;
  const thr = (mask >> 1n) + (x < 0n ? 1n : 0n);
  return (x >> BigInt(e)) + ((x & mask) > thr ? 1n : 0n);
}
/** SaturatingRoundingMultiplyByPOT<e> on a raw int32. */
function mulPot(x: bigint, e: number): bigint {
  if (e < 0) return rdpot(x, -e);
  const thr = (1n << BigInt(31 - e)) - 1n;
  return x > thr ? MAX : x < -thr ? MIN : x << BigInt(e);
}
const mul = (a: FP, b: FP): FP => fp(srdhm(a.raw, b.raw), a.ib + b.ib);
const add = (a: FP, b: FP): FP => fp(a.raw + b.raw, a.ib);
const sub = (a: FP, b: FP): FP => fp(a.raw - b.raw, a.ib);
const rescale = (x: FP, ib: number): FP => fp(mulPot(x.raw, x.ib - ib), ib);
const one = (ib: number): FP => fp(ib === 0 ? MAX : 1n << BigInt(31 - ib), ib);
const pot = (ib: number, e: number): FP => fp(1n << BigInt(31 - ib + e), ib);

function expQuarterInterval(a: FP): FP {
  const constantTerm = fp(1895147668n, 0);
  const oneThird = fp(715827883n, 0);
  const x = add(a, pot(0, -3));
  const x2 = mul(x, x);
  const x3 = mul(x2, x);
  const x4 = mul(x2, x2);
  const x4Over4 = fp(mulPot(x4.raw, -2), 0);
  const poly = fp(mulPot(add(mul(add(x4Over4, x3), oneThird), x2).raw, -1), 0);
  return add(constantTerm, mul(constantTerm, add(x, poly)));
}

const BARREL: [number, bigint][] = [
  [-2, 1672461947n],
  [-1, 1302514674n],
  [0, 790015084n],
  [1, 290630308n],
  [2, 39332535n],
  [3, 720401n],
  [4, 242n],
];

function expOnNegativeValues(a: FP): FP {
  const frac = 31 - a.ib;
  const quarter = pot(a.ib, -2);
  const mask = sub(quarter, fp(1n, a.ib));
  const aModQ = sub(fp(a.raw & mask.raw, a.ib), quarter);
  let result = expQuarterInterval(rescale(aModQ, 0));
  const remainder = sub(aModQ, a).raw;
  for (const [e, m] of BARREL) if (a.ib > e && (remainder & (1n << BigInt(frac + e))) !== 0n) result = mul(result, fp(m, 0));
  return a.raw === 0n ? one(0) : result;
}

function oneOverOnePlusX(a: FP): FP {
  const sum = a.raw + one(0).raw;
  const half = fp((sum + (sum >= 0n ? 1n : -1n)) / 2n, 0);
  let x = add(fp(1515870810n, 2), mul(half, fp(-1010580540n, 2)));
  for (let i = 0; i < 3; i++) x = add(x, rescale(mul(x, sub(one(2), mul(half, x))), 2));
  return rescale(fp(x.raw, 1), 0);
}

export interface SoftmaxParamsRef {
  inputMult: number;
  inputLeftShift: number;
  diffMin: number;
}

export function softmaxParamsRef(beta: number, inputScale: number): SoftmaxParamsRef {
  const { mult, shift } = quantizeMultiplierRef(Math.min(beta * inputScale * 2 ** 26, 2 ** 31 - 1));
  return { inputMult: mult, inputLeftShift: shift, diffMin: 0 - Math.floor(((2 ** 5 - 1) * 2 ** 26) / 2 ** shift) + 0 };
}

/** One row: int8 logits -> int8 probabilities (1/256, -128), TFLite's reference. */
export function softmaxRowRef(x: ArrayLike<number>, p: SoftmaxParamsRef, mode: RoundingMode): number[] {
  const max = Math.max(...Array.from(x));
  const exps = Array.from(x, (v) => {
    const d = v - max;
    if (d < p.diffMin) return null;
    // MultiplyByQuantizedMultiplierGreaterThanOne; with shift 31 only d = 0 passes and gives 0
    const scaled = p.inputLeftShift > 30 ? 0 : requant(mode, d, p.inputMult, p.inputLeftShift);
    return expOnNegativeValues(fp(BigInt(scaled), 5));
  });
  const sum = exps.reduce((s: FP, e) => (e ? add(s, rescale(e, 12)) : s), fp(0n, 12));
  const headroomPlusOne = Math.clz32(Number(sum.raw));
  const bitsOverUnit = 12 - headroomPlusOne;
  const shiftedMinusOne = i32((BigInt.asUintN(32, sum.raw) << BigInt(headroomPlusOne)) - (1n << 31n));
  const scale = oneOverOnePlusX(fp(shiftedMinusOne, 0));
  return exps.map((e) => {
    if (!e) return -128;
    const u = Number(rdpot(mul(scale, e).raw, bitsOverUnit + 31 - 8)) - 128;
    return Math.max(-128, Math.min(127, u));
  });
}

/** gemmlowp's fixed-point pieces, for the other transcribed kernels (tflite-logistic.ts). */
export { fp, mul, add, sub, rescale, one, rdpot, expOnNegativeValues };
