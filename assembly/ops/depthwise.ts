// DEPTHWISE_CONV2D: out channel oc = c*depthMult + m; weights [kH][kW][inC*depthMult].
import { P_DEPTHWISE_CONV2D_ACT_MAX, P_DEPTHWISE_CONV2D_ACT_MIN, P_DEPTHWISE_CONV2D_BATCH, P_DEPTHWISE_CONV2D_BIAS, P_DEPTHWISE_CONV2D_DEPTH_MULT, P_DEPTHWISE_CONV2D_DIL_H, P_DEPTHWISE_CONV2D_DIL_W, P_DEPTHWISE_CONV2D_IN, P_DEPTHWISE_CONV2D_IN_C, P_DEPTHWISE_CONV2D_IN_H, P_DEPTHWISE_CONV2D_IN_W, P_DEPTHWISE_CONV2D_K_H, P_DEPTHWISE_CONV2D_K_W, P_DEPTHWISE_CONV2D_LUT, P_DEPTHWISE_CONV2D_MULT, P_DEPTHWISE_CONV2D_OUT, P_DEPTHWISE_CONV2D_OUT_H, P_DEPTHWISE_CONV2D_OUT_W, P_DEPTHWISE_CONV2D_PAD_LEFT, P_DEPTHWISE_CONV2D_PAD_TOP, P_DEPTHWISE_CONV2D_SHIFT, P_DEPTHWISE_CONV2D_STRIDE_H, P_DEPTHWISE_CONV2D_STRIDE_W, P_DEPTHWISE_CONV2D_WEIGHTS, P_DEPTHWISE_CONV2D_ZP_IN, P_DEPTHWISE_CONV2D_ZP_OUT } from '../abi.gen';
import { prm, tP, cP, is16 } from '../check';
import { evalConv16 } from './wide';
import { prepareConvLike } from './conv2d';
import { outQ } from './dense';

export function prepare(): void { prepareConvLike(true); }

export function evalOp(p: usize): i32 {
  if (is16(p, P_DEPTHWISE_CONV2D_IN)) return evalConv16(p, true);
  let x0 = tP(p, P_DEPTHWISE_CONV2D_IN);
  let y = tP(p, P_DEPTHWISE_CONV2D_OUT);
  let batch = prm(p, P_DEPTHWISE_CONV2D_BATCH), inH = prm(p, P_DEPTHWISE_CONV2D_IN_H), inW = prm(p, P_DEPTHWISE_CONV2D_IN_W), inC = prm(p, P_DEPTHWISE_CONV2D_IN_C);
  let outH = prm(p, P_DEPTHWISE_CONV2D_OUT_H), outW = prm(p, P_DEPTHWISE_CONV2D_OUT_W), dm = prm(p, P_DEPTHWISE_CONV2D_DEPTH_MULT);
  let kH = prm(p, P_DEPTHWISE_CONV2D_K_H), kW = prm(p, P_DEPTHWISE_CONV2D_K_W), sH = prm(p, P_DEPTHWISE_CONV2D_STRIDE_H), sW = prm(p, P_DEPTHWISE_CONV2D_STRIDE_W), dH = prm(p, P_DEPTHWISE_CONV2D_DIL_H), dW = prm(p, P_DEPTHWISE_CONV2D_DIL_W);
  let padT = prm(p, P_DEPTHWISE_CONV2D_PAD_TOP), padL = prm(p, P_DEPTHWISE_CONV2D_PAD_LEFT), zpIn = prm(p, P_DEPTHWISE_CONV2D_ZP_IN);
  let wts = cP(p, P_DEPTHWISE_CONV2D_WEIGHTS);
  let bias: usize = prm(p, P_DEPTHWISE_CONV2D_BIAS) == -1 ? 0 : cP(p, P_DEPTHWISE_CONV2D_BIAS);
  let mult = cP(p, P_DEPTHWISE_CONV2D_MULT), shift = cP(p, P_DEPTHWISE_CONV2D_SHIFT);
  let zpOut = prm(p, P_DEPTHWISE_CONV2D_ZP_OUT), lo = prm(p, P_DEPTHWISE_CONV2D_ACT_MIN), hi = prm(p, P_DEPTHWISE_CONV2D_ACT_MAX);
  let lut: usize = prm(p, P_DEPTHWISE_CONV2D_LUT) == -1 ? 0 : cP(p, P_DEPTHWISE_CONV2D_LUT);
  let outC = inC * dm;
  let rowBytes = <usize>inW * <usize>inC;
  let imgBytes = <usize>inH * rowBytes;
  for (let b = 0; b < batch; b++) {
    let xb = x0 + <usize>b * imgBytes;
    for (let oh = 0; oh < outH; oh++) {
      let ih0 = oh * sH - padT;
      for (let ow = 0; ow < outW; ow++) {
        let iw0 = ow * sW - padL;
        for (let oc = 0; oc < outC; oc++) {
          let c = oc / dm;
          let acc: i32 = bias ? load<i32>(bias + (<usize>oc << 2)) : 0;
          let w = wts + <usize>oc;
          for (let kh = 0; kh < kH; kh++) {
            let ih = ih0 + kh * dH;
            let rowIn = ih >= 0 && ih < inH;
            let xr = xb + <usize>ih * rowBytes + <usize>c;
            for (let kw = 0; kw < kW; kw++) {
              let iw = iw0 + kw * dW;
              let xv = (rowIn && iw >= 0 && iw < inW) ? <i32>load<i8>(xr + <usize>iw * <usize>inC) : zpIn;
              acc += xv * <i32>load<i8>(w);
              w += <usize>outC;
            }
          }
          store<i8>(y, outQ(acc, mult, shift, oc, zpOut, lo, hi, lut));
          y++;
        }
      }
    }
  }
  return 0;
}
