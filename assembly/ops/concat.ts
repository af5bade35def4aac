// CONCAT: for each of `outer` blocks, `inner_i` elements of each input in turn; identity copies
// elements, else y = clamp(zpOut + MBQM(x - zp, mult, shift)) to the dtype's range. Inputs and
// output share one dtype, int8 or int16.
import { prm, tP, tAddr, gP, cTensor, cDim, cProd, cRange, cShift, cMult, cSameDtype, cZpDt, dtMin, dtMax, is16, ldE, stE, M_I8, M_I16A } from '../check';
import { DTYPE_INT16 } from '../abi.gen';
import { NP_CONCAT, P_CONCAT_N, P_CONCAT_OUT, P_CONCAT_OUTER, P_CONCAT_ZP_OUT, RF_CONCAT_IDENTITY, RF_CONCAT_INNER, RF_CONCAT_MULT, RF_CONCAT_SHIFT, RF_CONCAT_ZP, RN_CONCAT } from '../abi.gen';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let eOut = cTensor(P_CONCAT_OUT, M_I8 | M_I16A);
  let outer = cDim(P_CONCAT_OUTER);
  let dt = cSameDtype(P_CONCAT_OUT, P_CONCAT_OUT);
  cZpDt(P_CONCAT_ZP_OUT, dt);
  let n = prm(gP, P_CONCAT_N);
  let sumInner: i64 = 0;
  for (let g = 0; g < n; g++) {
    let b = NP_CONCAT + g * RN_CONCAT;
    let e = cTensor(b, M_I8 | M_I16A);
    cSameDtype(b, P_CONCAT_OUT);
    let inner = cDim(b + RF_CONCAT_INNER);
    cProd(e, outer, inner);
    cZpDt(b + RF_CONCAT_ZP, dt);
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
  let w16 = is16(p, P_CONCAT_OUT);
  let dt = w16 ? DTYPE_INT16 : 1;
  let lo = dtMin(dt), hi = dtMax(dt);
  let yi = 0;
  for (let o = 0; o < outer; o++) {
    for (let gp = g0; gp < gEnd; gp += <usize>RN_CONCAT << 2) {
      let inner = load<i32>(gp, 4);
      let x = tAddr(load<i32>(gp));
      let xi = o * inner;
      let end = xi + inner;
      let id = load<i32>(gp, 20) != 0;
      let zp = load<i32>(gp, 8), m = load<i32>(gp, 12), s = load<i32>(gp, 16);
      while (xi < end) {
        let v = ldE(x, xi, w16);
        stE(y, yi, id ? v : clampI(zpOut + mbqm(v - zp, m, s), lo, hi), w16);
        xi++; yi++;
      }
    }
  }
  return 0;
}
