// DEPTHWISE_CONV2D: out channel oc = c*depthMult + m; weights [kH][kW][inC*depthMult].
// 3x3 kernels with depthMult 1, widthwise stride 1 or 2 and no dilation run two neighbouring
// outputs per i64 multiply: 4 channels per pass where C % 4 == 0 (dw4), else one channel at a time
// (dw3x3); other geometries take the per-element path.
import { P_DEPTHWISE_CONV2D_ACT_MAX, P_DEPTHWISE_CONV2D_ACT_MIN, P_DEPTHWISE_CONV2D_BATCH, P_DEPTHWISE_CONV2D_BIAS, P_DEPTHWISE_CONV2D_DEPTH_MULT, P_DEPTHWISE_CONV2D_DIL_H, P_DEPTHWISE_CONV2D_DIL_W, P_DEPTHWISE_CONV2D_IN, P_DEPTHWISE_CONV2D_IN_C, P_DEPTHWISE_CONV2D_IN_H, P_DEPTHWISE_CONV2D_IN_W, P_DEPTHWISE_CONV2D_K_H, P_DEPTHWISE_CONV2D_K_W, P_DEPTHWISE_CONV2D_LUT, P_DEPTHWISE_CONV2D_MULT, P_DEPTHWISE_CONV2D_OUT, P_DEPTHWISE_CONV2D_OUT_H, P_DEPTHWISE_CONV2D_OUT_W, P_DEPTHWISE_CONV2D_PAD_LEFT, P_DEPTHWISE_CONV2D_PAD_TOP, P_DEPTHWISE_CONV2D_SHIFT, P_DEPTHWISE_CONV2D_STRIDE_H, P_DEPTHWISE_CONV2D_STRIDE_W, P_DEPTHWISE_CONV2D_WEIGHTS, P_DEPTHWISE_CONV2D_ZP_IN, P_DEPTHWISE_CONV2D_ZP_OUT } from '../abi.gen';
import { prm, tP, cP, is16 } from '../check';
import { evalConv16 } from './wide';
import { prepareConvLike } from './conv2d';
import { outQ, outQv } from './dense';
import { clampI, roundDouble, roundFloat } from '../fixedpoint';

export function prepare(): void { prepareConvLike(true); }

/**
 * One kernel row of two neighbouring outputs, stride 1: input columns 0..3 at x + j*c1 times the
 * packed weights P0 = w0, P1 = w1 + 2^32*w0, P2 = w2 + 2^32*w1, P3 = 2^32*w2, so lane 0 sums
 * the first output's products and lane 1 the second's.
 */
// @ts-ignore: decorator
@inline function row4(x: usize, c1: usize, c2: usize, c3: usize, P0: i64, P1: i64, P2: i64, P3: i64): i64 {
  return <i64>load<i8>(x) * P0 + <i64>load<i8>(x + c1) * P1 + <i64>load<i8>(x + c2) * P2 + <i64>load<i8>(x + c3) * P3;
}

/** row4 and the fifth column at the border (P4 = 0 for stride 1): a row outside the input, or columns outside [0, inW), read zpIn */
function rowB(x: usize, ok: bool, iw: i32, inW: i32, c1: usize, zp: i64, P0: i64, P1: i64, P2: i64, P3: i64, P4: i64): i64 {
  if (!ok) return zp * (P0 + P1 + P2 + P3 + P4);
  let n = <u32>inW;
  let a = (<u32>iw < n ? <i64>load<i8>(x) : zp) * P0 + (<u32>(iw + 1) < n ? <i64>load<i8>(x + c1) : zp) * P1;
  x += c1 << 1;
  a += (<u32>(iw + 2) < n ? <i64>load<i8>(x) : zp) * P2 + (<u32>(iw + 3) < n ? <i64>load<i8>(x + c1) : zp) * P3;
  return P4 ? a + (<u32>(iw + 4) < n ? <i64>load<i8>(x + (c1 << 1)) : zp) * P4 : a;
}

/**
 * int8 output of one channel from its accumulator: mbqmF (fixedpoint.ts) with the channel's
 * terms hoisted (M = mult, R = its rounding constant, N = the sign-term mask, S = 31 - shift),
 * clamp, then the optional LUT. Valid where mbqmF takes its one-expression form.
 */
// @ts-ignore: decorator
@inline function outCh(acc: i32, M: i64, R: i64, N: i32, S: i64, zp: i32, lo: i32, hi: i32, lut: usize): i32 {
  let y = clampI(<i32>((<i64>acc * M + R + <i64>(acc & N)) >> S) + zp, lo, hi);
  if (lut) y = <i32>load<i8>(lut + <usize>(y + 128));
  return y;
}

/** outQv as a call (the channels whose requantisation outCh does not cover) */
function outAny(acc: i32, m: i32, s: i32, zp: i32, lo: i32, hi: i32, lut: usize): i32 {
  return outQv(acc, m, s, zp, lo, hi, lut);
}

/** packs one kernel row's weights w0..w2 (at w, step c1) into P0..P4 (row4 and the stride-2 fifth column) at pk */
// @ts-ignore: decorator
@inline function packRow(w: usize, c1: usize, s2: bool, pk: usize): void {
  let w0 = <i64>load<i8>(w), w1 = <i64>load<i8>(w + c1), w2 = <i64>load<i8>(w + (c1 << 1));
  store<i64>(pk, w0);
  store<i64>(pk, s2 ? w1 : w1 + (w0 << 32), 8);
  store<i64>(pk, s2 ? w2 + (w0 << 32) : w2 + (w1 << 32), 16);
  store<i64>(pk, s2 ? w1 << 32 : w2 << 32, 24);
  store<i64>(pk, s2 ? w2 << 32 : 0, 32);
}

/** packs a channel's 3 kernel rows (weights at w, step c1 per column) at pk, pk + 40, pk + 80 */
function packCh(w: usize, c1: usize, s2: bool, pk: usize): void {
  let c3 = c1 * 3;
  if (s2) {
    packRow(w, c1, true, pk); packRow(w + c3, c1, true, pk + 40); packRow(w + c3 * 2, c1, true, pk + 80);
  } else {
    packRow(w, c1, false, pk); packRow(w + c3, c1, false, pk + 40); packRow(w + c3 * 2, c1, false, pk + 80);
  }
}

// the packed weights of one channel (3 kernel rows x 5 i64), of 4 channels (dw4)
const PK = memory.data(120, 8);
const PK4 = memory.data(480, 8);
// zpIn in 4 bytes: the input bytes of dw4's taps outside the input
const ZP4 = memory.data(4, 4);

/**
 * 3x3 kernel, depthMult 1, strides (sH, 1 or 2), no dilation: per channel the 9 weights are
 * packed once (packRow), then each pair of neighbouring outputs of a row costs 12 (stride 1) or
 * 15 (stride 2) multiplies. Lanes: |x * w| <= 2^14, 9 products per lane, so each lane's sum fits
 * in int32: lane 0 is the low word, lane 1 (a - sext(lane 0)) >> 32; the bias is added in i32.
 */
function dw3x3(x0: usize, y0: usize, batch: i32, inH: i32, inW: i32, C: i32, outH: i32, outW: i32, sH: i32, sW: i32,
  padT: i32, padL: i32, zpIn: i32, wts: usize, bias: usize, mult: usize, shift: usize, zp: i32, lo: i32, hi: i32, lut: usize,
  cFrom: i32, cTo: i32): void {
  let c1 = <usize>C, c2 = c1 << 1, c3 = c1 * 3;
  let rb = <usize>inW * c1;
  let imgIn = <usize>inH * rb, imgOut = <usize>(outH * outW) * c1;
  let zq = <i64>zpIn;
  let s2 = sW == 2;
  for (let c = cFrom; c < cTo; c++) {
    let w = wts + <usize>c;
    packCh(w, c1, s2, PK);
    let P00 = load<i64>(PK), P01 = load<i64>(PK, 8), P02 = load<i64>(PK, 16), P03 = load<i64>(PK, 24), P04 = load<i64>(PK, 32);
    let P10 = load<i64>(PK, 40), P11 = load<i64>(PK, 48), P12 = load<i64>(PK, 56), P13 = load<i64>(PK, 64), P14 = load<i64>(PK, 72);
    let P20 = load<i64>(PK, 80), P21 = load<i64>(PK, 88), P22 = load<i64>(PK, 96), P23 = load<i64>(PK, 104), P24 = load<i64>(PK, 112);
    let b: i32 = bias ? load<i32>(bias + (<usize>c << 2)) : 0;
    let m = load<i32>(mult + (<usize>c << 2)), s = <i32>load<i8>(shift + <usize>c);
    // mbqmF's terms (fixedpoint.ts), or its general form (outQv) where they do not apply
    let d = roundDouble;
    let hoist = !roundFloat && ((m | -s) & d) >= 0;
    let S = <i64>(31 - s);
    let R = (<i64>1 << (S - 1)) | <i64>(0x40000000 & d);
    let N = s & d & i32.MIN_VALUE;
    let M = <i64>m;
    for (let n = 0; n < batch; n++) {
      let xb = x0 + <usize>n * imgIn + <usize>c;
      let y = y0 + <usize>n * imgOut + <usize>c;
      for (let oh = 0; oh < outH; oh++) {
        let ih = oh * sH - padT;
        let v0 = <u32>ih < <u32>inH, v1 = <u32>(ih + 1) < <u32>inH, v2 = <u32>(ih + 2) < <u32>inH;
        let rows = v0 && v1 && v2;
        let xr = xb + <usize>ih * rb;
        for (let ow = 0; ow < outW; ow += 2) {
          let iw = ow * sW - padL;
          let xp = xr + <usize>iw * c1;
          let a: i64;
          // stride 2 (dw4 takes the blocks of 4 channels) always through rowB, which adds the fifth column
          if (!s2 && rows && iw >= 0 && iw + 3 < inW) {
            a = row4(xp, c1, c2, c3, P00, P01, P02, P03) + row4(xp + rb, c1, c2, c3, P10, P11, P12, P13)
              + row4(xp + (rb << 1), c1, c2, c3, P20, P21, P22, P23);
          } else {
            a = rowB(xp, v0, iw, inW, c1, zq, P00, P01, P02, P03, P04) + rowB(xp + rb, v1, iw, inW, c1, zq, P10, P11, P12, P13, P14)
              + rowB(xp + (rb << 1), v2, iw, inW, c1, zq, P20, P21, P22, P23, P24);
          }
          let l = <i32>a;
          let h = <i32>((a - <i64>l) >> 32) + b;
          l += b;
          store<i8>(y, hoist ? outCh(l, M, R, N, S, zp, lo, hi, lut) : outAny(l, m, s, zp, lo, hi, lut));
          y += c1;
          if (ow + 1 < outW) {
            store<i8>(y, hoist ? outCh(h, M, R, N, S, zp, lo, hi, lut) : outAny(h, m, s, zp, lo, hi, lut));
            y += c1;
          }
        }
      }
    }
  }
}

/**
 * The per-channel terms of dw4's requantisation, or false where a channel needs the general
 * form: v = (X*M + R + (X & N)) >> S is mbqmF's one expression (fixedpoint.ts) with the output
 * zero point added as zp * 2^S inside R, so v is clamped and stored as it is. X is the
 * accumulator with the bias (added to both lanes of the i64 sum). Valid for m >= 0,
 * -22 <= shift <= 0 and |bias| <= 2^30: then |X| < 2^30 + 2^18, |X*M| < 2^61.1, |zp*2^S| <= 2^60,
 * the i64 sum does not overflow, and v equals the int32 path's clamp input (no int32 wrap).
 * Writes M, R, N, S, B (bias in both lanes) at TERMS + 40*q for channel c0 + q.
 * With a lower bound lo >= zp (ReLU) N is 0: for X <= -1 and shift < 0 (S >= 32),
 * X*M + R <= -M + 2^(S-1) + 2^30 + zp*2^S < (zp + 1)*2^S, so v <= zp with or without the
 * sign term (which only subtracts), and the clamp gives lo; at shift 0 N is 0 anyway.
 */
function dwTerms(mult: usize, shift: usize, bias: usize, c0: i32, zp: i32, lo: i32): bool {
  if (roundFloat) return false;
  // the sign term only lowers v for X < 0, where v <= zp without it (below): clamped to lo >= zp either way
  let d = roundDouble, dN = lo >= zp ? 0 : d;
  for (let q = 0; q < 4; q++) {
    let c = <usize>(c0 + q);
    let m = load<i32>(mult + (c << 2)), s = <i32>load<i8>(shift + c);
    let b: i32 = bias ? load<i32>(bias + (c << 2)) : 0;
    if ((m | -s) < 0 || s < -22 || <u32>(b + 0x40000000) > 0x80000000) return false;
    let S = <i64>(31 - s);
    let t = TERMS + (c - <usize>c0) * 40;
    store<i64>(t, <i64>m);
    store<i64>(t, ((<i64>1 << (S - 1)) | <i64>(0x40000000 & d)) + (<i64>zp << S), 8);
    store<i64>(t, <i64>(s & dN & i32.MIN_VALUE), 16);
    store<i64>(t, S, 24);
    store<i64>(t, <i64>b + (<i64>b << 32), 32);
  }
  return true;
}

// dw4's requantisation terms of 4 channels (dwTerms)
const TERMS = memory.data(160, 8);

/** req without the sign term (every N of the block 0) */
// @ts-ignore: decorator
@inline function req0(X: i64, M: i64, R: i64, S: i64, lo: i64, hi: i64): i64 {
  let v = (X * M + R) >> S;
  return v < lo ? lo : (v > hi ? hi : v);
}

/** clamp(v, lo, hi) of dwTerms' v: the int8 output of one lane */
// @ts-ignore: decorator
@inline function req(X: i64, M: i64, R: i64, N: i64, S: i64, lo: i64, hi: i64): i64 {
  let v = (X * M + R + (X & N)) >> S;
  return v < lo ? lo : (v > hi ? hi : v);
}

/**
 * dw3x3 for 4 neighbouring channels per pass (C % 4 == 0, every channel's terms from dwTerms):
 * the column addresses of a pair of outputs are computed once for the 4 channels (immediate
 * offsets 0..3), the loop and border tests are paid once per 8 outputs. The 48 packed
 * weights live in locals, and at stride_w 2 the 12 of the fifth column (a pair spans 5 input
 * columns), its 3 addresses formed in the stride-2 block only. The LUT is the caller's (a pass
 * over the op's output). Returns false, computing nothing, where a channel needs outQv.
 */
function dw4(x0: usize, y0: usize, batch: i32, inH: i32, inW: i32, C: i32, outH: i32, outW: i32, sH: i32, sW: i32,
  padT: i32, padL: i32, zpIn: i32, wts: usize, bias: usize, mult: usize, shift: usize, zp: i32, lo32: i32, hi32: i32, c0: i32): bool {
  if (!dwTerms(mult, shift, bias, c0, zp, lo32)) return false;
  let lo = <i64>lo32, hi = <i64>hi32;
  let c1 = <usize>C, c2 = c1 << 1, c3 = c1 * 3;
  let rb = <usize>inW * c1;
  let imgIn = <usize>inH * rb, imgOut = <usize>(outH * outW) * c1;
  let st2 = sW == 2, c4 = c2 << 1, span = 2 + sW; // span: last input column of a pair, from its first
  // the pairs ow in [owA, owA + owN) have all their columns inside the input (iw >= 0, iw + span < inW)
  let owA = padL > 0 ? (padL + sW - 1) / sW : 0, t = inW + padL - span;
  let owN = max((t > 0 ? (t + sW - 1) / sW : 0) - owA, 0);
  store<u32>(ZP4, <u32>(zpIn & 0xff) * 0x01010101);
  for (let q: usize = 0; q < 4; q++) packCh(wts + <usize>c0 + q, c1, st2, PK4 + q * 120);
  let P000 = load<i64>(PK4, 0), P010 = load<i64>(PK4, 8), P020 = load<i64>(PK4, 16), P030 = load<i64>(PK4, 24);
  let P100 = load<i64>(PK4, 40), P110 = load<i64>(PK4, 48), P120 = load<i64>(PK4, 56), P130 = load<i64>(PK4, 64);
  let P200 = load<i64>(PK4, 80), P210 = load<i64>(PK4, 88), P220 = load<i64>(PK4, 96), P230 = load<i64>(PK4, 104);
  let P040 = load<i64>(PK4, 32), P140 = load<i64>(PK4, 72), P240 = load<i64>(PK4, 112);
  let M0 = load<i64>(TERMS), R0 = load<i64>(TERMS, 8), N0 = load<i64>(TERMS, 16), S0 = load<i64>(TERMS, 24), B0 = load<i64>(TERMS, 32);
  let P001 = load<i64>(PK4, 120), P011 = load<i64>(PK4, 128), P021 = load<i64>(PK4, 136), P031 = load<i64>(PK4, 144);
  let P101 = load<i64>(PK4, 160), P111 = load<i64>(PK4, 168), P121 = load<i64>(PK4, 176), P131 = load<i64>(PK4, 184);
  let P201 = load<i64>(PK4, 200), P211 = load<i64>(PK4, 208), P221 = load<i64>(PK4, 216), P231 = load<i64>(PK4, 224);
  let P041 = load<i64>(PK4, 152), P141 = load<i64>(PK4, 192), P241 = load<i64>(PK4, 232);
  let M1 = load<i64>(TERMS, 40), R1 = load<i64>(TERMS, 48), N1 = load<i64>(TERMS, 56), S1 = load<i64>(TERMS, 64), B1 = load<i64>(TERMS, 72);
  let P002 = load<i64>(PK4, 240), P012 = load<i64>(PK4, 248), P022 = load<i64>(PK4, 256), P032 = load<i64>(PK4, 264);
  let P102 = load<i64>(PK4, 280), P112 = load<i64>(PK4, 288), P122 = load<i64>(PK4, 296), P132 = load<i64>(PK4, 304);
  let P202 = load<i64>(PK4, 320), P212 = load<i64>(PK4, 328), P222 = load<i64>(PK4, 336), P232 = load<i64>(PK4, 344);
  let P042 = load<i64>(PK4, 272), P142 = load<i64>(PK4, 312), P242 = load<i64>(PK4, 352);
  let M2 = load<i64>(TERMS, 80), R2 = load<i64>(TERMS, 88), N2 = load<i64>(TERMS, 96), S2 = load<i64>(TERMS, 104), B2 = load<i64>(TERMS, 112);
  let P003 = load<i64>(PK4, 360), P013 = load<i64>(PK4, 368), P023 = load<i64>(PK4, 376), P033 = load<i64>(PK4, 384);
  let P103 = load<i64>(PK4, 400), P113 = load<i64>(PK4, 408), P123 = load<i64>(PK4, 416), P133 = load<i64>(PK4, 424);
  let P203 = load<i64>(PK4, 440), P213 = load<i64>(PK4, 448), P223 = load<i64>(PK4, 456), P233 = load<i64>(PK4, 464);
  let P043 = load<i64>(PK4, 392), P143 = load<i64>(PK4, 432), P243 = load<i64>(PK4, 472);
  let M3 = load<i64>(TERMS, 120), R3 = load<i64>(TERMS, 128), N3 = load<i64>(TERMS, 136), S3 = load<i64>(TERMS, 144), B3 = load<i64>(TERMS, 152);
  let sg = (N0 | N1 | N2 | N3) != 0; // a channel needs the sign term
  for (let n = 0; n < batch; n++) {
    let xb = x0 + <usize>n * imgIn + <usize>c0;
    let y = y0 + <usize>n * imgOut + <usize>c0;
    for (let oh = 0; oh < outH; oh++) {
      let ih = oh * sH - padT;
      let v0 = <u32>ih < <u32>inH, v1 = <u32>(ih + 1) < <u32>inH, v2 = <u32>(ih + 2) < <u32>inH;
      let inner = v0 && v1 && v2 ? <u32>owN : 0; // interior pairs of this row
      let xr = xb + <usize>ih * rb;
      for (let ow = 0; ow < outW; ow += 2) {
        let iw = ow * sW - padL;
        let xp = xr + <usize>iw * c1;
        // the 12 input columns of the pair (4 channels each); outside the input: ZP4 (zpIn x 4)
        let r00 = xp, r01 = xp + c1, r02 = xp + c2, r03 = xp + c3;
        let r10 = xp + rb, r11 = r10 + c1, r12 = r10 + c2, r13 = r10 + c3;
        let r20 = r10 + rb, r21 = r20 + c1, r22 = r20 + c2, r23 = r20 + c3;
        if (<u32>(ow - owA) >= inner) {
          let n = <u32>inW;
          if (<u32>iw >= n) { r00 = ZP4; r10 = ZP4; r20 = ZP4; }
          if (<u32>(iw + 1) >= n) { r01 = ZP4; r11 = ZP4; r21 = ZP4; }
          if (<u32>(iw + 2) >= n) { r02 = ZP4; r12 = ZP4; r22 = ZP4; }
          if (<u32>(iw + 3) >= n) { r03 = ZP4; r13 = ZP4; r23 = ZP4; }
          if (!v0) { r00 = ZP4; r01 = ZP4; r02 = ZP4; r03 = ZP4; }
          if (!v1) { r10 = ZP4; r11 = ZP4; r12 = ZP4; r13 = ZP4; }
          if (!v2) { r20 = ZP4; r21 = ZP4; r22 = ZP4; r23 = ZP4; }
        }
        let a0 = B0 + <i64>load<i8>(r00) * P000 + <i64>load<i8>(r01) * P010 + <i64>load<i8>(r02) * P020 + <i64>load<i8>(r03) * P030
          + <i64>load<i8>(r10) * P100 + <i64>load<i8>(r11) * P110 + <i64>load<i8>(r12) * P120 + <i64>load<i8>(r13) * P130
          + <i64>load<i8>(r20) * P200 + <i64>load<i8>(r21) * P210 + <i64>load<i8>(r22) * P220 + <i64>load<i8>(r23) * P230;
        let a1 = B1 + <i64>load<i8>(r00, 1) * P001 + <i64>load<i8>(r01, 1) * P011 + <i64>load<i8>(r02, 1) * P021 + <i64>load<i8>(r03, 1) * P031
          + <i64>load<i8>(r10, 1) * P101 + <i64>load<i8>(r11, 1) * P111 + <i64>load<i8>(r12, 1) * P121 + <i64>load<i8>(r13, 1) * P131
          + <i64>load<i8>(r20, 1) * P201 + <i64>load<i8>(r21, 1) * P211 + <i64>load<i8>(r22, 1) * P221 + <i64>load<i8>(r23, 1) * P231;
        let a2 = B2 + <i64>load<i8>(r00, 2) * P002 + <i64>load<i8>(r01, 2) * P012 + <i64>load<i8>(r02, 2) * P022 + <i64>load<i8>(r03, 2) * P032
          + <i64>load<i8>(r10, 2) * P102 + <i64>load<i8>(r11, 2) * P112 + <i64>load<i8>(r12, 2) * P122 + <i64>load<i8>(r13, 2) * P132
          + <i64>load<i8>(r20, 2) * P202 + <i64>load<i8>(r21, 2) * P212 + <i64>load<i8>(r22, 2) * P222 + <i64>load<i8>(r23, 2) * P232;
        let a3 = B3 + <i64>load<i8>(r00, 3) * P003 + <i64>load<i8>(r01, 3) * P013 + <i64>load<i8>(r02, 3) * P023 + <i64>load<i8>(r03, 3) * P033
          + <i64>load<i8>(r10, 3) * P103 + <i64>load<i8>(r11, 3) * P113 + <i64>load<i8>(r12, 3) * P123 + <i64>load<i8>(r13, 3) * P133
          + <i64>load<i8>(r20, 3) * P203 + <i64>load<i8>(r21, 3) * P213 + <i64>load<i8>(r22, 3) * P223 + <i64>load<i8>(r23, 3) * P233;
        // stride 2: the fifth column
        if (st2) {
          let k4 = <u32>(iw + 4) < <u32>inW, x4 = xp + c4;
          let r04 = v0 && k4 ? x4 : ZP4, r14 = v1 && k4 ? x4 + rb : ZP4, r24 = v2 && k4 ? x4 + (rb << 1) : ZP4;
          a0 += <i64>load<i8>(r04) * P040 + <i64>load<i8>(r14) * P140 + <i64>load<i8>(r24) * P240;
          a1 += <i64>load<i8>(r04, 1) * P041 + <i64>load<i8>(r14, 1) * P141 + <i64>load<i8>(r24, 1) * P241;
          a2 += <i64>load<i8>(r04, 2) * P042 + <i64>load<i8>(r14, 2) * P142 + <i64>load<i8>(r24, 2) * P242;
          a3 += <i64>load<i8>(r04, 3) * P043 + <i64>load<i8>(r14, 3) * P143 + <i64>load<i8>(r24, 3) * P243;
        }
        // lane 0 (the first output of the pair) is the low word with its sign, lane 1 the rest
        let X0 = <i64><i32>a0, X1 = <i64><i32>a1, X2 = <i64><i32>a2, X3 = <i64><i32>a3;
        let two = ow + 1 < outW;
        if (sg) {
          store<i8>(y, req(X0, M0, R0, N0, S0, lo, hi), 0);
          store<i8>(y, req(X1, M1, R1, N1, S1, lo, hi), 1);
          store<i8>(y, req(X2, M2, R2, N2, S2, lo, hi), 2);
          store<i8>(y, req(X3, M3, R3, N3, S3, lo, hi), 3);
          if (two) {
            store<i8>(y + c1, req((a0 - X0) >> 32, M0, R0, N0, S0, lo, hi), 0);
            store<i8>(y + c1, req((a1 - X1) >> 32, M1, R1, N1, S1, lo, hi), 1);
            store<i8>(y + c1, req((a2 - X2) >> 32, M2, R2, N2, S2, lo, hi), 2);
            store<i8>(y + c1, req((a3 - X3) >> 32, M3, R3, N3, S3, lo, hi), 3);
          }
        } else {
          store<i8>(y, req0(X0, M0, R0, S0, lo, hi), 0);
          store<i8>(y, req0(X1, M1, R1, S1, lo, hi), 1);
          store<i8>(y, req0(X2, M2, R2, S2, lo, hi), 2);
          store<i8>(y, req0(X3, M3, R3, S3, lo, hi), 3);
          if (two) {
            store<i8>(y + c1, req0((a0 - X0) >> 32, M0, R0, S0, lo, hi), 0);
            store<i8>(y + c1, req0((a1 - X1) >> 32, M1, R1, S1, lo, hi), 1);
            store<i8>(y + c1, req0((a2 - X2) >> 32, M2, R2, S2, lo, hi), 2);
            store<i8>(y + c1, req0((a3 - X3) >> 32, M3, R3, S3, lo, hi), 3);
          }
        }
        y += two ? c2 : c1;
      }
    }
  }
  return true;
}

/** y[i] = lut[y[i] + 128] for i < n */
function applyLut(y: usize, n: usize, lut: usize): void {
  for (let e = y + n; y < e; y++) store<i8>(y, load<i8>(lut + <usize>(<i32>load<i8>(y) + 128)));
}

export function evalOp(p: usize): i32 {
  if (is16(p, P_DEPTHWISE_CONV2D_IN)) return evalConv16(p, true);
  let x0 = tP(p, P_DEPTHWISE_CONV2D_IN);
  let y = tP(p, P_DEPTHWISE_CONV2D_OUT);
  let batch = prm(p, P_DEPTHWISE_CONV2D_BATCH), inH = prm(p, P_DEPTHWISE_CONV2D_IN_H), inW = prm(p, P_DEPTHWISE_CONV2D_IN_W), inC = prm(p, P_DEPTHWISE_CONV2D_IN_C);
  let outH = prm(p, P_DEPTHWISE_CONV2D_OUT_H), outW = prm(p, P_DEPTHWISE_CONV2D_OUT_W), dm = prm(p, P_DEPTHWISE_CONV2D_DEPTH_MULT);
  let kH = prm(p, P_DEPTHWISE_CONV2D_K_H), kW = prm(p, P_DEPTHWISE_CONV2D_K_W), sH = prm(p, P_DEPTHWISE_CONV2D_STRIDE_H), sW = prm(p, P_DEPTHWISE_CONV2D_STRIDE_W), dH = prm(p, P_DEPTHWISE_CONV2D_DIL_H), dW = prm(p, P_DEPTHWISE_CONV2D_DIL_W);
  let padT = prm(p, P_DEPTHWISE_CONV2D_PAD_TOP), padL = prm(p, P_DEPTHWISE_CONV2D_PAD_LEFT), zpIn = prm(p, P_DEPTHWISE_CONV2D_ZP_IN);
  let wts = cP(p, P_DEPTHWISE_CONV2D_WEIGHTS);
  let bias: usize = prm(p, P_DEPTHWISE_CONV2D_BIAS) == -1 ? 0 : cP(p, P_DEPTHWISE_CONV2D_BIAS);
  let mult = cP(p, P_DEPTHWISE_CONV2D_MULT), shift = cP(p, P_DEPTHWISE_CONV2D_SHIFT);
  let zpOut = prm(p, P_DEPTHWISE_CONV2D_ZP_OUT), lo = prm(p, P_DEPTHWISE_CONV2D_ACT_MIN), hi = prm(p, P_DEPTHWISE_CONV2D_ACT_MAX);
  let lut: usize = prm(p, P_DEPTHWISE_CONV2D_LUT) == -1 ? 0 : cP(p, P_DEPTHWISE_CONV2D_LUT);
  if (kH == 3 && kW == 3 && dm == 1 && sW <= 2 && dH == 1 && dW == 1) {
    // blocks of 4 channels where dw4 applies, the other channels one at a time
    // the LUT in one pass over the output afterwards
    let c = 0;
    if ((inC & 3) == 0) for (; c < inC; c += 4) {
      if (!dw4(x0, y, batch, inH, inW, inC, outH, outW, sH, sW, padT, padL, zpIn, wts, bias, mult, shift, zpOut, lo, hi, c))
        dw3x3(x0, y, batch, inH, inW, inC, outH, outW, sH, sW, padT, padL, zpIn, wts, bias, mult, shift, zpOut, lo, hi, 0, c, c + 4);
    }
    dw3x3(x0, y, batch, inH, inW, inC, outH, outW, sH, sW, padT, padL, zpIn, wts, bias, mult, shift, zpOut, lo, hi, 0, c, inC);
    if (lut) applyLut(y, <usize>(batch * outH * outW) * <usize>inC, lut);
    return 0;
  }
  let outC = inC * dm;
  let rowBytes = <usize>inW * <usize>inC;
  let imgBytes = <usize>inH * rowBytes;
  for (let b = 0; b < batch; b++) {
    let xb = x0 + <usize>b * imgBytes;
    for (let oh = 0; oh < outH; oh++) {
      let ih0 = oh * sH - padT;
      for (let ow = 0; ow < outW; ow++) {
        let iw0 = ow * sW - padL;
        for (let oc = 0; oc < outC; oc++) {
          let c = oc / dm;
          let acc: i32 = bias ? load<i32>(bias + (<usize>oc << 2)) : 0;
          let w = wts + <usize>oc;
          for (let kh = 0; kh < kH; kh++) {
            let ih = ih0 + kh * dH;
            let rowIn = ih >= 0 && ih < inH;
            let xr = xb + <usize>ih * rowBytes + <usize>c;
            for (let kw = 0; kw < kW; kw++) {
              let iw = iw0 + kw * dW;
              let xv = (rowIn && iw >= 0 && iw < inW) ? <i32>load<i8>(xr + <usize>iw * <usize>inC) : zpIn;
              acc += xv * <i32>load<i8>(w);
              w += <usize>outC;
            }
          }
          store<i8>(y, outQ(acc, mult, shift, oc, zpOut, lo, hi, lut));
          y++;
        }
      }
    }
  }
  return 0;
}
