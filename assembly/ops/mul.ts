// MUL: y[i] = clamp(zpOut + MBQM((a[i] - zpA) * (b[i mod nB] - zpB), mult, shift), actMin, actMax)
// b holds count elements, or nB elements where nB divides count: b then repeats over the output
// (broadcasting along leading axes, e.g. [1, H, W, C] x [1, 1, 1, C] with nB = C).
import { P_MUL_A, P_MUL_ACT_MAX, P_MUL_ACT_MIN, P_MUL_B, P_MUL_COUNT, P_MUL_MULT, P_MUL_OUT, P_MUL_SHIFT, P_MUL_ZP_A, P_MUL_ZP_B, P_MUL_ZP_OUT } from '../abi.gen';
import { prm, tP, tElems, cTensor, cDim, cProd, cZp8, cAct, cShift, cMult, cFail, M_I8 } from '../check';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let count = cDim(P_MUL_COUNT);
  cProd(cTensor(P_MUL_A, M_I8), count);
  // nB >= 1 (every tensor has elements); it must divide count
  if (count % cTensor(P_MUL_B, M_I8) != 0) cFail();
  cProd(cTensor(P_MUL_OUT, M_I8), count);
  cZp8(P_MUL_ZP_A);
  cZp8(P_MUL_ZP_B);
  cZp8(P_MUL_ZP_OUT);
  cMult(P_MUL_MULT);
  cShift(P_MUL_SHIFT);
  cAct(P_MUL_ACT_MIN, P_MUL_ACT_MAX);
}

export function evalOp(p: usize): i32 {
  let a = tP(p, P_MUL_A), b0 = tP(p, P_MUL_B), y = tP(p, P_MUL_OUT);
  let count = prm(p, P_MUL_COUNT), nB = tElems(prm(p, P_MUL_B));
  let zpA = prm(p, P_MUL_ZP_A), zpB = prm(p, P_MUL_ZP_B), zpOut = prm(p, P_MUL_ZP_OUT), m = prm(p, P_MUL_MULT), s = prm(p, P_MUL_SHIFT), lo = prm(p, P_MUL_ACT_MIN), hi = prm(p, P_MUL_ACT_MAX);
  let end = y + <usize>count;
  // count / nB blocks of nB elements, each against b from its start (one block without broadcasting)
  while (y < end) {
    let b = b0;
    let blockEnd = y + <usize>nB;
    while (y < blockEnd) {
      let v = (<i32>load<i8>(a) - zpA) * (<i32>load<i8>(b) - zpB);
      store<i8>(y, clampI(mbqm(v, m, s) + zpOut, lo, hi));
      a++; b++; y++;
    }
  }
  return 0;
}
