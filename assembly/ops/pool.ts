// MAX_POOL2D / AVG_POOL2D over in-bounds taps (NHWC int8, same qparams in and out).
import { prm, tP, cTensor, cDim, cGeom, cPad, cProd, cAct, cExtent, cFail, M_I8 } from '../check';
import { clampI } from '../fixedpoint';

export function prepare(): void {
  let eIn = cTensor(0, M_I8);
  let eOut = cTensor(1, M_I8);
  let batch = cDim(2), inH = cDim(3), inW = cDim(4), ch = cDim(5), outH = cDim(6), outW = cDim(7);
  cProd(eIn, batch, inH, inW, ch);
  cProd(eOut, batch, outH, outW, ch);
  let kH = cGeom(8), kW = cGeom(9), sH = cGeom(10), sW = cGeom(11);
  let pT = cPad(12), pL = cPad(13);
  cExtent(outH, sH, kH, 1);
  cExtent(outW, sW, kW, 1);
  // every window holds at least one in-bounds tap (so avg never divides by 0)
  if (kH <= pT || <i64>(outH - 1) * <i64>sH - <i64>pT >= <i64>inH) cFail();
  if (kW <= pL || <i64>(outW - 1) * <i64>sW - <i64>pL >= <i64>inW) cFail();
  cAct(14, 15);
}

export function evalOp(p: usize, isAvg: bool): i32 {
  let x0 = tP(p, 0);
  let y = tP(p, 1);
  let batch = prm(p, 2), inH = prm(p, 3), inW = prm(p, 4), ch = prm(p, 5), outH = prm(p, 6), outW = prm(p, 7);
  let kH = prm(p, 8), kW = prm(p, 9), sH = prm(p, 10), sW = prm(p, 11), padT = prm(p, 12), padL = prm(p, 13);
  let lo = prm(p, 14), hi = prm(p, 15);
  let rowBytes = <usize>inW * <usize>ch;
  let imgBytes = <usize>inH * rowBytes;
  for (let b = 0; b < batch; b++) {
    let xb = x0 + <usize>b * imgBytes;
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
          let acc: i32 = isAvg ? 0 : -128;
          for (let h = h0; h < h1; h++) {
            let xp = xb + <usize>h * rowBytes + <usize>w0 * <usize>ch + <usize>c;
            for (let w = w0; w < w1; w++) {
              let v = <i32>load<i8>(xp);
              if (isAvg) acc += v; else if (v > acc) acc = v;
              xp += <usize>ch;
            }
          }
          if (isAvg) {
            if (n > 0) acc = acc > 0 ? (acc + (n >> 1)) / n : (acc - (n >> 1)) / n;
            else acc = 0;
          }
          store<i8>(y, clampI(acc, lo, hi));
          y++;
        }
      }
    }
  }
  return 0;
}
