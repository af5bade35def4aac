// DENSE layout 3: int16 weights on int16 activations (16x16, convert --weight-precision int16).
// Weights int16 in the order of layout 1 (blocks of 4 rows interleaved [outDim/4][inDim][4], the
// outDim % 4 remainder rows row-major after them), bias int64[outDim] (zero points are 0, nothing
// folded), requantisation and clamp as the 16x8 path (mbqm64, int16 LUT).
//
// Exactness (prepare checks every premise): |x| <= 2^15 and |w| <= 32767, so |x*w| <= 2^15 * 32767
// and a sum of two products is at most 2^16 * 32767 = 2147418112 < 2^31: each pair of products is
// exact in int32 and is then added to an int64 accumulator. With inDim <= 65536 and |bias| <= 2^46,
// |acc| <= 2^46 + 2^16 * 2^15 * 32767 < 2^47; mbqm64 multiplies by at most 2^15 and adds at most
// 2^45, so acc * reduced + round < 2^63: no int64 wraps anywhere and the result is the exact
// integer the reference computes.
import { P_DENSE_BIAS, P_DENSE_IN_DIM, P_DENSE_OUT_DIM, P_DENSE_WEIGHTS, P_DENSE_IN, P_DENSE_OUT, P_DENSE_ROWS, P_DENSE_MULT, P_DENSE_SHIFT, P_DENSE_ZP_OUT, P_DENSE_ACT_MIN, P_DENSE_ACT_MAX, P_DENSE_LUT } from '../abi.gen';
import { prm, tP, cP, gConsts, gErr, cConst, cFail, cmul } from '../check';
import { out16 } from './wide';

const BIAS_MAX: i64 = <i64>1 << 46;

/**
 * int16 weights (DENSE layout 3, CONV2D layout 2) at params wP and bP of the op being checked:
 * K <= 65536 products per output, n int16 weights (2-aligned, none -32768), int64 bias[outC]
 * (8-aligned, optional, each in [-2^46, 2^46]).
 */
export function prepareW16(wP: i32, bP: i32, K: i32, n: i64, outC: i32): void {
  if (K > 65536) { cFail(); return; }
  let w = cConst(wP, cmul(n, 2), 2);
  let b = cConst(bP, cmul(outC, 8), 8, true);
  if (gErr) return;
  let p = gConsts + <usize>w;
  let e = p + (<usize>n << 1);
  while (p < e) {
    if (load<i16>(p) == -32768) { cFail(); return; }
    p += 2;
  }
  if (b < 0) return;
  p = gConsts + <usize>b;
  e = p + (<usize>outC << 3);
  while (p < e) {
    let v = load<i64>(p);
    if (v > BIAS_MAX || v < -BIAS_MAX) { cFail(); return; }
    p += 8;
  }
}

/** sum_k x[k] * w[k], k < n, x and w int16 row-major: pairs of products in int32, added in int64 */
function dotW16(x: usize, w: usize, n: i32): i64 {
  let acc: i64 = 0;
  let e2 = x + (<usize>(n & ~1) << 1);
  while (x < e2) {
    acc += <i64>(<i32>load<i16>(x) * <i32>load<i16>(w) + <i32>load<i16>(x, 2) * <i32>load<i16>(w, 2));
    x += 4; w += 4;
  }
  if (n & 1) acc += <i64>(<i32>load<i16>(x) * <i32>load<i16>(w));
  return acc;
}

/** one input row: 4 outputs per pass over x for the blocks, then the remainder rows */
function denseW16Vec(x: usize, K: i32, w: usize, N: i32, bias: usize, mult: usize, shift: usize,
  zp: i32, lo: i32, hi: i32, lut: usize, y: usize): void {
  let full = N & ~3;
  let xe = x + (<usize>K << 1);
  let xe2 = x + (<usize>(K & ~1) << 1);
  let o = 0;
  while (o < full) {
    let a0: i64 = 0, a1: i64 = 0, a2: i64 = 0, a3: i64 = 0;
    if (bias) {
      let bp = bias + (<usize>o << 3);
      a0 = load<i64>(bp); a1 = load<i64>(bp, 8); a2 = load<i64>(bp, 16); a3 = load<i64>(bp, 24);
    }
    let xp = x;
    while (xp < xe2) {
      let x0 = <i32>load<i16>(xp), x1 = <i32>load<i16>(xp, 2);
      a0 += <i64>(x0 * <i32>load<i16>(w) + x1 * <i32>load<i16>(w, 8));
      a1 += <i64>(x0 * <i32>load<i16>(w, 2) + x1 * <i32>load<i16>(w, 10));
      a2 += <i64>(x0 * <i32>load<i16>(w, 4) + x1 * <i32>load<i16>(w, 12));
      a3 += <i64>(x0 * <i32>load<i16>(w, 6) + x1 * <i32>load<i16>(w, 14));
      xp += 4; w += 16;
    }
    if (xp < xe) {
      let x0 = <i32>load<i16>(xp);
      a0 += <i64>(x0 * <i32>load<i16>(w)); a1 += <i64>(x0 * <i32>load<i16>(w, 2));
      a2 += <i64>(x0 * <i32>load<i16>(w, 4)); a3 += <i64>(x0 * <i32>load<i16>(w, 6));
      w += 8;
    }
    let yp = y + (<usize>o << 1);
    store<i16>(yp, out16(a0, mult, shift, o, zp, lo, hi, lut));
    store<i16>(yp, out16(a1, mult, shift, o + 1, zp, lo, hi, lut), 2);
    store<i16>(yp, out16(a2, mult, shift, o + 2, zp, lo, hi, lut), 4);
    store<i16>(yp, out16(a3, mult, shift, o + 3, zp, lo, hi, lut), 6);
    o += 4;
  }
  while (o < N) {
    let acc: i64 = bias ? load<i64>(bias + (<usize>o << 3)) : 0;
    acc += dotW16(x, w, K);
    store<i16>(y + (<usize>o << 1), out16(acc, mult, shift, o, zp, lo, hi, lut));
    w += <usize>K << 1;
    o++;
  }
}

export function evalDenseW16(p: usize): i32 {
  let x = tP(p, P_DENSE_IN), y = tP(p, P_DENSE_OUT);
  let rows = prm(p, P_DENSE_ROWS), K = prm(p, P_DENSE_IN_DIM), N = prm(p, P_DENSE_OUT_DIM);
  let w = cP(p, P_DENSE_WEIGHTS);
  let bias: usize = prm(p, P_DENSE_BIAS) == -1 ? 0 : cP(p, P_DENSE_BIAS);
  let lut: usize = prm(p, P_DENSE_LUT) == -1 ? 0 : cP(p, P_DENSE_LUT);
  let mult = cP(p, P_DENSE_MULT), shift = cP(p, P_DENSE_SHIFT);
  let zp = prm(p, P_DENSE_ZP_OUT), lo = prm(p, P_DENSE_ACT_MIN), hi = prm(p, P_DENSE_ACT_MAX);
  for (let r = 0; r < rows; r++) {
    denseW16Vec(x, K, w, N, bias, mult, shift, zp, lo, hi, lut, y);
    x += <usize>K << 1;
    y += <usize>N << 1;
  }
  return 0;
}
