// CONV2D: NHWC int8, weights [outC][kH][kW][inC/groups], zero point folded into the bias over
// all taps; taps outside the input read as zpIn.
import { prm, tP, cP, cTensor, cDim, cGeom, cPad, cProd, cZp8, cAct, cConst, cShiftArray, cExtent, cmul, cFail, M_I8 } from '../check';
import { mbqm, clampI } from '../fixedpoint';
import { dot8 } from './dense';

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
  }
  let wBytes = depthwise ? cmul(cmul(kH, kW), outC) : cmul(cmul(cmul(outC, kH), kW), icg);
  cConst(18, wBytes, 1);
  cConst(19, cmul(outC, 4), 4, true);
  cConst(20, cmul(outC, 4), 4);
  let sh = cConst(21, cmul(outC, 4), 4);
  cConst(25, 256, 1, true);
  cShiftArray(sh, <i32>outC);
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
  let icg = inC / groups;
  let ocg = outC / groups;
  let rowBytes = <usize>inW * <usize>inC;
  let imgBytes = <usize>inH * rowBytes;
  let wPerOut = <usize>kH * <usize>kW * <usize>icg;
  for (let b = 0; b < batch; b++) {
    let xb = x0 + <usize>b * imgBytes;
    for (let oh = 0; oh < outH; oh++) {
      let ih0 = oh * sH - padT;
      for (let ow = 0; ow < outW; ow++) {
        let iw0 = ow * sW - padL;
        let w = wts;
        for (let oc = 0; oc < outC; oc++) {
          let g = oc / ocg;
          let acc: i32 = bias ? load<i32>(bias + (<usize>oc << 2)) : 0;
          let xg = xb + <usize>(g * icg);
          for (let kh = 0; kh < kH; kh++) {
            let ih = ih0 + kh * dH;
            let rowIn = ih >= 0 && ih < inH;
            let xr = xg + <usize>ih * rowBytes;
            for (let kw = 0; kw < kW; kw++) {
              let iw = iw0 + kw * dW;
              if (rowIn && iw >= 0 && iw < inW) {
                acc += dot8(xr + <usize>iw * <usize>inC, w, icg);
              } else {
                // padding tap reads zpIn
                let s: i32 = 0;
                let we = w + <usize>icg;
                for (let wp = w; wp < we; wp++) s += <i32>load<i8>(wp);
                acc += s * zpIn;
              }
              w += <usize>icg;
            }
          }
          let v = clampI(mbqm(acc, load<i32>(mult + (<usize>oc << 2)), load<i32>(shift + (<usize>oc << 2))) + zpOut, lo, hi);
          if (lut) v = <i32>load<i8>(lut + <usize>(v + 128));
          store<i8>(y, v);
          y++;
        }
        void wPerOut;
      }
    }
  }
  return 0;
}
