// GATHER (Embedding): out[i][:] = table[ids[i]][:]; an id outside [0, vocab) -> BAD_INPUT_VALUE
import { prm, tP, cP, cTensor, cDim, cProd, cConst, cmul, M_I8, M_I32 } from '../check';
import { ERR_BAD_INPUT_VALUE, P_GATHER_COUNT, P_GATHER_DIM, P_GATHER_IDS, P_GATHER_OUT, P_GATHER_TABLE, P_GATHER_VOCAB } from '../abi.gen';

export function prepare(): void {
  let count = cDim(P_GATHER_COUNT);
  cProd(cTensor(P_GATHER_IDS, M_I32), count);
  let eOut = cTensor(P_GATHER_OUT, M_I8);
  let vocab = cDim(P_GATHER_VOCAB);
  let dim = cDim(P_GATHER_DIM);
  cProd(eOut, count, dim);
  cConst(P_GATHER_TABLE, cmul(vocab, dim), 1);
}

export function evalOp(p: usize): i32 {
  let ids = tP(p, P_GATHER_IDS), y = tP(p, P_GATHER_OUT);
  let count = prm(p, P_GATHER_COUNT), vocab = prm(p, P_GATHER_VOCAB), dim = prm(p, P_GATHER_DIM);
  let table = cP(p, P_GATHER_TABLE);
  let d = <usize>dim;
  for (let i = 0; i < count; i++) {
    let id = load<i32>(ids + (<usize>i << 2));
    if (id < 0 || id >= vocab) return ERR_BAD_INPUT_VALUE;
    let src = table + <usize>id * d;
    let end = src + d;
    while (src < end) { store<u8>(y, load<u8>(src)); src++; y++; }
  }
  return 0;
}
