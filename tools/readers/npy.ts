/**
 * Arrays for calibration / test data: .npy, .npz (first array or `file.npz:name`), .csv.
 * Sniffed by content. Floats come back as Float32Array, integers and bools as Int32Array
 * (values outside int32 are refused). Fortran-order arrays are transposed to C order.
 * writeNpy writes '<f4' or '<i4' atomically (temp file + rename).
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { badFile, UserError } from '../errors.ts';
import { unzipSafe } from './zip.ts';

export interface NumArray {
  data: Float32Array | Int32Array;
  shape: number[];
  /** Source dtype without byte order: 'f4', 'f8', 'f2', 'i1'..'i8', 'u1'..'u8', 'b1'; csv -> 'f4'. */
  dtype: string;
}

const MAX_ARRAY_ELEMENTS = 2 ** 28;
const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

interface Header {
  descr: string;
  fortran: boolean;
  shape: number[];
}

function parseHeader(text: string, file: string): Header {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(text);
  if (!descr) {
    if (/['"]descr['"]\s*:\s*\[/.test(text)) throw badFile(file, '.npy holds a structured (record) dtype; only plain numeric arrays are supported');
    throw badFile(file, ".npy header has no 'descr'");
  }
  const fo = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  if (!fo) throw badFile(file, ".npy header has no 'fortran_order'");
  const sh = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!sh) throw badFile(file, ".npy header has no 'shape'");
  const dims = sh[1]
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0);
  const shape = dims.map((d) => {
    if (!/^\d+$/.test(d)) throw badFile(file, `.npy header has an invalid shape (${sh[1]})`);
    return Number(d);
  });
  return { descr: descr[1], fortran: fo[1] === 'True', shape };
}

const SIZES: Record<string, number> = { f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };

/** Convert Fortran (column-major) data to C order in place semantics (returns a new array). */
function fortranToC<T extends Float32Array | Int32Array>(src: T, shape: number[]): T {
  const n = src.length;
  const out = new (src.constructor as any)(n) as T;
  const r = shape.length;
  if (r <= 1) return src;
  const idx = new Array(r).fill(0);
  // walk C order; compute Fortran offset
  const fstr = new Array(r);
  let s = 1;
  for (let k = 0; k < r; k++) {
    fstr[k] = s;
    s *= shape[k];
  }
  for (let i = 0; i < n; i++) {
    let fo = 0;
    for (let k = 0; k < r; k++) fo += idx[k] * fstr[k];
    out[i] = src[fo];
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Parse .npy bytes. */
function parseNpy(bytes: Uint8Array, file: string): NumArray {
  if (bytes.length < 10 || !NPY_MAGIC.every((b, i) => bytes[i] === b)) throw badFile(file, 'not a .npy file (bad magic)');
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hlen: number;
  let hstart: number;
  if (major === 1) {
    hlen = dv.getUint16(8, true);
    hstart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw badFile(file, '.npy header is truncated');
    hlen = dv.getUint32(8, true);
    hstart = 12;
  } else throw badFile(file, `.npy format version ${major} is not supported`);
  if (hstart + hlen > bytes.length) throw badFile(file, '.npy header is truncated');
  const htext = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(hstart, hstart + hlen));
  const h = parseHeader(htext, file);
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(h.descr);
  if (!m) throw badFile(file, `.npy dtype '${h.descr}' is not supported (numeric dtypes only)`);
  const [, order, kind0, sizeStr] = m;
  const kind = kind0 === '?' ? 'b' : kind0;
  const code = `${kind}${sizeStr}`;
  const size = SIZES[code];
  if (!size) throw badFile(file, `.npy dtype '${h.descr}' is not supported; supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1`);
  if (order === '>' && size > 1) throw badFile(file, `.npy dtype '${h.descr}' is big-endian; re-save little-endian (arr.astype('<${code}'))`);
  let n = 1;
  for (const d of h.shape) n *= d;
  if (n > MAX_ARRAY_ELEMENTS) throw badFile(file, `.npy array has ${n} elements; refusing more than ${MAX_ARRAY_ELEMENTS}`);
  const off = hstart + hlen;
  if (off + n * size > bytes.length)
    throw badFile(file, `.npy data is truncated: shape (${h.shape.join(', ')}) needs ${n * size} bytes, file has ${bytes.length - off}`);
  let data: Float32Array | Int32Array;
  const at = (i: number) => off + i * size;
  if (kind === 'f') {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = size === 4 ? dv.getFloat32(at(i), true) : size === 8 ? dv.getFloat64(at(i), true) : f16(dv.getUint16(at(i), true));
    data = out;
  } else {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let v: number;
      const p = at(i);
      switch (code) {
        case 'i1':
          v = dv.getInt8(p);
          break;
        case 'i2':
          v = dv.getInt16(p, true);
          break;
        case 'i4':
          v = dv.getInt32(p, true);
          break;
        case 'i8':
          v = Number(dv.getBigInt64(p, true));
          break;
        case 'u1':
          v = dv.getUint8(p);
          break;
        case 'u2':
          v = dv.getUint16(p, true);
          break;
        case 'u4':
          v = dv.getUint32(p, true);
          break;
        case 'u8':
          v = Number(dv.getBigUint64(p, true));
          break;
        case 'b1':
          v = dv.getUint8(p) ? 1 : 0;
          break;
        default:
          throw badFile(file, `.npy dtype '${h.descr}' is not supported`);
      }
      if (v > 2147483647 || v < -2147483648) throw badFile(file, `.npy ${code} value ${v} at flat index ${i} does not fit in int32`);
      out[i] = v;
    }
    data = out;
  }
  if (h.fortran) data = fortranToC(data, h.shape);
  return { data, shape: h.shape, dtype: code };
}

function parseCsv(text: string, file: string): NumArray {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  if (lines.length === 0) throw badFile(file, 'CSV file has no rows');
  const split = (l: string) =>
    (l.includes(',') ? l.split(',') : l.includes(';') ? l.split(';') : l.includes('\t') ? l.split('\t') : l.split(/\s+/)).map((s) =>
      s.trim().replace(/^"(.*)"$/, '$1'),
    );
  const isNum = (s: string) => (s !== '' && Number.isFinite(Number(s))) || /^[+-]?(nan|inf(inity)?)$/i.test(s);
  let rows = lines.map(split);
  let skipped = 0;
  if (!rows[0].every(isNum)) {
    rows = rows.slice(1);
    skipped = 1;
  }
  if (rows.length === 0) throw badFile(file, 'CSV file has a header but no data rows');
  const cols = rows[0].length;
  const data = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => {
    if (r.length !== cols) throw badFile(file, `CSV row ${i + 1 + skipped} has ${r.length} values; expected ${cols} like the first row`);
    r.forEach((s, k) => {
      if (!isNum(s)) throw badFile(file, `CSV row ${i + 1 + skipped} column ${k + 1}: '${s.slice(0, 40)}' is not a number`);
      data[i * cols + k] = /^[+-]?nan$/i.test(s) ? NaN : /inf/i.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s);
    });
  });
  return { data, shape: [rows.length, cols], dtype: 'f4' };
}

/**
 * Read a numeric array: .npy, .npz (first array, or `file.npz:name`), or .csv (numbers, one
 * sample per row, optional header row). Decided by content.
 */
export function readArray(file: string): NumArray {
  let path = file;
  let member: string | null = null;
  if (!existsSync(path)) {
    const m = /^(.*):([^/\\:]+)$/.exec(file);
    if (m && existsSync(m[1])) {
      path = m[1];
      member = m[2];
    } else throw badFile(file, 'no such file');
  }
  if (statSync(path).isDirectory()) throw badFile(file, 'is a directory, expected a .npy/.npz/.csv file');
  if (statSync(path).size > 4 * MAX_ARRAY_ELEMENTS) throw badFile(file, 'file larger than 1 GiB; refusing');
  const bytes = new Uint8Array(readFileSync(path));
  if (bytes.length === 0) throw badFile(file, 'file is empty');
  if (NPY_MAGIC.every((b, i) => bytes[i] === b)) {
    if (member) throw badFile(file, 'a member name (file:name) only applies to .npz archives');
    return parseNpy(bytes, file);
  }
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    const entries = unzipSafe(bytes, file, (n) => n.endsWith('.npy') && (member === null || n === member || n === `${member}.npy`));
    const names = Object.keys(entries).sort();
    if (names.length === 0) {
      throw badFile(file, member ? `.npz has no array named '${member}'` : '.npz archive holds no .npy arrays');
    }
    // numpy.savez keeps insertion order: the first central-directory entry is the first array
    const first = member ? names[0] : Object.keys(entries)[0];
    return parseNpy(entries[first], `${file}:${first.replace(/\.npy$/, '')}`);
  }
  if (member) throw badFile(file, 'a member name (file:name) only applies to .npz archives');
  // text: CSV
  for (let i = 0; i < Math.min(bytes.length, 4096); i++) {
    if (bytes[i] === 0) throw badFile(file, 'not a .npy, .npz or CSV file (binary content)');
  }
  return parseCsv(new TextDecoder().decode(bytes), file);
}

/** Bytes of a .npy (format 1.0, C order) for float32 ('<f4') or int32 ('<i4') data. */
export function npyBytes(data: Float32Array | Int32Array, shape: number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new UserError(`writeNpy: shape [${shape.join(',')}] needs ${n} values, got ${data.length}`);
  const descr = data instanceof Float32Array ? '<f4' : '<i4';
  const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  const h = header.padEnd(total - 11, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(NPY_MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(new TextEncoder().encode(h), 10);
  // little-endian host assumed (Node on x86/ARM)
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/** Write a .npy atomically (temp file in the same folder, then rename). */
export function writeNpy(file: string, data: Float32Array | Int32Array, shape: number[]): void {
  const bytes = npyBytes(data, shape);
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof UserError) throw e;
    throw badFile(file, `cannot write (${(e as any)?.code ?? (e as Error).message})`);
  }
}
