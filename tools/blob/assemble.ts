/**
 * Lowered program + memory plan -> blob bytes (through BlobBuilder). Const params (ConstRef)
 * become offsets in the constants section; identical constants are stored once.
 */
import { BlobBuilder } from './writer.ts';
import { DTYPE, STORAGE, type Rounding } from './spec.ts';
import type { Lowered, ConstRef, ParamValue } from '../quantize/lower.ts';
import { alignUp, planMemory, type MemoryPlan } from './plan.ts';
import { opsScratch } from './conv-scratch.ts';

export interface SelfTest {
  /** Raw bytes of every input tensor, in input order. */
  inputs: Uint8Array[];
  /** Expected raw bytes of every output tensor, in output order. */
  outputs: Uint8Array[];
}

/** The arena plan plus the STATE region (persistent recurrent state, outside the arena). */
export interface LoweredPlan extends MemoryPlan {
  /** Offset inside the STATE region of every 'state' tensor (16-aligned, back to back). */
  stateOffsets: Map<number, number>;
  /** Bytes of the STATE region (header stateSize); 0 = the blob keeps no state. */
  stateSize: number;
}

export function planLowered(low: Lowered): LoweredPlan {
  const isState = (i: number) => low.tensors[i].storage === 'state';
  const plan = planMemory({
    tensors: low.tensors
      .filter((t) => !isState(t.index))
      .map((t) => ({ id: t.index, bytes: t.bytes, ...(t.aliasOf !== undefined ? { aliasOf: t.aliasOf, aliasOffset: t.aliasOffset } : {}) })),
    ops: low.ops.map((o) => ({ inputs: o.inputs.filter((i) => !isState(i)), outputs: o.outputs.filter((i) => !isState(i)) })),
    inputs: low.inputs,
    outputs: low.outputs,
  });
  const stateOffsets = new Map<number, number>();
  let stateSize = 0;
  for (const t of low.tensors) {
    if (t.storage !== 'state') continue;
    if (t.aliasOf !== undefined) throw new Error(`state tensor '${t.name}' cannot be an alias`);
    stateOffsets.set(t.index, stateSize);
    stateSize = alignUp(stateSize + t.bytes);
  }
  return { ...plan, stateOffsets, stateSize };
}

/** Op params that are tensor-table indices (recurrent ops: hState, cState, scratch and the optional maskIds = -1); groups name theirs `tensor`. */
export const TENSOR_PARAMS: ReadonlySet<string> = new Set(['in', 'out', 'a', 'b', 'ids', 'tensor', 'hState', 'cState', 'scratch', 'maskIds']);

const DTYPE_OF = { int8: DTYPE.INT8, int16: DTYPE.INT16, int32: DTYPE.INT32 } as const;

function isConst(v: ParamValue): v is ConstRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && (v as ConstRef).kind === 'const';
}

function key(b: Uint8Array): string {
  // cheap content key for de-duplication
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

export interface AssembleResult {
  blob: Uint8Array;
  plan: LoweredPlan;
  constBytes: number;
}

/**
 * How constants are laid out. ram (copy-in): identical constants are stored once for the whole
 * blob. flash (streamed): each op's constants are contiguous from a 16-byte boundary (identical
 * ones stored once per op), so the runtime stages exactly its range; `staging` goes in the header.
 */
export interface ConstLayout {
  weights: 'flash' | 'ram';
  staging?: number;
  /** The header's rounding mode (default double), carried here with the other blob-wide choices. */
  rounding?: Rounding;
}

export function assemble(low: Lowered, plan: LoweredPlan, selfTest?: SelfTest, layout: ConstLayout = { weights: 'ram' }): AssembleResult {
  const b = new BlobBuilder();
  const tIndex: number[] = [];
  const writer = new Map<number, number>();
  // a tensor that tiles write as slices (aliases with an offset) is complete after the last tile
  const writes = (t: number, k: number) => {
    writer.set(t, k);
    const v = low.tensors[t];
    if (v.aliasOffset !== undefined && v.aliasOf !== undefined) writes(v.aliasOf, k);
  };
  low.ops.forEach((o, k) => o.outputs.forEach((t) => writes(t, k)));
  for (const t of low.tensors) {
    const state = t.storage === 'state';
    const offset = state ? plan.stateOffsets.get(t.index) : plan.offsets.get(t.index);
    if (offset === undefined) throw new Error(`tensor '${t.name}' has no planned offset`);
    const int32 = t.dtype === 'int32';
    const idx = b.addTensor(
      { dtype: DTYPE_OF[t.dtype], storage: state ? STORAGE.STATE : STORAGE.ARENA, offset, bytes: t.bytes },
      {
        name: t.name,
        scale: int32 ? 0 : t.q.scale,
        zeroPoint: int32 ? 0 : t.q.zeroPoint,
        writer: writer.get(t.index) ?? -1,
        layerOutput: t.ir >= 0 && t.aliasOf === undefined && !int32,
      },
    );
    tIndex.push(typeof idx === 'number' ? idx : t.index);
  }
  const seen = new Map<string, number>();
  let constBytes = 0;
  const resolve = (v: ParamValue): any => {
    if (isConst(v)) {
      const k = `${v.align}:${key(v.bytes)}`;
      let off = seen.get(k);
      if (off === undefined) {
        off = b.addConst(v.bytes, v.align);
        constBytes += v.bytes.length;
        seen.set(k, off);
      }
      return off;
    }
    return v;
  };
  const flash = layout.weights === 'flash';
  for (const op of low.ops) {
    if (flash) {
      b.alignConsts();
      seen.clear();
    }
    const params: Record<string, any> = {};
    for (const [name, v] of Object.entries(op.params)) {
      if (name === 'rep') continue;
      params[name] = TENSOR_PARAMS.has(name) ? (v === -1 ? -1 : tIndex[v as number]) : resolve(v);
    }
    const groups = op.params.rep as Record<string, number>[] | undefined;
    if (groups) params.groups = groups.map((g) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, k === 'tensor' ? tIndex[v] : v])));
    b.addOp(op.name, params, op.layer);
  }
  const io = (i: number) => {
    const t = low.tensors[i];
    return { tensor: tIndex[i], dtype: DTYPE_OF[t.dtype], dims: t.shape, scale: t.q.scale, zeroPoint: t.q.zeroPoint, name: t.name };
  };
  b.setIO(low.inputs.map(io), low.outputs.map(io));
  if (selfTest) b.setSelfTest(selfTest.inputs, selfTest.outputs);
  // recurrent scratch is an ordinary arena tensor of the op (planned above); the header scratch
  // holds CONV2D's packed input pairs (conv-scratch.ts)
  const scratchSize = opsScratch(low.ops, (t) => low.tensors[t].dtype === 'int8');
  b.setPlan({ arenaSize: plan.arenaSize, stateSize: plan.stateSize, scratchSize, batch: low.batch });
  b.setRounding(layout.rounding ?? 'double');
  if (flash) b.setStagingSize(layout.staging ?? Math.max(16, ...b.ops.map((o) => o.constsSize)));
  return { blob: b.build(), plan, constBytes };
}
