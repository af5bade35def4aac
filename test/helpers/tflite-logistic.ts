/**
 * TFLite's int8 reference LOGISTIC and TANH (reference_integer_ops/logistic.h, tanh.h, as TFLite
 * Micro runs them), transcribed for the tests apart from the converter's tables: Prepare's input
 * multiplier (frexp of s_in·2^27) and radius (CalculateInputRadius with 4 integer bits), the
 * double-rounding MultiplyByQuantizedMultiplier (tflite-requant.ts), gemmlowp's logistic and tanh
 * on Q4.27 (with the fixed-point pieces of tflite-softmax.ts), and the output RoundingDivideByPOT.
 */
import { add, expOnNegativeValues, fp, mul, one, rdpot, rescale, sub, type FP } from './tflite-softmax.ts';
import { requant } from './tflite-requant.ts';

/** RoundingHalfSum(a, One) and three Newton-Raphson steps of 1 / (1 + a) in Q2.29 (gemmlowp). */
function newton(a: FP): FP {
  const sum = a.raw + one(0).raw;
  const halfDenominator = fp((sum + (sum >= 0n ? 1n : -1n)) / 2n, 0);
  let x = add(fp(1515870810n, 2), mul(halfDenominator, fp(-1010580540n, 2)));
  for (let i = 0; i < 3; i++) x = add(x, rescale(mul(x, sub(one(2), mul(halfDenominator, x))), 2));
  return x;
}

/** gemmlowp logistic: F4 -> F0. */
function logistic(a: FP): FP {
  if (a.raw === 0n) return fp(1n << 30n, 0);
  const abs = fp(a.raw > 0n ? a.raw : -a.raw, a.ib);
  const positive = rescale(fp(newton(expOnNegativeValues(fp(-abs.raw, a.ib))).raw, 1), 0);
  return a.raw > 0n ? positive : sub(one(0), positive);
}

/** gemmlowp tanh: F4 -> F0 (ExactMulByPot<1> reads the same raw with one more integer bit). */
function tanh(a: FP): FP {
  if (a.raw === 0n) return fp(0n, 0);
  const abs = a.raw > 0n ? a.raw : -a.raw;
  const positive = rescale(sub(newton(expOnNegativeValues(fp(-abs, a.ib + 1))), one(2)), 0);
  return a.raw > 0n ? positive : fp(-positive.raw, 0);
}

/** The int8 output of LOGISTIC ('sigmoid') or TANH for every int8 input, as a 256-entry table (index q + 128). */
export function tfliteActivationTableRef(fn: 'sigmoid' | 'tanh', inputScale: number, inputZeroPoint: number): number[] {
  const real = inputScale * 2 ** 27;
  let shift = Math.ceil(Math.log2(real));
  if (real / 2 ** shift >= 1) shift++;
  if (real / 2 ** shift < 0.5) shift--;
  const mult = Math.round((real / 2 ** shift) * 2 ** 31);
  const radius = Math.floor((15 * 2 ** 27) / 2 ** shift);
  return Array.from({ length: 256 }, (_, i) => {
    const d = i - 128 - inputZeroPoint;
    if (d <= -radius) return -128;
    if (d >= radius) return 127;
    const x = fp(BigInt(requant('double', d, mult, shift)), 4);
    const y = fn === 'sigmoid' ? Number(rdpot(logistic(x).raw, 23)) - 128 : Number(rdpot(tanh(x).raw, 24));
    return Math.max(-128, Math.min(127, y));
  });
}
