/**
 * parseBlob(bytes): checks a blob with the runtime's own validator (validate.ts runs kw_init of
 * the runtime .wasm) and then decodes it: header, tensors, I/O descriptors, ops with their
 * params by spec name, constants, self-test vector. A blob that parses here is one kw_init
 * accepts (memory limit aside); the messages name what the runtime refused.
 */
import { UserError, EXIT } from '../errors.ts';
import { crc32 } from './crc32.ts';
import {
  ERR,
  ERR_TEXT,
  FLAG,
  FORMAT_VERSION,
  HEADER,
  HEADER_SIZE,
  IO,
  IO_MAX_RANK,
  IO_SIZE,
  OP_HEADER_SIZE,
  OP_RECORD,
  OPS,
  type OpSpec,
  TENSOR,
  TENSOR_SIZE,
  TENSOR_META,
  TENSOR_META_SIZE,
  TENSOR_META_FLAG,
} from './spec.ts';
import { runtimeValidate } from './validate.ts';

export class BlobError extends UserError {
  readonly code: number;
  /** op / tensor / io index the error refers to, -1 if none (kw_error_op) */
  readonly index: number;
  constructor(code: number, index: number, detail: string, file = 'blob') {
    super(`${file}: ${ERR_TEXT[code] ?? `error ${code}`}${detail ? ` (${detail})` : ''}`, EXIT.BAD_INPUT);
    this.name = 'BlobError';
    this.code = code;
    this.index = index;
  }
}

interface BlobHeader {
  magic: number;
  version: number;
  headerSize: number;
  totalSize: number;
  crc32: number;
  flags: number;
  nTensors: number;
  nOps: number;
  nInputs: number;
  nOutputs: number;
  arenaSize: number;
  stateSize: number;
  scratchSize: number;
  tensorsOff: number;
  opsOff: number;
  opsSize: number;
  ioOff: number;
  constsOff: number;
  constsSize: number;
  selfTestOff: number;
  selfTestSize: number;
  opMask0: number;
  opMask1: number;
  batch: number;
  /** staging area a streaming runtime needs (0 = copy-in only) */
  stagingSize: number;
  /** the metadata section (whole names, tensor quantization), 0 if none */
  metaOff: number;
  metaSize: number;
}

/** What the metadata section says of a tensor (TENSOR_META). */
interface TensorMeta {
  /** the Keras tensor it holds, or the converter's name for an internal one */
  name: string;
  scale: number;
  zeroPoint: number;
  /** the last op that writes it, -1 if none */
  writer: number;
  /** it holds the output of the Keras layer `name` (not an alias, not int32) */
  layerOutput: boolean;
}

interface TensorInfo {
  dtype: number;
  storage: number;
  offset: number;
  bytes: number;
  elements: number;
  /** absent when the blob has no (or a malformed) metadata section */
  meta?: TensorMeta;
}

export interface IOInfo {
  tensor: number;
  dtype: number;
  rank: number;
  dims: number[];
  scale: number;
  zeroPoint: number;
  name: string;
  bytes: number;
}

type OpGroup = Record<string, number>;
/** Fixed params by spec name (the count param holds the group count) plus `groups` when the op has a repeat group. */
type OpParams = Record<string, number> & { groups?: OpGroup[] };

interface ParsedOp {
  index: number;
  code: number;
  name: string;
  /** the Keras layer the op comes from ('' when the blob has no metadata section) */
  layer: string;
  /** byte offset of the record inside the blob; its params start OP_HEADER_SIZE bytes later */
  offset: number;
  /** the op's range of the constants section (bytes a streaming runtime stages for it) */
  constsOff: number;
  constsSize: number;
  params: OpParams;
  raw: Int32Array;
}

export interface ParsedBlob {
  header: BlobHeader;
  tensors: TensorInfo[];
  io: { inputs: IOInfo[]; outputs: IOInfo[] };
  ops: ParsedOp[];
  consts: Uint8Array;
  selfTest: { inputs: Uint8Array[]; outputs: Uint8Array[] } | null;
}

export interface ParseOptions {
  /** file name for messages */
  file?: string;
  /** the runtime .wasm whose validator decides (default: build/runtime.wasm) */
  runtime?: Uint8Array;
}

const OP_BY_CODE: Map<number, OpSpec> = new Map(OPS.map((o) => [o.code, o]));

/** Check with the runtime's validator, then decode. Throws BlobError with the runtime's error code. */
export function parseBlob(bytes: Uint8Array, opts: ParseOptions = {}): ParsedBlob {
  const { code, index } = runtimeValidate(bytes, opts.runtime);
  if (code !== ERR.OK && code !== ERR.OUT_OF_MEMORY) throw new BlobError(code, index, explain(bytes, code, index), opts.file ?? 'blob');
  return decodeAcceptedBlob(bytes);
}

/** What the runtime refused, in words: read from the blob only as far as it is safe. */
function explain(bytes: Uint8Array, code: number, index: number): string {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => (o + 4 <= bytes.length ? dv.getUint32(o, true) : null);
  switch (code) {
    case ERR.BAD_SIZE:
      return bytes.length < HEADER_SIZE
        ? `${bytes.length} bytes is shorter than the ${HEADER_SIZE}-byte header`
        : `header says ${u32(HEADER.totalSize)} bytes, have ${bytes.length}`;
    case ERR.BAD_MAGIC:
      return `magic 0x${(u32(HEADER.magic) ?? 0).toString(16)}`;
    case ERR.BAD_VERSION:
      return `format version ${dv.getUint16(HEADER.version, true)}, this runtime reads ${FORMAT_VERSION}`;
    case ERR.BAD_CRC:
      return `stored 0x${(u32(HEADER.crc32) ?? 0).toString(16)}, computed 0x${crc32(bytes, 16, bytes.length).toString(16)}`;
    case ERR.BAD_TENSOR:
      return `tensor ${index}`;
    case ERR.BAD_IO: {
      const nIn = bytes.length >= HEADER_SIZE ? dv.getUint16(HEADER.nInputs, true) : 0;
      return index < nIn ? `input ${index}` : `output ${index - nIn}`;
    }
    case ERR.BAD_OP:
    case ERR.BAD_PARAMS:
    case ERR.BAD_CONST:
    case ERR.UNSUPPORTED_OP:
      return index >= 0 ? `op ${index}${opNameAt(bytes, index)}` : '';
    default:
      return index >= 0 ? `index ${index}` : '';
  }
}

/** ' (NAME)' of op `index` when the op list can be walked that far inside the blob, else ''. */
function opNameAt(bytes: Uint8Array, index: number): string {
  if (bytes.length < HEADER_SIZE) return '';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = dv.getUint32(HEADER.opsOff, true);
  for (let i = 0; pos + OP_HEADER_SIZE <= bytes.length; i++) {
    const spec = OP_BY_CODE.get(dv.getUint16(pos + OP_RECORD.code, true));
    if (i === index) return spec ? ` (${spec.name})` : '';
    pos += OP_HEADER_SIZE + 4 * dv.getUint16(pos + OP_RECORD.nParams, true);
  }
  return '';
}

/** Decode a blob the runtime accepted (every offset and size below has been checked by it). */
export function decodeAcceptedBlob(bytes: Uint8Array): ParsedBlob {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = readHeader(dv);
  const tensors: TensorInfo[] = [];
  for (let i = 0; i < h.nTensors; i++) {
    const o = h.tensorsOff + i * TENSOR_SIZE;
    const t = { dtype: dv.getUint8(o + TENSOR.dtype), storage: dv.getUint8(o + TENSOR.storage), offset: dv.getUint32(o + TENSOR.offset, true) };
    tensors.push({ ...t, bytes: dv.getUint32(o + TENSOR.bytes, true), elements: dv.getUint32(o + TENSOR.elements, true) });
  }
  const ios = Array.from({ length: h.nInputs + h.nOutputs }, (_, i) => readIO(bytes, dv, h.ioOff + i * IO_SIZE, tensors));
  const ops: ParsedOp[] = [];
  for (let i = 0, pos = h.opsOff; i < h.nOps; i++) {
    const code = dv.getUint16(pos + OP_RECORD.code, true);
    const raw = new Int32Array(dv.getUint16(pos + OP_RECORD.nParams, true));
    for (let k = 0; k < raw.length; k++) raw[k] = dv.getInt32(pos + OP_HEADER_SIZE + 4 * k, true);
    const spec = OP_BY_CODE.get(code)!;
    const range = { constsOff: dv.getUint32(pos + OP_RECORD.constsOff, true), constsSize: dv.getUint32(pos + OP_RECORD.constsSize, true) };
    ops.push({ index: i, code, name: spec.name, layer: '', offset: pos, ...range, params: decodeParams(spec, raw), raw });
    pos += OP_HEADER_SIZE + 4 * raw.length;
  }
  applyMeta(bytes, h, ios, ops, tensors);
  const consts = bytes.subarray(h.constsOff, h.constsOff + h.constsSize);
  const selfTest = h.flags & FLAG.HAS_SELFTEST ? readSelfTest(bytes, h, ios) : null;
  return { header: h, tensors, io: { inputs: ios.slice(0, h.nInputs), outputs: ios.slice(h.nInputs) }, ops, consts, selfTest };
}

/**
 * Whole names and tensor metadata from the metadata section (the runtime checked only its
 * bounds): I/O names replace the descriptors' 16-byte ones, layer names go to the ops, tensor
 * names and TENSOR_META records to the tensors. A section that ends early leaves the rest as
 * they are.
 */
function applyMeta(bytes: Uint8Array, h: BlobHeader, ios: IOInfo[], ops: ParsedOp[], tensors: TensorInfo[]): void {
  if (h.metaSize === 0) return;
  const sec = bytes.subarray(h.metaOff, h.metaOff + h.metaSize);
  const nNames = ios.length + ops.length + tensors.length;
  const names: string[] = [];
  let at = 0;
  while (names.length < nNames) {
    const end = sec.indexOf(0, at);
    if (end < 0) break;
    names.push(new TextDecoder().decode(sec.subarray(at, end)));
    at = end + 1;
  }
  ios.forEach((io, i) => {
    if (i < names.length) io.name = names[i];
  });
  ops.forEach((op, i) => {
    if (ios.length + i < names.length) op.layer = names[ios.length + i];
  });
  if (names.length < nNames) return;
  const recs = (h.metaOff + at + 3) & ~3;
  if (recs + tensors.length * TENSOR_META_SIZE > h.metaOff + h.metaSize) return;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  tensors.forEach((t, i) => {
    const o = recs + i * TENSOR_META_SIZE;
    t.meta = {
      name: names[ios.length + ops.length + i],
      scale: dv.getFloat32(o + TENSOR_META.scale, true),
      zeroPoint: dv.getInt32(o + TENSOR_META.zeroPoint, true),
      writer: dv.getUint16(o + TENSOR_META.writer, true) - 1,
      layerOutput: (dv.getUint16(o + TENSOR_META.flags, true) & TENSOR_META_FLAG.LAYER_OUTPUT) !== 0,
    };
  });
}

function readIO(bytes: Uint8Array, dv: DataView, o: number, tensors: TensorInfo[]): IOInfo {
  const ti = dv.getUint16(o + IO.tensor, true);
  const rank = dv.getUint8(o + IO.rank);
  const dims: number[] = [];
  for (let d = 0; d < Math.min(rank, IO_MAX_RANK); d++) dims.push(dv.getUint32(o + IO.dims + 4 * d, true));
  const nameBytes = bytes.subarray(o + IO.name, o + IO.name + 16);
  const nul = nameBytes.indexOf(0);
  const name = new TextDecoder().decode(nameBytes.subarray(0, nul < 0 ? 16 : nul));
  const scale = dv.getFloat32(o + IO.scale, true);
  return { tensor: ti, dtype: dv.getUint8(o + IO.dtype), rank, dims, scale, zeroPoint: dv.getInt32(o + IO.zeroPoint, true), name, bytes: tensors[ti].bytes };
}

function readSelfTest(bytes: Uint8Array, h: BlobHeader, ios: IOInfo[]): ParsedBlob['selfTest'] {
  let p = h.selfTestOff;
  const take = (n: number) => bytes.subarray(p, (p += n));
  const inputs = ios.slice(0, h.nInputs).map((io) => take(io.bytes));
  const outputs = ios.slice(h.nInputs).map((io) => take(io.bytes));
  return { inputs, outputs };
}

/** Decode a group-carrying raw param array into a params object. */
function decodeParams(spec: OpSpec, raw: Int32Array | number[]): OpParams {
  const params: OpParams = {} as OpParams;
  spec.params.forEach((p, i) => (params[p] = raw[i]));
  if (spec.repeat) {
    const groups: OpGroup[] = [];
    const rn = spec.repeat.fields.length;
    for (let k = spec.params.length; k + rn <= raw.length; k += rn) {
      const g: OpGroup = {};
      spec.repeat.fields.forEach((f, j) => (g[f] = raw[k + j]));
      groups.push(g);
    }
    params.groups = groups;
  }
  return params;
}

function readHeader(dv: DataView): BlobHeader {
  const u32 = (o: number) => dv.getUint32(o, true);
  const u16 = (o: number) => dv.getUint16(o, true);
  return {
    magic: u32(HEADER.magic),
    version: u16(HEADER.version),
    headerSize: u16(HEADER.headerSize),
    totalSize: u32(HEADER.totalSize),
    crc32: u32(HEADER.crc32),
    flags: u32(HEADER.flags),
    nTensors: u16(HEADER.nTensors),
    nOps: u16(HEADER.nOps),
    nInputs: u16(HEADER.nInputs),
    nOutputs: u16(HEADER.nOutputs),
    arenaSize: u32(HEADER.arenaSize),
    stateSize: u32(HEADER.stateSize),
    scratchSize: u32(HEADER.scratchSize),
    tensorsOff: u32(HEADER.tensorsOff),
    opsOff: u32(HEADER.opsOff),
    opsSize: u32(HEADER.opsSize),
    ioOff: u32(HEADER.ioOff),
    constsOff: u32(HEADER.constsOff),
    constsSize: u32(HEADER.constsSize),
    selfTestOff: u32(HEADER.selfTestOff),
    selfTestSize: u32(HEADER.selfTestSize),
    opMask0: u32(HEADER.opMask0),
    opMask1: u32(HEADER.opMask1),
    batch: u32(HEADER.batch),
    stagingSize: u32(HEADER.stagingSize),
    metaOff: u32(HEADER.metaOff),
    metaSize: u32(HEADER.metaSize),
  };
}
