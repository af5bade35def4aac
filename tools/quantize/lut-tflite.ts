/**
 * The int8 -> int8 tables of a .tflite LOGISTIC or TANH, as the TFLite implementation of the
 * blob's rounding mode computes them, for the runtime's LUT op:
 *   single and float: the TFLite interpreter's optimised kernels (what @tensorflow/tfjs-tflite runs), a
 *     256-entry table filled in float32 at Prepare (lut.h LUTPopulate): y = round(f(s_in·(q - zp_in))
 *     · (1 / s_out)) + zp_out with f = 1 / (1 + expf(-x)) or tanhf(x), every step in float32.
 *   double: TFLite Micro and TFLite's reference integer kernels (reference_integer_ops/logistic.h,
 *     tanh.h): the input rescaled to Q4.27 by MultiplyByQuantizedMultiplier (multiplier from
 *     s_in·2^27 by frexp), gemmlowp's fixed-point logistic / tanh, then RoundingDivideByPOT to
 *     the output (1/256, -128 or 1/128, 0); inputs beyond the input radius saturate.
 */
import type { Rounding } from '../blob/spec.ts';
import { frexp, mbqm, roundHalfAwayFromZero, withRounding } from '../fixedpoint.ts';
import type { QParams } from './qparams.ts';
import { MAX, expQuarter, mulPot, rdpot, srdhm, wrap } from './gemmlowp.ts';

export type TfliteLutFn = 'sigmoid' | 'tanh';

const f32 = Math.fround;

/** LUTPopulate<int8_t> in float32 (the interpreter's table). */
function lutPopulate(fn: TfliteLutFn, inQ: QParams, outQ: QParams): Int8Array {
  const inverse = f32(1 / f32(outQ.scale));
  const sIn = f32(inQ.scale);
  const t = new Int8Array(256);
  for (let v = -128; v <= 127; v++) {
    const x = f32(sIn * (v - inQ.zeroPoint));
    const y = fn === 'sigmoid' ? f32(1 / f32(1 + f32(Math.exp(-x)))) : f32(Math.tanh(x));
    const q = roundHalfAwayFromZero(f32(y * inverse)) + outQ.zeroPoint;
    t[v + 128] = Math.max(-128, Math.min(127, q));
  }
  return t;
}

const BARREL: [number, number][] = [
  [-2, 1672461947],
  [-1, 1302514674],
  [0, 790015084],
  [1, 290630308],
  [2, 39332535],
  [3, 720401],
  [4, 242],
];

/** exp_on_negative_values: a <= 0 with `ib` integer bits -> Q0.31. */
function expNeg(a: number, ib: number): number {
  if (a === 0) return MAX;
  const frac = 31 - ib;
  const quarter = 2 ** (frac - 2);
  const amq = (a & (quarter - 1)) - quarter;
  let r = expQuarter(mulPot(amq, ib));
  const rem = wrap(amq - a);
  for (const [e, m] of BARREL) if (ib > e && rem & (1 << (frac + e))) r = srdhm(r, m);
  return r;
}

/** The Newton-Raphson 1/(1+a) in Q2.29 of gemmlowp (a in [0, 1], Q0.31), before its final rescale. */
function recipOnePlusQ2(a: number): number {
  const s = a + MAX;
  const hd = Math.trunc((s + (s >= 0 ? 1 : -1)) / 2); // RoundingHalfSum(a, One), C division
  let x = wrap(1515870810 + srdhm(hd, -1010580540));
  for (let i = 0; i < 3; i++) x = wrap(x + mulPot(srdhm(x, wrap(2 ** 29 - srdhm(hd, x))), 2));
  return x;
}

/** gemmlowp logistic of a Q4.27 raw -> Q0.31 raw. */
function logistic(a: number): number {
  if (a === 0) return 2 ** 30;
  const pos = mulPot(recipOnePlusQ2(expNeg(-Math.abs(a), 4)), 1); // one_over_one_plus_x: Rescale<0>(ExactMulByPot<-1>(x))
  return a > 0 ? pos : wrap(MAX - pos);
}

/** gemmlowp tanh of a Q4.27 raw -> Q0.31 raw. */
function tanh(a: number): number {
  if (a === 0) return 0;
  const e = expNeg(-Math.abs(a), 5); // ExactMulByPot<1>: the same raw read with 5 integer bits
  const pos = mulPot(wrap(recipOnePlusQ2(e) - 2 ** 29), 2); // one_minus_x_over_one_plus_x: Rescale<0>(x - 1)
  return a > 0 ? pos : -pos;
}

/** The reference integer kernel's table (TFLite Micro): Prepare's multiplier and radius, then each int8 input. */
function referenceTable(fn: TfliteLutFn, inQ: QParams): Int8Array {
  const { q, e: shift } = frexp(inQ.scale * 2 ** 27);
  const mult = roundHalfAwayFromZero(q * 2 ** 31);
  const radius = Math.floor((15 * 2 ** 27) / 2 ** shift);
  const t = new Int8Array(256);
  for (let v = -128; v <= 127; v++) {
    const d = v - inQ.zeroPoint;
    let y: number;
    if (d <= -radius) y = -128;
    else if (d >= radius) y = 127;
    else {
      const x = withRounding('double', () => mbqm(d, mult, shift));
      y = fn === 'sigmoid' ? rdpot(logistic(x), 23) - 128 : rdpot(tanh(x), 24);
    }
    t[v + 128] = Math.max(-128, Math.min(127, y));
  }
  return t;
}

/** The table of a .tflite LOGISTIC / TANH for a blob of the given rounding mode (see the module comment). */
export function tfliteLut(fn: TfliteLutFn, inQ: QParams, outQ: QParams, rounding: Rounding = 'double'): Int8Array {
  return rounding === 'double' ? referenceTable(fn, inQ) : lutPopulate(fn, inQ, outQ);
}
