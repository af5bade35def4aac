/**
 * Static memory plan for the activation arena (TFLM GreedyMemoryPlanner): buffers sorted by
 * descending size, each placed at the lowest 16-aligned offset that does not overlap any
 * already-placed buffer whose lifetime overlaps its own.
 *
 * Lifetimes are in op steps: a buffer is live from the step that writes it (model inputs:
 * step 0, since the host writes them before the first op) to the last step that reads it
 * (model outputs: until after the last op, so the host can read them). Aliases (Reshape,
 * Flatten, Dropout, ...) share their root buffer, whose lifetime is extended to cover them; an
 * alias with an offset is a slice of it (the flash tiles of a DENSE each write one).
 */

const ARENA_ALIGN = 16;

interface PlanTensor {
  /** Any unique id (the caller's tensor index). */
  id: number;
  bytes: number;
  /** Shares the bytes of this tensor (an alias of an alias resolves to the root). */
  aliasOf?: number;
  /** With aliasOf: the view starts this many bytes into it (default 0). */
  aliasOffset?: number;
}

interface PlanOp {
  inputs: number[];
  outputs: number[];
}

export interface PlanInput {
  tensors: PlanTensor[];
  ops: PlanOp[];
  /** Model inputs (live from step 0) and outputs (live until the end). */
  inputs: number[];
  outputs: number[];
}

interface BufferPlan {
  root: number;
  bytes: number; // aligned size
  first: number;
  last: number;
  offset: number;
}

export interface MemoryPlan {
  /** Arena offset per tensor id (aliases get their root's offset). */
  offsets: Map<number, number>;
  arenaSize: number;
  /** max over op steps of the sum of (aligned) bytes of buffers live at that step. */
  lowerBound: number;
  buffers: BufferPlan[];
}

export const alignUp = (n: number, a = ARENA_ALIGN) => Math.ceil(n / a) * a;

export function planMemory(p: PlanInput): MemoryPlan {
  const byId = new Map(p.tensors.map((t) => [t.id, t]));
  // the root buffer of a tensor and the byte offset of the tensor inside it
  const resolve = (id: number): { root: number; at: number } => {
    let t = byId.get(id);
    if (!t) throw new Error(`plan: unknown tensor ${id}`);
    let guard = 0;
    let at = 0;
    while (t.aliasOf !== undefined) {
      at += t.aliasOffset ?? 0;
      const n = byId.get(t.aliasOf);
      if (!n) throw new Error(`plan: alias of unknown tensor ${t.aliasOf}`);
      t = n;
      if (++guard > 10000) throw new Error('plan: alias cycle');
    }
    return { root: t.id, at };
  };
  const rootOf = (id: number): number => resolve(id).root;
  const nSteps = p.ops.length;
  const life = new Map<number, { first: number; last: number }>();
  const touch = (id: number, step: number) => {
    const r = rootOf(id);
    const l = life.get(r);
    if (!l) life.set(r, { first: step, last: step });
    else {
      l.first = Math.min(l.first, step);
      l.last = Math.max(l.last, step);
    }
  };
  for (const id of p.inputs) touch(id, 0);
  p.ops.forEach((op, s) => {
    for (const id of op.inputs) touch(id, s);
    for (const id of op.outputs) touch(id, s);
  });
  for (const id of p.outputs) touch(id, Math.max(nSteps - 1, 0) + 1);
  // Tensors never touched (should not happen) still get a buffer of their own at step 0.
  for (const t of p.tensors) if (!life.has(rootOf(t.id))) touch(t.id, 0);

  const buffers: BufferPlan[] = [];
  for (const [root, l] of life) {
    const bytes = alignUp(Math.max(byId.get(root)!.bytes, 1));
    // An alias may be larger than its root only by a bug; take the max anyway.
    buffers.push({ root, bytes, first: l.first, last: l.last, offset: -1 });
  }
  for (const t of p.tensors) {
    if (t.aliasOf === undefined) continue;
    const { root, at } = resolve(t.id);
    const b = buffers.find((x) => x.root === root)!;
    b.bytes = Math.max(b.bytes, alignUp(at + t.bytes));
  }

  // Greedy by size (ties: earlier first use, then id, for determinism).
  const order = [...buffers].sort((a, b) => b.bytes - a.bytes || a.first - b.first || a.root - b.root);
  const placed: BufferPlan[] = [];
  for (const b of order) {
    const conflicts = placed.filter((o) => o.first <= b.last && b.first <= o.last).sort((x, y) => x.offset - y.offset);
    let off = 0;
    for (const o of conflicts) {
      if (off + b.bytes <= o.offset) break;
      off = Math.max(off, o.offset + o.bytes);
    }
    b.offset = off;
    placed.push(b);
  }
  let arenaSize = 0;
  for (const b of buffers) arenaSize = Math.max(arenaSize, b.offset + b.bytes);

  let lowerBound = 0;
  const lastStep = nSteps; // outputs live at nSteps
  for (let s = 0; s <= lastStep; s++) {
    let live = 0;
    for (const b of buffers) if (b.first <= s && s <= b.last) live += b.bytes;
    lowerBound = Math.max(lowerBound, live);
  }

  const offsets = new Map<number, number>();
  const offByRoot = new Map(buffers.map((b) => [b.root, b.offset]));
  for (const t of p.tensors) {
    const { root, at } = resolve(t.id);
    offsets.set(t.id, offByRoot.get(root)! + at);
  }
  return { offsets, arenaSize, lowerBound, buffers };
}
