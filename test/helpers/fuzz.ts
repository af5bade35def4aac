/**
 * Seeded, reproducible mutation engine for the robustness fuzzers (issue 7).
 *
 * Every case is a pure function of (seed, index): `caseRng(seed, index)` derives an independent
 * mulberry32 stream, so a failing case found in a million-case run is replayed by
 * `mutateBlob(base, map, caseRng(seed, index))` (or `mutateBytes` for model files) alone.
 *
 * Generic mutators work on any file (bit flips, byte sets, interesting 32-bit words, truncation,
 * extension, random bytes, chunk duplication/removal). Structure-aware mutators use the blob
 * format (tools/blob/spec.ts): header fields, tensor table entries, I/O descriptors, op codes,
 * op parameter words by name (dims, tensor indices, const offsets, zero points, multipliers,
 * shifts, activation ranges, group counts) and the per-channel multiplier/shift arrays in the
 * constants section. Structure-aware mutants get a recomputed CRC most of the time (that is the
 * interesting case: it gets past the checksum).
 */
import { crc32 } from '../../tools/blob/crc32.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { FORMAT_VERSION, HEADER, OP_HEADER_SIZE, IO, IO_SIZE, OPS, TENSOR, TENSOR_SIZE, type OpSpec } from '../../tools/blob/spec.ts';

/** bytes per element of per-channel shift arrays (format 2 made them int8) */
const SHIFT_BYTES = FORMAT_VERSION >= 2 ? 1 : 4;

// ---------------------------------------------------------------- PRNG

export interface Rng {
  /** uniform u32 */
  u32(): number;
  /** uniform in [0, 1) */
  float(): number;
  /** integer in [lo, hi] inclusive */
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Uint8Array;
}

/** mulberry32 stream */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  const u32 = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const float = () => u32() / 4294967296;
  const int = (lo: number, hi: number) => lo + Math.floor(float() * (hi - lo + 1));
  return {
    u32,
    float,
    int,
    pick: <T>(xs: readonly T[]) => xs[Math.floor(float() * xs.length)],
    chance: (p: number) => float() < p,
    bytes: (n: number) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = u32() & 0xff;
      return b;
    },
  };
}

/** 32-bit mix (murmur3 finaliser) */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The PRNG stream of case `index` of campaign `seed` (independent of every other case). */
export function caseRng(seed: number, index: number): Rng {
  return mulberry32(mix(mix(seed >>> 0) ^ Math.imul(index >>> 0, 0x9e3779b1) ^ (Math.floor(index / 2 ** 32) >>> 0)));
}

// ---------------------------------------------------------------- generic byte mutations

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x10, 0x40];
const INTERESTING_32 = [0, 1, -1, 2, 3, 4, 15, 16, 17, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, -0x80000000, 0x40000000, 0x3fffffff, -2, -16];

export interface Mutant {
  bytes: Uint8Array;
  /** human-readable list of the mutations applied */
  ops: string[];
}

type ByteMutator = (b: Uint8Array, r: Rng, log: string[]) => Uint8Array;

const BYTE_MUTATORS: Record<string, ByteMutator> = {
  bitflip(b, r, log) {
    if (!b.length) return b;
    const n = r.pick([1, 1, 1, 2, 4, 8]);
    for (let k = 0; k < n; k++) {
      const i = r.int(0, b.length - 1);
      const bit = r.int(0, 7);
      b[i] ^= 1 << bit;
      log.push(`bitflip @${i}.${bit}`);
    }
    return b;
  },
  byteset(b, r, log) {
    if (!b.length) return b;
    const i = r.int(0, b.length - 1);
    const v = r.chance(0.5) ? r.pick(INTERESTING_8) : r.int(0, 255);
    b[i] = v;
    log.push(`byte @${i} = ${v}`);
    return b;
  },
  word(b, r, log) {
    if (b.length < 4) return b;
    const i = r.chance(0.7) ? r.int(0, (b.length >> 2) - 1) * 4 : r.int(0, b.length - 4);
    const v = r.pick(INTERESTING_32);
    new DataView(b.buffer, b.byteOffset, b.byteLength).setInt32(i, v, true);
    log.push(`word @${i} = ${v}`);
    return b;
  },
  truncate(b, r, log) {
    const n = r.chance(0.5) ? r.int(0, b.length) : Math.max(0, b.length - r.int(1, 16));
    log.push(`truncate to ${n}`);
    return b.slice(0, n);
  },
  extend(b, r, log) {
    const n = r.pick([1, 3, 4, 16, r.int(1, 4096)]);
    const out = new Uint8Array(b.length + n);
    out.set(b);
    out.set(r.chance(0.5) ? r.bytes(n) : new Uint8Array(n), b.length);
    log.push(`extend by ${n}`);
    return out;
  },
  random(b, r, log) {
    if (r.chance(0.3)) {
      const n = r.int(0, Math.max(200, b.length));
      log.push(`random bytes x${n}`);
      return r.bytes(n);
    }
    if (!b.length) return b;
    const i = r.int(0, b.length - 1);
    const n = Math.min(b.length - i, r.int(1, 64));
    b.set(r.bytes(n), i);
    log.push(`random range @${i}+${n}`);
    return b;
  },
  chunk(b, r, log) {
    if (b.length < 2) return b;
    const i = r.int(0, b.length - 1);
    const n = Math.min(b.length - i, r.int(1, 256));
    if (r.chance(0.5)) {
      // remove [i, i+n)
      log.push(`remove @${i}+${n}`);
      const out = new Uint8Array(b.length - n);
      out.set(b.subarray(0, i));
      out.set(b.subarray(i + n), i);
      return out;
    }
    // duplicate [i, i+n) at j
    const j = r.int(0, b.length);
    log.push(`dup @${i}+${n} -> ${j}`);
    const out = new Uint8Array(b.length + n);
    out.set(b.subarray(0, j));
    out.set(b.subarray(i, i + n), j);
    out.set(b.subarray(j), j + n);
    return out;
  },
};

/** Apply 1..maxOps generic mutations to a copy of `base`. */
export function mutateBytes(base: Uint8Array, r: Rng, maxOps = 3): Mutant {
  let b: Uint8Array = base.slice();
  const log: string[] = [];
  const names = Object.keys(BYTE_MUTATORS);
  const n = r.int(1, maxOps);
  for (let k = 0; k < n; k++) b = BYTE_MUTATORS[r.pick(names)](b, r, log);
  return { bytes: b, ops: log };
}

// ---------------------------------------------------------------- blob structure map

interface FieldRef {
  /** byte offset in the blob */
  at: number;
  /** field width */
  size: 1 | 2 | 4;
  name: string;
}

interface OpRecord {
  index: number;
  offset: number;
  code: number;
  spec: OpSpec;
  /** name of every param word (fixed then `field[g]`) */
  names: string[];
  /** values of the param words in the valid blob */
  values: number[];
}

/** Where everything is in a VALID blob (mutants are derived from it). */
export interface BlobMap {
  total: number;
  header: FieldRef[];
  tensors: FieldRef[][];
  io: FieldRef[][];
  ops: OpRecord[];
  constsOff: number;
  constsSize: number;
  nTensors: number;
  /** per-channel int32 arrays in the constants section: [absolute offset, count, kind] */
  qArrays: { at: number; count: number; kind: 'mult' | 'shift' | 'bias'; bytes: number }[];
  selfTest: { off: number; size: number } | null;
}

const HEADER_WIDTH: Record<string, 1 | 2 | 4> = { version: 2, headerSize: 2, nTensors: 2, nOps: 2, nInputs: 2, nOutputs: 2 };

export function mapBlob(blob: Uint8Array): BlobMap {
  const m = parseBlob(blob);
  const h = m.header;
  const header: FieldRef[] = Object.entries(HEADER).map(([name, at]) => ({ at, size: HEADER_WIDTH[name] ?? 4, name }));
  const tensors = m.tensors.map((_, i) => {
    const o = h.tensorsOff + i * TENSOR_SIZE;
    return [
      { at: o + TENSOR.dtype, size: 1 as const, name: `t${i}.dtype` },
      { at: o + TENSOR.storage, size: 1 as const, name: `t${i}.storage` },
      { at: o + TENSOR.reserved, size: 2 as const, name: `t${i}.reserved` },
      { at: o + TENSOR.offset, size: 4 as const, name: `t${i}.offset` },
      { at: o + TENSOR.bytes, size: 4 as const, name: `t${i}.bytes` },
      { at: o + TENSOR.elements, size: 4 as const, name: `t${i}.elements` },
    ];
  });
  const nIO = h.nInputs + h.nOutputs;
  const io: FieldRef[][] = [];
  for (let i = 0; i < nIO; i++) {
    const o = h.ioOff + i * IO_SIZE;
    const f: FieldRef[] = [
      { at: o + IO.tensor, size: 2, name: `io${i}.tensor` },
      { at: o + IO.dtype, size: 1, name: `io${i}.dtype` },
      { at: o + IO.rank, size: 1, name: `io${i}.rank` },
      { at: o + IO.scale, size: 4, name: `io${i}.scale` },
      { at: o + IO.zeroPoint, size: 4, name: `io${i}.zeroPoint` },
    ];
    for (let d = 0; d < 5; d++) f.push({ at: o + IO.dims + 4 * d, size: 4, name: `io${i}.dims[${d}]` });
    io.push(f);
  }
  const ops: OpRecord[] = m.ops.map((op) => {
    const spec = op.index >= 0 ? OPS.find((s) => s.code === op.code)! : OPS[0];
    const names = [...spec.params];
    if (spec.repeat) {
      const rn = spec.repeat.fields.length;
      for (let k = spec.params.length; k < op.raw.length; k++)
        names.push(`${spec.repeat.fields[(k - spec.params.length) % rn]}[${Math.floor((k - spec.params.length) / rn)}]`);
    }
    return { index: op.index, offset: op.offset, code: op.code, spec, names, values: Array.from(op.raw) };
  });
  // per-channel quantisation arrays referenced by const-offset params
  const qArrays: BlobMap['qArrays'] = [];
  for (const op of m.ops) {
    const p = op.params as Record<string, number>;
    const count =
      p.outDim ??
      p.outC ??
      (p.inC !== undefined && p.depthMult !== undefined ? p.inC * p.depthMult : undefined) ??
      (p.units !== undefined ? p.units * 4 : undefined);
    if (count === undefined) continue;
    for (const kind of ['mult', 'shift', 'bias'] as const) {
      const off = p[kind];
      const es = kind === 'shift' ? SHIFT_BYTES : 4;
      if (typeof off === 'number' && off >= 0 && off + es * count <= h.constsSize) qArrays.push({ at: h.constsOff + off, count, kind, bytes: es });
    }
  }
  return {
    total: blob.length,
    header,
    tensors,
    io,
    ops,
    constsOff: h.constsOff,
    constsSize: h.constsSize,
    nTensors: m.tensors.length,
    qArrays,
    selfTest: h.selfTestOff ? { off: h.selfTestOff, size: h.selfTestSize } : null,
  };
}

// ---------------------------------------------------------------- structure-aware mutations

function readField(b: Uint8Array, f: FieldRef): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (f.at + f.size > b.length) return 0;
  return f.size === 1
    ? f.name.startsWith('shift[')
      ? dv.getInt8(f.at)
      : dv.getUint8(f.at)
    : f.size === 2
      ? dv.getUint16(f.at, true)
      : dv.getInt32(f.at, true);
}
function writeField(b: Uint8Array, f: FieldRef, v: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (f.at + f.size > b.length) return;
  if (f.size === 1) dv.setUint8(f.at, v & 0xff);
  else if (f.size === 2) dv.setUint16(f.at, v & 0xffff, true);
  else dv.setInt32(f.at, v | 0, true);
}

/** A hostile replacement for a value: boundaries, small deltas, scalings, sign flips, randoms. */
function hostile(r: Rng, orig: number, size: 1 | 2 | 4, related: number[] = []): number {
  const maxU = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  const c = r.int(0, 11);
  switch (c) {
    case 0:
      return 0;
    case 1:
      return orig + r.pick([-1, 1]);
    case 2:
      return orig + r.pick([-16, -4, -2, 2, 4, 16]);
    case 3:
      return orig * r.pick([2, 3, 4, 256, 65536]);
    case 4:
      return r.pick([maxU, maxU >>> 1, (maxU >>> 1) + 1, -1]);
    case 5:
      return -orig;
    case 6:
      return related.length ? r.pick(related) : orig + 1;
    case 7:
      return r.u32() & maxU;
    case 8:
      return r.int(0, 16);
    case 9:
      return Math.floor(orig / r.pick([2, 3, 4]));
    case 10:
      return r.pick(INTERESTING_32);
    default:
      return orig ^ (1 << r.int(0, size * 8 - 1));
  }
}

const QPARAM = /mult|shift|zp|act|Min|Max|gateShift|cellShift|Shift$/;
const DIMPARAM =
  /^(rows|inDim|outDim|batch|inH|inW|inC|outH|outW|outC|kH|kW|strideH|strideW|dilH|dilW|padTop|padLeft|channels|count|outer|inner|depth|vocab|dim|depthMult|groups|steps|units|elemSize|rank|n)\b|^(outDim|inDim|inStride|padBefore|div)\[/;
const TENSORPARAM = /^(in|out|a|b|ids|hState|cState|scratch|maskIds)$|^tensor\[/;
const CONSTPARAM = /^(weights|bias|mult|shift|lut|table|alpha|wx|bx|mx|sx|wh|bh|mh|sh|whZR|whH|actTable|recTable)$/;

type StructMutator = (b: Uint8Array, map: BlobMap, r: Rng, log: string[]) => void;

const STRUCT_MUTATORS: Record<string, StructMutator> = {
  header(b, map, r, log) {
    const f = r.pick(map.header.filter((x) => x.name !== 'crc32' && x.name !== 'magic'));
    const orig = readField(b, f);
    const related = [map.total, map.total - 1, map.constsOff, map.constsSize, 96, 0x3fffffff, 0x40000000];
    const v = hostile(r, orig, f.size, related);
    writeField(b, f, v);
    log.push(`header.${f.name} ${orig} -> ${readField(b, f)}`);
  },
  tensor(b, map, r, log) {
    if (!map.tensors.length) return;
    const t = r.int(0, map.tensors.length - 1);
    const fields = map.tensors[t];
    if (r.chance(0.3)) {
      // consistent size change: bytes and elements together (gets past the descriptor check)
      const dt = readField(b, fields[0]);
      const es = dt === 2 ? 2 : dt === 3 ? 4 : 1;
      const el = readField(b, fields[5]);
      const ne = Math.max(1, hostile(r, el, 4) & 0x3fffffff);
      writeField(b, fields[5], ne);
      writeField(b, fields[4], ne * es);
      log.push(`t${t}.elements ${el} -> ${ne} (bytes consistent)`);
      return;
    }
    const f = r.pick(fields);
    const orig = readField(b, f);
    const v = f.name.endsWith('dtype') ? r.pick([0, 1, 2, 3, 4, 255]) : f.name.endsWith('storage') ? r.pick([0, 1, 2, 255]) : hostile(r, orig, f.size);
    writeField(b, f, v);
    log.push(`${f.name} ${orig} -> ${readField(b, f)}`);
  },
  io(b, map, r, log) {
    if (!map.io.length) return;
    const fields = r.pick(map.io);
    const f = r.pick(fields);
    const orig = readField(b, f);
    let v: number;
    if (f.name.endsWith('scale')) {
      const dv = new DataView(new ArrayBuffer(4));
      dv.setFloat32(0, r.pick([0, -1, NaN, Infinity, -Infinity, 1e-45, 3.4e38, -0]));
      v = dv.getInt32(0);
    } else if (f.name.endsWith('tensor')) v = r.pick([0, map.nTensors - 1, map.nTensors, 0xffff, orig + 1]);
    else v = hostile(r, orig, f.size);
    writeField(b, f, v);
    log.push(`${f.name} ${orig} -> ${readField(b, f)}`);
  },
  opcode(b, map, r, log) {
    if (!map.ops.length) return;
    const op = r.pick(map.ops);
    const f: FieldRef = r.chance(0.7) ? { at: op.offset, size: 2, name: 'code' } : { at: op.offset + 2, size: 2, name: 'nParams' };
    const orig = readField(b, f);
    const v = f.name === 'code' ? r.pick([0, r.int(1, 18), r.int(1, 18), r.int(1, 18), 19, 31, 32, 63, 0xffff]) : hostile(r, orig, 2);
    writeField(b, f, v);
    log.push(`op${op.index}.${f.name} ${orig} -> ${readField(b, f)}`);
  },
  param(b, map, r, log) {
    if (!map.ops.length) return;
    const op = r.pick(map.ops);
    if (!op.names.length) return;
    // prefer the interesting classes of param
    const cls = r.int(0, 4);
    const pool =
      cls === 0
        ? op.names.filter((n) => DIMPARAM.test(n))
        : cls === 1
          ? op.names.filter((n) => TENSORPARAM.test(n))
          : cls === 2
            ? op.names.filter((n) => CONSTPARAM.test(n))
            : cls === 3
              ? op.names.filter((n) => QPARAM.test(n))
              : op.names;
    const name = pool.length ? r.pick(pool) : r.pick(op.names);
    const k = op.names.indexOf(name);
    const f: FieldRef = { at: op.offset + OP_HEADER_SIZE + 4 * k, size: 4, name };
    const orig = readField(b, f);
    let v: number;
    if (TENSORPARAM.test(name)) v = r.pick([0, map.nTensors - 1, map.nTensors, -1, r.int(0, Math.max(0, map.nTensors - 1)), 0x7fffffff]);
    else if (CONSTPARAM.test(name))
      v = r.pick([-1, -2, -16, orig + 4, orig + 16, orig - 16, map.constsSize, map.constsSize - 4, map.constsSize - 16, 0x7ffffff0, orig + 1]);
    else if (/shift|Shift/.test(name)) v = r.pick([-32, -31, 30, 31, 32, 63, -1000, orig + 1, orig - 1]);
    else if (/mult|Mult/.test(name)) v = r.pick([0, -1, 1, 0x7fffffff, -0x80000000, 0x3fffffff, 0x40000000, -orig]);
    else if (/^(n|rank)$/.test(name)) v = r.pick([0, 1, orig + 1, orig - 1, 16, 17, 8, 9, -1]);
    else v = hostile(r, orig, 4, op.values);
    writeField(b, f, v);
    log.push(`op${op.index}(${op.spec.name}).${name} ${orig} -> ${readField(b, f)}`);
  },
  /** two consistent dims changes (e.g. rows and inDim swapped) to get past product checks */
  swapParams(b, map, r, log) {
    if (!map.ops.length) return;
    const op = r.pick(map.ops);
    const dims = op.names.map((n, k) => [n, k] as const).filter(([n]) => DIMPARAM.test(n));
    if (dims.length < 2) return;
    const [na, ka] = r.pick(dims);
    const [nb, kb] = r.pick(dims);
    if (ka === kb) return;
    const fa: FieldRef = { at: op.offset + OP_HEADER_SIZE + 4 * ka, size: 4, name: na };
    const fb: FieldRef = { at: op.offset + OP_HEADER_SIZE + 4 * kb, size: 4, name: nb };
    const va = readField(b, fa);
    const vb = readField(b, fb);
    writeField(b, fa, vb);
    writeField(b, fb, va);
    log.push(`op${op.index}(${op.spec.name}) swap ${na}=${va} <-> ${nb}=${vb}`);
  },
  qarray(b, map, r, log) {
    if (!map.qArrays.length) return this.param(b, map, r, log);
    const q = r.pick(map.qArrays);
    const i = r.int(0, q.count - 1);
    const f: FieldRef = { at: q.at + q.bytes * i, size: q.bytes as 1 | 4, name: `${q.kind}[${i}]` };
    const orig = readField(b, f);
    const v =
      q.kind === 'shift'
        ? r.pick([-32, -31, 30, 31, 32, 100, -100, 127, -128, 0x7fffffff, -0x80000000])
        : q.kind === 'mult'
          ? r.pick([0, -1, 1, 0x7fffffff, -0x80000000, 0x3fffffff, 0x40000000, -orig])
          : r.pick([0x7fffffff, -0x80000000, -orig, orig * 1000]);
    writeField(b, f, v);
    log.push(`const ${f.name}@${q.at} ${orig} -> ${v}`);
  },
  consts(b, map, r, log) {
    if (map.constsSize < 1) return;
    const i = map.constsOff + r.int(0, map.constsSize - 1);
    const n = Math.min(map.constsOff + map.constsSize - i, r.int(1, 32));
    b.set(r.bytes(n), i);
    log.push(`const bytes @${i}+${n} random`);
  },
  selftest(b, map, r, log) {
    if (!map.selfTest) return;
    const i = map.selfTest.off + r.int(0, map.selfTest.size - 1);
    b[i] ^= 1 << r.int(0, 7);
    log.push(`self-test byte @${i} flipped`);
  },
};

const STRUCT_WEIGHTS: [string, number][] = [
  ['header', 3],
  ['tensor', 3],
  ['io', 2],
  ['opcode', 1],
  ['param', 6],
  ['swapParams', 1],
  ['qarray', 2],
  ['consts', 1],
  ['selftest', 1],
];
const STRUCT_TOTAL = STRUCT_WEIGHTS.reduce((s, [, w]) => s + w, 0);

function pickStruct(r: Rng): string {
  let x = r.float() * STRUCT_TOTAL;
  for (const [n, w] of STRUCT_WEIGHTS) if ((x -= w) < 0) return n;
  return 'param';
}

function fixCrcInPlace(b: Uint8Array): void {
  if (b.length < 16) return;
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(HEADER.crc32, crc32(b, 16, b.length), true);
}

export interface BlobMutant extends Mutant {
  /** the CRC was recomputed after mutating */
  crcFixed: boolean;
  kind: 'struct' | 'bytes' | 'mixed';
}

/**
 * One mutant of a valid blob. ~65% structure-aware (CRC recomputed 85% of the time), ~25% generic
 * byte mutations (CRC recomputed half the time), ~10% both.
 */
export function mutateBlob(base: Uint8Array, map: BlobMap, r: Rng): BlobMutant {
  const u = r.float();
  const kind: BlobMutant['kind'] = u < 0.65 ? 'struct' : u < 0.9 ? 'bytes' : 'mixed';
  let b: Uint8Array = base.slice();
  const log: string[] = [];
  if (kind !== 'bytes') {
    const n = r.pick([1, 1, 1, 2, 3]);
    for (let k = 0; k < n; k++) STRUCT_MUTATORS[pickStruct(r)](b, map, r, log);
  }
  if (kind !== 'struct') {
    const m = mutateBytes(b, r, 2);
    b = m.bytes;
    log.push(...m.ops);
  }
  const crcFixed = r.chance(kind === 'struct' ? 0.85 : 0.5);
  if (crcFixed) fixCrcInPlace(b);
  if (crcFixed && r.chance(0.05) && b.length >= 12) {
    // total size made consistent with a truncation/extension too
    new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(HEADER.totalSize, b.length, true);
    fixCrcInPlace(b);
    log.push('totalSize := length');
  }
  return { bytes: b, ops: log, crcFixed, kind };
}
