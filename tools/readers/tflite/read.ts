/**
 * The TFLite flatbuffer reader: the tensors (shape, type, quantization, constant data), the
 * operators (opcode, version, builtin options), the subgraph's inputs and outputs and the
 * metadata, read with the `flatbuffers` library through the TypeScript that flatc generates from
 * the project's schema subset (tflite-subset.fbs). The library does not verify a buffer, so every
 * table, vector and string is checked against the file's bounds before it is read; constant
 * data is checked against its tensor's size. What the converter can run is not decided here
 * (tools/layers/tflite.ts lints that), only whether the file is a well-formed model.
 */
import * as flatbuffers from 'flatbuffers';
import { badFile } from '../../errors.ts';
import { builtinName, typeName, TYPE_BYTES } from './ops.ts';
import { BuiltinOptions, Model, Operator, OperatorCode, SubGraph, Tensor } from './generated/tflite-subset_generated.ts';
import { readOptions } from './options.ts';

interface TfliteQuant {
  scale: number[];
  zeroPoint: number[];
  /** quantized_dimension: the axis the scales run along when there are several. */
  axis: number;
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  /** TensorType as a lower-case name: 'int8', 'int32', 'float32', ... */
  type: string;
  /** The constant data (little-endian), null for activations. */
  data: Uint8Array | null;
  quant: TfliteQuant | null;
  isVariable: boolean;
  sparse: boolean;
}

export interface TfliteOp {
  index: number;
  /** The builtin operator's name ('CONV_2D', ...), or 'CUSTOM' (then `custom` names it). */
  opcode: string;
  custom: string | null;
  version: number;
  /** Tensor indices; -1 is an omitted optional input. */
  inputs: number[];
  outputs: number[];
  /** The builtin options by TFLite's field names, null when the op has none. */
  options: Record<string, any> | null;
}

export interface TfliteModel {
  file: string;
  schemaVersion: number;
  description: string;
  subgraphs: number;
  tensors: TfliteTensor[];
  ops: TfliteOp[];
  inputs: number[];
  outputs: number[];
  metadata: { name: string; bytes: Uint8Array }[];
}

/** A `file: what` error for a file that is not a well-formed TFLite model. */
type Fail = (what: string) => never;

/** Bounds checks on what the generated accessors read (the library itself reads past the end as zeros). */
function bounds(bb: flatbuffers.ByteBuffer, fail: Fail) {
  const cap = bb.capacity();
  const table = (t: { bb_pos: number }, what: string) => {
    const p = t.bb_pos;
    if (!(p >= 0 && p + 4 <= cap)) fail(`${what} lies outside the file (corrupt or truncated flatbuffer)`);
    const vt = p - bb.readInt32(p);
    if (!(vt >= 0 && vt + 4 <= cap)) fail(`${what}: vtable outside the file (corrupt or truncated flatbuffer)`);
    const vtLen = bb.readUint16(vt);
    const objLen = bb.readUint16(vt + 2);
    if (vtLen < 4 || vtLen % 2 !== 0 || vt + vtLen > cap || p + objLen > cap) fail(`${what}: table outside the file (corrupt or truncated flatbuffer)`);
    for (let i = 4; i < vtLen; i += 2) if (bb.readUint16(vt + i) >= Math.max(objLen, 4)) fail(`${what}: field outside its table (corrupt flatbuffer)`);
  };
  /** Field `id` of table `t` holds a vector (or string) of `elem`-byte elements inside the file. */
  const vector = (t: { bb_pos: number }, id: number, elem: number, what: string) => {
    const off = bb.__offset(t.bb_pos, 4 + 2 * id);
    if (!off) return;
    const at = t.bb_pos + off;
    if (at + 4 > cap) fail(`${what} lies outside the file (corrupt or truncated flatbuffer)`);
    const start = bb.__vector(at);
    if (start - 4 < 0 || start > cap) fail(`${what} lies outside the file (corrupt or truncated flatbuffer)`);
    const n = bb.__vector_len(at);
    if (n < 0 || start + n * elem > cap) fail(`${what}: ${n} elements run past the end of the file (corrupt or truncated flatbuffer)`);
    if (elem > 1 && start % Math.min(elem, 8) !== 0) fail(`${what}: misaligned vector (corrupt flatbuffer)`);
  };
  return { table, vector };
}

type Bounds = ReturnType<typeof bounds>;

function readQuant(t: Tensor, B: Bounds, what: string): TfliteQuant | null {
  const q = t.quantization();
  if (!q) return null;
  B.table(q, `${what} quantization`);
  B.vector(q, 2, 4, `${what} scales`);
  B.vector(q, 3, 8, `${what} zero points`);
  const scale = Array.from(q.scaleArray() ?? []);
  const zeroPoint: number[] = [];
  for (let i = 0; i < q.zeroPointLength(); i++) zeroPoint.push(Number(q.zeroPoint(i)));
  if (q.detailsType() !== 0) return { scale: [NaN], zeroPoint, axis: -2 }; // custom quantization: refused by checkQuant
  if (scale.length === 0 && zeroPoint.length === 0) return null;
  return { scale, zeroPoint, axis: q.quantizedDimension() };
}

interface RawBuffer {
  data: Uint8Array | null;
}

function readBuffers(m: Model, file: Uint8Array, B: Bounds, fail: Fail): RawBuffer[] {
  B.vector(m, 4, 4, 'the buffer list');
  const out: RawBuffer[] = [];
  for (let i = 0; i < m.buffersLength(); i++) {
    const b = m.buffers(i)!;
    B.table(b, `buffer ${i}`);
    B.vector(b, 0, 1, `buffer ${i} data`);
    const offset = b.offset();
    const size = b.size();
    if (offset > 1n) {
      // data stored after the flatbuffer (models above 2 GB): an offset from the file's start
      if (offset + size > BigInt(file.length)) fail(`buffer ${i}: ${size} bytes at offset ${offset} run past the end of the file (${file.length} bytes)`);
      out.push({ data: file.subarray(Number(offset), Number(offset + size)) });
    } else out.push({ data: b.dataArray() });
  }
  return out;
}

function readTensor(t: Tensor, index: number, buffers: RawBuffer[], B: Bounds, fail: Fail): TfliteTensor {
  const what = `tensor ${index}`;
  B.table(t, what);
  B.vector(t, 0, 4, `${what} shape`);
  B.vector(t, 3, 1, `${what} name`);
  const name = t.name() ?? `tensor_${index}`;
  const shape = Array.from(t.shapeArray() ?? []);
  if (shape.some((d) => !(d >= 1 || d === -1)) || shape.length > 8) fail(`tensor ${index} '${name}': shape [${shape}] is not a valid tensor shape`);
  const type = typeName(t.type());
  const bi = t.buffer();
  if (bi >= buffers.length) fail(`tensor ${index} '${name}': buffer index ${bi} is outside the model's ${buffers.length} buffers`);
  let data = bi > 0 ? buffers[bi].data : null;
  if (data && data.length === 0) data = null;
  if (data) {
    const count = shape.reduce((a, b) => a * b, 1);
    const size = TYPE_BYTES[type];
    if (size !== undefined && data.length !== count * size)
      fail(`tensor ${index} '${name}': its buffer holds ${data.length} bytes, its shape [${shape}] of ${type} needs ${count * size}`);
  }
  if (t.sparsity()) B.table(t.sparsity()!, `${what} sparsity`);
  return { index, name, shape, type, data, quant: readQuant(t, B, `${what} '${name}'`), isVariable: t.isVariable(), sparse: t.sparsity() !== null };
}

/** The opcode as TFLite resolves it: the larger of deprecated_builtin_code and builtin_code. */
function opcodeOf(c: OperatorCode): number {
  return Math.max(c.deprecatedBuiltinCode(), c.builtinCode());
}

function readOperator(op: Operator, index: number, codes: OperatorCode[], nTensors: number, B: Bounds, fail: Fail): TfliteOp {
  B.table(op, `operator ${index}`);
  B.vector(op, 1, 4, `operator ${index} inputs`);
  B.vector(op, 2, 4, `operator ${index} outputs`);
  const ci = op.opcodeIndex();
  if (ci >= codes.length) fail(`operator ${index}: opcode index ${ci} is outside the model's ${codes.length} operator codes`);
  const code = codes[ci];
  const opcode = builtinName(opcodeOf(code));
  const inputs = Array.from(op.inputsArray() ?? []);
  const outputs = Array.from(op.outputsArray() ?? []);
  for (const t of [...inputs, ...outputs])
    if (t < -1 || t >= nTensors) fail(`operator ${index} (${opcode}): tensor index ${t} is outside the subgraph's ${nTensors} tensors`);
  if (outputs.includes(-1)) fail(`operator ${index} (${opcode}): an output tensor index is -1`);
  const type = op.builtinOptionsType();
  let options: Record<string, any> | null = null;
  if (type !== BuiltinOptions.NONE) {
    const read = readOptions(op, type, B, `operator ${index} (${opcode}) options`);
    options = read ?? { unreadType: type };
  }
  return { index, opcode, custom: code.customCode(), version: code.version(), inputs, outputs, options };
}

function readCodes(m: Model, B: Bounds): OperatorCode[] {
  B.vector(m, 1, 4, 'the operator code list');
  const codes: OperatorCode[] = [];
  for (let i = 0; i < m.operatorCodesLength(); i++) {
    const c = m.operatorCodes(i)!;
    B.table(c, `operator code ${i}`);
    B.vector(c, 1, 1, `operator code ${i} custom name`);
    codes.push(c);
  }
  return codes;
}

function readSubgraph(g: SubGraph, m: Model, buffers: RawBuffer[], B: Bounds, fail: Fail) {
  B.table(g, 'subgraph 0');
  for (const [id, what] of [
    [0, 'tensor list'],
    [1, 'input list'],
    [2, 'output list'],
    [3, 'operator list'],
  ] as const)
    B.vector(g, id, 4, `subgraph 0 ${what}`);
  const tensors: TfliteTensor[] = [];
  for (let i = 0; i < g.tensorsLength(); i++) tensors.push(readTensor(g.tensors(i)!, i, buffers, B, fail));
  for (const t of tensors) checkQuant(t, fail);
  const codes = readCodes(m, B);
  const ops: TfliteOp[] = [];
  for (let i = 0; i < g.operatorsLength(); i++) ops.push(readOperator(g.operators(i)!, i, codes, tensors.length, B, fail));
  const inputs = Array.from(g.inputsArray() ?? []);
  const outputs = Array.from(g.outputsArray() ?? []);
  for (const t of [...inputs, ...outputs])
    if (!(t >= 0 && t < tensors.length)) fail(`subgraph input/output tensor index ${t} is outside its ${tensors.length} tensors`);
  return { tensors, ops, inputs, outputs };
}

function readMetadata(m: Model, buffers: RawBuffer[], B: Bounds, fail: Fail) {
  B.vector(m, 6, 4, 'the metadata list');
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (let i = 0; i < m.metadataLength(); i++) {
    const md = m.metadata(i)!;
    B.table(md, `metadata ${i}`);
    B.vector(md, 0, 1, `metadata ${i} name`);
    const bi = md.buffer();
    if (bi >= buffers.length) fail(`metadata ${i}: buffer index ${bi} is outside the model's ${buffers.length} buffers`);
    out.push({ name: md.name() ?? '', bytes: buffers[bi].data ?? new Uint8Array(0) });
  }
  return out;
}

const TYPE_RANGE: Record<string, [number, number]> = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], int32: [0, 0], int64: [0, 0] };

/** Scales finite and > 0, zero points inside the type, one scale or one per channel of the quantized dimension. */
function checkQuant(t: TfliteTensor, fail: Fail): void {
  const q = t.quant;
  if (!q) return;
  const what = `tensor ${t.index} '${t.name}'`;
  if (q.axis === -2) fail(`${what}: custom quantization details are not supported`);
  const bad = q.scale.findIndex((s) => !(s > 0) || !Number.isFinite(s));
  if (bad >= 0) fail(`${what}: quantization scale ${q.scale[bad]} (index ${bad}); a scale must be finite and > 0`);
  const range = TYPE_RANGE[t.type];
  const zb = q.zeroPoint.findIndex((z) => range && (z < range[0] || z > range[1]));
  if (zb >= 0)
    fail(
      range[0] === range[1]
        ? `${what}: zero point ${q.zeroPoint[zb]}; a ${t.type} tensor's zero point must be 0`
        : `${what}: zero point ${q.zeroPoint[zb]} is outside ${t.type}'s range [${range[0]}, ${range[1]}]`,
    );
  if (q.zeroPoint.length !== q.scale.length && q.zeroPoint.length > 1) fail(`${what}: ${q.scale.length} scales but ${q.zeroPoint.length} zero points`);
  if (q.scale.length > 1) {
    if (!(q.axis >= 0 && q.axis < t.shape.length)) fail(`${what}: quantized_dimension ${q.axis} is outside its rank ${t.shape.length}`);
    if (t.shape[q.axis] !== q.scale.length) fail(`${what}: ${q.scale.length} scales along dimension ${q.axis} of size ${t.shape[q.axis]}`);
  }
}

/** The identifier at bytes 4..8, printable for messages. */
function fileIdentifier(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(4, 8), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '?')).join('');
}

/** Parse a .tflite file; `file` names it in messages. Throws a one-line UserError for a malformed file. */
export function readTflite(file: string, bytes: Uint8Array): TfliteModel {
  const fail: Fail = (what) => {
    throw badFile(file, what);
  };
  if (bytes.length < 8) fail(`truncated TFLite file (${bytes.length} bytes)`);
  if (fileIdentifier(bytes) !== 'TFL3') fail(`not a TFLite model: file identifier '${fileIdentifier(bytes)}', expected 'TFL3'`);
  const bb = new flatbuffers.ByteBuffer(bytes);
  const B = bounds(bb, fail);
  const root = bb.readUint32(0);
  if (root + 4 > bytes.length) fail('root table outside the file (corrupt or truncated flatbuffer)');
  const m = Model.getRootAsModel(bb);
  B.table(m, 'the model table');
  B.vector(m, 2, 4, 'the subgraph list');
  B.vector(m, 3, 1, 'the description');
  const n = m.subgraphsLength();
  if (n === 0) fail('the model has no subgraph');
  if (n > 1)
    fail(`the model has ${n} subgraphs; only single-subgraph models are supported (control flow such as WHILE/IF or several signatures add subgraphs)`);
  const buffers = readBuffers(m, bytes, B, fail);
  const g = readSubgraph(m.subgraphs(0)!, m, buffers, B, fail);
  return { file, schemaVersion: m.version(), description: m.description() ?? '', subgraphs: n, ...g, metadata: readMetadata(m, buffers, B, fail) };
}
