/**
 * TFLite's int8 reference softmax (kernels/internal/reference/softmax.h) for the integer reference
 * of op SOFTMAX_TFLITE, and the parameters TFLite's Prepare derives from beta and the input scale
 * (PreprocessSoftmaxScaling, CalculateInputRadius with 5 integer bits). gemmlowp fixed point on
 * int32 raw values: Q5.26 scaled differences, Q0.31 exponentials, Q12.19 sum, Q2.29 Newton steps.
 */
import { mbqm, quantizeMultiplier } from '../fixedpoint.ts';
import { MAX, expQuarter, mulPot, rdpot, srdhm, wrap } from './gemmlowp.ts';

const BARREL = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242];

/** exp_on_negative_values: Q5.26 a <= 0 -> Q0.31. */
function expNeg(a: number): number {
  if (a === 0) return MAX;
  const amq = (a & (2 ** 24 - 1)) - 2 ** 24;
  let r = expQuarter(amq * 32);
  const rem = wrap(amq - a);
  BARREL.forEach((m, i) => {
    if (rem & (1 << (24 + i))) r = srdhm(r, m);
  });
  return r;
}

/** one_over_one_plus_x_for_x_in_0_1, Q0.31 in and out. */
function recipOnePlus(a: number): number {
  const hd = Math.trunc((a + MAX + 1) / 2);
  let x = wrap(1515870810 + srdhm(hd, -1010580540));
  for (let i = 0; i < 3; i++) x = wrap(x + mulPot(srdhm(x, wrap(2 ** 29 - srdhm(hd, x))), 2));
  return mulPot(x, 1);
}

export interface SoftmaxTfliteParams {
  inputMult: number;
  inputLeftShift: number;
  diffMin: number;
}

/** TFLite's Prepare for int8 softmax: beta * scale * 2^26 as a multiplier > 1, and the input radius. */
export function softmaxTfliteParams(beta: number, inputScale: number): SoftmaxTfliteParams {
  const real = Math.min(beta * inputScale * 2 ** 26, 2 ** 31 - 1);
  // real >= 2^30 gives TFLite a left shift of 31 and a radius of 0: only d = 0 passes, and its
  // product is 0 whatever the shift, so the blob carries shift 30 (the runtime's bound)
  if (real >= 2 ** 30) return { inputMult: Math.round(real), inputLeftShift: 30, diffMin: 0 };
  const { mult, shift } = quantizeMultiplier(real);
  return { inputMult: mult, inputLeftShift: shift, diffMin: -Math.floor((31 * 2 ** 26) / 2 ** shift) };
}

/** One row of int8 logits -> int8 probabilities at (1/256, -128). MBQM in the current rounding mode. */
export function softmaxTfliteRow(x: ArrayLike<number>, p: SoftmaxTfliteParams, y: Int8Array, yOff = 0): void {
  let mx = -128;
  for (let c = 0; c < x.length; c++) mx = Math.max(mx, x[c]);
  const e = Array.from(x, (v) => (v - mx >= p.diffMin ? expNeg(mbqm(v - mx, p.inputMult, p.inputLeftShift)) : null));
  const sum = e.reduce((s: number, v) => (v === null ? s : wrap(s + rdpot(v, 12))), 0);
  const hp1 = Math.clz32(sum);
  const scale = recipOnePlus(wrap(sum * 2 ** hp1 - 2 ** 31));
  e.forEach((v, c) => {
    y[yOff + c] = v === null ? -128 : Math.max(-128, Math.min(127, rdpot(srdhm(scale, v), 12 - hp1 + 23) - 128));
  });
}
