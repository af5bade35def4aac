/**
 * Weights streamed from flash: the runtime reads each op's constants into a staging area of a
 * size fixed at convert time, so every op's constants must fit it. A DENSE, or a CONV2D with one
 * group, whose constants do not fit is split by output channels into ops that each do: tiles of
 * a multiple of 4 channels, so the 4-row weight blocks stay whole; of 8 for DENSE layout 2, whose
 * blocks have 8 rows, and for a CONV2D in layout 1 where more than 8 fit (its two-position pass
 * runs 8 channels at a time, and a 4-channel remainder costs a whole pass); DENSE layout 3 has
 * 2-byte weights and 8-byte biases. The tiles of a DENSE over one row write their slices of the
 * original output directly; other tiles write temporaries that a CONCAT (copy only) joins. The arithmetic of every output is unchanged, so
 * outputs stay byte-identical to the unsplit op.
 */
import type { ConstRef, LOp, LTensor, Lowered, ParamValue } from '../quantize/lower-util.ts';
import { LIMITS } from './spec.ts';

const isConst = (v: ParamValue): v is ConstRef => typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'const';
const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;

/** Bytes an op's constants take when packed as the writer packs them (from a 16-byte boundary). */
export function opConstBytes(op: LOp): number {
  let end = 0;
  const seen = new Set<ConstRef>();
  for (const v of Object.values(op.params)) {
    if (!isConst(v) || seen.has(v)) continue;
    seen.add(v);
    end = alignUp(end, v.align) + v.bytes.length;
  }
  return end;
}

interface SplitShape {
  channels: number;
  perChannel: number;
  key: 'outDim' | 'outC';
  /** tiles are a multiple of this many channels */
  step: number;
  /** weight byte offset of channel c */
  at: (c: number) => number;
  /** bias bytes per channel (DENSE layout 3: int64) */
  biasBytes: number;
}

/** Output channels and the per-channel weight bytes of an op that can be split, else null. */
function splitShape(op: LOp): SplitShape | null {
  const p = op.params as Record<string, any>;
  // DENSE layout 3: int16 weights (2 bytes each, in 4-row blocks as layout 1), int64 bias
  if (op.name === 'DENSE' && p.layout === 3)
    return { channels: p.outDim, perChannel: p.inDim, key: 'outDim', step: 4, at: (c) => 2 * c * p.inDim, biasBytes: 8 };
  const shape = (channels: number, perChannel: number, key: 'outDim' | 'outC'): SplitShape => ({
    channels,
    perChannel,
    key,
    step: 4,
    at: (c) => c * perChannel,
    biasBytes: 4,
  });
  // DENSE layout 2: 8-row blocks of one byte per weight
  if (op.name === 'DENSE' && p.layout === 2) return { ...shape(p.outDim, p.inDim, 'outDim'), step: 8 };
  if (op.name === 'DENSE') return shape(p.outDim, p.inDim, 'outDim');
  // CONV2D layout 2: int16 weights, int64 bias
  if (op.name === 'CONV2D' && p.layout === 2) return { ...shape(p.outC, p.kH * p.kW * p.inC, 'outC'), at: (c) => 2 * c * p.kH * p.kW * p.inC, biasBytes: 8 };
  if (op.name === 'CONV2D' && p.groups === 1) return shape(p.outC, p.kH * p.kW * p.inC, 'outC');
  return null;
}

/** Channels [c0, c1) of a per-channel const array; `at(c)` is channel c's byte offset. */
function sliceConst(v: ParamValue, c0: number, c1: number, at: (c: number) => number, tag: string): ParamValue {
  if (!isConst(v)) return v;
  return { ...v, bytes: v.bytes.subarray(at(c0), at(c1)), what: `${v.what} ${tag}` };
}

/** The op for output channels [c0, c1), writing tensor `out`. */
function tileOp(op: LOp, c0: number, c1: number, out: number, k: number): LOp {
  const s = splitShape(op)!;
  const p = op.params;
  const tag = `[${c0}:${c1}]`;
  const params: Record<string, ParamValue> = {
    ...p,
    out,
    [s.key]: c1 - c0,
    weights: sliceConst(p.weights, c0, c1, s.at, tag),
    bias: sliceConst(p.bias, c0, c1, (c) => s.biasBytes * c, tag),
    mult: sliceConst(p.mult, c0, c1, (c) => 4 * c, tag),
    shift: sliceConst(p.shift, c0, c1, (c) => c, tag),
  };
  return { ...op, params, outputs: [out], layer: `${op.layer} (tile ${k})` };
}

/** The smallest tile an op can be split into, in staged bytes (the whole op when it cannot be split). */
function minTileBytes(op: LOp): number {
  const s = splitShape(op);
  if (!s || s.channels <= s.step) return opConstBytes(op);
  return opConstBytes(tileOp(op, 0, s.step, -1, 0));
}

/** Channels per tile: the largest multiple of the step whose tile fits `budget` (at least one step). */
function tileChannels(op: LOp, budget: number): number {
  const s = splitShape(op)!;
  let g = s.step;
  while (g + s.step <= s.channels && opConstBytes(tileOp(op, 0, g + s.step, -1, 0)) <= budget) g += s.step;
  if (op.name === 'CONV2D' && op.params.layout === 1 && g > 8 && g % 8 === 4) g -= 4;
  return g;
}

interface Builder {
  tensors: LTensor[];
  ops: LOp[];
}

function newTensor(b: Builder, like: LTensor, name: string, shape: number[]): number {
  const bytes = shape.reduce((a, x) => a * x, 1) * (like.dtype === 'int16' ? 2 : 1);
  const t: LTensor = { index: b.tensors.length, name, dtype: like.dtype, storage: 'arena', shape, bytes, q: like.q, ir: -1 };
  b.tensors.push(t);
  return t.index;
}

/** CONCAT (copy only: same qparams) of `parts` along the last axis into `out`, at most MAX_GROUP inputs per op. */
function concatInto(b: Builder, parts: number[], out: number, layer: string): void {
  const o = b.tensors[out];
  const outer = o.shape.slice(0, -1).reduce((a, x) => a * x, 1);
  if (parts.length > LIMITS.MAX_GROUP) {
    const chunks: number[] = [];
    for (let i = 0; i < parts.length; i += LIMITS.MAX_GROUP) {
      const group = parts.slice(i, i + LIMITS.MAX_GROUP);
      const width = group.reduce((a, t) => a + b.tensors[t].shape[b.tensors[t].shape.length - 1], 0);
      const mid = newTensor(b, o, `${o.name}/tiles${i}`, [...o.shape.slice(0, -1), width]);
      concatInto(b, group, mid, layer);
      chunks.push(mid);
    }
    concatInto(b, chunks, out, layer);
    return;
  }
  const rep = parts.map((t) => ({ tensor: t, inner: b.tensors[t].shape[b.tensors[t].shape.length - 1], zp: o.q.zeroPoint, mult: 0, shift: 0, identity: 1 }));
  b.ops.push({ name: 'CONCAT', params: { out, outer, zpOut: o.q.zeroPoint, n: rep.length, rep }, inputs: parts, outputs: [out], layer });
}

/**
 * Split `op` into tiles that each fit `budget`. A DENSE over one row writes each tile straight
 * into its slice of the output (a view: an alias with a byte offset); otherwise the tiles write
 * temporaries that a CONCAT joins.
 */
function splitOp(b: Builder, op: LOp, budget: number): void {
  const s = splitShape(op)!;
  const out = b.tensors[op.params.out as number];
  const g = tileChannels(op, budget);
  const views = op.name === 'DENSE' && op.params.rows === 1 && out.storage === 'arena';
  const parts: number[] = [];
  for (let c0 = 0, k = 0; c0 < s.channels; c0 += g, k++) {
    const c1 = Math.min(s.channels, c0 + g);
    const t = newTensor(b, out, `${out.name}/tile${k}`, [...out.shape.slice(0, -1), c1 - c0]);
    if (views) Object.assign(b.tensors[t], { aliasOf: out.index, aliasOffset: (c0 * out.bytes) / s.channels });
    b.ops.push(tileOp(op, c0, c1, t, k));
    parts.push(t);
  }
  if (!views) concatInto(b, parts, out.index, op.layer);
}

export interface StagingProblem {
  layer: string;
  op: string;
  /** staging bytes the op needs at the least */
  minimum: number;
}

/** The staging size below which some op cannot run, and which op sets it. */
export function minimumStaging(low: Lowered): StagingProblem {
  let worst: StagingProblem = { layer: '', op: '', minimum: 16 };
  for (const op of low.ops) {
    const m = minTileBytes(op);
    if (m > worst.minimum) worst = { layer: op.layer, op: op.name, minimum: m };
  }
  return worst;
}

/** The program with every op's constants within `budget` bytes (call with budget >= minimumStaging). */
export function tileForStaging(low: Lowered, budget: number): Lowered {
  const b: Builder = { tensors: low.tensors.slice(), ops: [] };
  for (const op of low.ops) {
    if (opConstBytes(op) <= budget) b.ops.push(op);
    else if (splitShape(op) && minTileBytes(op) <= budget) splitOp(b, op, budget);
    else throw new Error(`op ${op.name} of '${op.layer}' needs ${minTileBytes(op)} bytes of staging, more than ${budget}`);
  }
  return { ...low, tensors: b.tensors, ops: b.ops };
}
