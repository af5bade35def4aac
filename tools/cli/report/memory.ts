/**
 * The arena plan as the blob states it: every arena tensor's byte range (tensor table) and its
 * lifetime in op steps (the ops whose params name it), and from those the bytes occupied at each
 * step. Step s < nOps is op s running; step nOps is after the last op, while the host reads the
 * outputs. The lifetimes follow tools/blob/plan.ts: inputs live from step 0, outputs until step
 * nOps, aliases (the same offset) count once. Works on any blob, so convert and verify plot the same.
 */
import type { ParsedBlob } from '../../blob/parse.ts';
import { TENSOR_PARAMS } from '../../blob/assemble.ts';
import { STORAGE } from '../../blob/spec.ts';
import { alignUp } from '../../blob/plan.ts';

interface ArenaBuffer {
  tensor: number;
  offset: number;
  /** bytes rounded up to the arena's 16-byte alignment */
  bytes: number;
  first: number;
  last: number;
}

export interface ArenaTimeline {
  arenaBytes: number;
  /** bytes occupied at each step 0..nOps (the union of the live buffers' ranges) */
  liveBytes: number[];
  /** the largest of liveBytes: no placement can use less arena */
  peakLiveBytes: number;
  buffers: ArenaBuffer[];
}

/** Tensor indices an op reads or writes (fixed params and repeat groups; -1 = none). */
function opTensors(op: ParsedBlob['ops'][number], nTensors: number): number[] {
  const ids = Object.entries(op.params)
    .filter(([k, v]) => TENSOR_PARAMS.has(k) && typeof v === 'number')
    .map(([, v]) => v as number);
  const groups = Array.isArray(op.params.groups) ? op.params.groups : [];
  for (const g of groups) if (typeof g.tensor === 'number') ids.push(g.tensor);
  return ids.filter((i) => i >= 0 && i < nTensors);
}

/** Measure of the union of [start, end) ranges. */
function unionBytes(ranges: [number, number][]): number {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -1;
  for (const [s, e] of sorted) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total;
}

export function arenaTimeline(p: ParsedBlob): ArenaTimeline {
  const nOps = p.ops.length;
  const life = new Map<number, { first: number; last: number }>();
  const touch = (t: number, step: number) => {
    if (p.tensors[t]?.storage !== STORAGE.ARENA) return;
    const l = life.get(t);
    if (!l) life.set(t, { first: step, last: step });
    else {
      l.first = Math.min(l.first, step);
      l.last = Math.max(l.last, step);
    }
  };
  for (const io of p.io.inputs) touch(io.tensor, 0);
  p.ops.forEach((op, s) => opTensors(op, p.tensors.length).forEach((t) => touch(t, s)));
  for (const io of p.io.outputs) touch(io.tensor, nOps);
  const buffers: ArenaBuffer[] = [...life].map(([tensor, l]) => ({
    tensor,
    offset: p.tensors[tensor].offset,
    bytes: alignUp(Math.max(p.tensors[tensor].bytes, 1)),
    ...l,
  }));
  const liveBytes = Array.from({ length: nOps + 1 }, (_, s) =>
    unionBytes(buffers.filter((b) => b.first <= s && s <= b.last).map((b) => [b.offset, b.offset + b.bytes])),
  );
  return { arenaBytes: p.header.arenaSize, liveBytes, peakLiveBytes: Math.max(0, ...liveBytes), buffers };
}
