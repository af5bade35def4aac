// MAXMIN: r_i = zpOut + MBQM(x_i - zp_i, mult_i, shift_i); y = clamp(max_i r_i) (or min)
import { prm, tP, tAddr, gP, cTensor, cDim, cProd, cZp8, cAct, cRange, cShift, cMult, M_I8 } from '../check';
import { NP_MAXMIN, RN_MAXMIN } from '../abi.gen';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let eOut = cTensor(0, M_I8);
  let count = cDim(1);
  cProd(eOut, count);
  cRange(2, 0, 1);
  cZp8(3);
  cAct(4, 5);
  let n = prm(gP, 6);
  for (let g = 0; g < n; g++) {
    let b = NP_MAXMIN + g * RN_MAXMIN;
    cProd(cTensor(b, M_I8), count);
    cZp8(b + 1);
    cMult(b + 2);
    cShift(b + 3);
  }
}

export function evalOp(p: usize): i32 {
  let y = tP(p, 0);
  let count = prm(p, 1), isMin = prm(p, 2), zpOut = prm(p, 3), lo = prm(p, 4), hi = prm(p, 5), n = prm(p, 6);
  let g0 = p + (<usize>NP_MAXMIN << 2);
  let gEnd = g0 + (<usize>(n * RN_MAXMIN) << 2);
  for (let i = 0; i < count; i++) {
    let best: i32 = 0;
    let first = true;
    for (let gp = g0; gp < gEnd; gp += <usize>RN_MAXMIN << 2) {
      let x = <i32>load<i8>(tAddr(load<i32>(gp)) + <usize>i);
      let r = zpOut + mbqm(x - load<i32>(gp, 4), load<i32>(gp, 8), load<i32>(gp, 12));
      if (first || (isMin ? r < best : r > best)) best = r;
      first = false;
    }
    store<i8>(y + <usize>i, clampI(best, lo, hi));
  }
  return 0;
}
