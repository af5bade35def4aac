// ADD_N: s = sum_i MBQM((x_i - zp_i) << leftShift, mult_i, shift_i); y = clamp(MBQM(s, outMult, outShift) + zpOut)
import { prm, tP, tAddr, gP, cTensor, cDim, cProd, cZp8, cAct, cRange, cShift, cMult, M_I8 } from '../check';
import { NP_ADD_N, RN_ADD_N, LIMIT_MAX_LEFT_SHIFT } from '../abi.gen';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let eOut = cTensor(0, M_I8);
  let count = cDim(1);
  cProd(eOut, count);
  cZp8(2);
  cAct(3, 4);
  cRange(5, 0, LIMIT_MAX_LEFT_SHIFT);
  cMult(6);
  cShift(7);
  let n = prm(gP, 8);
  for (let g = 0; g < n; g++) {
    let b = NP_ADD_N + g * RN_ADD_N;
    cProd(cTensor(b, M_I8), count);
    cZp8(b + 1);
    cMult(b + 2, true);
    cShift(b + 3);
  }
}

export function evalOp(p: usize): i32 {
  let y = tP(p, 0);
  let count = prm(p, 1);
  let zpOut = prm(p, 2), lo = prm(p, 3), hi = prm(p, 4), ls = prm(p, 5), om = prm(p, 6), os = prm(p, 7);
  let n = prm(p, 8);
  let g0 = p + (<usize>NP_ADD_N << 2);
  let gEnd = g0 + (<usize>(n * RN_ADD_N) << 2);
  for (let i = 0; i < count; i++) {
    let s: i32 = 0;
    for (let gp = g0; gp < gEnd; gp += <usize>RN_ADD_N << 2) {
      let x = <i32>load<i8>(tAddr(load<i32>(gp)) + <usize>i);
      s += mbqm((x - load<i32>(gp, 4)) << ls, load<i32>(gp, 8), load<i32>(gp, 12));
    }
    store<i8>(y + <usize>i, clampI(mbqm(s, om, os) + zpOut, lo, hi));
  }
  return 0;
}
