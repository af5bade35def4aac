// PRELU: x >= zpIn ? zpOut + MBQM(x - zpIn, posMult, posShift)
//                  : zpOut + MBQM((x - zpIn) * alpha[c], negMult, negShift); clamp int8
import { P_PRELU_ALPHA, P_PRELU_CHANNELS, P_PRELU_COUNT, P_PRELU_IN, P_PRELU_NEG_MULT, P_PRELU_NEG_SHIFT, P_PRELU_OUT, P_PRELU_POS_MULT, P_PRELU_POS_SHIFT, P_PRELU_ZP_IN, P_PRELU_ZP_OUT } from '../abi.gen';
import { prm, tP, cP, cTensor, cDim, cProd, cZp8, cShift, cMult, cConst, cFail, M_I8 } from '../check';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let count = cDim(P_PRELU_COUNT);
  cProd(cTensor(P_PRELU_IN, M_I8), count);
  cProd(cTensor(P_PRELU_OUT, M_I8), count);
  let ch = cDim(P_PRELU_CHANNELS);
  if (count % ch != 0) cFail();
  cZp8(P_PRELU_ZP_IN);
  cZp8(P_PRELU_ZP_OUT);
  cMult(P_PRELU_POS_MULT);
  cShift(P_PRELU_POS_SHIFT);
  cMult(P_PRELU_NEG_MULT);
  cShift(P_PRELU_NEG_SHIFT);
  cConst(P_PRELU_ALPHA, <i64>ch, 1);
}

export function evalOp(p: usize): i32 {
  let x = tP(p, P_PRELU_IN), y = tP(p, P_PRELU_OUT);
  let count = prm(p, P_PRELU_COUNT), ch = prm(p, P_PRELU_CHANNELS), zpIn = prm(p, P_PRELU_ZP_IN), zpOut = prm(p, P_PRELU_ZP_OUT);
  let pm = prm(p, P_PRELU_POS_MULT), ps = prm(p, P_PRELU_POS_SHIFT);
  let alpha = cP(p, P_PRELU_ALPHA);
  let nm = prm(p, P_PRELU_NEG_MULT), ns = prm(p, P_PRELU_NEG_SHIFT);
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
