/**
 * An int8 reference for .tflite models written in the tests, apart from the converter and the
 * runtime: each op as TFLite's reference kernels compute it (tensorflow/lite/kernels/internal/
 * reference/integer_ops/*.h, as TFLite's quantization spec documents them), with the double
 * rounding of MultiplyByQuantizedMultiplier (SaturatingRoundingDoublingHighMul, then
 * RoundingDivideByPOT) in BigInt. It reads the model with the project's reader (the file's
 * integers and scales) and nothing else of the project. SOFTMAX is TFLite's int8 reference kernel
 * (tflite-softmax.ts); LOGISTIC and TANH are the float functions quantized to the output (TFLite's
 * integer kernels are within 1 LSB of them).
 */
import type { TfliteModel, TfliteOp, TfliteTensor } from '../../tools/readers/tflite/read.ts';
import { softmaxParamsRef, softmaxRowRef } from './tflite-softmax.ts';
import { quantizeMultiplierRef as quantizeMultiplier, requant } from './tflite-requant.ts';
import { meanRef } from './tflite-mean.ts';

/** MultiplyByQuantizedMultiplier (TFLite reference, double rounding). */
function mbqm(x: number, m: { mult: number; shift: number }): number {
  return requant('double', x, m.mult, m.shift);
}

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);
const f32 = Math.fround;

function actRange(op: TfliteOp, out: TfliteTensor): [number, number] {
  const a = op.options?.fused_activation_function ?? 'NONE';
  const { scale, zeroPoint: zp } = { scale: out.quant!.scale[0], zeroPoint: out.quant!.zeroPoint[0] };
  if (a === 'RELU') return [Math.max(-128, zp), 127];
  if (a === 'RELU6') return [Math.max(-128, zp), Math.min(127, zp + Math.round(f32(f32(6) / f32(scale))))];
  if (a === 'NONE') return [-128, 127];
  throw new Error(`reference: activation ${a}`);
}

const i8 = (t: TfliteTensor) => new Int8Array(t.data!.buffer, t.data!.byteOffset, t.data!.length);
function i32(t: TfliteTensor | null): Int32Array | null {
  if (!t?.data) return null;
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.length);
  return Int32Array.from({ length: t.data.length / 4 }, (_, i) => dv.getInt32(i * 4, true));
}
const qOf = (t: TfliteTensor) => ({ s: t.quant!.scale[0], zp: t.quant!.zeroPoint[0] });
const wScale = (w: TfliteTensor, c: number) => w.quant!.scale[w.quant!.scale.length === 1 ? 0 : c];

function fullyConnected(m: TfliteModel, op: TfliteOp, x: Int8Array): Int8Array {
  const [xT, wT, outT] = [m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]];
  const bias = op.inputs[2] >= 0 ? i32(m.tensors[op.inputs[2]]) : null;
  const w = i8(wT);
  const [units, depth] = wT.shape;
  const rows = x.length / depth;
  const inp = qOf(xT);
  const out = qOf(outT);
  // GetQuantizedConvolutionMultipler: the scale product in float, then double
  const mult = quantizeMultiplier(f32(inp.s * wScale(wT, 0)) / out.s);
  const [lo, hi] = actRange(op, outT);
  const y = new Int8Array(rows * units);
  for (let r = 0; r < rows; r++)
    for (let u = 0; u < units; u++) {
      let acc = 0;
      for (let d = 0; d < depth; d++) acc += (x[r * depth + d] - inp.zp) * w[u * depth + d];
      acc += bias ? bias[u] : 0;
      y[r * units + u] = clamp(mbqm(acc, mult) + out.zp, lo, hi);
    }
  return y;
}

/** ComputePaddingHeightWidth for one axis. */
function padOf(op: TfliteOp, inSize: number, k: number, stride: number, dil: number, outSize: number): number {
  if (op.options?.padding !== 'SAME') return 0;
  const eff = (k - 1) * dil + 1;
  return Math.max(Math.floor(((outSize - 1) * stride + eff - inSize) / 2), 0);
}

interface Window {
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  OC: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
}

function windowOf(m: TfliteModel, op: TfliteOp, kh: number, kw: number): Window {
  const [, H, W, C] = m.tensors[op.inputs[0]].shape;
  const [, OH, OW, OC] = m.tensors[op.outputs[0]].shape;
  const o = op.options!;
  const [sh, sw, dh, dw] = [o.stride_h, o.stride_w, o.dilation_h_factor ?? 1, o.dilation_w_factor ?? 1];
  return { H, W, C, OH, OW, OC, kh, kw, sh, sw, dh, dw, pt: padOf(op, H, kh, sh, dh, OH), pl: padOf(op, W, kw, sw, dw, OW) };
}

/** CONV_2D (depthwise = false) and DEPTHWISE_CONV_2D, per-channel. */
function conv(m: TfliteModel, op: TfliteOp, x: Int8Array, depthwise: boolean): Int8Array {
  const [xT, wT, outT] = [m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]];
  const w = i8(wT);
  const bias = op.inputs[2] >= 0 ? i32(m.tensors[op.inputs[2]]) : null;
  const g = windowOf(m, op, wT.shape[1], wT.shape[2]);
  const inp = qOf(xT);
  const out = qOf(outT);
  const mults = Array.from({ length: g.OC }, (_, c) => quantizeMultiplier((inp.s * wScale(wT, c)) / out.s));
  const [lo, hi] = actRange(op, outT);
  const dm = g.OC / g.C;
  const y = new Int8Array(g.OH * g.OW * g.OC);
  for (let oy = 0; oy < g.OH; oy++)
    for (let ox = 0; ox < g.OW; ox++)
      for (let oc = 0; oc < g.OC; oc++) {
        let acc = 0;
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const iy = oy * g.sh - g.pt + ky * g.dh;
            const ix = ox * g.sw - g.pl + kx * g.dw;
            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
            const base = (iy * g.W + ix) * g.C;
            if (depthwise) acc += (x[base + Math.floor(oc / dm)] - inp.zp) * w[(ky * g.kw + kx) * g.OC + oc];
            else for (let ic = 0; ic < g.C; ic++) acc += (x[base + ic] - inp.zp) * w[((oc * g.kh + ky) * g.kw + kx) * g.C + ic];
          }
        acc += bias ? bias[oc] : 0;
        y[(oy * g.OW + ox) * g.OC + oc] = clamp(mbqm(acc, mults[oc]) + out.zp, lo, hi);
      }
  return y;
}

function averagePool(m: TfliteModel, op: TfliteOp, x: Int8Array): Int8Array {
  const o = op.options!;
  const g = windowOf(m, op, o.filter_height, o.filter_width);
  const [lo, hi] = actRange(op, m.tensors[op.outputs[0]]);
  const y = new Int8Array(g.OH * g.OW * g.C);
  for (let oy = 0; oy < g.OH; oy++)
    for (let ox = 0; ox < g.OW; ox++)
      for (let c = 0; c < g.C; c++) {
        let acc = 0;
        let n = 0;
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const iy = oy * g.sh - g.pt + ky;
            const ix = ox * g.sw - g.pl + kx;
            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
            acc += x[(iy * g.W + ix) * g.C + c];
            n++;
          }
        const avg = acc > 0 ? Math.trunc((acc + Math.trunc(n / 2)) / n) : Math.trunc((acc - Math.trunc(n / 2)) / n);
        y[(oy * g.OW + ox) * g.C + c] = clamp(avg, lo, hi);
      }
  return y;
}

/** ADD (same shapes), as the reference AddElementwise with left_shift 20. */
function add(m: TfliteModel, op: TfliteOp, a: Int8Array, b: Int8Array): Int8Array {
  const [qa, qb, qo] = [qOf(m.tensors[op.inputs[0]]), qOf(m.tensors[op.inputs[1]]), qOf(m.tensors[op.outputs[0]])];
  const twiceMax = 2 * Math.max(qa.s, qb.s);
  const ma = quantizeMultiplier(qa.s / twiceMax);
  const mb = quantizeMultiplier(qb.s / twiceMax);
  const mo = quantizeMultiplier(twiceMax / ((1 << 20) * qo.s));
  const [lo, hi] = actRange(op, m.tensors[op.outputs[0]]);
  if (a.length !== b.length) throw new Error('reference: broadcasting ADD');
  return Int8Array.from(a, (v, i) => {
    const sa = mbqm((v - qa.zp) * (1 << 20), ma);
    const sb = mbqm((b[i] - qb.zp) * (1 << 20), mb);
    return clamp(mbqm(sa + sb, mo) + qo.zp, lo, hi);
  });
}

/** SOFTMAX as TFLite's int8 reference kernel computes it (test/helpers/tflite-softmax.ts), double rounding. */
function softmax(m: TfliteModel, op: TfliteOp, x: Int8Array): Int8Array {
  const p = softmaxParamsRef(op.options?.beta ?? 1, qOf(m.tensors[op.inputs[0]]).s);
  const depth = m.tensors[op.inputs[0]].shape.at(-1)!;
  const y = new Int8Array(x.length);
  for (let r = 0; r < x.length / depth; r++) y.set(softmaxRowRef(x.subarray(r * depth, (r + 1) * depth), p, 'double'), r * depth);
  return y;
}

function maxPool(m: TfliteModel, op: TfliteOp, x: Int8Array): Int8Array {
  const o = op.options!;
  const g = windowOf(m, op, o.filter_height, o.filter_width);
  const [lo, hi] = actRange(op, m.tensors[op.outputs[0]]);
  const y = new Int8Array(g.OH * g.OW * g.C);
  for (let oy = 0; oy < g.OH; oy++)
    for (let ox = 0; ox < g.OW; ox++)
      for (let c = 0; c < g.C; c++) {
        let mx = -128;
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const iy = oy * g.sh - g.pt + ky;
            const ix = ox * g.sw - g.pl + kx;
            if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) mx = Math.max(mx, x[(iy * g.W + ix) * g.C + c]);
          }
        y[(oy * g.OW + ox) * g.C + c] = clamp(mx, lo, hi);
      }
  return y;
}

/** MUL (same shapes): MBQM((a - za)(b - zb), sa·sb/so) + zo. */
function mul(m: TfliteModel, op: TfliteOp, a: Int8Array, b: Int8Array): Int8Array {
  const [qa, qb, qo] = [qOf(m.tensors[op.inputs[0]]), qOf(m.tensors[op.inputs[1]]), qOf(m.tensors[op.outputs[0]])];
  const mult = quantizeMultiplier((qa.s * qb.s) / qo.s);
  const [lo, hi] = actRange(op, m.tensors[op.outputs[0]]);
  return Int8Array.from(a, (v, i) => clamp(mbqm((v - qa.zp) * (b[i] - qb.zp), mult) + qo.zp, lo, hi));
}

/** PAD of an NHWC tensor with the output's zero point. */
function pad(m: TfliteModel, op: TfliteOp, x: Int8Array): Int8Array {
  const p = i32(m.tensors[op.inputs[1]])!;
  const [, H, W, C] = m.tensors[op.inputs[0]].shape;
  const [, OH, OW] = m.tensors[op.outputs[0]].shape;
  const y = new Int8Array(OH * OW * C).fill(qOf(m.tensors[op.outputs[0]]).zp);
  for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) y[((h + p[2]) * OW + w + p[4]) * C + c] = x[(h * W + w) * C + c];
  return y;
}

/** CONCATENATION on the last axis, each input rescaled in float as TFLite's reference does. */
function concatLast(m: TfliteModel, op: TfliteOp, get: (i: number) => Int8Array): Int8Array {
  const out = m.tensors[op.outputs[0]];
  const qo = qOf(out);
  const depth = out.shape.at(-1)!;
  const rows = out.shape.reduce((a, b) => a * b, 1) / depth;
  const y = new Int8Array(rows * depth);
  let off = 0;
  for (const i of op.inputs) {
    const t = m.tensors[i];
    const q = qOf(t);
    const d = t.shape.at(-1)!;
    const scale = f32(q.s * f32(1 / qo.s));
    const bias = f32(-q.zp * scale);
    const x = get(i);
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < d; k++) {
        const v = x[r * d + k];
        y[r * depth + off + k] = q.s === qo.s && q.zp === qo.zp ? v : clamp(Math.round(f32(v * scale + bias)) + qo.zp, -128, 127);
      }
    off += d;
  }
  return y;
}

/** LOGISTIC and TANH in float on the dequantized input, quantized to the output (TFLite's int8 kernels are within 1 LSB). */
function elementwise(m: TfliteModel, op: TfliteOp, x: Int8Array, f: (v: number) => number): Int8Array {
  const qi = qOf(m.tensors[op.inputs[0]]);
  const qo = qOf(m.tensors[op.outputs[0]]);
  return Int8Array.from(x, (v) => clamp(Math.round(f((v - qi.zp) * qi.s) / qo.s) + qo.zp, -128, 127));
}

/** MEAN over the spatial axes of NHWC (tflite-mean.ts), double rounding. */
function mean(m: TfliteModel, op: TfliteOp, x: Int8Array): Int8Array {
  const [, H, W, C] = m.tensors[op.inputs[0]].shape;
  const qi = qOf(m.tensors[op.inputs[0]]);
  const qo = qOf(m.tensors[op.outputs[0]]);
  return meanRef(x, H * W, C, qi, qo, 'double');
}

function runOp(m: TfliteModel, op: TfliteOp, get: (i: number) => Int8Array): Int8Array {
  const x = get(op.inputs[0]);
  switch (op.opcode) {
    case 'FULLY_CONNECTED':
      return fullyConnected(m, op, x);
    case 'CONV_2D':
      return conv(m, op, x, false);
    case 'DEPTHWISE_CONV_2D':
      return conv(m, op, x, true);
    case 'AVERAGE_POOL_2D':
      return averagePool(m, op, x);
    case 'ADD':
      return add(m, op, x, get(op.inputs[1]));
    case 'RESHAPE':
    case 'SQUEEZE':
      return x.slice();
    case 'SOFTMAX':
      return softmax(m, op, x);
    case 'MAX_POOL_2D':
      return maxPool(m, op, x);
    case 'MUL':
      return mul(m, op, x, get(op.inputs[1]));
    case 'PAD':
      return pad(m, op, x);
    case 'CONCATENATION':
      return concatLast(m, op, get);
    case 'LOGISTIC':
      return elementwise(m, op, x, (v) => 1 / (1 + Math.exp(-v)));
    case 'TANH':
      return elementwise(m, op, x, Math.tanh);
    case 'MEAN':
      return mean(m, op, x);
    default:
      throw new Error(`reference: no ${op.opcode}`);
  }
}

/** Run the model's ops on one int8 input (batch 1) up to and excluding op `stop`; returns every tensor computed. */
export function runTfliteReference(m: TfliteModel, input: Int8Array, stop = m.ops.length): Map<number, Int8Array> {
  const values = new Map<number, Int8Array>([[m.inputs[0], input]]);
  const get = (i: number) => {
    const v = values.get(i);
    if (!v) throw new Error(`reference: tensor ${i} not computed`);
    return v;
  };
  for (const op of m.ops.slice(0, stop)) values.set(op.outputs[0], runOp(m, op, get));
  return values;
}
