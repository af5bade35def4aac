/**
 * Lowered program + memory plan -> blob bytes (through BlobBuilder). Const params (ConstRef)
 * become offsets in the constants section; identical constants are stored once.
 */
import { BlobBuilder } from './writer.ts';
import { DTYPE, STORAGE } from './spec.ts';
import type { Lowered, ConstRef, ParamValue } from '../quantize/lower.ts';
import { planMemory, type MemoryPlan } from './plan.ts';

export interface SelfTest {
  /** Raw bytes of every input tensor, in input order. */
  inputs: Uint8Array[];
  /** Expected raw bytes of every output tensor, in output order. */
  outputs: Uint8Array[];
}

export function planLowered(low: Lowered): MemoryPlan {
  return planMemory({
    tensors: low.tensors.map((t) => ({ id: t.index, bytes: t.bytes, ...(t.aliasOf !== undefined ? { aliasOf: t.aliasOf } : {}) })),
    ops: low.ops.map((o) => ({ inputs: o.inputs, outputs: o.outputs })),
    inputs: low.inputs,
    outputs: low.outputs,
  });
}

function isConst(v: ParamValue): v is ConstRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && (v as ConstRef).kind === 'const';
}

function key(b: Uint8Array): string {
  // cheap content key for de-duplication
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

export interface AssembleResult {
  blob: Uint8Array;
  plan: MemoryPlan;
  constBytes: number;
}

export function assemble(low: Lowered, plan: MemoryPlan, selfTest?: SelfTest): AssembleResult {
  const b = new BlobBuilder();
  const tIndex: number[] = [];
  for (const t of low.tensors) {
    const idx = b.addTensor({
      dtype: t.dtype === 'int32' ? DTYPE.INT32 : DTYPE.INT8,
      storage: STORAGE.ARENA,
      offset: plan.offsets.get(t.index)!,
      bytes: t.bytes,
    });
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
  const TENSOR_PARAMS = new Set(['in', 'out', 'a', 'b', 'ids', 'tensor']);
  for (const op of low.ops) {
    const params: Record<string, any> = {};
    for (const [name, v] of Object.entries(op.params)) {
      if (name === 'rep') continue;
      params[name] = TENSOR_PARAMS.has(name) ? tIndex[v as number] : resolve(v);
    }
    const groups = op.params.rep as Record<string, number>[] | undefined;
    if (groups) params.groups = groups.map((g) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, k === 'tensor' ? tIndex[v] : v])));
    b.addOp(op.name, params);
  }
  const io = (i: number) => {
    const t = low.tensors[i];
    return { tensor: tIndex[i], dtype: t.dtype === 'int32' ? DTYPE.INT32 : DTYPE.INT8, dims: t.shape, scale: t.q.scale, zeroPoint: t.q.zeroPoint, name: t.name };
  };
  b.setIO(low.inputs.map(io), low.outputs.map(io));
  if (selfTest) b.setSelfTest(selfTest.inputs, selfTest.outputs);
  b.setPlan({ arenaSize: plan.arenaSize, stateSize: 0, scratchSize: 0, batch: low.batch });
  return { blob: b.build(), plan, constBytes };
}
