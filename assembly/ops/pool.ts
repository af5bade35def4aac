// MAX_POOL2D / AVG_POOL2D over in-bounds taps (NHWC int8 or int16, same dtype and qparams in and out).
import { P_MAX_POOL2D_ACT_MAX, P_MAX_POOL2D_ACT_MIN, P_MAX_POOL2D_BATCH, P_MAX_POOL2D_CHANNELS, P_MAX_POOL2D_IN, P_MAX_POOL2D_IN_H, P_MAX_POOL2D_IN_W, P_MAX_POOL2D_K_H, P_MAX_POOL2D_K_W, P_MAX_POOL2D_OUT, P_MAX_POOL2D_OUT_H, P_MAX_POOL2D_OUT_W, P_MAX_POOL2D_PAD_LEFT, P_MAX_POOL2D_PAD_TOP, P_MAX_POOL2D_STRIDE_H, P_MAX_POOL2D_STRIDE_W } from '../abi.gen';
import { prm, tP, cTensor, cDim, cGeom, cPad, cProd, cExtent, cFail, cSameDtype, cActDt, is16, ldE, stE, M_I8, M_I16A } from '../check';
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

// An average window's result: the sum divided rounding half away from zero (TFLite's reference).
// The max accumulators start at lo, so max windows need only the upper clamp.
// @ts-ignore: decorator
@inline function avgDiv(a: i32, n: i32): i32 {
  return (a > 0 ? a + (n >> 1) : a - (n >> 1)) / n;
}

// Every channel of one output pixel y over the window at x (rows x cols taps, rowB/pixB bytes
// apart). int8 max with 4 or more channels: blocks of 4 channels held in locals, the last block
// overlapping the previous one (the same values written twice). Average, int16 and fewer than
// 4 channels: one channel at a time.
// @ts-ignore: decorator
@inline function pixel(x: usize, y: usize, rows: i32, cols: i32, rowB: usize, pixB: usize, isAvg: bool, lo: i32, hi: i32, w16: bool): void {
  let colB = <usize>cols * pixB;
  let spanB = <usize>rows * rowB;
  if (isAvg || w16 || pixB < 4) {
    for (let c: usize = 0; c < pixB; c += <usize>1 << <usize>w16) {
      let a = isAvg ? 0 : lo;
      for (let r = x + c, rEnd = r + spanB; r < rEnd; r += rowB) {
        for (let q = r, qEnd = r + colB; q < qEnd; q += pixB) {
          let v = ldE(q, 0, w16);
          if (isAvg) a += v; else a = max(a, v);
        }
      }
      stE(y + c, 0, isAvg ? clampI(avgDiv(a, rows * cols), lo, hi) : min(a, hi), w16);
    }
    return;
  }
  let c: usize = 0;
  while (true) {
    let a0 = lo, a1 = lo, a2 = lo, a3 = lo;
    for (let r = x + c, rEnd = r + spanB; r < rEnd; r += rowB) {
      for (let q = r, qEnd = r + colB; q < qEnd; q += pixB) {
        a0 = max(a0, <i32>load<i8>(q));
        a1 = max(a1, <i32>load<i8>(q, 1));
        a2 = max(a2, <i32>load<i8>(q, 2));
        a3 = max(a3, <i32>load<i8>(q, 3));
      }
    }
    let yc = y + c;
    store<i8>(yc, min(a0, hi));
    store<i8>(yc, min(a1, hi), 1);
    store<i8>(yc, min(a2, hi), 2);
    store<i8>(yc, min(a3, hi), 3);
    c += 4;
    if (c >= pixB) break;
    if (c > pixB - 4) c = pixB - 4;
  }
}

export function evalOp(p: usize, isAvg: bool): i32 {
  let x0 = tP(p, P_MAX_POOL2D_IN);
  let y = tP(p, P_MAX_POOL2D_OUT);
  let batch = prm(p, P_MAX_POOL2D_BATCH), inH = prm(p, P_MAX_POOL2D_IN_H), inW = prm(p, P_MAX_POOL2D_IN_W), ch = prm(p, P_MAX_POOL2D_CHANNELS), outH = prm(p, P_MAX_POOL2D_OUT_H), outW = prm(p, P_MAX_POOL2D_OUT_W);
  let kH = prm(p, P_MAX_POOL2D_K_H), kW = prm(p, P_MAX_POOL2D_K_W), sH = prm(p, P_MAX_POOL2D_STRIDE_H), sW = prm(p, P_MAX_POOL2D_STRIDE_W), padT = prm(p, P_MAX_POOL2D_PAD_TOP), padL = prm(p, P_MAX_POOL2D_PAD_LEFT);
  let lo = prm(p, P_MAX_POOL2D_ACT_MIN), hi = prm(p, P_MAX_POOL2D_ACT_MAX);
  let w16 = is16(p, P_MAX_POOL2D_IN);
  let pixB = <usize>ch << <usize>w16;
  let rowB = <usize>inW * pixB;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      let h0 = oh * sH - padT;
      let h1 = h0 + kH;
      if (h0 < 0) h0 = 0;
      if (h1 > inH) h1 = inH;
      let xr = x0 + <usize>(b * inH + h0) * rowB;
      for (let ow = 0; ow < outW; ow++) {
        let w0 = ow * sW - padL;
        let w1 = w0 + kW;
        if (w0 < 0) w0 = 0;
        if (w1 > inW) w1 = inW;
        let xw = xr + <usize>w0 * pixB;
        pixel(xw, y, h1 - h0, w1 - w0, rowB, pixB, isAvg, lo, hi, w16);
        y += pixB;
      }
    }
  }
  return 0;
}
