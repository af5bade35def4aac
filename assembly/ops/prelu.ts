// PRELU: x >= zpIn ? zpOut + MBQM(x - zpIn, posMult, posShift)
//                  : zpOut + MBQM((x - zpIn) * alpha[c], negMult, negShift); clamp int8
import { prm, tP, cP, cTensor, cDim, cProd, cZp8, cShift, cMult, cConst, cFail, M_I8 } from '../check';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let count = cDim(2);
  cProd(cTensor(0, M_I8), count);
  cProd(cTensor(1, M_I8), count);
  let ch = cDim(3);
  if (count % ch != 0) cFail();
  cZp8(4);
  cZp8(5);
  cMult(6);
  cShift(7);
  cMult(9);
  cShift(10);
  cConst(8, <i64>ch, 1);
}

export function evalOp(p: usize): i32 {
  let x = tP(p, 0), y = tP(p, 1);
  let count = prm(p, 2), ch = prm(p, 3), zpIn = prm(p, 4), zpOut = prm(p, 5);
  let pm = prm(p, 6), ps = prm(p, 7);
  let alpha = cP(p, 8);
  let nm = prm(p, 9), ns = prm(p, 10);
  let end = x + <usize>count;
  let c = 0;
  while (x < end) {
    let v = <i32>load<i8>(x) - zpIn;
    let r = v >= 0 ? mbqm(v, pm, ps) : mbqm(v * <i32>load<i8>(alpha + <usize>c), nm, ns);
    store<i8>(y, clampI(zpOut + r, -128, 127));
    x++; y++;
    c++;
    if (c == ch) c = 0;
  }
  return 0;
}
