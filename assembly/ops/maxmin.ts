// MAXMIN: r_i = zpOut + MBQM(x_i - zp_i, mult_i, shift_i); y = clamp(max_i r_i) (or min)
import { prm, tP, tAddr, gP, cTensor, cDim, cProd, cRange, cShift, cMult, cSameDtype, cZpDt, cActDt, is16, ldE, stE, M_I8, M_I16A } from '../check';
import { NP_MAXMIN, P_MAXMIN_ACT_MAX, P_MAXMIN_ACT_MIN, P_MAXMIN_COUNT, P_MAXMIN_IS_MIN, P_MAXMIN_N, P_MAXMIN_OUT, P_MAXMIN_ZP_OUT, RF_MAXMIN_MULT, RF_MAXMIN_SHIFT, RF_MAXMIN_ZP, RN_MAXMIN } from '../abi.gen';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let eOut = cTensor(P_MAXMIN_OUT, M_I8 | M_I16A);
  let count = cDim(P_MAXMIN_COUNT);
  cProd(eOut, count);
  let dt = cSameDtype(P_MAXMIN_OUT, P_MAXMIN_OUT);
  cRange(P_MAXMIN_IS_MIN, 0, 1);
  cZpDt(P_MAXMIN_ZP_OUT, dt);
  cActDt(P_MAXMIN_ACT_MIN, P_MAXMIN_ACT_MAX, dt);
  let n = prm(gP, P_MAXMIN_N);
  for (let g = 0; g < n; g++) {
    let b = NP_MAXMIN + g * RN_MAXMIN;
    cProd(cTensor(b, M_I8 | M_I16A), count);
    cSameDtype(b, P_MAXMIN_OUT);
    cZpDt(b + RF_MAXMIN_ZP, dt);
    cMult(b + RF_MAXMIN_MULT);
    cShift(b + RF_MAXMIN_SHIFT);
  }
}

export function evalOp(p: usize): i32 {
  let y = tP(p, P_MAXMIN_OUT);
  let count = prm(p, P_MAXMIN_COUNT), isMin = prm(p, P_MAXMIN_IS_MIN), zpOut = prm(p, P_MAXMIN_ZP_OUT), lo = prm(p, P_MAXMIN_ACT_MIN), hi = prm(p, P_MAXMIN_ACT_MAX), n = prm(p, P_MAXMIN_N);
  let g0 = p + (<usize>NP_MAXMIN << 2);
  let gEnd = g0 + (<usize>(n * RN_MAXMIN) << 2);
  let w16 = is16(p, P_MAXMIN_OUT);
  for (let i = 0; i < count; i++) {
    let best: i32 = 0;
    let first = true;
    for (let gp = g0; gp < gEnd; gp += <usize>RN_MAXMIN << 2) {
      let x = ldE(tAddr(load<i32>(gp)), i, w16);
      let r = zpOut + mbqm(x - load<i32>(gp, 4), load<i32>(gp, 8), load<i32>(gp, 12));
      if (first || (isMin ? r < best : r > best)) best = r;
      first = false;
    }
    stE(y, i, clampI(best, lo, hi), w16);
  }
  return 0;
}
