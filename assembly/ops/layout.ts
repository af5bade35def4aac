// LAYOUT: generic strided copy. For every output index (row-major over outDim), per axis
// i = floor((o - padBefore) / div); outside [0, inDim) -> fill, else in[sum(i * inStride)].
import { prm, tP, gP, gErr, cTensor, cDtype, cRange, cDim, cGeom, cFail, cmul, pdiv, CAP, dtMin, dtMax, M_I8, M_I16, M_I32 } from '../check';
import { DTYPE_INT16, DTYPE_INT8, LIMIT_MAX_REGION, NP_LAYOUT, P_LAYOUT_ELEM_SIZE, P_LAYOUT_FILL, P_LAYOUT_IN, P_LAYOUT_OUT, P_LAYOUT_RANK, RF_LAYOUT_DIV, RF_LAYOUT_IN_DIM, RF_LAYOUT_IN_STRIDE, RF_LAYOUT_PAD_BEFORE, RN_LAYOUT } from '../abi.gen';
import { opArea } from '../memory';

export function prepare(): void {
  let eIn = cTensor(P_LAYOUT_IN, M_I8 | M_I16 | M_I32);
  let eOut = cTensor(P_LAYOUT_OUT, M_I8 | M_I16 | M_I32);
  let dt = cDtype(P_LAYOUT_IN);
  if (gErr == 0 && cDtype(P_LAYOUT_OUT) != dt) cFail();
  let sz = dt == DTYPE_INT8 ? 1 : (dt == DTYPE_INT16 ? 2 : 4);
  cRange(P_LAYOUT_ELEM_SIZE, sz, sz);
  cRange(P_LAYOUT_FILL, dtMin(dt), dtMax(dt));
  let n = prm(gP, P_LAYOUT_RANK);
  let e: i64 = eOut;
  let maxIdx: i64 = 0;
  for (let g = 0; g < n; g++) {
    let b = NP_LAYOUT + g * RN_LAYOUT;
    let outDim = cDim(b);
    e = pdiv(e, outDim);
    let inDim = cDim(b + RF_LAYOUT_IN_DIM);
    let stride = cRange(b + RF_LAYOUT_IN_STRIDE, 0, i32.MAX_VALUE);
    cRange(b + RF_LAYOUT_PAD_BEFORE, -(LIMIT_MAX_REGION - 1), LIMIT_MAX_REGION - 1);
    cGeom(b + RF_LAYOUT_DIV);
    maxIdx += cmul(<i64>(inDim - 1), <i64>stride);
    if (maxIdx > CAP) maxIdx = CAP;
  }
  if (gErr == 0 && e != 1) cFail();
  if (gErr == 0 && maxIdx >= <i64>eIn) cFail();
}

export function evalOp(p: usize): i32 {
  let x = tP(p, P_LAYOUT_IN), y = tP(p, P_LAYOUT_OUT);
  let es = prm(p, P_LAYOUT_ELEM_SIZE), rank = prm(p, P_LAYOUT_RANK), fill = prm(p, P_LAYOUT_FILL);
  let g0 = p + (<usize>NP_LAYOUT << 2);
  let gs = <usize>RN_LAYOUT << 2;
  let cnt = opArea();
  let outer = 1;
  for (let a = 0; a < rank - 1; a++) {
    store<i32>(cnt + (<usize>a << 2), 0);
    outer *= load<i32>(g0 + <usize>a * gs);
  }
  let last = g0 + <usize>(rank - 1) * gs;
  let lOut = load<i32>(last), lIn = load<i32>(last, 4), lStr = load<i32>(last, 8), lPad = load<i32>(last, 12), lDiv = load<i32>(last, 16);
  for (let r = 0; r < outer; r++) {
    let base = 0;
    let valid = true;
    for (let a = 0; a < rank - 1; a++) {
      let ga = g0 + <usize>a * gs;
      let v = load<i32>(cnt + (<usize>a << 2)) - load<i32>(ga, 12);
      if (v < 0) { valid = false; break; }
      let i = v / load<i32>(ga, 16);
      if (i >= load<i32>(ga, 4)) { valid = false; break; }
      base += i * load<i32>(ga, 8);
    }
    for (let o = 0; o < lOut; o++) {
      let v = o - lPad;
      let val = fill;
      if (valid && v >= 0) {
        let i = v / lDiv;
        if (i < lIn) {
          let idx = <usize>(base + i * lStr);
          val = es == 1 ? <i32>load<i8>(x + idx) : (es == 2 ? <i32>load<i16>(x + (idx << 1)) : load<i32>(x + (idx << 2)));
        }
      }
      if (es == 1) { store<i8>(y, val); y += 1; }
      else if (es == 2) { store<i16>(y, val); y += 2; }
      else { store<i32>(y, val); y += 4; }
    }
    // odometer over the outer axes
    let a = rank - 2;
    while (a >= 0) {
      let cp = cnt + (<usize>a << 2);
      let c = load<i32>(cp) + 1;
      if (c < load<i32>(g0 + <usize>a * gs)) { store<i32>(cp, c); break; }
      store<i32>(cp, 0);
      a--;
    }
  }
  return 0;
}
