/**
 * Weights streamed from flash: the runtime reads each op's constants into a staging area of a
 * size fixed at convert time, so every op's constants must fit it. A DENSE, or a CONV2D with one
 * group, whose constants do not fit is split by output channels into ops that each do (tiles of
 * a multiple of 4 channels, so the 4-row weight blocks stay whole); each tile writes a temporary
 * and a CONCAT that only copies joins them into the original output. The arithmetic of every
 * output is unchanged, so outputs stay byte-identical to the unsplit op.
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

/** Output channels and the per-channel weight bytes of an op that can be split, else null. */
function splitShape(op: LOp): { channels: number; perChannel: number; key: 'outDim' | 'outC' } | null {
  const p = op.params as Record<string, any>;
  if (op.name === 'DENSE') return { channels: p.outDim, perChannel: p.inDim, key: 'outDim' };
  if (op.name === 'CONV2D' && p.groups === 1) return { channels: p.outC, perChannel: p.kH * p.kW * p.inC, key: 'outC' };
  return null;
}

/** Channels [c0, c1) of a per-channel const array with `bytesPer` bytes per channel. */
function sliceConst(v: ParamValue, c0: number, c1: number, bytesPer: number, tag: string): ParamValue {
  if (!isConst(v)) return v;
  return { ...v, bytes: v.bytes.subarray(c0 * bytesPer, c1 * bytesPer), what: `${v.what} ${tag}` };
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
    weights: sliceConst(p.weights, c0, c1, s.perChannel, tag),
    bias: sliceConst(p.bias, c0, c1, 4, tag),
    mult: sliceConst(p.mult, c0, c1, 4, tag),
    shift: sliceConst(p.shift, c0, c1, 1, tag),
  };
  return { ...op, params, outputs: [out], layer: `${op.layer} (tile ${k})` };
}

/** The smallest tile an op can be split into, in staged bytes (the whole op when it cannot be split). */
function minTileBytes(op: LOp): number {
  const s = splitShape(op);
  if (!s || s.channels <= 4) return opConstBytes(op);
  return opConstBytes(tileOp(op, 0, 4, -1, 0));
}

/** Channels per tile: the largest multiple of 4 whose tile fits `budget` (at least 4). */
function tileChannels(op: LOp, budget: number): number {
  const s = splitShape(op)!;
  let g = 4;
  while (g + 4 <= s.channels && opConstBytes(tileOp(op, 0, g + 4, -1, 0)) <= budget) g += 4;
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

/** Split `op` into tiles that each fit `budget`, then join them. */
function splitOp(b: Builder, op: LOp, budget: number): void {
  const s = splitShape(op)!;
  const out = b.tensors[op.params.out as number];
  const g = tileChannels(op, budget);
  const parts: number[] = [];
  for (let c0 = 0, k = 0; c0 < s.channels; c0 += g, k++) {
    const c1 = Math.min(s.channels, c0 + g);
    const t = newTensor(b, out, `${out.name}/tile${k}`, [...out.shape.slice(0, -1), c1 - c0]);
    b.ops.push(tileOp(op, c0, c1, t, k));
    parts.push(t);
  }
  concatInto(b, parts, out.index, op.layer);
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
