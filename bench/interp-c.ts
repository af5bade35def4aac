/**
 * The C comparison for `npm run bench:interp`: the layer shapes of a bench model as a job for
 * bench/c-kernels/tflite_ref.c (TFLite's reference FullyConnected / ConvPerChannel arithmetic),
 * and the same arithmetic in TypeScript (tools/fixedpoint.ts's mbqm), which the module's output
 * must equal byte for byte before its cost counts.
 *
 * Data are seeded random int8 values: the reference kernels' cost does not depend on them.
 * Recurrent layers contribute their per-step matrix products (input and recurrent) only, as
 * fully connected layers: the gates are left out, so that C figure is a lower bound.
 */
import type { tf } from '../test/helpers/tfjs-train.ts';
import { mbqm } from '../tools/fixedpoint.ts';

const HEADER_WORDS = 4;
const RECORD_WORDS = 24;
const FC = 1;
const CONV = 2;

interface FcLayer {
  kind: 'fc';
  k: number;
  n: number;
}
interface ConvLayer {
  kind: 'conv';
  inW: number;
  inC: number;
  outW: number;
  outC: number;
  kW: number;
  strideW: number;
  padW: number;
}
export type CLayer = FcLayer | ConvLayer;

export interface CJob {
  bytes: Uint8Array;
  expected: Uint8Array;
  macs: number;
  layers: number;
}

function dim(shape: (number | null)[] | (number | null)[][], at: number): number {
  const s = (Array.isArray(shape[0]) ? shape[0] : shape) as number[];
  return s[at < 0 ? s.length + at : at];
}

function inShape(l: tf.layers.Layer): (number | null)[] {
  const x = Array.isArray(l.input) ? l.input[0] : l.input;
  return x.shape;
}

/** Dense, Conv1D, GRU and LSTM layers of a tfjs model as C kernel layers (other layers carry no MACs). */
export function cLayers(model: tf.LayersModel): CLayer[] {
  const out: CLayer[] = [];
  for (const l of model.layers) {
    const cls = l.getClassName();
    const cfg = l.getConfig() as Record<string, unknown>;
    if (cls === 'Dense') out.push({ kind: 'fc', k: dim(inShape(l), -1), n: dim(l.outputShape, -1) });
    else if (cls === 'Conv1D') {
      const kW = (cfg.kernelSize as number[])[0];
      const inW = dim(inShape(l), 1);
      const outW = dim(l.outputShape, 1);
      const strideW = (cfg.strides as number[])[0];
      const padW = cfg.padding === 'same' ? Math.floor(Math.max((outW - 1) * strideW + kW - inW, 0) / 2) : 0;
      out.push({ kind: 'conv', inW, inC: dim(inShape(l), -1), outW, outC: dim(l.outputShape, -1), kW, strideW, padW });
    } else if (cls === 'GRU' || cls === 'LSTM') {
      const units = cfg.units as number;
      const g = cls === 'GRU' ? 3 : 4;
      for (let t = 0; t < dim(inShape(l), 1); t++) out.push({ kind: 'fc', k: dim(inShape(l), -1), n: g * units }, { kind: 'fc', k: units, n: g * units });
    } else if (/Conv|RNN|Dense/.test(cls)) throw new Error(`C kernels: no C kernel for ${cls} (${l.name})`);
  }
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

const macsOf = (l: CLayer) => (l.kind === 'fc' ? l.k * l.n : l.outW * l.outC * l.kW * l.inC);
const inBytes = (l: CLayer) => (l.kind === 'fc' ? l.k : l.inW * l.inC);
const outBytes = (l: CLayer) => (l.kind === 'fc' ? l.n : l.outW * l.outC);
const wBytes = (l: CLayer) => (l.kind === 'fc' ? l.k * l.n : l.outC * l.kW * l.inC);
const chans = (l: CLayer) => (l.kind === 'fc' ? l.n : l.outC);
/** a right shift that keeps most outputs inside int8 for this accumulation depth */
const shiftFor = (l: CLayer) => 5 + Math.ceil(0.5 * Math.log2(l.kind === 'fc' ? l.k : l.kW * l.inC));
const align4 = (n: number) => (n + 3) & ~3;

interface Params {
  inOff: number;
  outOff: number;
  wOff: number;
  mult: Int32Array;
  shift: Int32Array;
}

function fcRef(l: FcLayer, x: Int8Array, w: Int8Array, b: Int32Array, p: Params, y: Int8Array): void {
  for (let o = 0; o < l.n; o++) {
    let acc = 0;
    for (let d = 0; d < l.k; d++) acc += (w[o * l.k + d] + p.wOff) * (x[d] + p.inOff);
    y[o] = Math.min(127, Math.max(-128, mbqm(acc + b[o], p.mult[0], p.shift[0]) + p.outOff));
  }
}

function convRef(l: ConvLayer, x: Int8Array, w: Int8Array, b: Int32Array, p: Params, y: Int8Array): void {
  for (let ox = 0; ox < l.outW; ox++)
    for (let oc = 0; oc < l.outC; oc++) {
      let acc = 0;
      for (let fx = 0; fx < l.kW; fx++) {
        const ix = ox * l.strideW - l.padW + fx;
        if (ix < 0 || ix >= l.inW) continue;
        for (let ic = 0; ic < l.inC; ic++) acc += w[(oc * l.kW + fx) * l.inC + ic] * (x[ix * l.inC + ic] + p.inOff);
      }
      y[ox * l.outC + oc] = Math.min(127, Math.max(-128, mbqm(acc + b[oc], p.mult[oc], p.shift[oc]) + p.outOff));
    }
}

/** One record's words: offsets are byte offsets into the module's arena. */
function record(l: CLayer, at: { x: number; w: number; b: number; y: number; m: number; s: number }, p: Params): number[] {
  if (l.kind === 'fc') return [FC, at.x, at.w, at.b, at.y, l.k, l.n, p.inOff, p.outOff, p.mult[0], p.shift[0], -128, 127, p.wOff];
  return [CONV, at.x, at.w, at.b, at.y, 1, l.inW, l.inC, 1, l.outW, l.outC, 1, l.kW, 1, l.strideW, 0, l.padW, p.inOff, p.outOff, at.m, at.s, -128, 127];
}

/**
 * The job for tflite_ref.c: header, records, then all layer outputs side by side (the checked
 * range), then each layer's input, weights, bias, multipliers and shifts.
 */
export function buildCJob(layers: CLayer[], seed = 1): CJob {
  const r = rng(seed);
  const i8 = () => ((r() >>> 24) << 24) >> 24;
  const outStart = 4 * (HEADER_WORDS + RECORD_WORDS * layers.length);
  const outTotal = layers.reduce((s, l) => s + outBytes(l), 0);
  let cursor = align4(outStart + outTotal);
  const take = (n: number) => {
    const at = cursor;
    cursor = align4(cursor + n);
    return at;
  };
  const parts: { at: number; data: Uint8Array }[] = [];
  const words: number[] = [layers.length, outStart, outTotal, 0];
  const expected = new Int8Array(outTotal);
  let yAt = outStart;
  for (const l of layers) {
    const x = Int8Array.from({ length: inBytes(l) }, i8);
    const w = Int8Array.from({ length: wBytes(l) }, () => i8() >> 1);
    const b = Int32Array.from({ length: chans(l) }, () => (r() % 4001) - 2000);
    const c = l.kind === 'fc' ? 1 : chans(l);
    const p: Params = {
      inOff: (r() % 41) - 20,
      outOff: (r() % 41) - 20,
      wOff: 0,
      mult: Int32Array.from({ length: c }, () => 0x40000000 + (r() >>> 2)),
      shift: Int32Array.from({ length: c }, () => -shiftFor(l) - (r() % 2)),
    };
    const at = { x: take(x.length), w: take(w.length), b: take(4 * b.length), y: yAt, m: take(4 * c), s: take(4 * c) };
    parts.push(
      { at: at.x, data: new Uint8Array(x.buffer) },
      { at: at.w, data: new Uint8Array(w.buffer) },
      { at: at.b, data: new Uint8Array(b.buffer) },
      { at: at.m, data: new Uint8Array(p.mult.buffer) },
      { at: at.s, data: new Uint8Array(p.shift.buffer) },
    );
    const y = expected.subarray(yAt - outStart, yAt - outStart + outBytes(l));
    if (l.kind === 'fc') fcRef(l, x, w, b, p, y);
    else convRef(l, x, w, b, p, y);
    const rec = record(l, at, p);
    words.push(...rec, ...new Array<number>(RECORD_WORDS - rec.length).fill(0));
    yAt += outBytes(l);
  }
  const bytes = new Uint8Array(cursor);
  const dv = new DataView(bytes.buffer);
  words.forEach((v, k) => dv.setInt32(4 * k, v, true));
  for (const part of parts) bytes.set(part.data, part.at);
  return { bytes, expected: new Uint8Array(expected.buffer), macs: layers.reduce((s, l) => s + macsOf(l), 0), layers: layers.length };
}
