/**
 * A minimal read of an int8 .tflite made only of FULLY_CONNECTED ops (MLPerf Tiny's ad01), through
 * the `flatbuffers` library's table API with the field ids of TFLite's published schema
 * (schema.fbs): enough for the tests to build their own int8 path from the file's tensors. The
 * project's reader (tools/readers) is the full one; this stays independent of it.
 */
import { ByteBuffer } from 'flatbuffers';

export interface FcLayer {
  inDim: number;
  outDim: number;
  /** int8 [outDim][inDim] */
  weights: Int8Array;
  /** int32 [outDim] */
  bias: Int32Array;
  inScale: number;
  inZp: number;
  /** per-tensor or per-channel filter scales */
  wScales: number[];
  outScale: number;
  outZp: number;
  /** fused activation: 0 NONE, 1 RELU, 3 RELU6 */
  activation: number;
}

const BUILTIN_FULLY_CONNECTED = 9;
const TYPE_INT8 = 9;

/** A table at `pos` of the buffer: field(id) gives the absolute position of the field, or 0. */
class Table {
  constructor(
    readonly bb: ByteBuffer,
    readonly pos: number,
  ) {}
  field(id: number): number {
    const o = this.bb.__offset(this.pos, 4 + 2 * id);
    return o ? this.pos + o : 0;
  }
  table(id: number): Table | null {
    const f = this.field(id);
    return f ? new Table(this.bb, this.bb.__indirect(f)) : null;
  }
  vecLen(id: number): number {
    const f = this.field(id);
    return f ? this.bb.__vector_len(f) : 0;
  }
  vecStart(id: number): number {
    return this.bb.__vector(this.field(id));
  }
  tables(id: number): Table[] {
    const n = this.vecLen(id);
    const s = n ? this.vecStart(id) : 0;
    return Array.from({ length: n }, (_, i) => new Table(this.bb, this.bb.__indirect(s + 4 * i)));
  }
  ints(id: number): number[] {
    const n = this.vecLen(id);
    const s = n ? this.vecStart(id) : 0;
    return Array.from({ length: n }, (_, i) => this.bb.readInt32(s + 4 * i));
  }
  floats(id: number): number[] {
    const n = this.vecLen(id);
    const s = n ? this.vecStart(id) : 0;
    return Array.from({ length: n }, (_, i) => this.bb.readFloat32(s + 4 * i));
  }
  longs(id: number): number[] {
    const n = this.vecLen(id);
    const s = n ? this.vecStart(id) : 0;
    return Array.from({ length: n }, (_, i) => Number(this.bb.readInt64(s + 8 * i)));
  }
  u8(id: number, dflt = 0): number {
    const f = this.field(id);
    return f ? this.bb.readUint8(f) : dflt;
  }
  i32(id: number, dflt = 0): number {
    const f = this.field(id);
    return f ? this.bb.readInt32(f) : dflt;
  }
  bytes(id: number): Uint8Array {
    const n = this.vecLen(id);
    return n ? this.bb.bytes().subarray(this.vecStart(id), this.vecStart(id) + n) : new Uint8Array(0);
  }
}

/** The FULLY_CONNECTED layers of a one-subgraph int8 model, in execution order. */
export function readFcModel(file: Uint8Array): FcLayer[] {
  const bb = new ByteBuffer(file);
  const model = new Table(bb, bb.readInt32(bb.position()) + bb.position());
  // Model: operator_codes 1, subgraphs 2, buffers 4. OperatorCode: deprecated_builtin_code 0 (byte), builtin_code 3
  const codes = model.tables(1).map((c) => Math.max(c.u8(0), c.i32(3)));
  const buffers = model.tables(4).map((b) => b.bytes(0));
  const [sg] = model.tables(2);
  // SubGraph: tensors 0, operators 3. Tensor: shape 0, type 1, buffer 2, quantization 4
  const tensors = sg.tables(0).map((t) => {
    const q = t.table(4); // QuantizationParameters: scale 2, zero_point 3
    return { shape: t.ints(0), type: t.u8(1), buffer: t.i32(2), scale: q?.floats(2) ?? [], zp: q?.longs(3) ?? [] };
  });
  // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options 4 (FullyConnectedOptions: fused_activation_function 0)
  return sg.tables(3).map((op, i) => {
    if (codes[op.i32(0)] !== BUILTIN_FULLY_CONNECTED) throw new Error(`op ${i} is not FULLY_CONNECTED`);
    const [x, w, b] = op.ints(1).map((k) => tensors[k]);
    const y = tensors[op.ints(2)[0]];
    if (x.type !== TYPE_INT8 || w.type !== TYPE_INT8 || y.type !== TYPE_INT8) throw new Error(`op ${i}: not int8`);
    const [outDim, inDim] = w.shape;
    const wb = buffers[w.buffer];
    const bb32 = buffers[b.buffer];
    return {
      inDim,
      outDim,
      weights: new Int8Array(wb.buffer, wb.byteOffset, outDim * inDim).slice(),
      bias: new Int32Array(bb32.slice().buffer, 0, outDim),
      inScale: x.scale[0],
      inZp: x.zp[0],
      wScales: w.scale,
      outScale: y.scale[0],
      outZp: y.zp[0],
      activation: op.table(4)?.u8(0) ?? 0,
    };
  });
}
