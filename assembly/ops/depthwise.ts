// DEPTHWISE_CONV2D: out channel oc = c*depthMult + m; weights [kH][kW][inC*depthMult].
import { prm, tP, cP } from '../check';
import { prepareConvLike } from './conv2d';
import { outQ } from './dense';

export function prepare(): void { prepareConvLike(true); }

export function evalOp(p: usize): i32 {
  let x0 = tP(p, 0);
  let y = tP(p, 1);
  let batch = prm(p, 2), inH = prm(p, 3), inW = prm(p, 4), inC = prm(p, 5);
  let outH = prm(p, 6), outW = prm(p, 7), dm = prm(p, 8);
  let kH = prm(p, 9), kW = prm(p, 10), sH = prm(p, 11), sW = prm(p, 12), dH = prm(p, 13), dW = prm(p, 14);
  let padT = prm(p, 15), padL = prm(p, 16), zpIn = prm(p, 17);
  let wts = cP(p, 18);
  let bias: usize = prm(p, 19) == -1 ? 0 : cP(p, 19);
  let mult = cP(p, 20), shift = cP(p, 21);
  let zpOut = prm(p, 22), lo = prm(p, 23), hi = prm(p, 24);
  let lut: usize = prm(p, 25) == -1 ? 0 : cP(p, 25);
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
