// REQUANT: y = clamp(zpOut + MBQM(x - zpIn, mult, shift), outMin, outMax); int8/int16 in and out
import { prm, tP, cTensor, cDim, cProd, cDtype, cRange, cShift, cMult, dtMin, dtMax, M_I8, M_I16 } from '../check';
import { DTYPE_INT8, P_REQUANT_COUNT, P_REQUANT_IN, P_REQUANT_MULT, P_REQUANT_OUT, P_REQUANT_OUT_MAX, P_REQUANT_OUT_MIN, P_REQUANT_SHIFT, P_REQUANT_ZP_IN, P_REQUANT_ZP_OUT } from '../abi.gen';
import { mbqm, clampI } from '../fixedpoint';
import { tDtype } from '../check';

export function prepare(): void {
  let count = cDim(P_REQUANT_COUNT);
  cProd(cTensor(P_REQUANT_IN, M_I8 | M_I16), count);
  cProd(cTensor(P_REQUANT_OUT, M_I8 | M_I16), count);
  let di = cDtype(P_REQUANT_IN);
  let dout = cDtype(P_REQUANT_OUT);
  cRange(P_REQUANT_ZP_IN, dtMin(di), dtMax(di));
  cRange(P_REQUANT_ZP_OUT, dtMin(dout), dtMax(dout));
  cMult(P_REQUANT_MULT);
  cShift(P_REQUANT_SHIFT);
  let lo = cRange(P_REQUANT_OUT_MIN, dtMin(dout), dtMax(dout));
  cRange(P_REQUANT_OUT_MAX, lo, dtMax(dout));
}

export function evalOp(p: usize): i32 {
  let x = tP(p, P_REQUANT_IN), y = tP(p, P_REQUANT_OUT);
  let in8 = tDtype(prm(p, P_REQUANT_IN)) == DTYPE_INT8;
  let out8 = tDtype(prm(p, P_REQUANT_OUT)) == DTYPE_INT8;
  let count = prm(p, P_REQUANT_COUNT), zpIn = prm(p, P_REQUANT_ZP_IN), zpOut = prm(p, P_REQUANT_ZP_OUT), m = prm(p, P_REQUANT_MULT), s = prm(p, P_REQUANT_SHIFT), lo = prm(p, P_REQUANT_OUT_MIN), hi = prm(p, P_REQUANT_OUT_MAX);
  for (let i = 0; i < count; i++) {
    let v = in8 ? <i32>load<i8>(x + <usize>i) : <i32>load<i16>(x + (<usize>i << 1));
    let r = clampI(zpOut + mbqm(v - zpIn, m, s), lo, hi);
    if (out8) store<i8>(y + <usize>i, r); else store<i16>(y + (<usize>i << 1), r);
  }
  return 0;
}
