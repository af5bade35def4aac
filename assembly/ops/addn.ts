// ADD_N: s = sum_i MBQM((x_i - zp_i) << leftShift, mult_i, shift_i); y = clamp(MBQM(s, outMult, outShift) + zpOut)
// int8 or int16: every input has the output's dtype
import { prm, tP, tAddr, gP, cTensor, cDim, cProd, cRange, cShift, cMult, cSameDtype, cZpDt, cActDt, is16, ldE, stE, M_I8, M_I16A } from '../check';
import { LIMIT_MAX_LEFT_SHIFT, NP_ADD_N, P_ADD_N_ACT_MAX, P_ADD_N_ACT_MIN, P_ADD_N_COUNT, P_ADD_N_LEFT_SHIFT, P_ADD_N_N, P_ADD_N_OUT, P_ADD_N_OUT_MULT, P_ADD_N_OUT_SHIFT, P_ADD_N_ZP_OUT, RF_ADD_N_MULT, RF_ADD_N_SHIFT, RF_ADD_N_ZP, RN_ADD_N } from '../abi.gen';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let eOut = cTensor(P_ADD_N_OUT, M_I8 | M_I16A);
  let count = cDim(P_ADD_N_COUNT);
  cProd(eOut, count);
  let dt = cSameDtype(P_ADD_N_OUT, P_ADD_N_OUT);
  cZpDt(P_ADD_N_ZP_OUT, dt);
  cActDt(P_ADD_N_ACT_MIN, P_ADD_N_ACT_MAX, dt);
  cRange(P_ADD_N_LEFT_SHIFT, 0, LIMIT_MAX_LEFT_SHIFT);
  cMult(P_ADD_N_OUT_MULT);
  cShift(P_ADD_N_OUT_SHIFT);
  let n = prm(gP, P_ADD_N_N);
  for (let g = 0; g < n; g++) {
    let b = NP_ADD_N + g * RN_ADD_N;
    cProd(cTensor(b, M_I8 | M_I16A), count);
    cSameDtype(b, P_ADD_N_OUT);
    cZpDt(b + RF_ADD_N_ZP, dt);
    cMult(b + RF_ADD_N_MULT, true);
    cShift(b + RF_ADD_N_SHIFT);
  }
}

export function evalOp(p: usize): i32 {
  let y = tP(p, P_ADD_N_OUT);
  let count = prm(p, P_ADD_N_COUNT);
  let zpOut = prm(p, P_ADD_N_ZP_OUT), lo = prm(p, P_ADD_N_ACT_MIN), hi = prm(p, P_ADD_N_ACT_MAX), ls = prm(p, P_ADD_N_LEFT_SHIFT), om = prm(p, P_ADD_N_OUT_MULT), os = prm(p, P_ADD_N_OUT_SHIFT);
  let n = prm(p, P_ADD_N_N);
  let g0 = p + (<usize>NP_ADD_N << 2);
  let gEnd = g0 + (<usize>(n * RN_ADD_N) << 2);
  let w16 = is16(p, P_ADD_N_OUT);
  for (let i = 0; i < count; i++) {
    let s: i32 = 0;
    for (let gp = g0; gp < gEnd; gp += <usize>RN_ADD_N << 2) {
      let x = ldE(tAddr(load<i32>(gp)), i, w16);
      s += mbqm((x - load<i32>(gp, 4)) << ls, load<i32>(gp, 8), load<i32>(gp, 12));
    }
    stE(y, i, clampI(mbqm(s, om, os) + zpOut, lo, hi), w16);
  }
  return 0;
}
