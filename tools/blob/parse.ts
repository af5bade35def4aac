/**
 * parseBlob(bytes): the TypeScript mirror of the runtime's validation (assembly/blob.ts and the
 * prepare part of assembly/ops/*.ts). Same checks, same order, same error codes: a blob that
 * parses here is accepted by kw_init (memory limit aside) and vice versa.
 */
import { checkRecurrentOp } from './check-rnn.ts';
import { UserError, EXIT } from '../errors.ts';
import { crc32 } from './crc32.ts';
import {
  ALIGN,
  DTYPE,
  DTYPE_BYTES,
  ERR,
  ERR_TEXT,
  FLAG,
  FORMAT_VERSION,
  HEADER,
  HEADER_SIZE,
  IO,
  IO_MAX_RANK,
  IO_SIZE,
  LIMITS,
  MAGIC,
  OPS,
  type OpSpec,
  TENSOR,
  TENSOR_SIZE,
} from './spec.ts';

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
}

interface TensorInfo {
  dtype: number;
  storage: number;
  offset: number;
  bytes: number;
  elements: number;
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
  /** byte offset of the record inside the blob */
  offset: number;
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
  /** op-code mask of the runtime the blob is checked for (default: runtimeOpMask(), what build/runtime.wasm implements) */
  runtimeMask?: [number, number];
  /** skip the CRC check (never for real blobs; used by tests that patch fields) */
  skipCrc?: boolean;
}

const OP_BY_CODE: Map<number, OpSpec> = new Map(OPS.map((o) => [o.code, o]));

function formatOpMask(): [number, number] {
  let m0 = 0;
  let m1 = 0;
  for (const o of OPS) {
    if (o.code < 32) m0 |= 1 << o.code;
    else m1 |= 1 << (o.code - 32);
  }
  return [m0 >>> 0, m1 >>> 0];
}

/** ops whose checks (and runtime kernels) exist: the op mask of build/runtime.wasm (kw_op_mask). */
const IMPLEMENTED_OPS = [
  'DENSE',
  'CONV2D',
  'DEPTHWISE_CONV2D',
  'MAX_POOL2D',
  'AVG_POOL2D',
  'ADD_N',
  'MUL',
  'MAXMIN',
  'CONCAT',
  'SOFTMAX',
  'LUT',
  'PRELU',
  'LAYOUT',
  'GATHER',
  'REQUANT',
  'SIMPLE_RNN',
  'GRU',
  'LSTM',
];

export function runtimeOpMask(): [number, number] {
  let m0 = 0;
  let m1 = 0;
  for (const o of OPS) {
    if (!IMPLEMENTED_OPS.includes(o.name)) continue;
    if (o.code < 32) m0 |= 1 << o.code;
    else m1 |= 1 << (o.code - 32);
  }
  return [m0 >>> 0, m1 >>> 0];
}

const I8 = 1 << DTYPE.INT8;
const I16 = 1 << DTYPE.INT16;
const I32 = 1 << DTYPE.INT32;
const CAP = 2 ** 40;

/** a*b saturating at 2^40 (a, b >= 0), identical to the runtime's cmul. */
function cmul(a: number, b: number): number {
  if (b !== 0 && a > Math.floor(CAP / b)) return CAP;
  const p = a * b;
  return p > CAP ? CAP : p;
}

/** e == product of factors, every factor >= 1 (exact, overflow-free). */
function prodEq(e: number, factors: number[]): boolean {
  for (const f of factors) {
    if (f < 1) return false;
    if (e % f !== 0) return false;
    e = e / f;
  }
  return e === 1;
}

function dtypeMin(dt: number): number {
  return dt === DTYPE.INT8 ? -128 : dt === DTYPE.INT16 ? -32768 : -2147483648;
}
function dtypeMax(dt: number): number {
  return dt === DTYPE.INT8 ? 127 : dt === DTYPE.INT16 ? 32767 : 2147483647;
}

class Fail extends Error {
  constructor(
    readonly code: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Context for per-op checks: the same helpers as assembly/blob.ts. */
class OpCheck {
  constructor(
    readonly tensors: TensorInfo[],
    readonly consts: DataView,
    readonly constsSize: number,
    readonly P: Int32Array,
    readonly spec: OpSpec,
  ) {}
  name(i: number): string {
    const s = this.spec;
    if (i < s.params.length) return s.params[i];
    const r = s.repeat!;
    const k = i - s.params.length;
    return `${r.fields[k % r.fields.length]}[${Math.floor(k / r.fields.length)}]`;
  }
  fail(i: number, what: string): never {
    throw new Fail(ERR.BAD_PARAMS, `${this.spec.name}.${this.name(i)}=${this.P[i]}: ${what}`);
  }
  /** tensor index param with an allowed dtype mask; returns its element count */
  tensor(i: number, mask: number): number {
    const t = this.P[i];
    if (t < 0 || t >= this.tensors.length) this.fail(i, `no such tensor (have ${this.tensors.length})`);
    if (!((1 << this.tensors[t].dtype) & mask)) this.fail(i, `tensor dtype ${this.tensors[t].dtype} not allowed`);
    return this.tensors[t].elements;
  }
  dtypeOf(i: number): number {
    return this.tensors[this.P[i]].dtype;
  }
  range(i: number, lo: number, hi: number): number {
    const v = this.P[i];
    if (v < lo || v > hi) this.fail(i, `must be in [${lo}, ${hi}]`);
    return v;
  }
  dim(i: number): number {
    return this.range(i, 1, 0x7fffffff);
  }
  geom(i: number): number {
    return this.range(i, 1, LIMITS.MAX_GEOM);
  }
  pad(i: number): number {
    return this.range(i, 0, LIMITS.MAX_GEOM);
  }
  zp8(i: number): number {
    return this.range(i, -128, 127);
  }
  shiftP(i: number): number {
    return this.range(i, -31, 30);
  }
  act(iMin: number, iMax: number): void {
    this.range(iMin, -128, 127);
    this.range(iMax, this.P[iMin], 127);
  }
  prod(i: number, e: number, factors: number[], what: string): void {
    if (!prodEq(e, factors)) this.fail(i, `${what}: tensor has ${e} elements, params give ${factors.join('*')}`);
  }
  /** const byte offset param: `bytes` inside the constants section, `align`-aligned; -1 allowed when optional */
  cnst(i: number, bytes: number, align: number, optional = false): number {
    const off = this.P[i];
    if (optional && off === -1) return -1;
    if (off < 0 || off % align !== 0 || off + bytes > this.constsSize) {
      throw new Fail(
        ERR.BAD_CONST,
        `${this.spec.name}.${this.name(i)}=${off}: ${bytes} bytes (align ${align}) outside constants section of ${this.constsSize} bytes`,
      );
    }
    return off;
  }
  /** every int8 shift value of a const array in [-31, 30] (format 2: per-channel shifts are int8) */
  shiftArray(i: number, off: number, n: number): void {
    for (let k = 0; k < n; k++) {
      const s = this.consts.getInt8(off + k);
      if (s < -31 || s > 30) this.fail(i, `shift[${k}]=${s} outside [-31, 30]`);
    }
  }
  /**
   * multiplier param: 0 or in [2^30, 2^31) (TFLite QuantizeMultiplier); `neg` (ADD_N inputs) also
   * allows (-2^31, -2^30]. Mirrors cMult in assembly/check.ts.
   */
  mult(i: number, neg = false): void {
    const m = this.P[i];
    if (m !== 0 && m < 0x40000000 && !(neg && m <= -0x40000000 && m !== -0x80000000)) {
      this.fail(i, neg ? 'multiplier must be 0 or |m| in [2^30, 2^31)' : 'multiplier must be 0 or in [2^30, 2^31)');
    }
  }
  /** every int32 multiplier of a const array is 0 or in [2^30, 2^31) (cMultArray) */
  multArray(i: number, off: number, n: number): void {
    for (let k = 0; k < n; k++) {
      const m = this.consts.getInt32(off + 4 * k, true);
      if (m !== 0 && m < 0x40000000) this.fail(i, `mult[${k}]=${m} must be 0 or in [2^30, 2^31)`);
    }
  }
  /** (out-1)*stride + (k-1)*dil + MAX_GEOM < MAX_REGION */
  extent(i: number, out: number, stride: number, k: number, dil: number): void {
    if (cmul(out - 1, stride) + cmul(k - 1, dil) + LIMITS.MAX_GEOM >= LIMITS.MAX_REGION) this.fail(i, 'geometry too large');
  }
}

function checkConvLike(c: OpCheck, depthwise: boolean): void {
  const P = c.P;
  const eIn = c.tensor(0, I8);
  const eOut = c.tensor(1, I8);
  const batch = c.dim(2);
  const inH = c.dim(3);
  const inW = c.dim(4);
  const inC = c.dim(5);
  const outH = c.dim(6);
  const outW = c.dim(7);
  const oc = c.dim(8); // outC or depthMult
  c.prod(0, eIn, [batch, inH, inW, inC], 'input');
  if (depthwise) c.prod(1, eOut, [batch, outH, outW, inC, oc], 'output');
  else c.prod(1, eOut, [batch, outH, outW, oc], 'output');
  const kH = c.geom(9);
  const kW = c.geom(10);
  const sH = c.geom(11);
  const sW = c.geom(12);
  const dH = c.geom(13);
  const dW = c.geom(14);
  c.pad(15);
  c.pad(16);
  c.extent(6, outH, sH, kH, dH);
  c.extent(7, outW, sW, kW, dW);
  c.zp8(17);
  c.zp8(22);
  c.act(23, 24);
  const outC = depthwise ? cmul(inC, oc) : oc;
  let icg = inC;
  if (!depthwise) {
    const groups = c.dim(26);
    if (inC % groups !== 0 || outC % groups !== 0) c.fail(26, `groups must divide inC=${inC} and outC=${outC}`);
    icg = inC / groups;
    if (c.range(27, 0, 1) === 1 && groups !== 1) c.fail(27, `layout 1 needs groups=1, got ${groups}`);
  }
  const wBytes = depthwise ? cmul(cmul(kH, kW), outC) : cmul(cmul(cmul(outC, kH), kW), icg);
  c.cnst(18, wBytes, 1);
  c.cnst(19, cmul(outC, 4), 4, true);
  const mo = c.cnst(20, cmul(outC, 4), 4);
  const sh = c.cnst(21, outC, 1);
  c.cnst(25, 256, 1, true);
  c.shiftArray(21, sh, outC);
  c.multArray(20, mo, outC);
  void P;
}

function checkPool(c: OpCheck): void {
  const eIn = c.tensor(0, I8);
  const eOut = c.tensor(1, I8);
  const batch = c.dim(2);
  const inH = c.dim(3);
  const inW = c.dim(4);
  const ch = c.dim(5);
  const outH = c.dim(6);
  const outW = c.dim(7);
  c.prod(0, eIn, [batch, inH, inW, ch], 'input');
  c.prod(1, eOut, [batch, outH, outW, ch], 'output');
  const kH = c.geom(8);
  const kW = c.geom(9);
  const sH = c.geom(10);
  const sW = c.geom(11);
  const pT = c.pad(12);
  const pL = c.pad(13);
  c.extent(6, outH, sH, kH, 1);
  c.extent(7, outW, sW, kW, 1);
  // every window must hold at least one in-bounds tap
  if (kH <= pT || (outH - 1) * sH - pT >= inH) c.fail(12, 'a pooling window lies entirely in the padding (H)');
  if (kW <= pL || (outW - 1) * sW - pL >= inW) c.fail(13, 'a pooling window lies entirely in the padding (W)');
  c.act(14, 15);
}

/** The per-op checks. Throws Fail. */
/** Checks of the arithmetic and merge ops (DENSE .. MUL); other ops go to checkOpRest. */
function checkOp(c: OpCheck): void {
  const P = c.P;
  const s = c.spec;
  const nf = s.params.length;
  const rn = s.repeat ? s.repeat.fields.length : 0;
  const n = s.repeat ? P[s.params.indexOf(s.repeat.countParam)] : 0;
  switch (s.name) {
    case 'DENSE': {
      const eIn = c.tensor(0, I8);
      const eOut = c.tensor(1, I8);
      const rows = c.dim(2);
      const inDim = c.dim(3);
      const outDim = c.dim(4);
      c.prod(0, eIn, [rows, inDim], 'input');
      c.prod(1, eOut, [rows, outDim], 'output');
      c.zp8(9);
      c.act(10, 11);
      c.range(13, 0, 1);
      c.cnst(5, cmul(outDim, inDim), 1);
      c.cnst(6, cmul(outDim, 4), 4, true);
      const mo = c.cnst(7, cmul(outDim, 4), 4);
      const sh = c.cnst(8, outDim, 1);
      c.cnst(12, 256, 1, true);
      c.shiftArray(8, sh, outDim);
      c.multArray(7, mo, outDim);
      return;
    }
    case 'CONV2D':
      return checkConvLike(c, false);
    case 'DEPTHWISE_CONV2D':
      return checkConvLike(c, true);
    case 'MAX_POOL2D':
    case 'AVG_POOL2D':
      return checkPool(c);
    case 'ADD_N': {
      const eOut = c.tensor(0, I8);
      const count = c.dim(1);
      c.prod(0, eOut, [count], 'output');
      c.zp8(2);
      c.act(3, 4);
      c.range(5, 0, LIMITS.MAX_LEFT_SHIFT);
      c.mult(6);
      c.shiftP(7);
      for (let g = 0; g < n; g++) {
        const b = nf + g * rn;
        c.prod(b, c.tensor(b, I8), [count], 'input');
        c.zp8(b + 1);
        c.mult(b + 2, true);
        c.shiftP(b + 3);
      }
      return;
    }
    case 'MUL': {
      const count = c.dim(3);
      c.prod(0, c.tensor(0, I8), [count], 'a');
      c.prod(1, c.tensor(1, I8), [count], 'b');
      c.prod(2, c.tensor(2, I8), [count], 'output');
      c.zp8(4);
      c.zp8(5);
      c.zp8(6);
      c.mult(7);
      c.shiftP(8);
      c.act(9, 10);
      return;
    }
  }
  checkOpRest(c);
}

/** Checks of the remaining ops, the same as the runtime's prepare step (same order, same codes). */
function checkOpRest(c: OpCheck): void {
  const P = c.P;
  const s = c.spec;
  const nf = s.params.length;
  const rn = s.repeat ? s.repeat.fields.length : 0;
  const n = s.repeat ? P[s.params.indexOf(s.repeat.countParam)] : 0;
  switch (s.name) {
    case 'MAXMIN': {
      const eOut = c.tensor(0, I8);
      const count = c.dim(1);
      c.prod(0, eOut, [count], 'output');
      c.range(2, 0, 1);
      c.zp8(3);
      c.act(4, 5);
      for (let g = 0; g < n; g++) {
        const b = nf + g * rn;
        c.prod(b, c.tensor(b, I8), [count], 'input');
        c.zp8(b + 1);
        c.mult(b + 2);
        c.shiftP(b + 3);
      }
      return;
    }
    case 'CONCAT': {
      const eOut = c.tensor(0, I8);
      const outer = c.dim(1);
      c.zp8(2);
      let sumInner = 0;
      for (let g = 0; g < n; g++) {
        const b = nf + g * rn;
        const e = c.tensor(b, I8);
        const inner = c.dim(b + 1);
        c.prod(b, e, [outer, inner], 'input');
        c.zp8(b + 2);
        c.mult(b + 3);
        c.shiftP(b + 4);
        c.range(b + 5, 0, 1);
        sumInner += inner;
      }
      c.prod(0, eOut, [outer, sumInner], 'output');
      return;
    }
    case 'SOFTMAX': {
      const eIn = c.tensor(0, I8);
      const eOut = c.tensor(1, I8);
      const rows = c.dim(2);
      const depth = c.dim(3);
      c.prod(0, eIn, [rows, depth], 'input');
      c.prod(1, eOut, [rows, depth], 'output');
      const t = c.cnst(4, 1024, 4);
      if (c.consts.getUint32(t, true) === 0) c.fail(4, 'table[0] must be > 0');
      return;
    }
    case 'LUT': {
      const count = c.dim(2);
      c.prod(0, c.tensor(0, I8), [count], 'input');
      c.prod(1, c.tensor(1, I8), [count], 'output');
      c.cnst(3, 256, 1);
      return;
    }
    case 'PRELU': {
      const count = c.dim(2);
      c.prod(0, c.tensor(0, I8), [count], 'input');
      c.prod(1, c.tensor(1, I8), [count], 'output');
      const ch = c.dim(3);
      if (count % ch !== 0) c.fail(3, `channels must divide count=${count}`);
      c.zp8(4);
      c.zp8(5);
      c.mult(6);
      c.shiftP(7);
      c.mult(9);
      c.shiftP(10);
      c.cnst(8, ch, 1);
      return;
    }
  }
  checkOpLayout(c);
}

/** Checks of LAYOUT, GATHER, REQUANT and the recurrent ops. */
function checkOpLayout(c: OpCheck): void {
  const P = c.P;
  const s = c.spec;
  const nf = s.params.length;
  const rn = s.repeat ? s.repeat.fields.length : 0;
  const n = s.repeat ? P[s.params.indexOf(s.repeat.countParam)] : 0;
  switch (s.name) {
    case 'LAYOUT': {
      const eIn = c.tensor(0, I8 | I16 | I32);
      const eOut = c.tensor(1, I8 | I16 | I32);
      const dt = c.dtypeOf(0);
      if (c.dtypeOf(1) !== dt) c.fail(1, 'output dtype must equal input dtype');
      c.range(2, DTYPE_BYTES[dt], DTYPE_BYTES[dt]);
      c.range(4, dtypeMin(dt), dtypeMax(dt));
      const outDims: number[] = [];
      let maxIdx = 0;
      for (let g = 0; g < n; g++) {
        const b = nf + g * rn;
        outDims.push(c.dim(b));
        const inDim = c.dim(b + 1);
        const stride = c.range(b + 2, 0, 0x7fffffff);
        c.range(b + 3, -(LIMITS.MAX_REGION - 1), LIMITS.MAX_REGION - 1);
        c.geom(b + 4);
        maxIdx = Math.min(CAP, maxIdx + cmul(inDim - 1, stride));
      }
      c.prod(1, eOut, outDims, 'output');
      if (maxIdx >= eIn) c.fail(0, `largest input index ${maxIdx} outside ${eIn} elements`);
      return;
    }
    case 'GATHER': {
      const count = c.dim(2);
      c.prod(0, c.tensor(0, I32), [count], 'ids');
      const eOut = c.tensor(1, I8);
      const vocab = c.dim(3);
      const dim = c.dim(4);
      c.prod(1, eOut, [count, dim], 'output');
      c.cnst(5, cmul(vocab, dim), 1);
      return;
    }
    case 'REQUANT': {
      const count = c.dim(2);
      c.prod(0, c.tensor(0, I8 | I16), [count], 'input');
      c.prod(1, c.tensor(1, I8 | I16), [count], 'output');
      const di = c.dtypeOf(0);
      const dout = c.dtypeOf(1);
      c.range(3, dtypeMin(di), dtypeMax(di));
      c.range(4, dtypeMin(dout), dtypeMax(dout));
      c.mult(5);
      c.shiftP(6);
      c.range(7, dtypeMin(dout), dtypeMax(dout));
      c.range(8, P[7], dtypeMax(dout));
      return;
    }
  }
  if (s.name === 'SIMPLE_RNN' || s.name === 'GRU' || s.name === 'LSTM') {
    const r = checkRecurrentOp({ name: s.name, P, tensors: c.tensors, consts: c.consts, constsSize: c.constsSize });
    if (r) throw new Fail(r.code, r.detail);
    return;
  }
  throw new Fail(ERR.UNSUPPORTED_OP, `op ${s.name} has no checks`);
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
  };
}

/** Parse and fully validate a blob. Throws BlobError (a UserError) with the runtime's error code. */
export function parseBlob(bytes: Uint8Array, opts: ParseOptions = {}): ParsedBlob {
  const file = opts.file ?? 'blob';
  let index = -1;
  try {
    return parseInner(bytes, opts, (i) => (index = i));
  } catch (e) {
    if (e instanceof Fail) throw new BlobError(e.code, index, e.detail, file);
    throw e;
  }
}

function fail(code: number, detail: string): never {
  throw new Fail(code, detail);
}

function parseInner(bytes: Uint8Array, opts: ParseOptions, setIndex: (i: number) => void): ParsedBlob {
  if (bytes.length < HEADER_SIZE) fail(ERR.BAD_SIZE, `${bytes.length} bytes is shorter than the ${HEADER_SIZE}-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = readHeader(dv);
  if (h.magic !== MAGIC) fail(ERR.BAD_MAGIC, `magic 0x${h.magic.toString(16)}`);
  if (h.version !== FORMAT_VERSION) fail(ERR.BAD_VERSION, `format version ${h.version}, this runtime reads ${FORMAT_VERSION}`);
  if (h.headerSize !== HEADER_SIZE) fail(ERR.BAD_HEADER, `header size ${h.headerSize}`);
  if (h.totalSize !== bytes.length) fail(ERR.BAD_SIZE, `header says ${h.totalSize} bytes, have ${bytes.length}`);
  if (!opts.skipCrc) {
    const c = crc32(bytes, 16, bytes.length);
    if (c !== h.crc32) fail(ERR.BAD_CRC, `stored 0x${h.crc32.toString(16)}, computed 0x${c.toString(16)}`);
  }
  const total = h.totalSize;
  const [fm0, fm1] = formatOpMask();
  if (h.flags & ~(FLAG.HAS_SELFTEST | FLAG.STATEFUL)) fail(ERR.BAD_HEADER, `unknown flags 0x${h.flags.toString(16)}`);
  for (let r = 0; r < 3; r++) if (dv.getUint32(HEADER.reserved + 4 * r, true) !== 0) fail(ERR.BAD_HEADER, 'reserved words must be 0');
  if (h.batch === 0) fail(ERR.BAD_HEADER, 'batch is 0');
  if (h.nInputs === 0 || h.nOutputs === 0) fail(ERR.BAD_HEADER, 'a blob needs at least one input and one output');
  if (h.arenaSize >= LIMITS.MAX_REGION || h.stateSize >= LIMITS.MAX_REGION || h.scratchSize >= LIMITS.MAX_REGION)
    fail(ERR.BAD_HEADER, 'arena/state/scratch size too large');
  const section = (name: string, off: number, size: number, align: number) => {
    if (off < HEADER_SIZE || off % align !== 0 || off + size > total)
      fail(ERR.BAD_HEADER, `${name} section at ${off} (+${size}) outside the blob or misaligned`);
  };
  section('tensor', h.tensorsOff, h.nTensors * TENSOR_SIZE, ALIGN.TABLE);
  if (h.opsSize % 4 !== 0) fail(ERR.BAD_HEADER, 'op list size not a multiple of 4');
  section('op', h.opsOff, h.opsSize, ALIGN.TABLE);
  section('I/O', h.ioOff, (h.nInputs + h.nOutputs) * IO_SIZE, ALIGN.TABLE);
  section('constants', h.constsOff, h.constsSize, ALIGN.CONSTS);
  const hasST = (h.flags & FLAG.HAS_SELFTEST) !== 0;
  if (hasST) {
    if (h.selfTestOff === 0 || h.selfTestSize === 0) fail(ERR.BAD_HEADER, 'self-test flag set but no self-test section');
    section('self-test', h.selfTestOff, h.selfTestSize, 1);
  } else if (h.selfTestOff !== 0 || h.selfTestSize !== 0) fail(ERR.BAD_HEADER, 'self-test section without the self-test flag');
  if ((h.opMask0 & ~fm0) !== 0 || (h.opMask1 & ~fm1) !== 0) fail(ERR.BAD_HEADER, 'op mask names op codes unknown to this format');
  const rm = opts.runtimeMask ?? runtimeOpMask();
  if ((h.opMask0 & ~rm[0]) !== 0 || (h.opMask1 & ~rm[1]) !== 0) fail(ERR.UNSUPPORTED_OP, 'the blob uses ops this runtime does not implement');

  const tensors = readTensors(dv, h, setIndex);
  const ios = readIO(bytes, dv, h, tensors, setIndex);
  const { ops, consts } = readOps(bytes, dv, h, tensors, rm, setIndex);
  const selfTest = hasST ? readSelfTest(bytes, h, ios) : null;

  return {
    header: h,
    tensors,
    io: { inputs: ios.slice(0, h.nInputs), outputs: ios.slice(h.nInputs) },
    ops,
    consts,
    selfTest,
  };
}

function readTensors(dv: DataView, h: BlobHeader, setIndex: (i: number) => void): TensorInfo[] {
  const tensors: TensorInfo[] = [];
  for (let i = 0; i < h.nTensors; i++) {
    setIndex(i);
    const o = h.tensorsOff + i * TENSOR_SIZE;
    const t: TensorInfo = {
      dtype: dv.getUint8(o + TENSOR.dtype),
      storage: dv.getUint8(o + TENSOR.storage),
      offset: dv.getUint32(o + TENSOR.offset, true),
      bytes: dv.getUint32(o + TENSOR.bytes, true),
      elements: dv.getUint32(o + TENSOR.elements, true),
    };
    const size = DTYPE_BYTES[t.dtype];
    if (!size) fail(ERR.BAD_TENSOR, `tensor ${i}: dtype ${t.dtype}`);
    if (t.storage > 1) fail(ERR.BAD_TENSOR, `tensor ${i}: storage ${t.storage}`);
    if (dv.getUint16(o + TENSOR.reserved, true) !== 0) fail(ERR.BAD_TENSOR, `tensor ${i}: reserved field not 0`);
    if (t.elements === 0 || t.elements >= LIMITS.MAX_REGION || t.bytes !== t.elements * size)
      fail(ERR.BAD_TENSOR, `tensor ${i}: ${t.bytes} bytes for ${t.elements} elements of ${size} bytes`);
    const region = t.storage === 0 ? h.arenaSize : h.stateSize;
    if (t.offset % size !== 0 || t.offset + t.bytes > region)
      fail(ERR.BAD_TENSOR, `tensor ${i}: [${t.offset}, +${t.bytes}) outside its ${t.storage === 0 ? 'arena' : 'state'} of ${region} bytes or misaligned`);
    tensors.push(t);
  }
  return tensors;
}

function readIO(bytes: Uint8Array, dv: DataView, h: BlobHeader, tensors: TensorInfo[], setIndex: (i: number) => void): IOInfo[] {
  const ios: IOInfo[] = [];
  const nIO = h.nInputs + h.nOutputs;
  for (let i = 0; i < nIO; i++) {
    setIndex(i);
    const o = h.ioOff + i * IO_SIZE;
    const ti = dv.getUint16(o + IO.tensor, true);
    const dtype = dv.getUint8(o + IO.dtype);
    const rank = dv.getUint8(o + IO.rank);
    const dims: number[] = [];
    for (let d = 0; d < IO_MAX_RANK; d++) dims.push(dv.getUint32(o + IO.dims + 4 * d, true));
    const scaleBits = dv.getUint32(o + IO.scale, true);
    const zp = dv.getInt32(o + IO.zeroPoint, true);
    const nameBytes = bytes.subarray(o + IO.name, o + IO.name + 16);
    const nul = nameBytes.indexOf(0);
    const name = new TextDecoder().decode(nameBytes.subarray(0, nul < 0 ? 16 : nul));
    const what = `${i < h.nInputs ? 'input' : 'output'} ${i < h.nInputs ? i : i - h.nInputs}`;
    if (ti >= h.nTensors) fail(ERR.BAD_IO, `${what}: tensor ${ti} does not exist`);
    const t = tensors[ti];
    if (dtype !== t.dtype) fail(ERR.BAD_IO, `${what}: dtype ${dtype} differs from tensor dtype ${t.dtype}`);
    if (rank < 1 || rank > IO_MAX_RANK) fail(ERR.BAD_IO, `${what}: rank ${rank}`);
    for (let d = rank; d < IO_MAX_RANK; d++) if (dims[d] !== 0) fail(ERR.BAD_IO, `${what}: dims beyond rank must be 0`);
    if (!prodEq(t.elements, dims.slice(0, rank))) fail(ERR.BAD_IO, `${what}: dims ${dims.slice(0, rank).join('x')} do not match ${t.elements} elements`);
    if (scaleBits === 0 || scaleBits >= 0x7f800000) fail(ERR.BAD_IO, `${what}: scale must be a positive finite float`);
    if (zp < dtypeMin(dtype) || zp > dtypeMax(dtype)) fail(ERR.BAD_IO, `${what}: zero point ${zp} out of dtype range`);
    ios.push({ tensor: ti, dtype, rank, dims: dims.slice(0, rank), scale: dv.getFloat32(o + IO.scale, true), zeroPoint: zp, name, bytes: t.bytes });
  }
  return ios;
}

function readOps(bytes: Uint8Array, dv: DataView, h: BlobHeader, tensors: TensorInfo[], rm: [number, number], setIndex: (i: number) => void) {
  const consts = bytes.subarray(h.constsOff, h.constsOff + h.constsSize);
  const cdv = new DataView(consts.buffer, consts.byteOffset, consts.byteLength);
  const ops: ParsedOp[] = [];
  const end = h.opsOff + h.opsSize;
  let pos = h.opsOff;
  let used0 = 0;
  let used1 = 0;
  for (let i = 0; i < h.nOps; i++) {
    setIndex(i);
    if (pos + 4 > end) fail(ERR.BAD_OP, `op ${i}: record header past the end of the op list`);
    const code = dv.getUint16(pos, true);
    const np = dv.getUint16(pos + 2, true);
    if (pos + 4 + np * 4 > end) fail(ERR.BAD_OP, `op ${i}: ${np} params past the end of the op list`);
    const spec = OP_BY_CODE.get(code);
    if (!spec) fail(ERR.BAD_OP, `op ${i}: unknown op code ${code}`);
    const s = spec!;
    if (code < 32 ? !((rm[0] >>> code) & 1) : !((rm[1] >>> (code - 32)) & 1)) fail(ERR.UNSUPPORTED_OP, `op ${i}: ${s.name}`);
    const nf = s.params.length;
    if (np < nf) fail(ERR.BAD_OP, `op ${i} (${s.name}): ${np} params, needs ${nf}`);
    const raw = new Int32Array(np);
    for (let k = 0; k < np; k++) raw[k] = dv.getInt32(pos + 4 + 4 * k, true);
    let expect = nf;
    if (s.repeat) {
      const n = raw[s.params.indexOf(s.repeat.countParam)];
      const maxN = s.name === 'LAYOUT' ? LIMITS.MAX_RANK : LIMITS.MAX_GROUP;
      if (n < 1 || n > maxN) fail(ERR.BAD_PARAMS, `op ${i} (${s.name}): ${s.repeat.countParam}=${n} must be in [1, ${maxN}]`);
      expect = nf + n * s.repeat.fields.length;
    }
    if (np !== expect) fail(ERR.BAD_OP, `op ${i} (${s.name}): ${np} params, expected ${expect}`);
    try {
      checkOp(new OpCheck(tensors, cdv, h.constsSize, raw, s));
    } catch (e) {
      if (e instanceof Fail) throw new Fail(e.code, `op ${i}: ${e.detail}`);
      throw e;
    }
    if (code < 32) used0 |= 1 << code;
    else used1 |= 1 << (code - 32);
    ops.push({ index: i, code, name: s.name, offset: pos, params: decodeParams(s, raw), raw });
    pos += 4 + np * 4;
  }
  setIndex(h.nOps);
  if (pos !== end) fail(ERR.BAD_OP, `${end - pos} bytes after the last op`);
  setIndex(-1);
  if (used0 >>> 0 !== h.opMask0 || used1 >>> 0 !== h.opMask1) fail(ERR.BAD_HEADER, 'op mask does not match the ops used');
  return { ops, consts };
}

function readSelfTest(bytes: Uint8Array, h: BlobHeader, ios: IOInfo[]): ParsedBlob['selfTest'] {
  let need = 0;
  for (const io of ios) need += io.bytes;
  if (need !== h.selfTestSize) fail(ERR.BAD_HEADER, `self-test section has ${h.selfTestSize} bytes, inputs+outputs need ${need}`);
  let p = h.selfTestOff;
  const take = (n: number) => {
    const b = bytes.subarray(p, p + n);
    p += n;
    return b;
  };
  const inputs = ios.slice(0, h.nInputs).map((io) => take(io.bytes));
  const outputs = ios.slice(h.nInputs).map((io) => take(io.bytes));
  return { inputs, outputs };
}
