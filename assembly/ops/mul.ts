// MUL: y = clamp(zpOut + MBQM((a - zpA) * (b - zpB), mult, shift), actMin, actMax)
import { prm, tP, cTensor, cDim, cProd, cZp8, cAct, cShift, cMult, M_I8 } from '../check';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let count = cDim(3);
  cProd(cTensor(0, M_I8), count);
  cProd(cTensor(1, M_I8), count);
  cProd(cTensor(2, M_I8), count);
  cZp8(4);
  cZp8(5);
  cZp8(6);
  cMult(7);
  cShift(8);
  cAct(9, 10);
}

export function evalOp(p: usize): i32 {
  let a = tP(p, 0), b = tP(p, 1), y = tP(p, 2);
  let count = prm(p, 3);
  let zpA = prm(p, 4), zpB = prm(p, 5), zpOut = prm(p, 6), m = prm(p, 7), s = prm(p, 8), lo = prm(p, 9), hi = prm(p, 10);
  let end = y + <usize>count;
  while (y < end) {
    let v = (<i32>load<i8>(a) - zpA) * (<i32>load<i8>(b) - zpB);
    store<i8>(y, clampI(mbqm(v, m, s) + zpOut, lo, hi));
    a++; b++; y++;
  }
  return 0;
}
