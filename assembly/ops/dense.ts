// DENSE: int8 x[rows][inDim] -> int8 y[rows][outDim], zero point folded into the bias.
// layout 0: w[outDim][inDim]; layout 1: blocks of 4 output rows interleaved [outDim/4][inDim][4]
// (4 accumulators per pass over x), remainder rows row-major after the blocks.
import { prm, tP, cP, cTensor, cDim, cProd, cZp8, cAct, cRange, cConst, cShiftArray, cmul, M_I8, gConsts } from '../check';
import { mbqm, clampI } from '../fixedpoint';

export function prepare(): void {
  let eIn = cTensor(0, M_I8);
  let eOut = cTensor(1, M_I8);
  let rows = cDim(2);
  let inDim = cDim(3);
  let outDim = cDim(4);
  cProd(eIn, rows, inDim);
  cProd(eOut, rows, outDim);
  cZp8(9);
  cAct(10, 11);
  cRange(13, 0, 1);
  cConst(5, cmul(outDim, inDim), 1);
  cConst(6, cmul(outDim, 4), 4, true);
  cConst(7, cmul(outDim, 4), 4);
  let sh = cConst(8, cmul(outDim, 4), 4);
  cConst(12, 256, 1, true);
  cShiftArray(sh, outDim);
}

/** sum_k x[k]*w[k], k < n; unrolled x4 with immediate offsets */
// @ts-ignore: decorator
@inline export function dot8(x: usize, w: usize, n: i32): i32 {
  let acc: i32 = 0;
  let end4 = x + <usize>(n & ~3);
  let end = x + <usize>n;
  while (x < end4) {
    acc += <i32>load<i8>(x) * <i32>load<i8>(w)
      + <i32>load<i8>(x, 1) * <i32>load<i8>(w, 1)
      + <i32>load<i8>(x, 2) * <i32>load<i8>(w, 2)
      + <i32>load<i8>(x, 3) * <i32>load<i8>(w, 3);
    x += 4; w += 4;
  }
  while (x < end) {
    acc += <i32>load<i8>(x) * <i32>load<i8>(w);
    x++; w++;
  }
  return acc;
}

// @ts-ignore: decorator
@inline function outVal(acc: i32, m: i32, s: i32, zp: i32, lo: i32, hi: i32, lut: usize): i32 {
  let y = clampI(mbqm(acc, m, s) + zp, lo, hi);
  if (lut) y = <i32>load<i8>(lut + <usize>(y + 128));
  return y;
}

export function evalOp(p: usize): i32 {
  let x = tP(p, 0);
  let y = tP(p, 1);
  let rows = prm(p, 2);
  let inDim = prm(p, 3);
  let outDim = prm(p, 4);
  let w0 = cP(p, 5);
  let bias: usize = prm(p, 6) == -1 ? 0 : cP(p, 6);
  let mult = cP(p, 7);
  let shift = cP(p, 8);
  let zp = prm(p, 9);
  let lo = prm(p, 10);
  let hi = prm(p, 11);
  let lut: usize = prm(p, 12) == -1 ? 0 : cP(p, 12);
  let layout = prm(p, 13);
  let blocks = layout == 1 ? outDim >> 2 : 0;
  let step = <usize>inDim;
  for (let r = 0; r < rows; r++) {
    let o = 0;
    let w = w0;
    // 4 outputs per pass over x
    for (let b = 0; b < blocks; b++) {
      let a0: i32 = 0, a1: i32 = 0, a2: i32 = 0, a3: i32 = 0;
      if (bias) {
        let bp = bias + (<usize>o << 2);
        a0 = load<i32>(bp); a1 = load<i32>(bp, 4); a2 = load<i32>(bp, 8); a3 = load<i32>(bp, 12);
      }
      let xp = x;
      let xe = x + step;
      do {
        let xv = <i32>load<i8>(xp);
        a0 += xv * <i32>load<i8>(w);
        a1 += xv * <i32>load<i8>(w, 1);
        a2 += xv * <i32>load<i8>(w, 2);
        a3 += xv * <i32>load<i8>(w, 3);
        xp++; w += 4;
      } while (xp < xe);
      let mp = mult + (<usize>o << 2);
      let sp = shift + (<usize>o << 2);
      let yp = y + <usize>o;
      store<i8>(yp, outVal(a0, load<i32>(mp), load<i32>(sp), zp, lo, hi, lut));
      store<i8>(yp, outVal(a1, load<i32>(mp, 4), load<i32>(sp, 4), zp, lo, hi, lut), 1);
      store<i8>(yp, outVal(a2, load<i32>(mp, 8), load<i32>(sp, 8), zp, lo, hi, lut), 2);
      store<i8>(yp, outVal(a3, load<i32>(mp, 12), load<i32>(sp, 12), zp, lo, hi, lut), 3);
      o += 4;
    }
    // remaining rows, row-major
    for (; o < outDim; o++) {
      let acc = dot8(x, w, inDim);
      if (bias) acc += load<i32>(bias + (<usize>o << 2));
      store<i8>(y + <usize>o, outVal(acc, load<i32>(mult + (<usize>o << 2)), load<i32>(shift + (<usize>o << 2)), zp, lo, hi, lut));
      w += step;
    }
    x += step;
    y += <usize>outDim;
  }
  return 0;
}
