/**
 * BlobBuilder: writes a model blob (tools/blob/spec.ts, docs/FORMAT.md).
 *
 * Layout written: header | tensor table | I/O descriptors | op list | constants (16-aligned) | self-test
 * | metadata.
 * build() validates the result with parseBlob (the runtime's checks) unless {validate: false}.
 */
import { crc32 } from './crc32.ts';
import { parseBlob } from './parse.ts';
import {
  ALIGN,
  DTYPE_BYTES,
  FLAG,
  ROUNDING,
  ROUNDING_SHIFT,
  type Rounding,
  FORMAT_VERSION,
  HEADER,
  HEADER_SIZE,
  IO,
  IO_MAX_RANK,
  IO_SIZE,
  MAGIC,
  OP_BY_NAME,
  OP_HEADER_SIZE,
  OP_RECORD,
  STORAGE,
  TENSOR,
  TENSOR_SIZE,
  TENSOR_META,
  TENSOR_META_SIZE,
  TENSOR_META_FLAG,
} from './spec.ts';

export interface TensorDesc {
  dtype: number; // DTYPE.*
  storage?: number; // STORAGE.* (default ARENA)
  offset: number; // byte offset in its region
  bytes: number;
}

/** What the metadata section says of a tensor (spec TENSOR_META); a tensor without it gets zeros and no name. */
export interface TensorMetaDesc {
  name: string;
  scale: number;
  zeroPoint: number;
  /** the last op that writes it (-1 or absent: none) */
  writer?: number;
  /** it holds the output of the Keras layer `name` */
  layerOutput?: boolean;
}

export interface IODesc {
  tensor: number;
  dims: number[]; // 1..5, includes the batch; product = tensor elements
  scale: number;
  zeroPoint: number;
  name?: string;
  dtype?: number; // default: the tensor's dtype
}

export interface PlanDesc {
  arenaSize: number;
  stateSize?: number;
  scratchSize?: number;
  batch?: number;
}

/** Op params keyed by spec names. Repeat groups: an array under the count param's name (e.g. `n: [{tensor, zp, mult, shift}, ...]`), or `groups: [...]` with the count param numeric. */
export type OpParamsIn = Record<string, number | Record<string, number>[] | undefined>;

type ConstData = Uint8Array | Int8Array | Int16Array | Int32Array | Uint32Array | Uint16Array | ArrayLike<number>;

/** The metadata section (spec META_DOC) starting at blob offset `at`: names, then 4-aligned TENSOR_META records. */
function metaSection(at: number, io: string[], layers: string[], tensors: (TensorMetaDesc | undefined)[]): Uint8Array {
  const enc = new TextEncoder();
  const parts = [...io, ...layers, ...tensors.map((t) => t?.name ?? '')].map((n) => enc.encode(n.replace(/\0/g, '\uFFFD') + '\0'));
  const namesEnd = parts.reduce((a, p) => a + p.length, 0);
  const recs = ((at + namesEnd + 3) & ~3) - at;
  const out = new Uint8Array(recs + tensors.length * TENSOR_META_SIZE);
  parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
  const dv = new DataView(out.buffer);
  tensors.forEach((t, i) => {
    if (!t) return;
    const o = recs + i * TENSOR_META_SIZE;
    dv.setFloat32(o + TENSOR_META.scale, t.scale, true);
    dv.setInt32(o + TENSOR_META.zeroPoint, t.zeroPoint, true);
    dv.setUint16(o + TENSOR_META.writer, (t.writer ?? -1) + 1, true);
    dv.setUint16(o + TENSOR_META.flags, t.layerOutput ? TENSOR_META_FLAG.LAYER_OUTPUT : 0, true);
  });
  return out;
}

function toBytes(d: ConstData): Uint8Array {
  if (d instanceof Uint8Array) return d;
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return Uint8Array.from(d as ArrayLike<number>, (v) => v & 0xff);
}

export class BlobBuilder {
  readonly tensors: Required<TensorDesc>[] = [];
  private readonly tensorMeta: (TensorMetaDesc | undefined)[] = [];
  readonly ops: { code: number; params: number[]; constsOff: number; constsSize: number; layer: string }[] = [];
  private constChunks: { offset: number; bytes: Uint8Array }[] = [];
  private stagingSize = 0;
  private constEnd = 0;
  private inputs: IODesc[] = [];
  private outputs: IODesc[] = [];
  private selfTest: { inputs: Uint8Array[]; outputs: Uint8Array[] } | null = null;
  private plan: Required<PlanDesc> | null = null;
  private rounding: Rounding = 'double';

  /** Returns the tensor index; `meta` goes to the metadata section. */
  addTensor(t: TensorDesc, meta?: TensorMetaDesc): number {
    const size = DTYPE_BYTES[t.dtype];
    if (!size) throw new Error(`addTensor: bad dtype ${t.dtype}`);
    if (t.bytes % size !== 0 || t.bytes <= 0) throw new Error(`addTensor: ${t.bytes} bytes is not a positive multiple of ${size}`);
    if (t.offset < 0 || t.offset % size !== 0) throw new Error(`addTensor: offset ${t.offset} must be a non-negative multiple of ${size}`);
    this.tensors.push({ dtype: t.dtype, storage: t.storage ?? STORAGE.ARENA, offset: t.offset, bytes: t.bytes });
    this.tensorMeta.push(meta);
    return this.tensors.length - 1;
  }

  /** Appends bytes to the constants section; returns their byte offset inside it. */
  addConst(data: ConstData, align = 16): number {
    const bytes = toBytes(data);
    const off = Math.ceil(this.constEnd / align) * align;
    this.constChunks.push({ offset: off, bytes: bytes.slice() });
    this.constEnd = off + bytes.length;
    return off;
  }

  /** Starts the next constant on a 16-byte boundary (each op's range starts aligned when streamed). */
  alignConsts(): void {
    this.constEnd = Math.ceil(this.constEnd / 16) * 16;
  }

  /** Header stagingSize: the staging area a streaming runtime reads each op's constants into (0 = copy-in only). */
  setStagingSize(bytes: number): void {
    this.stagingSize = bytes;
  }

  /** The constants range of an op: the chunks its const params point into, from a 16-byte boundary. */
  private opConstRange(spec: { name: string; params: string[]; consts?: string[] }, out: number[]): { constsOff: number; constsSize: number } {
    let lo = Infinity;
    let hi = 0;
    for (const name of spec.consts ?? []) {
      const off = out[spec.params.indexOf(name)];
      // the chunk holding it (an offset in no chunk is left out: the runtime refuses it, BAD_CONST)
      const chunk = this.constChunks.find((c) => c.offset <= off && off < c.offset + Math.max(1, c.bytes.length));
      if (off < 0 || !chunk) continue;
      lo = Math.min(lo, chunk.offset);
      hi = Math.max(hi, chunk.offset + chunk.bytes.length);
    }
    if (lo === Infinity) return { constsOff: 0, constsSize: 0 };
    const start = Math.floor(lo / 16) * 16;
    return { constsOff: start, constsSize: hi - start };
  }

  /** int32 array constant (4-aligned by default 16). */
  addConstI32(values: ArrayLike<number>, align = 16): number {
    return this.addConst(Int32Array.from(values), align);
  }

  /** int8 array constant (e.g. per-channel shifts, format 2); byte-aligned by default. */
  addConstI8(values: ArrayLike<number>, align = 1): number {
    return this.addConst(Int8Array.from(values), align);
  }

  /**
   * Adds an op of Keras layer `layer` (kept whole in the metadata section); returns its index. Throws on
   * an unknown op, unknown/missing params or a wrong group shape.
   */
  addOp(name: string, params: OpParamsIn, layer = ''): number {
    const spec = OP_BY_NAME[name];
    if (!spec) throw new Error(`addOp: unknown op ${name}`);
    const known = new Set([...spec.params, 'groups']);
    for (const k of Object.keys(params)) if (!known.has(k)) throw new Error(`addOp ${name}: unknown param '${k}'`);
    let groups: Record<string, number>[] | null = null;
    if (spec.repeat) {
      const cp = params[spec.repeat.countParam];
      if (Array.isArray(cp)) groups = cp;
      else if (Array.isArray(params.groups)) {
        groups = params.groups;
        if (cp !== undefined && cp !== groups.length) throw new Error(`addOp ${name}: ${spec.repeat.countParam}=${cp} but ${groups.length} groups`);
      } else throw new Error(`addOp ${name}: repeat group '${spec.repeat.countParam}' must be an array of {${spec.repeat.fields.join(', ')}}`);
    } else if (params.groups !== undefined && !spec.params.includes('groups')) throw new Error(`addOp ${name}: op has no repeat group`);
    const out: number[] = [];
    for (const p of spec.params) {
      if (spec.repeat && p === spec.repeat.countParam) {
        out.push(groups!.length);
        continue;
      }
      const v = params[p];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647)
        throw new Error(`addOp ${name}: param '${p}' must be an int32, got ${JSON.stringify(v)}`);
      out.push(v);
    }
    if (groups) {
      groups.forEach((g, gi) => {
        for (const k of Object.keys(g)) if (!spec.repeat!.fields.includes(k)) throw new Error(`addOp ${name}: group ${gi} has unknown field '${k}'`);
        for (const f of spec.repeat!.fields) {
          const v = g[f];
          if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647)
            throw new Error(`addOp ${name}: group ${gi} field '${f}' must be an int32, got ${JSON.stringify(v)}`);
          out.push(v);
        }
      });
    }
    if (out.length > 0xffff) throw new Error(`addOp ${name}: too many params`);
    this.ops.push({ code: spec.code, params: out, ...this.opConstRange(spec, out), layer });
    return this.ops.length - 1;
  }

  setIO(inputs: IODesc[], outputs: IODesc[]): void {
    this.inputs = inputs.map((d) => ({ ...d }));
    this.outputs = outputs.map((d) => ({ ...d }));
  }

  setSelfTest(inputBytes: ArrayLike<number>[] | ConstData[], expectedOutputBytes: ArrayLike<number>[] | ConstData[]): void {
    this.selfTest = {
      inputs: inputBytes.map((b) => toBytes(b as ConstData).slice()),
      outputs: expectedOutputBytes.map((b) => toBytes(b as ConstData).slice()),
    };
  }

  setPlan(p: PlanDesc): void {
    this.plan = { arenaSize: p.arenaSize, stateSize: p.stateSize ?? 0, scratchSize: p.scratchSize ?? 0, batch: p.batch ?? 1 };
  }

  /** The rounding mode of every requantisation in the blob (header flags; default double). */
  setRounding(r: Rounding): void {
    this.rounding = r;
  }

  /** Serialises the blob (with CRC and op mask); validates it with parseBlob unless validate=false. */
  build(opts: { validate?: boolean } = {}): Uint8Array {
    if (!this.plan) {
      // default plan: just big enough for the tensors
      let arena = 0;
      let state = 0;
      for (const t of this.tensors) {
        if (t.storage === STORAGE.STATE) state = Math.max(state, t.offset + t.bytes);
        else arena = Math.max(arena, t.offset + t.bytes);
      }
      this.plan = { arenaSize: arena, stateSize: state, scratchSize: 0, batch: 1 };
    }
    const align = (v: number, a: number) => Math.ceil(v / a) * a;
    const nIO = this.inputs.length + this.outputs.length;
    const tensorsOff = HEADER_SIZE;
    const ioOff = align(tensorsOff + this.tensors.length * TENSOR_SIZE, ALIGN.TABLE);
    const opsOff = align(ioOff + nIO * IO_SIZE, ALIGN.TABLE);
    const opsSize = this.ops.reduce((s, o) => s + OP_HEADER_SIZE + 4 * o.params.length, 0);
    const constsOff = align(opsOff + opsSize, ALIGN.CONSTS);
    const constsSize = align(this.constEnd, 4);
    let selfTestOff = 0;
    let selfTestSize = 0;
    let end = constsOff + constsSize;
    if (this.selfTest) {
      selfTestOff = end;
      selfTestSize = [...this.selfTest.inputs, ...this.selfTest.outputs].reduce((s, b) => s + b.length, 0);
      end += selfTestSize;
    }
    const metaOff = end;
    const meta = metaSection(
      metaOff,
      [...this.inputs, ...this.outputs].map((d) => d.name ?? ''),
      this.ops.map((o) => o.layer),
      this.tensorMeta,
    );
    end += meta.length;
    const total = end;
    const bytes = new Uint8Array(total);
    const dv = new DataView(bytes.buffer);
    let m0 = 0;
    let m1 = 0;
    for (const o of this.ops) {
      if (o.code < 32) m0 |= 1 << o.code;
      else m1 |= 1 << (o.code - 32);
    }
    dv.setUint32(HEADER.magic, MAGIC, true);
    dv.setUint16(HEADER.version, FORMAT_VERSION, true);
    dv.setUint16(HEADER.headerSize, HEADER_SIZE, true);
    dv.setUint32(HEADER.totalSize, total, true);
    let flags = 0;
    if (this.selfTest) flags |= FLAG.HAS_SELFTEST;
    if (this.plan.stateSize > 0) flags |= FLAG.STATEFUL;
    flags |= ROUNDING[this.rounding] << ROUNDING_SHIFT;
    dv.setUint32(HEADER.flags, flags, true);
    dv.setUint16(HEADER.nTensors, this.tensors.length, true);
    dv.setUint16(HEADER.nOps, this.ops.length, true);
    dv.setUint16(HEADER.nInputs, this.inputs.length, true);
    dv.setUint16(HEADER.nOutputs, this.outputs.length, true);
    dv.setUint32(HEADER.arenaSize, this.plan.arenaSize, true);
    dv.setUint32(HEADER.stateSize, this.plan.stateSize, true);
    dv.setUint32(HEADER.scratchSize, this.plan.scratchSize, true);
    dv.setUint32(HEADER.tensorsOff, tensorsOff, true);
    dv.setUint32(HEADER.opsOff, opsOff, true);
    dv.setUint32(HEADER.opsSize, opsSize, true);
    dv.setUint32(HEADER.ioOff, ioOff, true);
    dv.setUint32(HEADER.constsOff, constsOff, true);
    dv.setUint32(HEADER.constsSize, constsSize, true);
    dv.setUint32(HEADER.selfTestOff, selfTestOff, true);
    dv.setUint32(HEADER.selfTestSize, selfTestSize, true);
    dv.setUint32(HEADER.opMask0, m0 >>> 0, true);
    dv.setUint32(HEADER.opMask1, m1 >>> 0, true);
    dv.setUint32(HEADER.batch, this.plan.batch, true);
    dv.setUint32(HEADER.stagingSize, this.stagingSize, true);
    dv.setUint32(HEADER.metaOff, metaOff, true);
    dv.setUint32(HEADER.metaSize, meta.length, true);
    bytes.set(meta, metaOff);

    this.writeTables(bytes, dv, tensorsOff, ioOff, opsOff);
    for (const c of this.constChunks) bytes.set(c.bytes, constsOff + c.offset);
    if (this.selfTest) {
      let q = selfTestOff;
      for (const b of [...this.selfTest.inputs, ...this.selfTest.outputs]) {
        bytes.set(b, q);
        q += b.length;
      }
    }
    dv.setUint32(HEADER.crc32, crc32(bytes, 16, total), true);
    if (opts.validate !== false) parseBlob(bytes);
    return bytes;
  }

  /** The tensor table, the I/O descriptors and the op records. */
  private writeTables(bytes: Uint8Array, dv: DataView, tensorsOff: number, ioOff: number, opsOff: number): void {
    this.tensors.forEach((t, i) => {
      const o = tensorsOff + i * TENSOR_SIZE;
      dv.setUint8(o + TENSOR.dtype, t.dtype);
      dv.setUint8(o + TENSOR.storage, t.storage);
      dv.setUint32(o + TENSOR.offset, t.offset, true);
      dv.setUint32(o + TENSOR.bytes, t.bytes, true);
      dv.setUint32(o + TENSOR.elements, t.bytes / DTYPE_BYTES[t.dtype], true);
    });
    const enc = new TextEncoder();
    [...this.inputs, ...this.outputs].forEach((d, i) => {
      const o = ioOff + i * IO_SIZE;
      const t = this.tensors[d.tensor];
      if (!t) throw new Error(`setIO: tensor ${d.tensor} does not exist`);
      if (d.dims.length < 1 || d.dims.length > IO_MAX_RANK) throw new Error(`setIO: rank ${d.dims.length} outside 1..${IO_MAX_RANK}`);
      dv.setUint16(o + IO.tensor, d.tensor, true);
      dv.setUint8(o + IO.dtype, d.dtype ?? t.dtype);
      dv.setUint8(o + IO.rank, d.dims.length);
      d.dims.forEach((v, k) => dv.setUint32(o + IO.dims + 4 * k, v, true));
      dv.setFloat32(o + IO.scale, d.scale, true);
      dv.setInt32(o + IO.zeroPoint, d.zeroPoint, true);
      // NUL-padded UTF-8, truncated at a character boundary
      let name = enc.encode(d.name ?? '');
      if (name.length > 16) {
        let cut = 16;
        while (cut > 0 && (name[cut] & 0xc0) === 0x80) cut--;
        name = name.subarray(0, cut);
      }
      bytes.set(name, o + IO.name);
    });
    let p = opsOff;
    for (const op of this.ops) {
      dv.setUint16(p + OP_RECORD.code, op.code, true);
      dv.setUint16(p + OP_RECORD.nParams, op.params.length, true);
      dv.setUint32(p + OP_RECORD.constsOff, op.constsOff, true);
      dv.setUint32(p + OP_RECORD.constsSize, op.constsSize, true);
      op.params.forEach((v, k) => dv.setInt32(p + OP_HEADER_SIZE + 4 * k, v, true));
      p += OP_HEADER_SIZE + 4 * op.params.length;
    }
  }
}

/** Recompute and store the CRC of a (patched) blob in place. */
export function fixCrc(bytes: Uint8Array): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  dv.setUint32(HEADER.crc32, crc32(bytes, 16, bytes.length), true);
  return bytes;
}
