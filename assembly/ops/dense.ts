// DENSE: int8 x[rows][inDim] -> int8 y[rows][outDim], zero point folded into the bias.
// layout 0: w[outDim][inDim]; layout 1: blocks of 4 output rows interleaved [outDim/4][inDim][4]
// (4 accumulators per pass over x, k unrolled x16 (then x4) with the products of an output summed before
// the accumulator update), remainder rows (outDim % 4) row-major after the blocks.
// layout 2 (int8 only): offset-binary bytes u = w + 128 in blocks of 8 output rows [outDim/8][inDim][8]
// (inDim <= 65535), remainder rows (outDim % 8) int8 row-major after the blocks (denseU8).
// layout 3 (int16 activations only): int16 weights in the order of layout 1, int64 bias (dense16w.ts).
// mult int32[outDim], shift int8[outDim] (format 2).
import { P_DENSE_ACT_MAX, P_DENSE_ACT_MIN, P_DENSE_BIAS, P_DENSE_IN, P_DENSE_IN_DIM, P_DENSE_LAYOUT, P_DENSE_LUT, P_DENSE_MULT, P_DENSE_OUT, P_DENSE_OUT_DIM, P_DENSE_ROWS, P_DENSE_SHIFT, P_DENSE_WEIGHTS, P_DENSE_ZP_OUT } from '../abi.gen';
import { gOpSerial, prm, gP, cFail, tP, cP, cTensor, cDim, cProd, cRange, cConst, cShiftArrayIn, cMultArray, cmul, cSameDtype, cZpDt, cActDt, cLutDt, is16, M_I8, M_I16A } from '../check';
import { DTYPE_INT16 } from '../abi.gen';
import { mbqmF, clampI, outQF, roundFloat } from '../fixedpoint';
import { evalDense16 } from './wide';
import { evalDenseW16, prepareW16 } from './dense16w';
import { EN_W16 } from '../ops-enabled';

export function prepare(): void {
  let eIn = cTensor(P_DENSE_IN, M_I8 | M_I16A);
  let eOut = cTensor(P_DENSE_OUT, M_I8 | M_I16A);
  let dt = cSameDtype(P_DENSE_IN, P_DENSE_OUT);
  let rows = cDim(P_DENSE_ROWS);
  let inDim = cDim(P_DENSE_IN_DIM);
  let outDim = cDim(P_DENSE_OUT_DIM);
  cProd(eIn, rows, inDim);
  cProd(eOut, rows, outDim);
  cZpDt(P_DENSE_ZP_OUT, dt);
  cActDt(P_DENSE_ACT_MIN, P_DENSE_ACT_MAX, dt);
  // layout 2 is int8 only; layout 3 (int16 weights) int16 only, in a build with EN_W16
  let layout = cRange(P_DENSE_LAYOUT, 0, dt == DTYPE_INT16 ? (EN_W16 ? 3 : 1) : 2);
  if (dt == DTYPE_INT16 && layout == 2) cFail();
  if (layout == 3) prepareW16(P_DENSE_WEIGHTS, P_DENSE_BIAS, inDim, cmul(outDim, inDim), outDim);
  else {
    if (layout == 2) {
      // lane bound of denseU8
      if (inDim > 65535) cFail();
      cConst(P_DENSE_WEIGHTS, cmul(outDim, inDim), 8);
    } else cConst(P_DENSE_WEIGHTS, cmul(outDim, inDim), 1);
    cConst(P_DENSE_BIAS, cmul(outDim, 4), 4, true);
  }
  cConst(P_DENSE_MULT, cmul(outDim, 4), 4);
  let sh = cConst(P_DENSE_SHIFT, outDim, 1);
  cLutDt(P_DENSE_LUT, dt, true);
  // int16: mbqm64 shifts right by 15 - shift >= 1
  cShiftArrayIn(sh, outDim, -31, dt == DTYPE_INT16 ? 14 : 30);
  cMultArray(prm(gP, P_DENSE_MULT), outDim);
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

/** requantised int8 output of channel o: clamp(MBQM(acc) + zp), then the optional LUT */
// @ts-ignore: decorator
@inline export function outQ(acc: i32, mult: usize, shift: usize, o: i32, zp: i32, lo: i32, hi: i32, lut: usize): i32 {
  return outQv(acc, load<i32>(mult + (<usize>o << 2)), <i32>load<i8>(shift + <usize>o), zp, lo, hi, lut);
}
// @ts-ignore: decorator
@inline export function outQv(acc: i32, m: i32, s: i32, zp: i32, lo: i32, hi: i32, lut: usize): i32 {
  let y = roundFloat ? outQF(acc, m, s, zp, lo, hi) : clampI(mbqmF(acc, m, s) + zp, lo, hi);
  if (lut) y = <i32>load<i8>(lut + <usize>(y + 128));
  return y;
}

/** acc += zpIn * sum of n weights at w (stride ws): padding taps of a border conv output */
// @ts-ignore: decorator
@inline function padSum(w: usize, n: i32, ws: usize, zpIn: i32): i32 {
  let s: i32 = 0;
  let we = w + <usize>n * ws;
  while (w < we) { s += <i32>load<i8>(w); w += ws; }
  return s * zpIn;
}

/** Outputs o..o+3 at yp from their accumulators: requantised, then one LUT test for the block. */
// @ts-ignore: decorator
@inline function store4(yp: usize, a0: i32, a1: i32, a2: i32, a3: i32, mp: usize, sp: usize, zp: i32, lo: i32, hi: i32, lut: usize): void {
  a0 = outQv(a0, load<i32>(mp), <i32>load<i8>(sp), zp, lo, hi, 0);
  a1 = outQv(a1, load<i32>(mp, 4), <i32>load<i8>(sp, 1), zp, lo, hi, 0);
  a2 = outQv(a2, load<i32>(mp, 8), <i32>load<i8>(sp, 2), zp, lo, hi, 0);
  a3 = outQv(a3, load<i32>(mp, 12), <i32>load<i8>(sp, 3), zp, lo, hi, 0);
  if (lut) {
    a0 = <i32>load<i8>(lut + <usize>(a0 + 128));
    a1 = <i32>load<i8>(lut + <usize>(a1 + 128));
    a2 = <i32>load<i8>(lut + <usize>(a2 + 128));
    a3 = <i32>load<i8>(lut + <usize>(a3 + 128));
  }
  store<i8>(yp, a0);
  store<i8>(yp, a1, 1);
  store<i8>(yp, a2, 2);
  store<i8>(yp, a3, 3);
}

/**
 * y[o] = outQ(bias[o] + sum_k v[k] * W[o][k]) for o < N, with W [N][segs*K] in `layout` (0 or 1)
 * at w. The input is `segs` runs of K values, run s at x + s*xs, xs != 0 (CONV2D: one run per
 * kernel row; DENSE: one run, xs = K). In a run s with sLo <= s < sHi, v[k] = x[k] for k in [kLo, kHi) and zpIn
 * elsewhere; the runs outside [sLo, sHi) are all zpIn (conv padding). Only the in-bounds bytes
 * are read. Shared by DENSE (one call per row) and CONV2D layout 1 (one call per output position).
 */
export function denseVec(x: usize, K: i32, segs: i32, xs: usize, sLo: i32, sHi: i32, kLo: i32, kHi: i32, zpIn: i32,
  w: usize, N: i32, layout: i32, bias: usize, mult: usize, shift: usize, zp: i32, lo: i32, hi: i32, lut: usize, y: usize): void {
  let full = layout == 1 ? N & ~3 : 0;
  // one test skips the padding code (DENSE: no padding)
  let pad = (kLo | (K - kHi) | sLo | (segs - sHi)) != 0;
  let n16 = <usize>((kHi - kLo) & ~15);
  let n4 = <usize>((kHi - kLo) & 12);
  let n1 = <usize>((kHi - kLo) & 3);
  let rem = ((kHi - kLo) & 15) != 0; // k left after the x16 passes
  let xEnd = x + <usize>segs * xs; // xs != 0
  let o = 0;
  while (o < full) {
    let a0: i32, a1: i32, a2: i32, a3: i32;
    let ob = <usize>o << 2;
    // bias or zero: no zeroing before the test
    if (bias) {
      let bp = bias + ob;
      a0 = load<i32>(bp); a1 = load<i32>(bp, 4); a2 = load<i32>(bp, 8); a3 = load<i32>(bp, 12);
    } else {
      a0 = 0; a1 = 0; a2 = 0; a3 = 0;
    }
    let xr = x;
    let s = 0;
    do {
      let xp = xr + <usize>kLo;
      if (pad) {
        // a kernel row outside the input is all padding
        let out = s < sLo || s >= sHi;
        s++;
        for (let k = out ? K : kLo; k > 0; k--) {
          a0 += zpIn * <i32>load<i8>(w);
          a1 += zpIn * <i32>load<i8>(w, 1);
          a2 += zpIn * <i32>load<i8>(w, 2);
          a3 += zpIn * <i32>load<i8>(w, 3);
          w += 4;
        }
        if (out) continue;
      }
      {
        // k x16 passes
        let xe16 = xp + n16;
        if (xp < xe16) do {
          {
            let x0 = <i32>load<i8>(xp), x1 = <i32>load<i8>(xp, 1), x2 = <i32>load<i8>(xp, 2), x3 = <i32>load<i8>(xp, 3);
            let x4 = <i32>load<i8>(xp, 4), x5 = <i32>load<i8>(xp, 5), x6 = <i32>load<i8>(xp, 6), x7 = <i32>load<i8>(xp, 7);
            a0 += x0 * <i32>load<i8>(w) + x1 * <i32>load<i8>(w, 4) + x2 * <i32>load<i8>(w, 8) + x3 * <i32>load<i8>(w, 12)
              + x4 * <i32>load<i8>(w, 16) + x5 * <i32>load<i8>(w, 20) + x6 * <i32>load<i8>(w, 24) + x7 * <i32>load<i8>(w, 28);
            a1 += x0 * <i32>load<i8>(w, 1) + x1 * <i32>load<i8>(w, 5) + x2 * <i32>load<i8>(w, 9) + x3 * <i32>load<i8>(w, 13)
              + x4 * <i32>load<i8>(w, 17) + x5 * <i32>load<i8>(w, 21) + x6 * <i32>load<i8>(w, 25) + x7 * <i32>load<i8>(w, 29);
            a2 += x0 * <i32>load<i8>(w, 2) + x1 * <i32>load<i8>(w, 6) + x2 * <i32>load<i8>(w, 10) + x3 * <i32>load<i8>(w, 14)
              + x4 * <i32>load<i8>(w, 18) + x5 * <i32>load<i8>(w, 22) + x6 * <i32>load<i8>(w, 26) + x7 * <i32>load<i8>(w, 30);
            a3 += x0 * <i32>load<i8>(w, 3) + x1 * <i32>load<i8>(w, 7) + x2 * <i32>load<i8>(w, 11) + x3 * <i32>load<i8>(w, 15)
              + x4 * <i32>load<i8>(w, 19) + x5 * <i32>load<i8>(w, 23) + x6 * <i32>load<i8>(w, 27) + x7 * <i32>load<i8>(w, 31);
          }
          {
            let x0 = <i32>load<i8>(xp, 8), x1 = <i32>load<i8>(xp, 9), x2 = <i32>load<i8>(xp, 10), x3 = <i32>load<i8>(xp, 11);
            let x4 = <i32>load<i8>(xp, 12), x5 = <i32>load<i8>(xp, 13), x6 = <i32>load<i8>(xp, 14), x7 = <i32>load<i8>(xp, 15);
            a0 += x0 * <i32>load<i8>(w, 32) + x1 * <i32>load<i8>(w, 36) + x2 * <i32>load<i8>(w, 40) + x3 * <i32>load<i8>(w, 44)
              + x4 * <i32>load<i8>(w, 48) + x5 * <i32>load<i8>(w, 52) + x6 * <i32>load<i8>(w, 56) + x7 * <i32>load<i8>(w, 60);
            a1 += x0 * <i32>load<i8>(w, 33) + x1 * <i32>load<i8>(w, 37) + x2 * <i32>load<i8>(w, 41) + x3 * <i32>load<i8>(w, 45)
              + x4 * <i32>load<i8>(w, 49) + x5 * <i32>load<i8>(w, 53) + x6 * <i32>load<i8>(w, 57) + x7 * <i32>load<i8>(w, 61);
            a2 += x0 * <i32>load<i8>(w, 34) + x1 * <i32>load<i8>(w, 38) + x2 * <i32>load<i8>(w, 42) + x3 * <i32>load<i8>(w, 46)
              + x4 * <i32>load<i8>(w, 50) + x5 * <i32>load<i8>(w, 54) + x6 * <i32>load<i8>(w, 58) + x7 * <i32>load<i8>(w, 62);
            a3 += x0 * <i32>load<i8>(w, 35) + x1 * <i32>load<i8>(w, 39) + x2 * <i32>load<i8>(w, 43) + x3 * <i32>load<i8>(w, 47)
              + x4 * <i32>load<i8>(w, 51) + x5 * <i32>load<i8>(w, 55) + x6 * <i32>load<i8>(w, 59) + x7 * <i32>load<i8>(w, 63);
          }
          xp += 16; w += 64;
        } while (xp < xe16);
        if (rem) {
          // k x4 passes (at most 3), then single k
          let xe4 = xp + n4;
          while (xp < xe4) {
            let x0 = <i32>load<i8>(xp), x1 = <i32>load<i8>(xp, 1), x2 = <i32>load<i8>(xp, 2), x3 = <i32>load<i8>(xp, 3);
            a0 += x0 * <i32>load<i8>(w) + x1 * <i32>load<i8>(w, 4) + x2 * <i32>load<i8>(w, 8) + x3 * <i32>load<i8>(w, 12);
            a1 += x0 * <i32>load<i8>(w, 1) + x1 * <i32>load<i8>(w, 5) + x2 * <i32>load<i8>(w, 9) + x3 * <i32>load<i8>(w, 13);
            a2 += x0 * <i32>load<i8>(w, 2) + x1 * <i32>load<i8>(w, 6) + x2 * <i32>load<i8>(w, 10) + x3 * <i32>load<i8>(w, 14);
            a3 += x0 * <i32>load<i8>(w, 3) + x1 * <i32>load<i8>(w, 7) + x2 * <i32>load<i8>(w, 11) + x3 * <i32>load<i8>(w, 15);
            xp += 4; w += 16;
          }
          let xe = xp + n1;
          while (xp < xe) {
            let xv = <i32>load<i8>(xp);
            a0 += xv * <i32>load<i8>(w);
            a1 += xv * <i32>load<i8>(w, 1);
            a2 += xv * <i32>load<i8>(w, 2);
            a3 += xv * <i32>load<i8>(w, 3);
            xp++; w += 4;
          }
        }
        // padding taps after kHi
        if (pad) for (let k = kHi; k < K; k++) {
          a0 += zpIn * <i32>load<i8>(w);
          a1 += zpIn * <i32>load<i8>(w, 1);
          a2 += zpIn * <i32>load<i8>(w, 2);
          a3 += zpIn * <i32>load<i8>(w, 3);
          w += 4;
        }
      }
    } while ((xr += xs) != xEnd);
    store4(y + <usize>o, a0, a1, a2, a3, mult + ob, shift + <usize>o, zp, lo, hi, lut);
    o += 4;
  }
  // remaining rows, row-major
  while (o < N) {
    let acc: i32 = bias ? load<i32>(bias + (<usize>o << 2)) : 0;
    let xr = x;
    for (let s = 0; s < segs; s++) {
      let inside = s >= sLo && s < sHi;
      let l = inside ? kLo : K;
      let h = inside ? kHi : K;
      acc += dot8(xr + <usize>l, w + <usize>l, h - l) + padSum(w, l, 1, zpIn) + padSum(w + <usize>h, K - h, 1, zpIn);
      w += <usize>K;
      xr += xs;
    }
    store<i8>(y + <usize>o, outQ(acc, mult, shift, o, zp, lo, hi, lut));
    o++;
  }
}

/** store4 as a call: one copy for the halves of a denseU8 block and the lanes of pairOut4 */
function store4c(yp: usize, a0: i32, a1: i32, a2: i32, a3: i32, mp: usize, sp: usize, zp: i32, lo: i32, hi: i32, lut: usize): void {
  store4(yp, a0, a1, a2, a3, mp, sp, zp, lo, hi, lut);
}

/**
 * Lanes of four i64 sums a = S0 + 2^32 * S1 (positions 0 and 1 of outputs o..o+3), bias added
 * in i32 afterwards (the wrap-around of denseVec); position 0 to y + o, position 1 to y + N + o.
 */
function pairOut4(a0: i64, a1: i64, a2: i64, a3: i64, o: i32, N: i32, bias: usize, mult: usize, shift: usize,
  zp: i32, lo: i32, hi: i32, lut: usize, y: usize): void {
  let l0 = <i32>a0, l1 = <i32>a1, l2 = <i32>a2, l3 = <i32>a3;
  let h0 = <i32>((a0 - <i64>l0) >> 32), h1 = <i32>((a1 - <i64>l1) >> 32);
  let h2 = <i32>((a2 - <i64>l2) >> 32), h3 = <i32>((a3 - <i64>l3) >> 32);
  let ob = <usize>o << 2;
  if (bias) {
    let bp = bias + ob;
    let b0 = load<i32>(bp), b1 = load<i32>(bp, 4), b2 = load<i32>(bp, 8), b3 = load<i32>(bp, 12);
    l0 += b0; l1 += b1; l2 += b2; l3 += b3;
    h0 += b0; h1 += b1; h2 += b2; h3 += b3;
  }
  let yp = y + <usize>o, mp = mult + ob, sp = shift + <usize>o;
  // one copy of store4 for both positions
  let ye = yp + (<usize>N << 1);
  do {
    store4(yp, l0, l1, l2, l3, mp, sp, zp, lo, hi, lut);
    l0 = h0; l1 = h1; l2 = h2; l3 = h3;
    yp += <usize>N;
  } while (yp != ye);
}

/**
 * Two output positions per pass (CONV2D layout 1): the positions share every weight, so each
 * i64 multiply serves both. P holds KK input pairs x[k] + 2^32 * x'[k] (conv2d.ts packs them
 * into the op's scratch once per position pair; they serve every output channel), then zero
 * pairs up to a multiple of 4: the x4 steps need no tail, and the weights they read past a
 * block's K (the next block's, or up to 12 bytes past the last block, which the caller keeps
 * inside memory) are multiplied by zero. Eight
 * channels per pass: the 4-row blocks at w + o*KK and w + (o+4)*KK; when N % 8 == 4 the last
 * pass reads the one block twice and stores it once. Needs N % 4 == 0; KK <= 2^17 keeps each
 * lane's sum of products inside int32 (|x * w| <= 2^14), so lane 0 is the low word and lane 1 is
 * (a - sext(lane 0)) >> 32. Writes y[0..N) (position x) and y[N..2N) (position x').
 */
export function densePairs(P: usize, KK: i32, w: usize, N: i32, bias: usize,
  mult: usize, shift: usize, zp: i32, lo: i32, hi: i32, lut: usize, y: usize): void {
  let pe = P + (<usize>((KK + 3) & ~3) << 3);
  let blk = <usize>KK << 2; // bytes of one 4-row block
  for (let o = 0; o < N; o += 8) {
    let wA = w + <usize>o * <usize>KK;
    let two = o + 4 < N;
    let wB = two ? wA + blk : wA;
    let a0: i64 = 0, a1: i64 = 0, a2: i64 = 0, a3: i64 = 0, a4: i64 = 0, a5: i64 = 0, a6: i64 = 0, a7: i64 = 0;
    let pp = P;
    do {
      let p0 = load<i64>(pp), p1 = load<i64>(pp, 8), p2 = load<i64>(pp, 16), p3 = load<i64>(pp, 24);
      a0 += p0 * <i64>load<i8>(wA) + p1 * <i64>load<i8>(wA, 4) + p2 * <i64>load<i8>(wA, 8) + p3 * <i64>load<i8>(wA, 12);
      a1 += p0 * <i64>load<i8>(wA, 1) + p1 * <i64>load<i8>(wA, 5) + p2 * <i64>load<i8>(wA, 9) + p3 * <i64>load<i8>(wA, 13);
      a2 += p0 * <i64>load<i8>(wA, 2) + p1 * <i64>load<i8>(wA, 6) + p2 * <i64>load<i8>(wA, 10) + p3 * <i64>load<i8>(wA, 14);
      a3 += p0 * <i64>load<i8>(wA, 3) + p1 * <i64>load<i8>(wA, 7) + p2 * <i64>load<i8>(wA, 11) + p3 * <i64>load<i8>(wA, 15);
      a4 += p0 * <i64>load<i8>(wB) + p1 * <i64>load<i8>(wB, 4) + p2 * <i64>load<i8>(wB, 8) + p3 * <i64>load<i8>(wB, 12);
      a5 += p0 * <i64>load<i8>(wB, 1) + p1 * <i64>load<i8>(wB, 5) + p2 * <i64>load<i8>(wB, 9) + p3 * <i64>load<i8>(wB, 13);
      a6 += p0 * <i64>load<i8>(wB, 2) + p1 * <i64>load<i8>(wB, 6) + p2 * <i64>load<i8>(wB, 10) + p3 * <i64>load<i8>(wB, 14);
      a7 += p0 * <i64>load<i8>(wB, 3) + p1 * <i64>load<i8>(wB, 7) + p2 * <i64>load<i8>(wB, 11) + p3 * <i64>load<i8>(wB, 15);
      pp += 32; wA += 16; wB += 16;
    } while (pp < pe);
    pairOut4(a0, a1, a2, a3, o, N, bias, mult, shift, zp, lo, hi, lut, y);
    if (two) pairOut4(a4, a5, a6, a7, o + 4, N, bias, mult, shift, zp, lo, hi, lut, y);
  }
}

// 0x000000FF000000FF, read from memory so the kernel holds it in a local: as an i64.const,
// WAMR's classic interpreter decodes the 9-byte LEB on every use (90 against 60 native
// instructions per MAC, bench/kernels-interp.ts u8r8k4 / u8r8k4m)
const MASK8 = memory.data<u64>([0x000000ff000000ff, 0x8080808080808080]);

/**
 * sum x[k], k < K: eight bytes per i64 load, flipped to offset binary (x + 128), summed as two
 * 32-bit lanes of four bytes each (a lane gains at most 1020 per load: exact for any K < 2^22).
 */
// @ts-ignore: decorator
@inline function sumI8(x: usize, K: i32, M: i64): i32 {
  let F = load<i64>(MASK8, 8);
  let xe = x + <usize>K;
  let xe8 = x + <usize>(K & ~7);
  let a: i64 = 0;
  while (x < xe8) {
    let v = load<i64>(x) ^ F;
    a += (v & M) + ((v >>> 8) & M) + ((v >>> 16) & M) + ((v >>> 24) & M);
    x += 8;
  }
  let s = <i32>a + <i32>(a >>> 32) - ((K & ~7) << 7);
  while (x < xe) { s += <i32>load<i8>(x); x++; }
  return s;
}

// The input sum of the last denseU8 call: the op's serial number, the input's address and length.
// The flash tiles of one layer are ops in a row over the same input, which the op in between
// (a DENSE writing its own output) leaves unchanged, so they compute the sum once.
let sumOp: u32 = 0, sumX: usize = 0, sumK: i32 = -1, sumV: i32 = 0;

/** sum x[k], k < K, from the cache when the previous op or this one summed the same bytes */
// @ts-ignore: decorator
@inline function inputSum(x: usize, K: i32, M: i64): i32 {
  if (gOpSerial - sumOp > 1 || x != sumX || K != sumK) {
    sumV = sumI8(x, K, M);
    sumX = x; sumK = K;
  }
  sumOp = gOpSerial;
  return sumV;
}


/**
 * DENSE layout 2, one input row. Weights are offset-binary bytes u = w + 128 in 8-row blocks
 * [N/8][K][8]: one i64 load gives the 8 weights of a k, and (v >>> 8j) & M with
 * M = 0x000000FF000000FF is the pair u[j] + 2^32 * u[j + 4], so one i64 multiply by x[k]
 * serves rows j and j + 4, and sum x*w = sum x*u - 128 * sum x. Lanes: 0 <= u <= 255,
 * |x * u| < 2^15 and K <= 65535 (prepare) keep each lane's sum inside int32, so lane 0 is the
 * low word and lane 1 is (a - sext(lane 0)) >> 32. The bias is added in i32 afterwards (the
 * int32 wrap-around of denseVec). Remainder rows (N % 8) run the row-major path.
 */
export function denseU8(x: usize, K: i32, w: usize, N: i32, bias: usize, mult: usize, shift: usize,
  zp: i32, lo: i32, hi: i32, lut: usize, y: usize): void {
  let M = load<i64>(MASK8);
  let xe = x + <usize>K;
  let xe4 = x + <usize>(K & ~3);
  let c = inputSum(x, K, M) << 7;
  let full = N & ~7;
  for (let o = 0; o < full; o += 8) {
    let a0: i64 = 0, a1: i64 = 0, a2: i64 = 0, a3: i64 = 0;
    let xp = x;
    while (xp < xe4) {
      let x0 = <i64>load<i8>(xp), x1 = <i64>load<i8>(xp, 1), x2 = <i64>load<i8>(xp, 2), x3 = <i64>load<i8>(xp, 3);
      let v0 = load<i64>(w), v1 = load<i64>(w, 8), v2 = load<i64>(w, 16), v3 = load<i64>(w, 24);
      a0 += (v0 & M) * x0 + (v1 & M) * x1 + (v2 & M) * x2 + (v3 & M) * x3;
      a1 += ((v0 >>> 8) & M) * x0 + ((v1 >>> 8) & M) * x1 + ((v2 >>> 8) & M) * x2 + ((v3 >>> 8) & M) * x3;
      a2 += ((v0 >>> 16) & M) * x0 + ((v1 >>> 16) & M) * x1 + ((v2 >>> 16) & M) * x2 + ((v3 >>> 16) & M) * x3;
      a3 += ((v0 >>> 24) & M) * x0 + ((v1 >>> 24) & M) * x1 + ((v2 >>> 24) & M) * x2 + ((v3 >>> 24) & M) * x3;
      xp += 4; w += 32;
    }
    while (xp < xe) {
      let xv = <i64>load<i8>(xp), v = load<i64>(w);
      a0 += (v & M) * xv; a1 += ((v >>> 8) & M) * xv; a2 += ((v >>> 16) & M) * xv; a3 += ((v >>> 24) & M) * xv;
      xp++; w += 8;
    }
    let l0 = <i64><i32>a0, l1 = <i64><i32>a1, l2 = <i64><i32>a2, l3 = <i64><i32>a3;
    let ob = <usize>o << 2;
    let b0 = -c, b1 = -c, b2 = -c, b3 = -c, b4 = -c, b5 = -c, b6 = -c, b7 = -c;
    if (bias) {
      let bp = bias + ob;
      b0 += load<i32>(bp); b1 += load<i32>(bp, 4); b2 += load<i32>(bp, 8); b3 += load<i32>(bp, 12);
      b4 += load<i32>(bp, 16); b5 += load<i32>(bp, 20); b6 += load<i32>(bp, 24); b7 += load<i32>(bp, 28);
    }
    let yp = y + <usize>o, sp = shift + <usize>o, mp = mult + ob;
    store4c(yp, b0 + <i32>l0, b1 + <i32>l1, b2 + <i32>l2, b3 + <i32>l3, mp, sp, zp, lo, hi, lut);
    store4c(yp + 4, b4 + <i32>((a0 - l0) >> 32), b5 + <i32>((a1 - l1) >> 32), b6 + <i32>((a2 - l2) >> 32), b7 + <i32>((a3 - l3) >> 32),
      mp + 16, sp + 4, zp, lo, hi, lut);
  }
  // w is at the remainder rows: the row-major path with the arrays offset by full
  let f = <usize>full;
  if (full < N) denseVec(x, K, 1, <usize>K, 0, 1, 0, K, 0, w, N - full, 0, bias ? bias + (f << 2) : 0, mult + (f << 2), shift + f, zp, lo, hi, lut, y + f);
}

export function evalOp(p: usize): i32 {
  if (is16(p, P_DENSE_IN)) return EN_W16 && prm(p, P_DENSE_LAYOUT) == 3 ? evalDenseW16(p) : evalDense16(p);
  let x = tP(p, P_DENSE_IN);
  let y = tP(p, P_DENSE_OUT);
  let rows = prm(p, P_DENSE_ROWS);
  let inDim = prm(p, P_DENSE_IN_DIM);
  let outDim = prm(p, P_DENSE_OUT_DIM);
  let w = cP(p, P_DENSE_WEIGHTS);
  let bias: usize = prm(p, P_DENSE_BIAS) == -1 ? 0 : cP(p, P_DENSE_BIAS);
  let mult = cP(p, P_DENSE_MULT);
  let shift = cP(p, P_DENSE_SHIFT);
  let zp = prm(p, P_DENSE_ZP_OUT);
  let lo = prm(p, P_DENSE_ACT_MIN);
  let hi = prm(p, P_DENSE_ACT_MAX);
  let lut: usize = prm(p, P_DENSE_LUT) == -1 ? 0 : cP(p, P_DENSE_LUT);
  let layout = prm(p, P_DENSE_LAYOUT);
  for (let r = 0; r < rows; r++) {
    if (layout == 2) denseU8(x, inDim, w, outDim, bias, mult, shift, zp, lo, hi, lut, y);
    else denseVec(x, inDim, 1, <usize>inDim, 0, 1, 0, inDim, 0, w, outDim, layout, bias, mult, shift, zp, lo, hi, lut, y);
    x += <usize>inDim;
    y += <usize>outDim;
  }
  return 0;
}
