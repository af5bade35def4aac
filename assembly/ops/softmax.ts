// SOFTMAX per row: d = max - x; e = table[d] (u32); y = clamp(((e << 8) + sum/2) / sum - 128, -128, 127), u64 math.
import { P_SOFTMAX_DEPTH, P_SOFTMAX_IN, P_SOFTMAX_OUT, P_SOFTMAX_ROWS, P_SOFTMAX_TABLE } from '../abi.gen';
import { prm, tP, cP, cTensor, cDim, cProd, cConst, cFail, cSameDtype, is16, gConsts, gErr, M_I8, M_I16A } from '../check';
import { DTYPE_INT16 } from '../abi.gen';
import { prepareSoftmax16, evalSoftmax16 } from './wide';

export function prepare(): void {
  let eIn = cTensor(P_SOFTMAX_IN, M_I8 | M_I16A);
  let eOut = cTensor(P_SOFTMAX_OUT, M_I8 | M_I16A);
  let dt = cSameDtype(P_SOFTMAX_IN, P_SOFTMAX_OUT);
  let rows = cDim(P_SOFTMAX_ROWS);
  let depth = cDim(P_SOFTMAX_DEPTH);
  cProd(eIn, rows, depth);
  cProd(eOut, rows, depth);
  if (dt == DTYPE_INT16) { prepareSoftmax16(); return; }
  let t = cConst(P_SOFTMAX_TABLE, 1024, 4);
  if (gErr == 0 && load<u32>(gConsts + <usize>t) == 0) cFail();
}

export function evalOp(p: usize): i32 {
  if (is16(p, P_SOFTMAX_IN)) return evalSoftmax16(p);
  let x = tP(p, P_SOFTMAX_IN);
  let y = tP(p, P_SOFTMAX_OUT);
  let rows = prm(p, P_SOFTMAX_ROWS), depth = prm(p, P_SOFTMAX_DEPTH);
  let table = cP(p, P_SOFTMAX_TABLE);
  let d = <usize>depth;
  for (let r = 0; r < rows; r++) {
    let end = x + d;
    let mx: i32 = -128;
    for (let q = x; q < end; q++) { let v = <i32>load<i8>(q); if (v > mx) mx = v; }
    let sum: u64 = 0;
    for (let q = x; q < end; q++) sum += <u64>load<u32>(table + (<usize>(mx - <i32>load<i8>(q)) << 2));
    let half = sum >> 1;
    let yp = y;
    for (let q = x; q < end; q++) {
      let e = <u64>load<u32>(table + (<usize>(mx - <i32>load<i8>(q)) << 2));
      let v = <i32>(((e << 8) + half) / sum) - 128;
      store<i8>(yp, v > 127 ? 127 : (v < -128 ? -128 : v));
      yp++;
    }
    x = end;
    y += d;
  }
  return 0;
}
