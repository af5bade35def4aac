/**
 * Test helpers for the recurrent ops: one-op blobs built with BlobBuilder, run in the real
 * runtime (build/runtime.wasm, built by `npm pretest`).
 */
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { crc32 } from '../../tools/blob/crc32.ts';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { DTYPE, HEADER, OP_BY_NAME, OP_HEADER_SIZE, STORAGE } from '../../tools/blob/spec.ts';
import { rnnOpName, rnnOpParams } from '../../tools/quantize/lower-rnn.ts';
import { RNN_FLAG, scratchWords, type RnnQuant } from '../../tools/quantize/reference-rnn.ts';

export interface OneOpBlob {
  blob: Uint8Array;
  code: number;
  /** byte offset of the op's params inside the blob */
  paramsOff: number;
  tensors: { in: number; out: number; hState: number; cState?: number; scratch: number; maskIds?: number };
  inBytes: number;
  outBytes: number;
  /** arena offsets */
  inOff: number;
  outOff: number;
  maskOff: number;
}

/** One recurrent op: input tensor, output tensor, state (STATE region when KEEP_STATE), scratch, optional mask ids. */
export function oneOpBlob(q: RnnQuant, batch: number, steps: number, withMask = false, validate = false, selfTest?: { x: Int8Array; y: Int8Array }): OneOpBlob {
  const bb = new BlobBuilder();
  const u = q.units;
  const keep = (q.flags & RNN_FLAG.KEEP_STATE) !== 0;
  const seq = (q.flags & RNN_FLAG.RETURN_SEQUENCES) !== 0;
  const inBytes = batch * steps * q.inDim;
  const outBytes = batch * (seq ? steps : 1) * u;
  const al = (n: number) => Math.ceil(n / 16) * 16;
  let off = 0;
  const inOff = off;
  const tin = bb.addTensor({ dtype: DTYPE.INT8, offset: off, bytes: inBytes });
  off = al(off + inBytes);
  const outOff = off;
  const tout = bb.addTensor({ dtype: DTYPE.INT8, offset: off, bytes: outBytes });
  off = al(off + outBytes);
  const sw = scratchWords(q.cell, u, steps);
  const tsc = bb.addTensor({ dtype: DTYPE.INT32, offset: off, bytes: sw * 4 });
  off = al(off + sw * 4);
  let maskOff = -1;
  let tmask: number | undefined;
  if (withMask) {
    maskOff = off;
    tmask = bb.addTensor({ dtype: DTYPE.INT32, offset: off, bytes: batch * steps * 4 });
    off = al(off + batch * steps * 4);
  }
  let soff = 0;
  const stateTensor = () => {
    if (keep) {
      const i = bb.addTensor({ dtype: DTYPE.INT16, storage: STORAGE.STATE, offset: soff, bytes: batch * u * 2 });
      soff = al(soff + batch * u * 2);
      return i;
    }
    const i = bb.addTensor({ dtype: DTYPE.INT16, offset: off, bytes: batch * u * 2 });
    off = al(off + batch * u * 2);
    return i;
  };
  const th = stateTensor();
  const tc = q.cell === 'LSTM' ? stateTensor() : undefined;
  const tensors = { in: tin, out: tout, hState: th, cState: tc, scratch: tsc, maskIds: tmask };
  const params = rnnOpParams(q, batch, steps, tensors, (bytes, align) => bb.addConst(bytes, align));
  const name = rnnOpName(q.cell);
  bb.addOp(name, params as Record<string, number>);
  const dims = seq ? [batch, steps, u] : [batch, u];
  const ins = [{ tensor: tin, dims: [batch, steps, q.inDim], scale: 1, zeroPoint: 0, name: 'x' }];
  if (tmask !== undefined) ins.push({ tensor: tmask, dims: [batch, steps], scale: 1, zeroPoint: 0, name: 'ids' });
  bb.setIO(ins, [{ tensor: tout, dims, scale: 1, zeroPoint: q.outZp, name: 'y' }]);
  bb.setPlan({ arenaSize: off, stateSize: soff, scratchSize: 0, batch });
  if (selfTest) bb.setSelfTest([selfTest.x], [selfTest.y]);
  const blob = bb.build({ validate });
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  return {
    blob,
    code: OP_BY_NAME[name].code,
    paramsOff: dv.getUint32(HEADER.opsOff, true) + OP_HEADER_SIZE,
    tensors,
    inBytes,
    outBytes,
    inOff,
    outOff,
    maskOff,
  };
}

/**
 * One blob in the real runtime (build/runtime.wasm through the DeviceSim host). The blob's CRC
 * is recomputed first, so a test may corrupt op params and see the op check's error code.
 */
export class RnnHarness {
  dev!: DeviceSim;
  prepareErr = 0;
  constructor(readonly b: OneOpBlob) {}
  async init(): Promise<this> {
    const blob = this.b.blob.slice();
    new DataView(blob.buffer).setUint32(HEADER.crc32, crc32(blob, 16, blob.length), true);
    this.dev = await DeviceSim.load();
    this.prepareErr = this.dev.init(blob);
    return this;
  }
  resetState(): void {
    if (this.dev.resetState() !== 0) throw new Error('kw_reset_state failed');
  }
  invoke(x: Int8Array, maskIds?: Int32Array): Int8Array {
    this.dev.setInputRaw(0, x);
    if (maskIds) this.dev.setInputRaw(1, maskIds);
    const e = this.dev.invoke();
    if (e !== 0) throw new Error(`kw_invoke error ${e}`);
    return Int8Array.from(this.dev.getOutputRaw(0));
  }
}
