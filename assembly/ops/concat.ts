// CONCAT: for each of `outer` blocks, `inner_i` elements of each input in turn; identity copies
// bytes, else y = clamp(zpOut + MBQM(x - zp, mult, shift), -128, 127).
import { prm, tP, tAddr, gP, cTensor, cDim, cProd, cZp8, cRange, cShift, cMult, M_I8 } from '../check';
import { NP_CONCAT, P_CONCAT_N, P_CONCAT_OUT, P_CONCAT_OUTER, P_CONCAT_ZP_OUT, RF_CONCAT_IDENTITY, RF_CONCAT_INNER, RF_CONCAT_MULT, RF_CONCAT_SHIFT, RF_CONCAT_ZP, RN_CONCAT } from '../abi.gen';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let eOut = cTensor(P_CONCAT_OUT, M_I8);
  let outer = cDim(P_CONCAT_OUTER);
  cZp8(P_CONCAT_ZP_OUT);
  let n = prm(gP, P_CONCAT_N);
  let sumInner: i64 = 0;
  for (let g = 0; g < n; g++) {
    let b = NP_CONCAT + g * RN_CONCAT;
    let e = cTensor(b, M_I8);
    let inner = cDim(b + RF_CONCAT_INNER);
    cProd(e, outer, inner);
    cZp8(b + RF_CONCAT_ZP);
    cMult(b + RF_CONCAT_MULT);
    cShift(b + RF_CONCAT_SHIFT);
    cRange(b + RF_CONCAT_IDENTITY, 0, 1);
    sumInner += <i64>inner;
  }
  cProd(eOut, outer, sumInner);
}

export function evalOp(p: usize): i32 {
  let y = tP(p, P_CONCAT_OUT);
  let outer = prm(p, P_CONCAT_OUTER), zpOut = prm(p, P_CONCAT_ZP_OUT), n = prm(p, P_CONCAT_N);
  let g0 = p + (<usize>NP_CONCAT << 2);
  let gEnd = g0 + (<usize>(n * RN_CONCAT) << 2);
  for (let o = 0; o < outer; o++) {
    for (let gp = g0; gp < gEnd; gp += <usize>RN_CONCAT << 2) {
      let inner = load<i32>(gp, 4);
      let x = tAddr(load<i32>(gp)) + <usize>o * <usize>inner;
      let end = x + <usize>inner;
      if (load<i32>(gp, 20)) {
        while (x < end) { store<i8>(y, load<i8>(x)); x++; y++; }
      } else {
        let zp = load<i32>(gp, 8), m = load<i32>(gp, 12), s = load<i32>(gp, 16);
        while (x < end) {
          store<i8>(y, clampI(zpOut + mbqm(<i32>load<i8>(x) - zp, m, s), -128, 127));
          x++; y++;
        }
      }
    }
  }
  return 0;
}
