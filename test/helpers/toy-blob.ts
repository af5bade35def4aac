/**
 * A one-DENSE blob (identity weights, 4 inputs, 4 outputs) whose self-test the C test doubles'
 * toy runtime passes: it copies input 0 to output 0. `outScale` is output 0's scale.
 */
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { DTYPE, STORAGE } from '../../tools/blob/spec.ts';

export function toyBlob(outScale = 0.5): Uint8Array {
  const b = new BlobBuilder();
  const tin = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: 4 });
  const tout = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 16, bytes: 4 });
  b.addOp('DENSE', {
    in: tin,
    out: tout,
    rows: 1,
    inDim: 4,
    outDim: 4,
    weights: b.addConst(Int8Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])),
    bias: b.addConstI32([0, 0, 0, 0]),
    mult: b.addConstI32([1 << 30, 1 << 30, 1 << 30, 1 << 30]),
    shift: b.addConstI8([1, 1, 1, 1]),
    zpOut: 0,
    actMin: -128,
    actMax: 127,
    lut: -1,
    layout: 0,
  });
  b.setIO(
    [{ tensor: tin, dims: [1, 4], scale: 0.5, zeroPoint: 0, name: 'features' }],
    [{ tensor: tout, dims: [1, 4], scale: outScale, zeroPoint: 0, name: 'scores' }],
  );
  b.setSelfTest([[1, 2, 3, 4]], [[1, 2, 3, 4]]);
  b.setPlan({ arenaSize: 64, batch: 1 });
  return b.build();
}
