/**
 * Integer reference of every op (TFLite integer semantics as pinned in tools/blob/spec.ts),
 * written plainly, independent of the runtime's loop structure. Each ref takes the op's params
 * (spec names; repeat groups in `groups`, as parseBlob returns them), its input tensors and the
 * constants section, and returns the output tensor. The runtime must be bit-identical.

 */
import { clamp, lut16Lookup, mbqm, mbqm64, requantOutput } from '../fixedpoint.ts';
import { TABLE_ENTRIES, gateCount, unblockRows8u, type CellKind, type RnnQuant } from './reference-rnn.ts';

/** An op's params by spec name (repeat groups in `groups`). */
type P = Record<string, any>;
type Int = Int8Array | Int16Array | Int32Array;
/** An activation tensor: int8, or int16 (TFLite's 16x8 scheme: symmetric, int64 accumulators). */
export type Act = Int8Array | Int16Array;

/** A new array of n elements of x's dtype. */
const like = (x: Act, n: number): Act => (x instanceof Int16Array ? new Int16Array(n) : new Int8Array(n));
/** The value range of x's dtype. */
const rangeOf = (x: Act): [number, number] => (x instanceof Int16Array ? [-32768, 32767] : [-128, 127]);

const i32s = (c: Uint8Array, off: number, n: number): Int32Array => {
  const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
  const a = new Int32Array(n);
  for (let k = 0; k < n; k++) a[k] = dv.getInt32(off + 4 * k, true);
  return a;
};
const u32s = (c: Uint8Array, off: number, n: number): Uint32Array => {
  const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
  const a = new Uint32Array(n);
  for (let k = 0; k < n; k++) a[k] = dv.getUint32(off + 4 * k, true);
  return a;
};
/** int64 values as numbers (exact for |v| < 2^53) */
const i64s = (c: Uint8Array, off: number, n: number): Float64Array => {
  const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
  return Float64Array.from({ length: n }, (_, k) => Number(dv.getBigInt64(off + 8 * k, true)));
};
const i8s = (c: Uint8Array, off: number, n: number): Int8Array => new Int8Array(c.buffer, c.byteOffset + off, n);
const i16s = (c: Uint8Array, off: number, n: number): Int16Array => {
  const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
  const a = new Int16Array(n);
  for (let k = 0; k < n; k++) a[k] = dv.getInt16(off + 2 * k, true);
  return a;
};

function groupsOf(p: P): Record<string, number>[] {
  if (Array.isArray(p.groups)) return p.groups;
  if (Array.isArray(p.n)) return p.n;
  if (Array.isArray(p.rank)) return p.rank;
  throw new Error('reference: op params have no repeat groups');
}

function applyLut(y: number, consts: Uint8Array, lut: number, wide = false): number {
  if (lut === -1) return y;
  return wide ? lut16Lookup(y, i16s(consts, lut, 513)) : (consts[lut + y + 128] << 24) >> 24;
}

/**
 * Requantise one accumulator: int8 MBQM (double rounding) on the int32 accumulator, or, for
 * int16 activations, mbqm64 on the exact int64 accumulator; + zpOut (int32 add), clamp, LUT.
 */
function requantOne(acc: number, m: number, s: number, q: Record<string, number>, consts: Uint8Array, wide: boolean): number {
  const r = wide ? mbqm64(acc, m, s) : requantOutput(acc, m, s);
  return applyLut(clamp((r + q.zpOut) | 0, q.actMin, q.actMax), consts, q.lut, wide);
}

/**
 * DENSE accumulators (bias included), [rows][outDim]: int32 with wrap-around for int8 input;
 * exact (the int64 of TFLite's 16x8 kernels) for int16 input, with int8 weights or, in layout 3,
 * int16 weights (|acc| < 2^47, spec.ts).
 */
export function refDenseAcc(p: P, x: Act, consts: Uint8Array): Int32Array | Float64Array {
  const wide = x instanceof Int16Array;
  const { rows, inDim, outDim, weights, bias, layout } = p as Record<string, number>;
  // layout 3: int16 weights in layout 1's order, int64 bias (|bias| <= 2^46: exact as a number)
  const w =
    layout === 2 ? unblockRows8u(consts, weights, outDim, inDim) : layout === 3 ? i16s(consts, weights, outDim * inDim) : i8s(consts, weights, outDim * inDim);
  const b = bias === -1 ? new Float64Array(outDim) : layout === 3 ? i64s(consts, bias, outDim) : i32s(consts, bias, outDim);
  const blocks = layout === 1 || layout === 3 ? Math.floor(outDim / 4) : 0;
  // weight of output o, input k under either layout
  const wAt = (o: number, k: number): number => {
    if (o < blocks * 4) return w[Math.floor(o / 4) * inDim * 4 + k * 4 + (o % 4)];
    return w[o * inDim + k];
  };
  const acc = wide ? new Float64Array(rows * outDim) : new Int32Array(rows * outDim);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outDim; o++) {
      let a = b[o];
      for (let k = 0; k < inDim; k++) a = wide ? a + x[r * inDim + k] * wAt(o, k) : (a + x[r * inDim + k] * wAt(o, k)) | 0;
      acc[r * outDim + o] = a;
    }
  return acc;
}

export function refDense(p: P, x: Act, consts: Uint8Array): Act {
  return requantPerChannel(p, refDenseAcc(p, x, consts), (p as any).outDim, consts, x);
}

/**
 * CONV2D / DEPTHWISE accumulators (bias included), NHWC: int32 with wrap for int8 input, exact
 * for int16 input (zpIn is then 0: out-of-bounds taps contribute nothing, as TFLite skips them).
 */
export function refConvAcc(p: P, x: Act, consts: Uint8Array, depthwise = false): Int32Array | Float64Array {
  const q = p as Record<string, number>;
  const wide = x instanceof Int16Array;
  const { batch, inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft, zpIn } = q;
  const outC = depthwise ? inC * q.depthMult : q.outC;
  const groups = depthwise ? inC : q.groups;
  const icg = inC / groups;
  const ocg = outC / groups;
  // CONV2D layout 2: layout 1 with int16 weights and an int64 bias (16x16)
  const w16 = !depthwise && q.layout === 2;
  const wN = depthwise ? kH * kW * outC : outC * kH * kW * icg;
  const w = w16 ? i16s(consts, q.weights, wN) : i8s(consts, q.weights, wN);
  const b = q.bias === -1 ? new Float64Array(outC) : w16 ? i64s(consts, q.bias, outC) : i32s(consts, q.bias, outC);
  // CONV2D layout 1 (groups 1): the [outC][K] matrix in DENSE layout 1 (4-row blocks interleaved)
  const K = kH * kW * icg;
  const blocks = !depthwise && (q.layout === 1 || w16) ? Math.floor(outC / 4) : 0;
  const convW = (oc: number, i: number): number => (oc < blocks * 4 ? w[Math.floor(oc / 4) * K * 4 + i * 4 + (oc % 4)] : w[oc * K + i]);
  const acc = wide ? new Float64Array(batch * outH * outW * outC) : new Int32Array(batch * outH * outW * outC);
  let idx = 0;
  for (let n = 0; n < batch; n++)
    for (let oh = 0; oh < outH; oh++)
      for (let ow = 0; ow < outW; ow++)
        for (let oc = 0; oc < outC; oc++) {
          const g = Math.floor(oc / ocg);
          let a = b[oc];
          for (let kh = 0; kh < kH; kh++)
            for (let kw = 0; kw < kW; kw++) {
              const ih = oh * strideH - padTop + kh * dilH;
              const iw = ow * strideW - padLeft + kw * dilW;
              const inside = ih >= 0 && ih < inH && iw >= 0 && iw < inW;
              for (let ic = 0; ic < icg; ic++) {
                const c = g * icg + ic;
                const xv = inside ? x[((n * inH + ih) * inW + iw) * inC + c] : zpIn;
                const wv = depthwise ? w[(kh * kW + kw) * outC + oc] : convW(oc, (kh * kW + kw) * icg + ic);
                a = wide ? a + xv * wv : (a + xv * wv) | 0;
              }
            }
          acc[idx++] = a;
        }
  return acc;
}

/** Per-channel requantisation of accumulators [..][outC] into an array of x's dtype. */
function requantPerChannel(p: P, acc: Int32Array | Float64Array, outC: number, consts: Uint8Array, x: Act): Act {
  const q = p as Record<string, number>;
  const m = i32s(consts, q.mult, outC);
  const s = i8s(consts, q.shift, outC);
  const y = like(x, acc.length);
  const wide = x instanceof Int16Array;
  for (let i = 0; i < acc.length; i++) y[i] = requantOne(acc[i], m[i % outC], s[i % outC], q, consts, wide);
  return y;
}

export function refConv2d(p: P, x: Act, consts: Uint8Array): Act {
  return requantPerChannel(p, refConvAcc(p, x, consts, false), (p as any).outC, consts, x);
}

export function refDepthwise(p: P, x: Act, consts: Uint8Array): Act {
  return requantPerChannel(p, refConvAcc(p, x, consts, true), (p as any).inC * (p as any).depthMult, consts, x);
}

function refPool(p: P, x: Act, avg: boolean): Act {
  const { batch, inH, inW, channels, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, actMin, actMax } = p as Record<string, number>;
  const y = like(x, batch * outH * outW * channels);
  let idx = 0;
  for (let n = 0; n < batch; n++)
    for (let oh = 0; oh < outH; oh++)
      for (let ow = 0; ow < outW; ow++)
        for (let c = 0; c < channels; c++) {
          let acc = avg ? 0 : rangeOf(x)[0];
          let cnt = 0;
          for (let kh = 0; kh < kH; kh++)
            for (let kw = 0; kw < kW; kw++) {
              const ih = oh * strideH - padTop + kh;
              const iw = ow * strideW - padLeft + kw;
              if (ih < 0 || ih >= inH || iw < 0 || iw >= inW) continue;
              const v = x[((n * inH + ih) * inW + iw) * channels + c];
              if (avg) acc += v;
              else acc = Math.max(acc, v);
              cnt++;
            }
          if (avg) acc = acc > 0 ? Math.trunc((acc + Math.trunc(cnt / 2)) / cnt) : Math.trunc((acc - Math.trunc(cnt / 2)) / cnt);
          y[idx++] = clamp(acc, actMin, actMax);
        }
  return y;
}
export const refMaxPool2d = (p: P, x: Act): Act => refPool(p, x, false);
export const refAvgPool2d = (p: P, x: Act): Act => refPool(p, x, true);

/** ADD_N: inputs in group order. */
export function refAddN(p: P, inputs: Act[]): Act {
  const { count, zpOut, actMin, actMax, leftShift, outMult, outShift } = p as Record<string, number>;
  const gs = groupsOf(p);
  const y = like(inputs[0], count);
  for (let i = 0; i < count; i++) {
    let s = 0;
    gs.forEach((g, k) => (s = (s + mbqm(((inputs[k][i] - g.zp) << leftShift) | 0, g.mult, g.shift)) | 0));
    y[i] = clamp((mbqm(s, outMult, outShift) + zpOut) | 0, actMin, actMax);
  }
  return y;
}

export function refMul(p: P, a: Act, b: Act): Act {
  const { count, zpA, zpB, zpOut, mult, shift, actMin, actMax } = p as Record<string, number>;
  const y = like(a, count);
  // b may hold fewer elements than count (a divisor of it): it repeats over the output
  for (let i = 0; i < count; i++) y[i] = clamp((zpOut + mbqm((a[i] - zpA) * (b[i % b.length] - zpB), mult, shift)) | 0, actMin, actMax);
  return y;
}

export function refMaxMin(p: P, inputs: Act[]): Act {
  const { count, isMin, zpOut, actMin, actMax } = p as Record<string, number>;
  const gs = groupsOf(p);
  const y = like(inputs[0], count);
  for (let i = 0; i < count; i++) {
    const r = gs.map((g, k) => (zpOut + mbqm(inputs[k][i] - g.zp, g.mult, g.shift)) | 0);
    y[i] = clamp(isMin ? Math.min(...r) : Math.max(...r), actMin, actMax);
  }
  return y;
}

export function refConcat(p: P, inputs: Act[]): Act {
  const { outer, zpOut } = p as Record<string, number>;
  const gs = groupsOf(p);
  const out: number[] = [];
  const [lo, hi] = rangeOf(inputs[0]);
  for (let o = 0; o < outer; o++)
    gs.forEach((g, k) => {
      for (let j = 0; j < g.inner; j++) {
        const x = inputs[k][o * g.inner + j];
        out.push(g.identity ? x : clamp((zpOut + mbqm(x - g.zp, g.mult, g.shift)) | 0, lo, hi));
      }
    });
  const y = like(inputs[0], out.length);
  y.set(out);
  return y;
}

/**
 * SOFTMAX on int16: table = i32 mult, i32 shift, 513 int16 exp entries (Q0.15 over [-10, 0]);
 * e = lut16(clamp(MBQM(x - max) + 32767)); y = clamp(((e << 15) + sum/2) / sum, 0, 32767).
 */
function refSoftmax16(p: P, x: Int16Array, consts: Uint8Array): Int16Array {
  const { rows, depth, table } = p as Record<string, number>;
  const [m, s] = i32s(consts, table, 2);
  const t = i16s(consts, table + 8, 513);
  const y = new Int16Array(rows * depth);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * depth, (r + 1) * depth);
    const mx = Math.max(...row);
    const e = Array.from(row, (v) => BigInt(lut16Lookup(clamp((mbqm(v - mx, m, s) + 32767) | 0, -32768, 32767), t)));
    const sum = e.reduce((a, b) => a + b, 0n);
    e.forEach((ek, k) => (y[r * depth + k] = Math.min(32767, Number(((ek << 15n) + sum / 2n) / sum))));
  }
  return y;
}

export function refSoftmax(p: P, x: Act, consts: Uint8Array): Act {
  if (x instanceof Int16Array) return refSoftmax16(p, x, consts);
  const { rows, depth, table } = p as Record<string, number>;
  const t = u32s(consts, table, 256);
  const y = new Int8Array(rows * depth);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * depth, (r + 1) * depth);
    const mx = Math.max(...row);
    let sum = 0n;
    for (const v of row) sum += BigInt(t[mx - v]);
    for (let k = 0; k < depth; k++) {
      const e = BigInt(t[mx - row[k]]);
      const v = Number(((e << 8n) + sum / 2n) / sum) - 128;
      y[r * depth + k] = clamp(v, -128, 127);
    }
  }
  return y;
}

export function refLut(p: P, x: Act, consts: Uint8Array): Act {
  const { count, table } = p as Record<string, number>;
  if (x instanceof Int16Array) {
    const t = i16s(consts, table, 513);
    return Int16Array.from(x.subarray(0, count), (v) => lut16Lookup(v, t));
  }
  const y = new Int8Array(count);
  for (let i = 0; i < count; i++) y[i] = (consts[table + x[i] + 128] << 24) >> 24;
  return y;
}

export function refPrelu(p: P, x: Int8Array, consts: Uint8Array): Int8Array {
  const { count, channels, zpIn, zpOut, posMult, posShift, alpha, negMult, negShift } = p as Record<string, number>;
  const a = i8s(consts, alpha, channels);
  const y = new Int8Array(count);
  for (let i = 0; i < count; i++) {
    const v = x[i] - zpIn;
    const r = v >= 0 ? mbqm(v, posMult, posShift) : mbqm(v * a[i % channels], negMult, negShift);
    y[i] = clamp((zpOut + r) | 0, -128, 127); // int32 add (wraps), as the runtime and TFLite
  }
  return y;
}

/** LAYOUT on element arrays of any int type (output has the input's type). */
export function refLayout<T extends Int>(p: P, x: T): T {
  const { fill } = p as Record<string, number>;
  const gs = groupsOf(p);
  const outDims = gs.map((g) => g.outDim);
  const total = outDims.reduce((a, b) => a * b, 1);
  const y = new (x.constructor as any)(total) as T;
  const idx = new Array(gs.length).fill(0);
  for (let o = 0; o < total; o++) {
    let src = 0;
    let ok = true;
    gs.forEach((g, a) => {
      const v = idx[a] - g.padBefore;
      const i = Math.floor(v / g.div);
      if (i < 0 || i >= g.inDim) ok = false;
      else src += i * g.inStride;
    });
    y[o] = ok ? x[src] : fill;
    for (let a = gs.length - 1; a >= 0; a--) {
      if (++idx[a] < outDims[a]) break;
      idx[a] = 0;
    }
  }
  return y;
}

/** GATHER; returns null when an id is out of range (the runtime returns BAD_INPUT_VALUE). */
export function refGather(p: P, ids: Int32Array, consts: Uint8Array): Int8Array | null {
  const { count, vocab, dim, table } = p as Record<string, number>;
  const t = i8s(consts, table, vocab * dim);
  const y = new Int8Array(count * dim);
  for (let i = 0; i < count; i++) {
    const id = ids[i];
    if (id < 0 || id >= vocab) return null;
    y.set(t.subarray(id * dim, (id + 1) * dim), i * dim);
  }
  return y;
}

export function refRequant<T extends Int8Array | Int16Array>(p: P, x: Int8Array | Int16Array, outType: 'int8' | 'int16'): T {
  const { count, zpIn, zpOut, mult, shift, outMin, outMax } = p as Record<string, number>;
  const y = outType === 'int8' ? new Int8Array(count) : new Int16Array(count);
  for (let i = 0; i < count; i++) y[i] = clamp((zpOut + mbqm(x[i] - zpIn, mult, shift)) | 0, outMin, outMax);
  return y as T;
}

// ---------- recurrent ops (the per-op definition is reference-rnn.ts runRnnRef) ----------

/** Inverse of blockRows4 (DENSE layout 1 -> row-major [rows][K]). */
function unblockRows4(w: Int8Array, rows: number, K: number): Int8Array {
  const out = new Int8Array(rows * K);
  const full = rows - (rows % 4);
  let p = 0;
  for (let r = 0; r < full; r += 4) for (let k = 0; k < K; k++) for (let j = 0; j < 4; j++) out[(r + j) * K + k] = w[p++];
  for (let r = full; r < rows; r++) for (let k = 0; k < K; k++) out[r * K + k] = w[p++];
  return out;
}

/** The RnnQuant of a SIMPLE_RNN / GRU / LSTM op record (params by spec name + constants). */
export function rnnQuantFromParams(name: string, p: P, consts: Uint8Array): RnnQuant {
  const q = p as Record<string, number>;
  const cell: CellKind = name === 'SIMPLE_RNN' ? 'SimpleRNN' : name === 'GRU' ? 'GRU' : 'LSTM';
  const u = q.units;
  const D = q.inDim;
  const rows = gateCount(cell) * u;
  const table = (kind: number, off: number) => (kind === 2 ? i16s(consts, off, TABLE_ENTRIES) : null);
  let wh: Int8Array;
  if (cell === 'GRU') {
    wh = new Int8Array(rows * u);
    wh.set(unblockRows4(i8s(consts, q.whZR, 2 * u * u), 2 * u, u), 0);
    wh.set(unblockRows4(i8s(consts, q.whH, u * u), u, u), 2 * u * u);
  } else {
    wh = unblockRows4(i8s(consts, q.wh, rows * u), rows, u);
  }
  return {
    cell,
    inDim: D,
    units: u,
    flags: q.flags,
    wx: unblockRows4(i8s(consts, q.wx, rows * D), rows, D),
    bx: i32s(consts, q.bx, rows),
    mx: i32s(consts, q.mx, rows),
    sx: i32s(consts, q.sx, rows),
    wh,
    bh: i32s(consts, q.bh, rows),
    mh: i32s(consts, q.mh, rows),
    sh: i32s(consts, q.sh, rows),
    recKind: cell === 'SimpleRNN' ? 0 : q.recKind,
    recTable: cell === 'SimpleRNN' ? null : table(q.recKind, q.recTable),
    actKind: q.actKind,
    actTable: table(q.actKind, q.actTable),
    gateShift: cell === 'GRU' ? q.gateShift : 15,
    cellShift: q.cellShift ?? 0,
    fcShift: q.fcShift ?? 0,
    igShift: q.igShift ?? 0,
    ohShift: q.ohShift ?? 0,
    outMult: q.outMult,
    outShift: q.outShift,
    outZp: q.outZp,
    hExp: 0,
    cExp: 0,
  };
}

/** floor(sqrt(v)) of a non-negative BigInt, bit by bit as the kernel does. */
function isqrtBig(v: bigint): bigint {
  let res = 0n;
  let bit = 1n << 62n;
  while (bit > v) bit >>= 2n;
  while (bit !== 0n) {
    if (v >= res + bit) {
      v -= res + bit;
      res = (res >> 1n) + bit;
    } else res >>= 1n;
    bit >>= 2n;
  }
  return res;
}

/** LAYER_NORM (tools/blob/spec.ts): integer mean/variance per row, isqrt, per-channel MBQM. */
export function refLayerNorm(p: P, x: Int8Array, consts: Uint8Array): Int8Array {
  const { rows, channels: C, zpIn, zpOut, epsTerm } = p as Record<string, number>;
  const mult = i32s(consts, p.mult, C);
  const shift = i8s(consts, p.shift, C);
  const bias = i32s(consts, p.bias, C);
  const y = new Int8Array(rows * C);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    let sumSq = 0;
    for (let c = 0; c < C; c++) {
      const v = x[r * C + c] - zpIn;
      sum += v;
      sumSq += v * v;
    }
    const V = BigInt(C) * BigInt(sumSq) - BigInt(sum) * BigInt(sum) + BigInt(epsTerm);
    const s = isqrtBig(V << 16n);
    for (let c = 0; c < C; c++) {
      const d = BigInt(C * (x[r * C + c] - zpIn) - sum);
      const t = s === 0n ? 0 : Number((d << 24n) / s);
      y[r * C + c] = clamp(zpOut + bias[c] + mbqm(t, mult[c], shift[c]), -128, 127);
    }
  }
  return y;
}
