// GATHER (Embedding): out[i][:] = table[ids[i]][:]; an id outside [0, vocab) -> BAD_INPUT_VALUE
import { prm, tP, cP, cTensor, cDim, cProd, cConst, cmul, M_I8, M_I32 } from '../check';
import { ERR_BAD_INPUT_VALUE } from '../abi.gen';

export function prepare(): void {
  let count = cDim(2);
  cProd(cTensor(0, M_I32), count);
  let eOut = cTensor(1, M_I8);
  let vocab = cDim(3);
  let dim = cDim(4);
  cProd(eOut, count, dim);
  cConst(5, cmul(vocab, dim), 1);
}

export function evalOp(p: usize): i32 {
  let ids = tP(p, 0), y = tP(p, 1);
  let count = prm(p, 2), vocab = prm(p, 3), dim = prm(p, 4);
  let table = cP(p, 5);
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
