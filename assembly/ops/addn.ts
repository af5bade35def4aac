// ADD_N: s = sum_i MBQM((x_i - zp_i) << leftShift, mult_i, shift_i); y = clamp(MBQM(s, outMult, outShift) + zpOut)
// int8 or int16: every input has the output's dtype
import { prm, tP, tAddr, gP, cTensor, cDim, cProd, cRange, cShift, cMult, cSameDtype, cZpDt, cActDt, is16, ldE, stE, M_I8, M_I16A } from '../check';
import { LIMIT_MAX_LEFT_SHIFT, NP_ADD_N, P_ADD_N_ACT_MAX, P_ADD_N_ACT_MIN, P_ADD_N_COUNT, P_ADD_N_LEFT_SHIFT, P_ADD_N_N, P_ADD_N_OUT, P_ADD_N_OUT_MULT, P_ADD_N_OUT_SHIFT, P_ADD_N_ZP_OUT, RF_ADD_N_MULT, RF_ADD_N_SHIFT, RF_ADD_N_TENSOR, RF_ADD_N_ZP, RN_ADD_N } from '../abi.gen';
import { mbqm, clampI, roundDouble } from '../fixedpoint';
import { opArea } from '../memory';

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

// One term per input, then the output's, 32 bytes each in the op area (memory.ts): m (i64),
// r (i64), s, k, then the input's address and zero point. MBQM in the fast form of fixedpoint.ts
// mbqmF with everything that depends only on (mult, shift) hoisted:
// (x * m + r + sign-extend(x & k)) >> s. The form covers every multiplier in single rounding and
// mult >= 0, shift <= 0 (what TFLite's ADD emits) in double rounding; k = 1 marks the others,
// which take the general mbqm.
function term(t: usize, mult: i32, shift: i32): void {
  let d = roundDouble;
  let s = 31 - shift;
  store<i64>(t, <i64>mult);
  store<i64>(t, (<i64>1 << <i64>(s - 1)) | <i64>(0x40000000 & d), 8);
  store<i32>(t, s, 16);
  store<i32>(t, ((mult | -shift) & d) < 0 ? 1 : shift & d & i32.MIN_VALUE, 20);
}

// @ts-ignore: decorator
@inline function apply(x: i32, t: usize): i32 {
  let k = load<i32>(t, 20);
  let m = load<i64>(t);
  let s = load<i32>(t, 16);
  return k == 1 ? mbqm(x, <i32>m, 31 - s) : <i32>((<i64>x * m + load<i64>(t, 8) + <i64>(x & k)) >> <i64>s);
}

export function evalOp(p: usize): i32 {
  let y = tP(p, P_ADD_N_OUT);
  let count = prm(p, P_ADD_N_COUNT);
  let zpOut = prm(p, P_ADD_N_ZP_OUT), lo = prm(p, P_ADD_N_ACT_MIN), hi = prm(p, P_ADD_N_ACT_MAX), ls = prm(p, P_ADD_N_LEFT_SHIFT);
  let n = prm(p, P_ADD_N_N);
  let w16 = is16(p, P_ADD_N_OUT);
  let t0 = opArea();
  let t = t0;
  for (let gp = p + (<usize>NP_ADD_N << 2), gEnd = gp + (<usize>(n * RN_ADD_N) << 2); gp < gEnd; gp += <usize>RN_ADD_N << 2) {
    term(t, load<i32>(gp, RF_ADD_N_MULT << 2), load<i32>(gp, RF_ADD_N_SHIFT << 2));
    store<i32>(t, <i32>tAddr(load<i32>(gp, RF_ADD_N_TENSOR << 2)), 24);
    store<i32>(t, load<i32>(gp, RF_ADD_N_ZP << 2), 28);
    t += 32;
  }
  term(t, prm(p, P_ADD_N_OUT_MULT), prm(p, P_ADD_N_OUT_SHIFT));
  for (let i = 0; i < count; i++) {
    let s: i32 = 0;
    for (let q = t0; q < t; q += 32) s += apply((ldE(load<i32>(q, 24), i, w16) - load<i32>(q, 28)) << ls, q);
    stE(y, i, clampI(apply(s, t) + zpOut, lo, hi), w16);
  }
  return 0;
}
