// MEAN: TFLite's int8 MEAN over the spatial axes of NHWC, per channel
//   acc = sum(x) - zpIn * inH * inW;  y = clamp(zpOut + MBQM(acc, mult, shift), -128, 127)
// with MBQM in the blob's rounding mode (TFLite's QuantizedMeanOrSum), in mode float XNNPACK's
// float32 requantization (outQF, as the DENSE outputs).
import { P_MEAN_BATCH, P_MEAN_CHANNELS, P_MEAN_IN, P_MEAN_IN_H, P_MEAN_IN_W, P_MEAN_MULT, P_MEAN_OUT, P_MEAN_SHIFT, P_MEAN_ZP_IN, P_MEAN_ZP_OUT } from '../abi.gen';
import { prm, tP, cTensor, cDim, cProd, cRange, cShift, cZp8, cFail, M_I8 } from '../check';
import { clampI, mbqm, outQF, roundFloat } from '../fixedpoint';

export function prepare(): void {
  let eIn = cTensor(P_MEAN_IN, M_I8);
  let eOut = cTensor(P_MEAN_OUT, M_I8);
  let batch = cDim(P_MEAN_BATCH), inH = cDim(P_MEAN_IN_H), inW = cDim(P_MEAN_IN_W), ch = cDim(P_MEAN_CHANNELS);
  cProd(eIn, batch, inH, inW, ch);
  cProd(eOut, batch, ch);
  // at most 2^23 taps: the int32 sum and zpIn * taps cannot overflow
  if (<i64>inH * <i64>inW > 0x800000) cFail();
  cZp8(P_MEAN_ZP_IN);
  cZp8(P_MEAN_ZP_OUT);
  // TFLite's readapted multiplier may lie below 2^30: any non-negative int32
  cRange(P_MEAN_MULT, 0, i32.MAX_VALUE);
  cShift(P_MEAN_SHIFT);
}

export function evalOp(p: usize): i32 {
  let x = tP(p, P_MEAN_IN), y = tP(p, P_MEAN_OUT);
  let batch = prm(p, P_MEAN_BATCH), n = prm(p, P_MEAN_IN_H) * prm(p, P_MEAN_IN_W), ch = prm(p, P_MEAN_CHANNELS);
  let zpOut = prm(p, P_MEAN_ZP_OUT), m = prm(p, P_MEAN_MULT), s = prm(p, P_MEAN_SHIFT);
  let bias = -prm(p, P_MEAN_ZP_IN) * n;
  let step = <usize>ch;
  for (let b = 0; b < batch; b++) {
    let xb = x + <usize>(b * n * ch);
    for (let c = 0; c < ch; c++) {
      let acc = bias;
      let xi = xb + <usize>c;
      let k = 0;
      // four taps per pass (the loop's own instructions are most of a one-tap pass)
      for (; k + 4 <= n; k += 4) {
        acc += <i32>load<i8>(xi) + <i32>load<i8>(xi + step) + <i32>load<i8>(xi + 2 * step) + <i32>load<i8>(xi + 3 * step);
        xi += 4 * step;
      }
      for (; k < n; k++) {
        acc += <i32>load<i8>(xi);
        xi += step;
      }
      let r = roundFloat ? outQF(acc, m, s, zpOut, -128, 127) : clampI(zpOut + mbqm(acc, m, s), -128, 127);
      store<i8>(y + <usize>(b * ch + c), <i8>r);
    }
  }
  return 0;
}
