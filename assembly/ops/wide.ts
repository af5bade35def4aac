// int16 activations with int8 weights (TFLite's 16x8 scheme) for DENSE, CONV2D and
// DEPTHWISE_CONV2D: taken when the op's tensors are int16. Activations are symmetric (zero
// points 0), the accumulator is int64 (bias int32 widened), requantisation is mbqm64 (the
// reduced 16-bit multiplier, one rounding), the clamp is in int16 and the fused table is
// TFLite's 513-entry int16 LUT. Out-of-bounds conv taps are skipped (TFLite has no input offset
// in 16x8). Weights in either layout: weight k of output o at wb(o) + k * ws(o). CONV2D layout 2
// has int16 weights (16x16: dotW16s) and an int64 bias.
import { P_CONV2D_ACT_MAX, P_CONV2D_ACT_MIN, P_CONV2D_BATCH, P_CONV2D_BIAS, P_CONV2D_DIL_H, P_CONV2D_DIL_W, P_CONV2D_GROUPS, P_CONV2D_IN, P_CONV2D_IN_C, P_CONV2D_IN_H, P_CONV2D_IN_W, P_CONV2D_K_H, P_CONV2D_K_W, P_CONV2D_LAYOUT, P_CONV2D_LUT, P_CONV2D_MULT, P_CONV2D_OUT, P_CONV2D_OUT_C, P_CONV2D_OUT_H, P_CONV2D_OUT_W, P_CONV2D_PAD_LEFT, P_CONV2D_PAD_TOP, P_CONV2D_SHIFT, P_CONV2D_STRIDE_H, P_CONV2D_STRIDE_W, P_CONV2D_WEIGHTS, P_CONV2D_ZP_OUT, P_DENSE_ACT_MAX, P_DENSE_ACT_MIN, P_DENSE_BIAS, P_DENSE_IN, P_DENSE_IN_DIM, P_DENSE_LAYOUT, P_DENSE_LUT, P_DENSE_MULT, P_DENSE_OUT, P_DENSE_OUT_DIM, P_DENSE_ROWS, P_DENSE_SHIFT, P_DENSE_WEIGHTS, P_DENSE_ZP_OUT } from '../abi.gen';
import { P_SOFTMAX_DEPTH, P_SOFTMAX_IN, P_SOFTMAX_OUT, P_SOFTMAX_ROWS, P_SOFTMAX_TABLE } from '../abi.gen';
import { prm, tP, cP, gConsts, gErr, cConst, cFail } from '../check';
import { mbqm, mbqm64, lut16, clampI } from '../fixedpoint';
import { EN_W16 } from '../ops-enabled';

/**
 * sum_k x[k] * w[k * ws], k < n, x int16, w int8, exact in int64: int32 partial sums over runs
 * of at most 256 products (|x * w| <= 2^22, so a run stays below 2^30), unrolled x4.
 */
function dot16(x: usize, w: usize, ws: usize, n: i32): i64 {
  let acc: i64 = 0;
  let end = x + (<usize>n << 1);
  while (x < end) {
    let runEnd = end - x > 512 ? x + 512 : end;
    let run4 = x + ((runEnd - x) & ~7);
    let a: i32 = 0;
    while (x < run4) {
      a += <i32>load<i16>(x) * <i32>load<i8>(w) + <i32>load<i16>(x, 2) * <i32>load<i8>(w + ws)
        + <i32>load<i16>(x, 4) * <i32>load<i8>(w + 2 * ws) + <i32>load<i16>(x, 6) * <i32>load<i8>(w + 3 * ws);
      x += 8; w += 4 * ws;
    }
    while (x < runEnd) {
      a += <i32>load<i16>(x) * <i32>load<i8>(w);
      x += 2; w += ws;
    }
    acc += <i64>a;
  }
  return acc;
}

/**
 * sum_k x[k] * w[k * wsB], k < n, x int16 contiguous, w int16 every wsB bytes (CONV2D layout 2):
 * pairs of products in int32, added in int64, as dense16w.ts's denseW16Vec.
 */
export function dotW16s(x: usize, w: usize, wsB: usize, n: i32): i64 {
  let acc: i64 = 0;
  let e2 = x + (<usize>(n & ~1) << 1);
  let w2 = wsB << 1;
  while (x < e2) {
    acc += <i64>(<i32>load<i16>(x) * <i32>load<i16>(w) + <i32>load<i16>(x, 2) * <i32>load<i16>(w + wsB));
    x += 4; w += w2;
  }
  if (n & 1) acc += <i64>(<i32>load<i16>(x) * <i32>load<i16>(w));
  return acc;
}

/** int16 output of channel o: clamp(mbqm64(acc) + zp), then the optional int16 LUT */
export function out16(acc: i64, mult: usize, shift: usize, o: i32, zp: i32, lo: i32, hi: i32, lut: usize): i32 {
  let y = clampI(mbqm64(acc, load<i32>(mult + (<usize>o << 2)), <i32>load<i8>(shift + <usize>o)) + zp, lo, hi);
  return lut ? lut16(y, lut) : y;
}

/** first weight of output o of a [N][K] matrix in `layout` (1: 4-row blocks interleaved), weights of 2^eb bytes */
// @ts-ignore: decorator
@inline function wBase(w: usize, o: i32, K: i32, full: i32, eb: i32 = 0): usize {
  return w + ((o < full ? <usize>(o & ~3) * <usize>K + <usize>(o & 3) : <usize>o * <usize>K) << <usize>eb);
}

/** sum of n products of x (int16) and weights every wsB bytes: int8 weights, or int16 (CONV2D layout 2) */
// @ts-ignore: decorator
@inline function dotW(x: usize, w: usize, wsB: usize, n: i32, w16: bool): i64 {
  return w16 ? dotW16s(x, w, wsB, n) : dot16(x, w, wsB, n);
}

function optConst(p: usize, i: i32): usize { return prm(p, i) == -1 ? 0 : cP(p, i); }

export function evalDense16(p: usize): i32 {
  let x = tP(p, P_DENSE_IN), y = tP(p, P_DENSE_OUT);
  let rows = prm(p, P_DENSE_ROWS), K = prm(p, P_DENSE_IN_DIM), N = prm(p, P_DENSE_OUT_DIM);
  let w = cP(p, P_DENSE_WEIGHTS), bias = optConst(p, P_DENSE_BIAS), lut = optConst(p, P_DENSE_LUT);
  let mult = cP(p, P_DENSE_MULT), shift = cP(p, P_DENSE_SHIFT);
  let zp = prm(p, P_DENSE_ZP_OUT), lo = prm(p, P_DENSE_ACT_MIN), hi = prm(p, P_DENSE_ACT_MAX);
  let full = prm(p, P_DENSE_LAYOUT) == 1 ? N & ~3 : 0;
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < N; o++) {
      let acc: i64 = bias ? <i64>load<i32>(bias + (<usize>o << 2)) : 0;
      acc += dot16(x, wBase(w, o, K, full), o < full ? 4 : 1, K);
      store<i16>(y, out16(acc, mult, shift, o, zp, lo, hi, lut));
      y += 2;
    }
    x += <usize>K << 1;
  }
  return 0;
}

/** CONV2D (any groups, either layout) and DEPTHWISE_CONV2D (params at the same indices) on int16 */
export function evalConv16(p: usize, depthwise: bool): i32 {
  let x0 = tP(p, P_CONV2D_IN), y = tP(p, P_CONV2D_OUT);
  let batch = prm(p, P_CONV2D_BATCH), inH = prm(p, P_CONV2D_IN_H), inW = prm(p, P_CONV2D_IN_W), inC = prm(p, P_CONV2D_IN_C);
  let outH = prm(p, P_CONV2D_OUT_H), outW = prm(p, P_CONV2D_OUT_W), oc0 = prm(p, P_CONV2D_OUT_C);
  let kH = prm(p, P_CONV2D_K_H), kW = prm(p, P_CONV2D_K_W), sH = prm(p, P_CONV2D_STRIDE_H), sW = prm(p, P_CONV2D_STRIDE_W), dH = prm(p, P_CONV2D_DIL_H), dW = prm(p, P_CONV2D_DIL_W);
  let padT = prm(p, P_CONV2D_PAD_TOP), padL = prm(p, P_CONV2D_PAD_LEFT);
  let wts = cP(p, P_CONV2D_WEIGHTS), bias = optConst(p, P_CONV2D_BIAS), lut = optConst(p, P_CONV2D_LUT);
  let mult = cP(p, P_CONV2D_MULT), shift = cP(p, P_CONV2D_SHIFT);
  let zp = prm(p, P_CONV2D_ZP_OUT), lo = prm(p, P_CONV2D_ACT_MIN), hi = prm(p, P_CONV2D_ACT_MAX);
  // depthwise: out channel oc = c*dm + m reads input channel c; one tap weight at (kh*kW + kw)*outC + oc
  let outC = depthwise ? inC * oc0 : oc0;
  let groups = depthwise ? inC : prm(p, P_CONV2D_GROUPS);
  let icg = inC / groups, ocg = outC / groups;
  let K = kH * kW * icg;
  let layout = depthwise ? 0 : prm(p, P_CONV2D_LAYOUT);
  let full = layout >= 1 ? outC & ~3 : 0;
  // layout 2: int16 weights (2 bytes each) and an int64 bias
  let w16 = EN_W16 && layout == 2;
  let eb = w16 ? 1 : 0;
  let rowB = <usize>inW * <usize>inC << 1;
  let contig = !depthwise && groups == 1 && dW == 1;
  for (let b = 0; b < batch; b++) {
    let xb = x0 + <usize>b * <usize>inH * rowB;
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        for (let oc = 0; oc < outC; oc++) {
          let xg = xb + (<usize>((oc / ocg) * icg) << 1);
          let wb = depthwise ? wts + <usize>oc : wBase(wts, oc, K, full, eb);
          // bytes from one weight of the output to the next
          let ws: usize = (depthwise ? <usize>outC : (oc < full ? 4 : 1)) << <usize>eb;
          let acc: i64 = bias ? (w16 ? load<i64>(bias + (<usize>oc << 3)) : <i64>load<i32>(bias + (<usize>oc << 2))) : 0;
          let iw0 = ow * sW - padL;
          for (let kh = 0; kh < kH; kh++) {
            let ih = oh * sH - padT + kh * dH;
            if (ih < 0 || ih >= inH) continue;
            let xr = xg + <usize>ih * rowB;
            if (contig) {
              // the in-bounds taps of the row are contiguous in x and in w: one dot product
              let lo = iw0 < 0 ? -iw0 : 0;
              let hi = inW - iw0 < kW ? inW - iw0 : kW;
              if (hi > lo) acc += dotW(xr + (<usize>((iw0 + lo) * inC) << 1), wb + <usize>((kh * kW + lo) * icg) * ws, ws, (hi - lo) * icg, w16);
              continue;
            }
            for (let kw = 0; kw < kW; kw++) {
              let iw = iw0 + kw * dW;
              if (iw >= 0 && iw < inW) acc += dotW(xr + (<usize>iw * <usize>inC << 1), wb + <usize>((kh * kW + kw) * icg) * ws, ws, icg, w16);
            }
          }
          store<i16>(y, out16(acc, mult, shift, oc, zp, lo, hi, lut));
          y += 2;
        }
      }
    }
  }
  return 0;
}

// SOFTMAX on int16 (output scale 2^-15, zero point 0). table: i32 mult, i32 shift, then 513 int16
// entries of exp over [-10, 0] in Q0.15 (TFLite's int16 LUT). Per row: v = clamp(MBQM(x - max,
// mult, shift) + 32767) (the diff scaled so that -10 maps to -32768), e = lut16(v);
// y = clamp(((e << 15) + sum/2) / sum, 0, 32767) in int64.
export function prepareSoftmax16(): void {
  let t = cConst(P_SOFTMAX_TABLE, 8 + 1026, 4);
  if (gErr) return;
  let a = gConsts + <usize>t;
  let m = load<i32>(a), s = load<i32>(a, 4);
  if ((m != 0 && m < 0x40000000) || s < -31 || s > 30) { cFail(); return; }
  // entries >= 0 and the two read at x = max >= 1: every row's sum is positive
  for (let i = 0; i < 513; i++) if (load<i16>(a + 8 + (<usize>i << 1)) < 0) { cFail(); return; }
  if (load<i16>(a + 8 + 1022) < 1 || load<i16>(a + 8 + 1024) < 1) cFail();
}

// @ts-ignore: decorator
@inline function softExp(v: i32, mx: i32, m: i32, s: i32, t: usize): i64 {
  return <i64>lut16(clampI(mbqm(v - mx, m, s) + 32767, -32768, 32767), t);
}

export function evalSoftmax16(p: usize): i32 {
  let x = tP(p, P_SOFTMAX_IN), y = tP(p, P_SOFTMAX_OUT);
  let rows = prm(p, P_SOFTMAX_ROWS), depth = prm(p, P_SOFTMAX_DEPTH);
  let a = cP(p, P_SOFTMAX_TABLE);
  let m = load<i32>(a), s = load<i32>(a, 4), t = a + 8;
  for (let r = 0; r < rows; r++) {
    let mx: i32 = -32768;
    for (let k = 0; k < depth; k++) { let v = <i32>load<i16>(x + (<usize>k << 1)); if (v > mx) mx = v; }
    let sum: i64 = 0;
    for (let k = 0; k < depth; k++) sum += softExp(<i32>load<i16>(x + (<usize>k << 1)), mx, m, s, t);
    for (let k = 0; k < depth; k++) {
      let q = <i32>(((softExp(<i32>load<i16>(x + (<usize>k << 1)), mx, m, s, t) << 15) + (sum >> 1)) / sum);
      store<i16>(y + (<usize>k << 1), q > 32767 ? 32767 : q);
    }
    x += <usize>depth << 1;
    y += <usize>depth << 1;
  }
  return 0;
}
