// MAX_POOL2D / AVG_POOL2D over in-bounds taps (NHWC int8 or int16, same dtype and qparams in and out).
import { P_MAX_POOL2D_ACT_MAX, P_MAX_POOL2D_ACT_MIN, P_MAX_POOL2D_BATCH, P_MAX_POOL2D_CHANNELS, P_MAX_POOL2D_IN, P_MAX_POOL2D_IN_H, P_MAX_POOL2D_IN_W, P_MAX_POOL2D_K_H, P_MAX_POOL2D_K_W, P_MAX_POOL2D_OUT, P_MAX_POOL2D_OUT_H, P_MAX_POOL2D_OUT_W, P_MAX_POOL2D_PAD_LEFT, P_MAX_POOL2D_PAD_TOP, P_MAX_POOL2D_STRIDE_H, P_MAX_POOL2D_STRIDE_W } from '../abi.gen';
import { prm, tP, cTensor, cDim, cGeom, cPad, cProd, cExtent, cFail, cSameDtype, cActDt, dtMin, is16, ldE, stE, M_I8, M_I16A } from '../check';
import { clampI } from '../fixedpoint';

export function prepare(): void {
  let eIn = cTensor(P_MAX_POOL2D_IN, M_I8 | M_I16A);
  let eOut = cTensor(P_MAX_POOL2D_OUT, M_I8 | M_I16A);
  let dt = cSameDtype(P_MAX_POOL2D_IN, P_MAX_POOL2D_OUT);
  let batch = cDim(P_MAX_POOL2D_BATCH), inH = cDim(P_MAX_POOL2D_IN_H), inW = cDim(P_MAX_POOL2D_IN_W), ch = cDim(P_MAX_POOL2D_CHANNELS), outH = cDim(P_MAX_POOL2D_OUT_H), outW = cDim(P_MAX_POOL2D_OUT_W);
  cProd(eIn, batch, inH, inW, ch);
  cProd(eOut, batch, outH, outW, ch);
  let kH = cGeom(P_MAX_POOL2D_K_H), kW = cGeom(P_MAX_POOL2D_K_W), sH = cGeom(P_MAX_POOL2D_STRIDE_H), sW = cGeom(P_MAX_POOL2D_STRIDE_W);
  let pT = cPad(P_MAX_POOL2D_PAD_TOP), pL = cPad(P_MAX_POOL2D_PAD_LEFT);
  cExtent(outH, sH, kH, 1);
  cExtent(outW, sW, kW, 1);
  // every window holds at least one in-bounds tap (so avg never divides by 0)
  if (kH <= pT || <i64>(outH - 1) * <i64>sH - <i64>pT >= <i64>inH) cFail();
  if (kW <= pL || <i64>(outW - 1) * <i64>sW - <i64>pL >= <i64>inW) cFail();
  cActDt(P_MAX_POOL2D_ACT_MIN, P_MAX_POOL2D_ACT_MAX, dt);
}

export function evalOp(p: usize, isAvg: bool): i32 {
  let x0 = tP(p, P_MAX_POOL2D_IN);
  let y = tP(p, P_MAX_POOL2D_OUT);
  let batch = prm(p, P_MAX_POOL2D_BATCH), inH = prm(p, P_MAX_POOL2D_IN_H), inW = prm(p, P_MAX_POOL2D_IN_W), ch = prm(p, P_MAX_POOL2D_CHANNELS), outH = prm(p, P_MAX_POOL2D_OUT_H), outW = prm(p, P_MAX_POOL2D_OUT_W);
  let kH = prm(p, P_MAX_POOL2D_K_H), kW = prm(p, P_MAX_POOL2D_K_W), sH = prm(p, P_MAX_POOL2D_STRIDE_H), sW = prm(p, P_MAX_POOL2D_STRIDE_W), padT = prm(p, P_MAX_POOL2D_PAD_TOP), padL = prm(p, P_MAX_POOL2D_PAD_LEFT);
  let lo = prm(p, P_MAX_POOL2D_ACT_MIN), hi = prm(p, P_MAX_POOL2D_ACT_MAX);
  let w16 = is16(p, P_MAX_POOL2D_IN);
  let least = w16 ? dtMin(2) : -128;
  let rowE = inW * ch;
  let yi = 0;
  for (let b = 0; b < batch; b++) {
    let xb = b * inH * rowE;
    for (let oh = 0; oh < outH; oh++) {
      let h0 = oh * sH - padT;
      let h1 = h0 + kH;
      if (h0 < 0) h0 = 0;
      if (h1 > inH) h1 = inH;
      for (let ow = 0; ow < outW; ow++) {
        let w0 = ow * sW - padL;
        let w1 = w0 + kW;
        if (w0 < 0) w0 = 0;
        if (w1 > inW) w1 = inW;
        let n = (h1 - h0) * (w1 - w0);
        for (let c = 0; c < ch; c++) {
          let acc: i32 = isAvg ? 0 : least;
          for (let h = h0; h < h1; h++) {
            let xi = xb + h * rowE + w0 * ch + c;
            for (let w = w0; w < w1; w++) {
              let v = ldE(x0, xi, w16);
              if (isAvg) acc += v; else if (v > acc) acc = v;
              xi += ch;
            }
          }
          if (isAvg) {
            if (n > 0) acc = acc > 0 ? (acc + (n >> 1)) / n : (acc - (n >> 1)) / n;
            else acc = 0;
          }
          stE(y, yi++, clampI(acc, lo, hi), w16);
        }
      }
    }
  }
  return 0;
}
