// CONV2D: NHWC int8, zero point folded into the bias over all taps; taps outside the input read
// as zpIn. layout 0: weights [outC][kH][kW][inC/groups]; layout 1 (groups 1 only): the
// [outC][K = kH*kW*inC] matrix in DENSE layout 1 (4-row blocks interleaved [outC/4][K][4],
// remainder rows row-major). With layout 1, kH = 1 and dilW = 1, the in-bounds taps of an output
// are contiguous input bytes: every output position runs as one DENSE vector (denseVec) with the
// padding taps at zpIn; other geometries take the per-element path. mult int32[outC], shift int8[outC].
import { prm, tP, cP, cTensor, cDim, cGeom, cPad, cProd, cZp8, cAct, cConst, cShiftArray, cMultArray, cExtent, cmul, cFail, cRange, M_I8 } from '../check';
import { dot8, denseVec, outQ } from './dense';

export function prepareConvLike(depthwise: bool): void {
  let eIn = cTensor(0, M_I8);
  let eOut = cTensor(1, M_I8);
  let batch = cDim(2);
  let inH = cDim(3);
  let inW = cDim(4);
  let inC = cDim(5);
  let outH = cDim(6);
  let outW = cDim(7);
  let oc = cDim(8);
  cProd(eIn, batch, inH, inW, inC);
  if (depthwise) cProd(eOut, batch, outH, outW, inC, oc);
  else cProd(eOut, batch, outH, outW, oc);
  let kH = cGeom(9);
  let kW = cGeom(10);
  let sH = cGeom(11);
  let sW = cGeom(12);
  let dH = cGeom(13);
  let dW = cGeom(14);
  cPad(15);
  cPad(16);
  cExtent(outH, sH, kH, dH);
  cExtent(outW, sW, kW, dW);
  cZp8(17);
  cZp8(22);
  cAct(23, 24);
  let outC: i64 = depthwise ? cmul(inC, oc) : <i64>oc;
  let icg: i64 = inC;
  if (!depthwise) {
    let groups = cDim(26);
    if (inC % groups != 0 || <i32>outC % groups != 0) cFail();
    icg = inC / groups;
    if (cRange(27, 0, 1) == 1 && groups != 1) cFail();
  }
  let wBytes = depthwise ? cmul(cmul(kH, kW), outC) : cmul(cmul(cmul(outC, kH), kW), icg);
  cConst(18, wBytes, 1);
  cConst(19, cmul(outC, 4), 4, true);
  let mo = cConst(20, cmul(outC, 4), 4);
  let sh = cConst(21, outC, 1);
  cConst(25, 256, 1, true);
  cShiftArray(sh, <i32>outC);
  cMultArray(mo, <i32>outC);
}

export function prepare(): void { prepareConvLike(false); }

export function evalOp(p: usize): i32 {
  let x0 = tP(p, 0);
  let y = tP(p, 1);
  let batch = prm(p, 2), inH = prm(p, 3), inW = prm(p, 4), inC = prm(p, 5);
  let outH = prm(p, 6), outW = prm(p, 7), outC = prm(p, 8);
  let kH = prm(p, 9), kW = prm(p, 10), sH = prm(p, 11), sW = prm(p, 12), dH = prm(p, 13), dW = prm(p, 14);
  let padT = prm(p, 15), padL = prm(p, 16), zpIn = prm(p, 17);
  let wts = cP(p, 18);
  let bias: usize = prm(p, 19) == -1 ? 0 : cP(p, 19);
  let mult = cP(p, 20), shift = cP(p, 21);
  let zpOut = prm(p, 22), lo = prm(p, 23), hi = prm(p, 24);
  let lut: usize = prm(p, 25) == -1 ? 0 : cP(p, 25);
  let groups = prm(p, 26);
  let blocked = prm(p, 27) == 1;
  let icg = inC / groups;
  let ocg = outC / groups;
  let rowBytes = <usize>inW * <usize>inC;
  let imgBytes = <usize>inH * rowBytes;
  let K = kH * kW * icg; // weights per output channel
  let full = blocked ? outC & ~3 : 0;
  let fast = blocked && kH == 1 && dW == 1;
  for (let b = 0; b < batch; b++) {
    let xb = x0 + <usize>b * imgBytes;
    for (let oh = 0; oh < outH; oh++) {
      let ih0 = oh * sH - padT;
      for (let ow = 0; ow < outW; ow++) {
        let iw0 = ow * sW - padL;
        if (fast) {
          // kW*inC contiguous input bytes (taps kwLo..kwHi inside the input), one DENSE vector
          // over all output channels; the other taps are padding (zpIn)
          let kwLo = 0, kwHi = 0;
          if (ih0 >= 0 && ih0 < inH) {
            kwLo = iw0 < 0 ? -iw0 : 0;
            kwHi = inW - iw0 < kW ? inW - iw0 : kW;
            if (kwLo > kW) kwLo = kW;
            if (kwHi < kwLo) kwHi = kwLo;
          }
          denseVec(xb + <usize>ih0 * rowBytes + <usize>iw0 * <usize>inC, K, kwLo * inC, kwHi * inC, zpIn, wts, outC, 1,
            bias, mult, shift, zpOut, lo, hi, lut, y);
          y += <usize>outC;
          continue;
        }
        let w = wts;
        for (let oc = 0; oc < outC; oc++) {
          let g = oc / ocg;
          let acc: i32 = bias ? load<i32>(bias + (<usize>oc << 2)) : 0;
          let xg = xb + <usize>(g * icg);
          // layout 1: weight k of channel oc at wb + k*ws
          let ws: usize = oc < full ? 4 : 1;
          if (blocked) w = wts + (oc < full ? <usize>(oc & ~3) * <usize>K + <usize>(oc & 3) : <usize>oc * <usize>K);
          for (let kh = 0; kh < kH; kh++) {
            let ih = ih0 + kh * dH;
            let rowIn = ih >= 0 && ih < inH;
            let xr = xg + <usize>ih * rowBytes;
            for (let kw = 0; kw < kW; kw++) {
              let iw = iw0 + kw * dW;
              let inside = rowIn && iw >= 0 && iw < inW;
              if (inside && !blocked) {
                acc += dot8(xr + <usize>iw * <usize>inC, w, icg);
                w += <usize>icg;
              } else {
                // padding taps read zpIn; layout 1 reads weights with stride ws
                let xp = xr + <usize>iw * <usize>inC;
                for (let c = 0; c < icg; c++) {
                  let xv = inside ? <i32>load<i8>(xp + <usize>c) : zpIn;
                  acc += xv * <i32>load<i8>(w);
                  w += ws;
                }
              }
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
