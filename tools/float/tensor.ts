/** Small helpers on row-major FloatTensors shared by the float reference layers. */
import type { FloatTensor } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';

export type { FloatTensor };

export function size(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function strides(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** The first n samples (at most all) of each tensor [N, ...], as views. */
export function firstSamples(ts: FloatTensor[], n: number): FloatTensor[] {
  return ts.map((t) => {
    const k = Math.min(t.shape[0], n);
    return { shape: [k, ...t.shape.slice(1)], data: t.data.subarray(0, (k * t.data.length) / t.shape[0]) };
  });
}

/** Normalise a possibly negative axis for a tensor of `rank` dimensions (batch included). */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** General transpose: out.shape[i] = t.shape[perm[i]]. */
export function transpose(t: FloatTensor, perm: number[]): FloatTensor {
  const rank = t.shape.length;
  const outShape = perm.map((p) => t.shape[p]);
  const inStr = strides(t.shape);
  const out = new Float32Array(t.data.length);
  const idx = new Array(rank).fill(0);
  const pStr = perm.map((p) => inStr[p]);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = t.data[src];
    // increment the multi-index in output order
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += pStr[d];
      if (idx[d] < outShape[d]) break;
      src -= pStr[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/** channels_first [B, C, ...S] -> channels_last [B, ...S, C]. */
export function toChannelsLast(t: FloatTensor): FloatTensor {
  const r = t.shape.length;
  return transpose(t, [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1]);
}
/** channels_last [B, ...S, C] -> channels_first [B, C, ...S]. */
export function toChannelsFirst(t: FloatTensor): FloatTensor {
  const r = t.shape.length;
  return transpose(t, [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)]);
}

export function concatAxis(ts: FloatTensor[], axis: number): FloatTensor {
  const base = ts[0].shape;
  const outer = size(base.slice(0, axis));
  const inner = size(base.slice(axis + 1));
  const total = ts.reduce((a, t) => a + t.shape[axis], 0);
  const shape = [...base];
  shape[axis] = total;
  const out = new Float32Array(outer * total * inner);
  for (let o = 0; o < outer; o++) {
    let off = o * total * inner;
    for (const t of ts) {
      const n = t.shape[axis] * inner;
      out.set(t.data.subarray(o * n, (o + 1) * n), off);
      off += n;
    }
  }
  return { shape, data: out };
}

/** Keras-style config tuple: number or array -> array of length n. */
export function tuple(v: unknown, n: number, what: string): number[] {
  if (typeof v === 'number') return new Array(n).fill(v);
  if (Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number')) return v as number[];
  if (Array.isArray(v) && v.length === 1 && n > 1 && typeof v[0] === 'number') return new Array(n).fill(v[0]);
  throw new UserError(`float forward: ${what} must be ${n} integers, got ${JSON.stringify(v)}`, EXIT.UNSUPPORTED);
}

export function unsupportedOpt(layer: string, cls: string, opt: string, value: unknown, allowed: string): UserError {
  return new UserError(
    `layer '${layer}' (${cls}) option ${opt}=${JSON.stringify(value)}: not supported by the float reference; supported: ${allowed}`,
    EXIT.UNSUPPORTED,
  );
}
