// REQUANT: y = clamp(zpOut + MBQM(x - zpIn, mult, shift), outMin, outMax); int8/int16 in and out
import { prm, tP, cTensor, cDim, cProd, cDtype, cRange, cShift, cMult, dtMin, dtMax, M_I8, M_I16 } from '../check';
import { DTYPE_INT8 } from '../abi.gen';
import { mbqm, clampI } from '../fixedpoint';
import { tDtype } from '../check';

export function prepare(): void {
  let count = cDim(2);
  cProd(cTensor(0, M_I8 | M_I16), count);
  cProd(cTensor(1, M_I8 | M_I16), count);
  let di = cDtype(0);
  let dout = cDtype(1);
  cRange(3, dtMin(di), dtMax(di));
  cRange(4, dtMin(dout), dtMax(dout));
  cMult(5);
  cShift(6);
  let lo = cRange(7, dtMin(dout), dtMax(dout));
  cRange(8, lo, dtMax(dout));
}

export function evalOp(p: usize): i32 {
  let x = tP(p, 0), y = tP(p, 1);
  let in8 = tDtype(prm(p, 0)) == DTYPE_INT8;
  let out8 = tDtype(prm(p, 1)) == DTYPE_INT8;
  let count = prm(p, 2), zpIn = prm(p, 3), zpOut = prm(p, 4), m = prm(p, 5), s = prm(p, 6), lo = prm(p, 7), hi = prm(p, 8);
  for (let i = 0; i < count; i++) {
    let v = in8 ? <i32>load<i8>(x + <usize>i) : <i32>load<i16>(x + (<usize>i << 1));
    let r = clampI(zpOut + mbqm(v - zpIn, m, s), lo, hi);
    if (out8) store<i8>(y + <usize>i, r); else store<i16>(y + (<usize>i << 1), r);
  }
  return 0;
}
