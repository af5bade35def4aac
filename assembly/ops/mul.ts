// MUL: y[i] = clamp(zpOut + MBQM((a[i] - zpA) * (b[i mod nB] - zpB), mult, shift), actMin, actMax)
// b holds count elements, or nB elements where nB divides count: b then repeats over the output
// (broadcasting along leading axes, e.g. [1, H, W, C] x [1, 1, 1, C] with nB = C). a, b and out
// share one dtype, int8 or int16 ((a - zpA) * (b - zpB) fits int32 in both).
import { P_MUL_A, P_MUL_ACT_MAX, P_MUL_ACT_MIN, P_MUL_B, P_MUL_COUNT, P_MUL_MULT, P_MUL_OUT, P_MUL_SHIFT, P_MUL_ZP_A, P_MUL_ZP_B, P_MUL_ZP_OUT } from '../abi.gen';
import { prm, tP, tElems, cTensor, cDim, cProd, cShift, cMult, cFail, cSameDtype, cZpDt, cActDt, is16, ldE, stE, M_I8, M_I16A } from '../check';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let count = cDim(P_MUL_COUNT);
  cProd(cTensor(P_MUL_A, M_I8 | M_I16A), count);
  // nB >= 1 (every tensor has elements); it must divide count
  if (count % cTensor(P_MUL_B, M_I8 | M_I16A) != 0) cFail();
  cProd(cTensor(P_MUL_OUT, M_I8 | M_I16A), count);
  let dt = cSameDtype(P_MUL_A, P_MUL_OUT);
  cSameDtype(P_MUL_B, P_MUL_OUT);
  cZpDt(P_MUL_ZP_A, dt);
  cZpDt(P_MUL_ZP_B, dt);
  cZpDt(P_MUL_ZP_OUT, dt);
  cMult(P_MUL_MULT);
  cShift(P_MUL_SHIFT);
  cActDt(P_MUL_ACT_MIN, P_MUL_ACT_MAX, dt);
}

export function evalOp(p: usize): i32 {
  let a = tP(p, P_MUL_A), b0 = tP(p, P_MUL_B), y = tP(p, P_MUL_OUT);
  let count = prm(p, P_MUL_COUNT), nB = tElems(prm(p, P_MUL_B));
  let zpA = prm(p, P_MUL_ZP_A), zpB = prm(p, P_MUL_ZP_B), zpOut = prm(p, P_MUL_ZP_OUT), m = prm(p, P_MUL_MULT), s = prm(p, P_MUL_SHIFT), lo = prm(p, P_MUL_ACT_MIN), hi = prm(p, P_MUL_ACT_MAX);
  let w16 = is16(p, P_MUL_OUT);
  // count / nB blocks of nB elements, each against b from its start (one block without broadcasting)
  let i = 0;
  while (i < count) {
    for (let j = 0; j < nB; j++) {
      let v = (ldE(a, i, w16) - zpA) * (ldE(b0, j, w16) - zpB);
      stE(y, i, clampI(mbqm(v, m, s) + zpOut, lo, hi), w16);
      i++;
    }
  }
  return 0;
}
