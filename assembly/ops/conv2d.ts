// CONV2D: NHWC int8, zero point folded into the bias over all taps; taps outside the input read
// as zpIn. layout 0: weights [outC][kH][kW][inC/groups]; layout 1 (groups 1 only): the
// [outC][K = kH*kW*inC] matrix in DENSE layout 1 (4-row blocks interleaved [outC/4][K][4],
// remainder rows row-major). With layout 1 and dilW = 1 the taps of one kernel row are kW*inC
// contiguous input bytes, so no im2col: every output position runs as one DENSE vector over kH
// such runs (denseVec; border taps at zpIn), or two neighbouring positions per i64 multiply
// (densePairs) when the header scratch holds their K input pairs (8 bytes each, K rounded up to a
// multiple of 4; border taps at zpIn there too). Other geometries take the per-element path.
// mult int32[outC], shift int8[outC].
// layout 2 (int16 tensors only, groups 1): layout 1's matrix with int16 weights and an int64 bias
// (16x16, wide.ts evalConv16; the checks of dense16w.ts prepareW16).
import { P_CONV2D_ACT_MAX, P_CONV2D_ACT_MIN, P_CONV2D_BATCH, P_CONV2D_BIAS, P_CONV2D_DIL_H, P_CONV2D_DIL_W, P_CONV2D_GROUPS, P_CONV2D_IN, P_CONV2D_IN_C, P_CONV2D_IN_H, P_CONV2D_IN_W, P_CONV2D_K_H, P_CONV2D_K_W, P_CONV2D_LAYOUT, P_CONV2D_LUT, P_CONV2D_MULT, P_CONV2D_OUT, P_CONV2D_OUT_C, P_CONV2D_OUT_H, P_CONV2D_OUT_W, P_CONV2D_PAD_LEFT, P_CONV2D_PAD_TOP, P_CONV2D_SHIFT, P_CONV2D_STRIDE_H, P_CONV2D_STRIDE_W, P_CONV2D_WEIGHTS, P_CONV2D_ZP_IN, P_CONV2D_ZP_OUT } from '../abi.gen';
import { gScratch, gScratchSize, prm, tP, cP, cTensor, cDim, cGeom, cPad, cProd, cConst, cShiftArrayIn, cMultArray, cExtent, cmul, cFail, cRange, cSameDtype, cZpDt, cActDt, cLutDt, is16, M_I8, M_I16A } from '../check';
import { DTYPE_INT16 } from '../abi.gen';
import { dot8, denseVec, densePairs, outQ } from './dense';
import { evalConv16 } from './wide';
import { prepareW16 } from './dense16w';
import { EN_W16 } from '../ops-enabled';

export function prepareConvLike(depthwise: bool): void {
  let eIn = cTensor(P_CONV2D_IN, M_I8 | M_I16A);
  let eOut = cTensor(P_CONV2D_OUT, M_I8 | M_I16A);
  let dt = cSameDtype(P_CONV2D_IN, P_CONV2D_OUT);
  let batch = cDim(P_CONV2D_BATCH);
  let inH = cDim(P_CONV2D_IN_H);
  let inW = cDim(P_CONV2D_IN_W);
  let inC = cDim(P_CONV2D_IN_C);
  let outH = cDim(P_CONV2D_OUT_H);
  let outW = cDim(P_CONV2D_OUT_W);
  let oc = cDim(P_CONV2D_OUT_C);
  cProd(eIn, batch, inH, inW, inC);
  if (depthwise) cProd(eOut, batch, outH, outW, inC, oc);
  else cProd(eOut, batch, outH, outW, oc);
  let kH = cGeom(P_CONV2D_K_H);
  let kW = cGeom(P_CONV2D_K_W);
  let sH = cGeom(P_CONV2D_STRIDE_H);
  let sW = cGeom(P_CONV2D_STRIDE_W);
  let dH = cGeom(P_CONV2D_DIL_H);
  let dW = cGeom(P_CONV2D_DIL_W);
  cPad(P_CONV2D_PAD_TOP);
  cPad(P_CONV2D_PAD_LEFT);
  cExtent(outH, sH, kH, dH);
  cExtent(outW, sW, kW, dW);
  cZpDt(P_CONV2D_ZP_IN, dt);
  cZpDt(P_CONV2D_ZP_OUT, dt);
  cActDt(P_CONV2D_ACT_MIN, P_CONV2D_ACT_MAX, dt);
  let outC: i64 = depthwise ? cmul(inC, oc) : <i64>oc;
  let icg: i64 = inC;
  let layout = 0;
  if (!depthwise) {
    let groups = cDim(P_CONV2D_GROUPS);
    if (inC % groups != 0 || <i32>outC % groups != 0) cFail();
    icg = inC / groups;
    // layout 2 (int16 weights) on int16 tensors only, in a build with EN_W16
    layout = cRange(P_CONV2D_LAYOUT, 0, dt == DTYPE_INT16 && EN_W16 ? 2 : 1);
    if (layout >= 1 && groups != 1) cFail();
  }
  let wBytes = depthwise ? cmul(cmul(kH, kW), outC) : cmul(cmul(cmul(outC, kH), kW), icg);
  if (layout == 2) prepareW16(P_CONV2D_WEIGHTS, P_CONV2D_BIAS, <i32>cmul(cmul(kH, kW), icg), wBytes, <i32>outC);
  else {
    cConst(P_CONV2D_WEIGHTS, wBytes, 1);
    cConst(P_CONV2D_BIAS, cmul(outC, 4), 4, true);
  }
  let mo = cConst(P_CONV2D_MULT, cmul(outC, 4), 4);
  let sh = cConst(P_CONV2D_SHIFT, outC, 1);
  cLutDt(P_CONV2D_LUT, dt, true);
  cShiftArrayIn(sh, <i32>outC, -31, dt == DTYPE_INT16 ? 14 : 30);
  cMultArray(mo, <i32>outC);
}

export function prepare(): void { prepareConvLike(false); }

/** first kernel column inside the input of a window starting at input column iw0 */
// @ts-ignore: decorator
@inline function colLo(iw0: i32, kW: i32, inW: i32): i32 {
  return iw0 < 0 ? min(-iw0, kW) : 0;
}
/** end of the kernel columns inside the input (>= colLo) */
// @ts-ignore: decorator
@inline function colHi(iw0: i32, kW: i32, inW: i32): i32 {
  return max(min(inW - iw0, kW), colLo(iw0, kW, inW));
}

/**
 * The input pairs of two output positions, x[k] + 2^32 * x[dx + k], into P (8 bytes per tap):
 * per kernel row s (K bytes at x + s*xs), taps [lo0, hi0) of the first position and [lo1, hi1)
 * of the second inside the input, zpIn elsewhere and in the rows outside [sLo, sHi); then zero
 * pairs up to a multiple of 4 taps (densePairs).
 */
function packPairs(P: usize, x: usize, dx: usize, K: i32, segs: i32, xs: usize, sLo: i32, sHi: i32,
  lo0: i32, hi0: i32, lo1: i32, hi1: i32, zpIn: i32): void {
  let edge = (lo0 | lo1 | (K - hi0) | (K - hi1) | sLo | (segs - sHi)) != 0;
  for (let s = 0; s < segs; s++) {
    let xp = x + <usize>s * xs;
    if (!edge) {
      // x4, then single taps
      let xe = xp + <usize>K, xe4 = xp + <usize>(K & ~3);
      while (xp < xe4) {
        let xq = xp + dx;
        store<i64>(P, <i64>load<i8>(xp) + (<i64>load<i8>(xq) << 32));
        store<i64>(P, <i64>load<i8>(xp, 1) + (<i64>load<i8>(xq, 1) << 32), 8);
        store<i64>(P, <i64>load<i8>(xp, 2) + (<i64>load<i8>(xq, 2) << 32), 16);
        store<i64>(P, <i64>load<i8>(xp, 3) + (<i64>load<i8>(xq, 3) << 32), 24);
        xp += 4; P += 32;
      }
      while (xp < xe) {
        store<i64>(P, <i64>load<i8>(xp) + (<i64>load<i8>(xp + dx) << 32));
        xp++; P += 8;
      }
      continue;
    }
    // rows outside the input: no tap inside
    let rIn = s >= sLo && s < sHi;
    let n0 = rIn ? hi0 - lo0 : 0, n1 = rIn ? hi1 - lo1 : 0;
    for (let k = 0; k < K; k++) {
      let v0 = zpIn, v1 = zpIn;
      if (<u32>(k - lo0) < <u32>n0) v0 = <i32>load<i8>(xp + <usize>k);
      if (<u32>(k - lo1) < <u32>n1) v1 = <i32>load<i8>(xp + dx + <usize>k);
      store<i64>(P, <i64>v0 + (<i64>v1 << 32));
      P += 8;
    }
  }
  // zero pairs up to a multiple of 4 taps
  for (let k = segs * K; k & 3; k++) {
    store<i64>(P, 0);
    P += 8;
  }
}

export function evalOp(p: usize): i32 {
  if (is16(p, P_CONV2D_IN)) return evalConv16(p, false);
  let x0 = tP(p, P_CONV2D_IN);
  let y = tP(p, P_CONV2D_OUT);
  let batch = prm(p, P_CONV2D_BATCH), inH = prm(p, P_CONV2D_IN_H), inW = prm(p, P_CONV2D_IN_W), inC = prm(p, P_CONV2D_IN_C);
  let outH = prm(p, P_CONV2D_OUT_H), outW = prm(p, P_CONV2D_OUT_W), outC = prm(p, P_CONV2D_OUT_C);
  let kH = prm(p, P_CONV2D_K_H), kW = prm(p, P_CONV2D_K_W), sH = prm(p, P_CONV2D_STRIDE_H), sW = prm(p, P_CONV2D_STRIDE_W), dH = prm(p, P_CONV2D_DIL_H), dW = prm(p, P_CONV2D_DIL_W);
  let padT = prm(p, P_CONV2D_PAD_TOP), padL = prm(p, P_CONV2D_PAD_LEFT), zpIn = prm(p, P_CONV2D_ZP_IN);
  let wts = cP(p, P_CONV2D_WEIGHTS);
  let bias: usize = prm(p, P_CONV2D_BIAS) == -1 ? 0 : cP(p, P_CONV2D_BIAS);
  let mult = cP(p, P_CONV2D_MULT), shift = cP(p, P_CONV2D_SHIFT);
  let zpOut = prm(p, P_CONV2D_ZP_OUT), lo = prm(p, P_CONV2D_ACT_MIN), hi = prm(p, P_CONV2D_ACT_MAX);
  let lut: usize = prm(p, P_CONV2D_LUT) == -1 ? 0 : cP(p, P_CONV2D_LUT);
  let groups = prm(p, P_CONV2D_GROUPS);
  let blocked = prm(p, P_CONV2D_LAYOUT) == 1;
  let icg = inC / groups;
  let ocg = outC / groups;
  let rowBytes = <usize>inW * <usize>inC;
  let imgBytes = <usize>inH * rowBytes;
  let K = kH * kW * icg; // weights per output channel
  let full = blocked ? outC & ~3 : 0;
  // layout 1, dilW 1: the taps of one kernel row are R contiguous input bytes
  let fast = blocked && dW == 1;
  let R = kW * inC;
  let xs = <usize>dH * rowBytes;
  // the pairs of a position pair are packed into the op's scratch (8 bytes per tap, K rounded
  // up to a multiple of 4); densePairs reads up to 12 bytes past the weights
  let pair = fast && (outC & 3) == 0 && K <= 131072 && <u32>((K + 3) & ~3) << 3 <= gScratchSize
    && <u64>wts + <u64>outC * <u64>K + 12 <= <u64>memory.size() << 16;
  for (let b = 0; b < batch; b++) {
    let xb = x0 + <usize>b * imgBytes;
    for (let oh = 0; oh < outH; oh++) {
      let ih0 = oh * sH - padT;
      // kernel rows inside the input: [sLo, sHi)
      let sLo = 0, sHi = kH;
      while (sLo < kH && ih0 + sLo * dH < 0) sLo++;
      while (sHi > sLo && ih0 + (sHi - 1) * dH >= inH) sHi--;
      let xrow = xb + <usize>ih0 * rowBytes;
      for (let ow = 0; ow < outW; ow++) {
        let iw0 = ow * sW - padL;
        let xp = xrow + <usize>iw0 * <usize>inC;
        // two positions per pass (dense.ts densePairs) from their input pairs in the scratch
        if (pair && ow + 1 < outW) {
          packPairs(gScratch, xp, <usize>(sW * inC), R, kH, xs, sLo, sHi, colLo(iw0, kW, inW) * inC, colHi(iw0, kW, inW) * inC,
            colLo(iw0 + sW, kW, inW) * inC, colHi(iw0 + sW, kW, inW) * inC, zpIn);
          densePairs(gScratch, K, wts, outC, bias, mult, shift, zpOut, lo, hi, lut, y);
          y += <usize>(2 * outC);
          ow++;
          continue;
        }
        if (fast) {
          // one DENSE vector over all output channels: per kernel row, taps colLo..colHi inside
          // the input (colLo*inC..colHi*inC contiguous bytes), the other taps padding (zpIn)
          denseVec(xp, R, kH, xs, sLo, sHi, colLo(iw0, kW, inW) * inC, colHi(iw0, kW, inW) * inC, zpIn, wts, outC, 1,
            bias, mult, shift, zpOut, lo, hi, lut, y);
          y += <usize>outC;
          continue;
        }
        let w = wts;
        for (let oc = 0; oc < outC; oc++) {
          let g = oc / ocg;
          let acc: i32 = bias ? load<i32>(bias + (<usize>oc << 2)) : 0;
          let xg = xb + <usize>(g * icg);
          // layout 1: weight k of channel oc at wb + k*ws
          let ws: usize = oc < full ? 4 : 1;
          if (blocked) w = wts + (oc < full ? <usize>(oc & ~3) * <usize>K + <usize>(oc & 3) : <usize>oc * <usize>K);
          for (let kh = 0; kh < kH; kh++) {
            let ih = ih0 + kh * dH;
            let rowIn = ih >= 0 && ih < inH;
            let xr = xg + <usize>ih * rowBytes;
            for (let kw = 0; kw < kW; kw++) {
              let iw = iw0 + kw * dW;
              let inside = rowIn && iw >= 0 && iw < inW;
              if (inside && !blocked) {
                acc += dot8(xr + <usize>iw * <usize>inC, w, icg);
                w += <usize>icg;
              } else {
                // padding taps read zpIn; layout 1 reads weights with stride ws
                let xq = xr + <usize>iw * <usize>inC;
                for (let c = 0; c < icg; c++) {
                  let xv = inside ? <i32>load<i8>(xq + <usize>c) : zpIn;
                  acc += xv * <i32>load<i8>(w);
                  w += ws;
                }
              }
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
