/**
 * A minimal converter context for lowerRecurrent (tools/quantize/lower-rnn.ts) backed by
 * BlobBuilder: one recurrent node -> a blob -> build/runtime.wasm. Calibration = the float
 * forward of the same node on the same input (its outputs and internal RecurrentInfo ranges).
 */
import { expect } from 'vitest';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { DTYPE, ERR, STORAGE } from '../../tools/blob/spec.ts';
import type { FloatTensor, IRNode } from '../../tools/graph/ir.ts';
import { bidirectional, makeRnn } from '../../tools/float/layers/recurrent.ts';
import { lowerRecurrent, type RecurrentLowerCtx } from '../../tools/quantize/lower-rnn.ts';
import { asymmetricQParams, quantizeValue, type QParams } from '../../tools/quantize/qparams.ts';

/** Lower `node` (input tensor id 0, outputs 1..n) into a one-layer blob; run it; return dequantised outputs. */
export async function lowerAndRun(node: IRNode, x: FloatTensor, opts: { stream?: boolean; chunk?: number } = {}) {
  // float forward: outputs + internal ranges (the calibration)
  const info: any = {};
  const fn = node.className === 'Bidirectional' ? bidirectional : makeRnn(node.className as any);
  const fouts = fn(node, [x], { inMasks: [null], recurrent: info });
  const rangeQ = (t: FloatTensor): QParams => {
    let mn = 0,
      mx = 0;
    for (const v of t.data) {
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    return asymmetricQParams(mn, mx);
  };
  const irQ = new Map<number, QParams>([[0, rangeQ(x)], ...fouts.map((t, i) => [i + 1, rangeQ(t)] as [number, QParams])]);
  const steps = opts.chunk ?? x.shape[1];
  const Bx = x.shape[0];
  const irShape = new Map<number, number[]>([
    [0, [Bx, steps, x.shape[2]]],
    ...fouts.map(
      (t, i) => [i + 1, opts.chunk ? [t.shape[0], ...(t.shape.length === 3 ? [steps] : []), t.shape[t.shape.length - 1]] : t.shape] as [number, number[]],
    ),
  ]);
  const bb = new BlobBuilder();
  let arena = 0;
  let state = 0;
  const al = (n: number) => Math.ceil(n / 16) * 16;
  const irL = new Map<number, number>();
  const size = { int8: 1, int16: 2, int32: 4 } as const;
  const newTensor = (_n: string, shape: number[], dtype: 'int8' | 'int16' | 'int32', _q: QParams, storage: 'arena' | 'state' = 'arena') => {
    const bytes = shape.reduce((a, b) => a * b, 1) * size[dtype];
    const dt = dtype === 'int8' ? DTYPE.INT8 : dtype === 'int16' ? DTYPE.INT16 : DTYPE.INT32;
    if (storage === 'state') {
      const i = bb.addTensor({ dtype: dt, storage: STORAGE.STATE, offset: state, bytes });
      state = al(state + bytes);
      return i;
    }
    const i = bb.addTensor({ dtype: dt, offset: arena, bytes });
    arena = al(arena + bytes);
    return i;
  };
  const ctx: RecurrentLowerCtx = {
    batch: Bx,
    stream: !!opts.stream,
    tensorOf: (ir) => {
      let i = irL.get(ir);
      if (i === undefined) irL.set(ir, (i = newTensor(`t${ir}`, irShape.get(ir)!, 'int8', irQ.get(ir)!)));
      return i;
    },
    qOf: (ir) => irQ.get(ir)!,
    tensorShape: (ir) => irShape.get(ir)!,
    newTensor,
    emit: (op, params) => {
      const p: Record<string, any> = { ...params };
      if (p.rep) {
        p.n = p.rep;
        delete p.rep;
      }
      bb.addOp(op, p);
    },
    konst: (bytes, align) => bb.addConst(bytes, align),
    recurrentInfo: () => info,
    maskIds: () => -1,
  };
  lowerRecurrent(node, ctx);
  const outIds = fouts.map((_, i) => i + 1);
  bb.setIO(
    [{ tensor: ctx.tensorOf(0), dims: irShape.get(0)!, scale: irQ.get(0)!.scale, zeroPoint: irQ.get(0)!.zeroPoint, name: 'x' }],
    outIds.map((id) => ({ tensor: ctx.tensorOf(id), dims: irShape.get(id)!, scale: irQ.get(id)!.scale, zeroPoint: irQ.get(id)!.zeroPoint, name: `y${id}` })),
  );
  bb.setPlan({ arenaSize: arena, stateSize: state, batch: Bx });
  const blob = bb.build();
  const dev = await DeviceSim.load();
  expect(dev.init(blob)).toBe(ERR.OK);
  const q0 = irQ.get(0)!;
  const xq = Int8Array.from(x.data, (v) => quantizeValue(v, q0));
  const run = (xs: Int8Array) => {
    dev.setInputRaw(0, xs);
    expect(dev.invoke()).toBe(ERR.OK);
    return outIds.map((id, k) => Float32Array.from(dev.getOutputRaw(k), (v) => (v - irQ.get(id)!.zeroPoint) * irQ.get(id)!.scale));
  };
  return { fouts, run, xq, dev };
}
