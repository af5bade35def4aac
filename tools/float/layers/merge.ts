/** Add, Subtract, Multiply, Average, Maximum, Minimum (numpy broadcasting) and Concatenate. */
import type { FloatTensor } from '../../graph/ir.ts';
import type { LayerFn, TimeMask } from '../types.ts';
import { concatAxis, normAxis, size, strides } from '../tensor.ts';

/** Element-wise binary op with numpy broadcasting (shapes right-aligned). */
function broadcast2(a: FloatTensor, b: FloatTensor, f: (x: number, y: number) => number): FloatTensor {
  const r = Math.max(a.shape.length, b.shape.length);
  const as = [...new Array(r - a.shape.length).fill(1), ...a.shape];
  const bs = [...new Array(r - b.shape.length).fill(1), ...b.shape];
  const shape = as.map((d, i) => {
    if (d !== bs[i] && d !== 1 && bs[i] !== 1) throw new Error(`merge: shapes [${a.shape}] and [${b.shape}] do not broadcast`);
    return Math.max(d, bs[i]);
  });
  const n = size(shape);
  const out = new Float32Array(n);
  if (as.every((d, i) => d === shape[i]) && bs.every((d, i) => d === shape[i])) {
    for (let i = 0; i < n; i++) out[i] = f(a.data[i], b.data[i]);
    return { shape, data: out };
  }
  const ost = strides(shape);
  const ast = strides(as).map((s, i) => (as[i] === 1 ? 0 : s));
  const bst = strides(bs).map((s, i) => (bs[i] === 1 ? 0 : s));
  for (let i = 0; i < n; i++) {
    let rem = i,
      ai = 0,
      bi = 0;
    for (let d = 0; d < r; d++) {
      const k = Math.floor(rem / ost[d]);
      rem -= k * ost[d];
      ai += k * ast[d];
      bi += k * bst[d];
    }
    out[i] = f(a.data[ai], b.data[bi]);
  }
  return { shape, data: out };
}

function reduceMerge(f: (x: number, y: number) => number, post?: (t: FloatTensor, n: number) => FloatTensor): LayerFn {
  return (_node, xs, ctx) => {
    let acc = xs[0];
    for (let i = 1; i < xs.length; i++) acc = broadcast2(acc, xs[i], f);
    if (post) acc = post(acc, xs.length);
    ctx.outMasks = [andMasks(ctx.inMasks)];
    return [acc];
  };
}

/** Keras merge layers combine input masks with logical AND (missing masks count as all-valid). */
function andMasks(ms: (TimeMask | null)[]): TimeMask | null {
  const present = ms.filter((m): m is TimeMask => !!m);
  if (present.length === 0) return null;
  const data = new Uint8Array(present[0].data);
  for (const m of present.slice(1)) for (let i = 0; i < data.length; i++) data[i] &= m.data[i];
  return { batch: present[0].batch, steps: present[0].steps, data };
}

export const add = reduceMerge((x, y) => x + y);
export const multiply = reduceMerge((x, y) => x * y);
export const maximum = reduceMerge((x, y) => Math.max(x, y));
export const minimum = reduceMerge((x, y) => Math.min(x, y));
export const average = reduceMerge(
  (x, y) => x + y,
  (t, n) => ({ shape: t.shape, data: t.data.map((v) => v / n) }),
);
export const subtract: LayerFn = (node, xs, ctx) => {
  if (xs.length !== 2) throw new Error(`Subtract '${node.name}' needs exactly 2 inputs`);
  ctx.outMasks = [andMasks(ctx.inMasks)];
  return [broadcast2(xs[0], xs[1], (x, y) => x - y)];
};

export const concatenate: LayerFn = (node, xs, ctx) => {
  const ax = normAxis(node.config.axis ?? -1, xs[0].shape.length);
  ctx.outMasks = [andMasks(ctx.inMasks)];
  return [concatAxis(xs, ax)];
};
