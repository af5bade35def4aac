/**
 * Quantisation parameter math (TFLite int8 scheme, legacy quantizer in
 * tensorflow/lite/tools/optimize/quantization_utils.cc):
 *  - activations: asymmetric int8, min/max widened to include 0, scale = (max-min)/255 and
 *    zp = round(-128 - min/scale) clamped to [-128,127], all in float32 with std::round;
 *  - weights: symmetric int8 in [-127,127] per output channel, scale_c = max|w_c| / 127;
 *  - bias: int32 at s_in*s_w[c], with -zpIn*sum(w[c]) folded in (int32 wrap-around).
 */

export interface QParams {
  scale: number;
  zeroPoint: number;
}

import { quantizeMultiplier } from '../fixedpoint.ts';

const f32 = Math.fround;

/** std::round: half away from zero. */
function roundHalfAway(v: number): number {
  return Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
}

/**
 * TFLite GetAsymmetricQuantizationParams for int8. A range that is exactly {0} would give
 * scale 0; we then use scale 1/256 (any positive scale represents 0 exactly), zp 0.
 */
export function asymmetricQParams(min: number, max: number): QParams {
  const qmin = -128;
  const qmax = 127;
  const mn = f32(Math.min(f32(min), 0));
  const mx = f32(Math.max(f32(max), 0));
  const scale = f32(f32(mx - mn) / f32(qmax - qmin));
  if (!(scale > 0) || !Number.isFinite(scale)) return { scale: 1 / 256, zeroPoint: 0 };
  const zpFromMin = f32(qmin - f32(mn / scale));
  let zp: number;
  if (zpFromMin < qmin) zp = qmin;
  else if (zpFromMin > qmax) zp = qmax;
  else zp = roundHalfAway(zpFromMin);
  return { scale, zeroPoint: zp };
}

/** Quantise one float to int8 with the given params (round half away, clamp). */
export function quantizeValue(x: number, q: QParams, lo = -128, hi = 127): number {
  const v = roundHalfAway(x / q.scale) + q.zeroPoint;
  return v < lo ? lo : v > hi ? hi : v;
}

function dequantizeValue(q: number, p: QParams): number {
  return (q - p.zeroPoint) * p.scale;
}

export interface PerChannelWeights {
  /** int8 values, same element order as the input. */
  q: Int8Array;
  /** One scale per output channel. */
  scales: Float64Array;
}

/**
 * Symmetric per-channel int8 weights. `w` is row-major with the output channel as the
 * OUTERMOST index (callers transpose Keras kernels to [outC][...] first); `channels` = outC.
 * An all-zero channel gets scale 1 (its weights are all 0, so the scale only affects bias).
 */
export function quantizeWeightsPerChannel(w: ArrayLike<number>, channels: number): PerChannelWeights {
  const per = w.length / channels;
  if (!Number.isInteger(per)) throw new Error(`quantizeWeightsPerChannel: ${w.length} not divisible by ${channels}`);
  const q = new Int8Array(w.length);
  const scales = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(w[c * per + i]));
    const scale = m > 0 ? f32(f32(m) / 127) : 1;
    scales[c] = scale;
    const inv = f32(1 / scale);
    for (let i = 0; i < per; i++) {
      const v = roundHalfAway(f32(w[c * per + i] * inv));
      q[c * per + i] = v < -127 ? -127 : v > 127 ? 127 : v;
    }
  }
  return { q, scales };
}

/**
 * The int8 weights of a layer, `w` as quantizeWeightsPerChannel takes it: the file's own integers
 * when the kernel was read from a .tflite file (`data` = q x scale, so q = round(w / scale)
 * exactly), else quantized per channel here.
 */
export function channelWeights(w: ArrayLike<number>, channels: number, kernel: { fileScales?: number[] }): PerChannelWeights {
  const fs = kernel.fileScales;
  if (!fs) return quantizeWeightsPerChannel(w, channels);
  const per = w.length / channels;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.round(w[i] / fs[Math.floor(i / per)]);
  return { q, scales: Float64Array.from(fs) };
}

/** Wrap to int32. */
const i32 = (v: number) => Number(BigInt.asIntN(32, BigInt(Math.round(v))));

/**
 * Folded int32 bias per output channel: round(b / (sIn*sW[c])) - zpIn * sum(w[c]) (wrap).
 * `bias` may be null (no bias). The rounded bias itself saturates to int32.
 */
export function foldBias(bias: ArrayLike<number> | null, wq: Int8Array, scales: Float64Array, sIn: number, zpIn: number, fileInt32?: Int32Array): Int32Array {
  const channels = scales.length;
  const per = wq.length / channels;
  const out = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    let b = 0;
    if (fileInt32) b = fileInt32[c];
    else if (bias) {
      b = roundHalfAway(bias[c] / (sIn * scales[c]));
      b = Math.max(-2147483648, Math.min(2147483647, b));
    }
    let sum = 0;
    for (let i = 0; i < per; i++) sum += wq[c * per + i];
    out[c] = i32(b - zpIn * sum);
  }
  return out;
}

/**
 * Clamp range of a fused activation in the output's quantised domain
 * (kernel_util.cc CalculateActivationRangeQuantized, float32 division then round).
 */
export function activationRange(act: 'linear' | 'relu' | 'relu6' | { min: number; max: number }, out: QParams, dtype: Precision = 'int8'): [number, number] {
  const [qmin, qmax] = dtypeRange(dtype);
  const q = (x: number) => out.zeroPoint + roundHalfAway(f32(f32(x) / f32(out.scale)));
  if (act === 'linear') return [qmin, qmax];
  if (act === 'relu') return [Math.max(qmin, out.zeroPoint), qmax];
  if (act === 'relu6') return [Math.max(qmin, out.zeroPoint), Math.min(qmax, q(6))];
  const lo = Number.isFinite(act.min) ? Math.max(qmin, q(act.min)) : qmin;
  const hi = Number.isFinite(act.max) ? Math.min(qmax, q(act.max)) : qmax;
  return [lo, hi];
}

/**
 * Quantised-domain 256-entry table for an elementwise function:
 * table[x+128] = clamp(round(f(deq(x)) / sOut) + zpOut), like TFLite's LUTPopulate.
 */
export function buildLut(f: (x: number) => number, inQ: QParams, outQ: QParams): Int8Array {
  const t = new Int8Array(256);
  for (let x = -128; x <= 127; x++) {
    const y = f(dequantizeValue(x, inQ));
    const v = Number.isNaN(y) ? outQ.zeroPoint : quantizeValue(y, outQ);
    t[x + 128] = v;
  }
  return t;
}

/** Softmax exp table: table[d] = round(2^20 * exp(-beta * sIn * d)), d = 0..255, as u32. */
export function softmaxTable(sIn: number, beta = 1): Uint32Array {
  const t = new Uint32Array(256);
  for (let d = 0; d < 256; d++) t[d] = Math.round(2 ** 20 * Math.exp(-beta * sIn * d));
  return t;
}

export const SOFTMAX_OUT: QParams = { scale: 1 / 256, zeroPoint: -128 };
export const SIGMOID_OUT: QParams = { scale: 1 / 256, zeroPoint: -128 };
export const TANH_OUT: QParams = { scale: 1 / 128, zeroPoint: 0 };

/** The precision of a layer's activations: int8, or int16 with int8 weights (TFLite's 16x8). */
export type Precision = 'int8' | 'int16';

export function dtypeRange(dtype: Precision): [number, number] {
  return dtype === 'int16' ? [-32768, 32767] : [-128, 127];
}

/**
 * TFLite's int16 activation qparams (16x8): symmetric, scale = max|x| / 32767 in float32, zero
 * point 0. A range that is exactly {0} gets scale 1/32768.
 */
export function symmetricQParams16(min: number, max: number): QParams {
  const m = f32(Math.max(Math.abs(f32(min)), Math.abs(f32(max))));
  const scale = f32(m / 32767);
  if (!(scale > 0) || !Number.isFinite(scale)) return { scale: 1 / 32768, zeroPoint: 0 };
  return { scale, zeroPoint: 0 };
}

/** TFLite's fixed int16 output of sigmoid and tanh (and any table bounded by 1): scale 2^-15, zero point 0. */
export const Q15_OUT: QParams = { scale: 1 / 32768, zeroPoint: 0 };

/**
 * TFLite's int16 LUT (LUTPopulateInt16, kernels/internal/common.h): 513 entries over the whole
 * int16 input range, 512 segments of 128 LSB read with linear interpolation; each entry is
 * nudged by half the interpolation error at its segment's midpoint. Input and output zero points
 * are 0 (symmetric int16).
 */
export function buildLut16(f: (x: number) => number, inQ: QParams, outQ: QParams): Int16Array {
  const fz = (x: number) => {
    const y = f(x);
    return Number.isNaN(y) ? 0 : y;
  };
  const inMin = inQ.scale * -32768;
  const inMax = inQ.scale * 32767;
  const step = (inMax - inMin) / 512;
  const inv = 1 / outQ.scale;
  const sat = (v: number) => Math.min(32767, Math.max(-32768, v));
  const t = new Int16Array(513);
  for (let i = 0; i < 512; i++) {
    const val = fz(inMin + i * step);
    const mid = fz(inMin + i * step + step / 2);
    const next = fz(inMin + (i + 1) * step);
    const sample = roundHalfAway(val * inv);
    const midInterp = roundHalfAway((next * inv + roundHalfAway(val * inv)) / 2);
    const bias = roundHalfAway((midInterp - roundHalfAway(mid * inv)) / 2);
    t[i] = sat(sample - bias);
  }
  t[512] = sat(roundHalfAway(fz(inMax) * inv));
  return t;
}

/**
 * The multiplier of the int16 SOFTMAX input difference (x - max, at scale sIn) onto its exp
 * table's int16 domain, where 65535 LSB span a real difference of 10: sIn * 6553.5.
 */
export function quantizeMultiplier16Softmax(sIn: number): { mult: number; shift: number } {
  return quantizeMultiplier(Math.min(sIn * 6553.5, 2 ** 29));
}
