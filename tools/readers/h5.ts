/**
 * Thin, defensive wrapper around h5wasm (node build: real disk paths).
 *
 * - HDF5 error stacks that libhdf5 prints to stderr are captured and summarised into ONE line
 *   of a UserError (never a multi-KB dump on the user's terminal).
 * - Datasets are checked (float class, element count, byte order) BEFORE their data is read.
 * - Files are always closed (callers use `withH5`).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { badFile, UserError } from '../errors.ts';

const require = createRequire(import.meta.url);
const nodeFs = require('fs') as typeof import('fs');

/**
 * Refuse any single weight array with more elements than this (2^24 = 64 MiB of float32).
 * Microcontroller models are KiBs to a few MiB; the cap is checked from metadata, before reading.
 */
export const MAX_DATASET_ELEMENTS = 2 ** 24;
/** Refuse models whose weights together exceed this many elements (2^26 = 256 MiB of float32), also before reading. */
export const MAX_TOTAL_ELEMENTS = 2 ** 26;
/** Guard for recursive group walks (HDF5 hard links can form cycles). */
export const MAX_GROUP_DEPTH = 32;

let h5mod: any = null;
let h5ns: any = null; // the module namespace: `Module` (the emscripten instance) is a named export
async function h5(): Promise<any> {
  if (!h5mod) {
    const m = await import('h5wasm/node');
    await m.default.ready;
    h5ns = m;
    h5mod = m.default;
  }
  return h5mod;
}

/**
 * Cap on h5wasm's linear memory while a file is read (its build allows 2 GiB and the memory is
 * internal, so there is no option for it). A corrupt variable-length attribute can make libhdf5
 * allocate 1.5-2.5 GiB before it notices; with the cap its malloc fails instead and libhdf5
 * reports an error. Weights are at most MAX_TOTAL_ELEMENTS float32 (256 MiB), read one dataset
 * at a time (a float64 dataset of MAX_DATASET_ELEMENTS: 128 MiB), so 512 MiB leaves ample room.
 */
export const MAX_H5_HEAP_BYTES = 512 * 2 ** 20;

/** Run `fn` with growth of h5wasm's memory beyond MAX_H5_HEAP_BYTES refused (other wasm memories untouched). */
function withHeapCap<T>(fn: () => T): T {
  const proto = WebAssembly.Memory.prototype;
  const orig = proto.grow;
  const h5buffer = () => h5ns?.Module?.HEAPU8?.buffer;
  proto.grow = function (this: WebAssembly.Memory, delta: number): number {
    // emscripten's growMemory catches this and makes malloc return NULL
    if (this.buffer === h5buffer() && this.buffer.byteLength + delta * 65536 > MAX_H5_HEAP_BYTES) throw new RangeError('h5wasm heap cap reached');
    return orig.call(this, delta);
  };
  try {
    return fn();
  } finally {
    proto.grow = orig;
  }
}

let captured = '';
let captureDepth = 0;
let origWriteSync: typeof nodeFs.writeSync | null = null;
let origStderrWrite: any = null;
let origStdoutWrite: any = null;

/** Run `fn` with writes to fd 2 (libhdf5 error stacks) captured instead of printed. */
function captureStderr<T>(fn: () => T): T {
  if (captureDepth++ === 0) {
    captured = '';
    origWriteSync = nodeFs.writeSync;
    const orig = origWriteSync;
    (nodeFs as any).writeSync = (fd: number, buf: any, ...rest: any[]) => {
      if (fd === 2) {
        if (typeof buf === 'string') {
          if (captured.length < 65536) captured += buf;
          return buf.length;
        }
        const off = typeof rest[0] === 'number' ? rest[0] : 0;
        const len = typeof rest[1] === 'number' ? rest[1] : buf.byteLength - off;
        if (captured.length < 65536) captured += Buffer.from(buf.buffer, buf.byteOffset + off, len).toString('utf8');
        return len;
      }
      return (orig as any)(fd, buf, ...rest);
    };
    // emscripten's abort()/warnings go through console.error/console.log -> process streams
    origStderrWrite = process.stderr.write;
    origStdoutWrite = process.stdout.write;
    const swallow = (chunk: any, ...rest: any[]) => {
      if (captured.length < 65536) captured += String(chunk);
      const cb = rest.find((x) => typeof x === 'function');
      if (cb) cb();
      return true;
    };
    (process.stderr as any).write = swallow;
    (process.stdout as any).write = swallow;
  }
  try {
    return fn();
  } finally {
    if (--captureDepth === 0 && origWriteSync) {
      (nodeFs as any).writeSync = origWriteSync;
      origWriteSync = null;
      (process.stderr as any).write = origStderrWrite;
      (process.stdout as any).write = origStdoutWrite;
    }
  }
}

/** One short line out of an HDF5 diagnostic stack / emscripten error. */
function summariseH5Error(e: unknown, stderrText = captured): string {
  const lines = stderrText.split('\n');
  let last = '';
  for (const l of lines) {
    const m = /#\d+: .* in [\w.]+\(\): (.*)$/.exec(l);
    if (m) last = m[1].trim();
  }
  if (last) return printable(last).slice(0, 160);
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n')[0].trim();
  if (/^(RuntimeError|Aborted)|abort\(|enlarge memory/i.test(first) || /Aborted|enlarge memory/.test(stderrText) || first.length > 200) {
    return 'HDF5 library aborted while reading the file';
  }
  return printable(first).slice(0, 160) || 'unknown HDF5 error';
}

/** Replace control and non-ASCII bytes (garbage from corrupt files) so messages stay one clean line. */
function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}

/** Refuse attributes whose declared size is absurd before h5wasm allocates for them. */
const MAX_ATTR_BYTES = 64 * 1024 * 1024;

function attrValue(a: any, name: string): unknown {
  let md: any = null;
  try {
    md = a.metadata;
  } catch {
    md = null;
  }
  if (md) {
    let n = 1;
    for (const d of md.shape ?? []) n *= d;
    const bytes = (md.vlen ? 16 : md.size) * n;
    if (!(bytes <= MAX_ATTR_BYTES)) throw new Error(`attribute ${name} declares ${bytes} bytes`);
  }
  return a.value;
}

export interface H5Handle {
  file: string;
  root: any; // h5wasm File (a Group)
}

/**
 * Open `path` read-only, run `fn` (synchronously) with the root group, always close.
 * `displayName` is what error messages call the file.
 */
export async function withH5<T>(path: string, displayName: string, fn: (h: H5Handle) => T): Promise<T> {
  const lib = await h5();
  const abs = resolve(path);
  if (!existsSync(abs)) throw badFile(displayName, 'no such file');
  return withHeapCap(() =>
    captureStderr(() => {
      let f: any = null;
      try {
        try {
          f = new lib.File(abs, 'r');
        } catch (e) {
          throw badFile(displayName, `not a readable HDF5 file (${summariseH5Error(e)})`);
        }
        if (f.file_id === undefined || f.file_id < 0n) {
          const s = summariseH5Error(new Error('open failed'));
          f = null;
          throw badFile(displayName, `not a readable HDF5 file (${s})`);
        }
        try {
          return fn({ file: displayName, root: f });
        } catch (e) {
          if (e instanceof UserError) throw e;
          throw badFile(displayName, `corrupt HDF5 file (${summariseH5Error(e)})`);
        }
      } finally {
        if (f) {
          try {
            f.close();
          } catch {
            /* closing a damaged file may fail; nothing more to do */
          }
        }
      }
    }),
  );
}

export function isGroup(e: any): boolean {
  return !!e && e.type === 'Group';
}
export function isDataset(e: any): boolean {
  return !!e && e.type === 'Dataset';
}

/** Child entity or null (never throws for a missing name). */
export function child(g: any, name: string): any {
  try {
    if (!g.keys().includes(name.split('/')[0])) return null;
    return g.get(name);
  } catch {
    return null;
  }
}

function decodeStr(v: unknown): string {
  if (typeof v === 'string') return v.replace(/\0+$/, '');
  if (v instanceof Uint8Array) return new TextDecoder().decode(v).replace(/\0+$/, '');
  return String(v);
}

/** A scalar string attribute (JSON configs, versions), or null when absent. */
export function strAttr(g: any, name: string): string | null {
  const a = g.attrs?.[name];
  if (!a) return null;
  const v = attrValue(a, name);
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.length ? decodeStr(v[0]) : null;
  return decodeStr(v);
}

/**
 * A string-list attribute such as `layer_names` / `weight_names`, including Keras's chunked
 * form (`name0`, `name1`, ... when the attribute exceeded the 64 KB header limit).
 * Returns null when neither form exists.
 */
export function strListAttr(g: any, name: string): string[] | null {
  const attrs = g.attrs ?? {};
  const one = (a: any): string[] => {
    const v = attrValue(a, name);
    if (v === null || v === undefined) return [];
    if (typeof v === 'string' || v instanceof Uint8Array) return [decodeStr(v)];
    if (Array.isArray(v)) return v.map(decodeStr);
    if (ArrayBuffer.isView(v)) {
      if ((v as any).length === 0) return []; // h5py writes an empty float64 array for no names
      throw new Error(`attribute ${name} is not a list of strings`);
    }
    return [decodeStr(v)];
  };
  if (attrs[name]) return one(attrs[name]);
  if (!attrs[`${name}0`]) return null;
  const out: string[] = [];
  for (let i = 0; attrs[`${name}${i}`]; i++) out.push(...one(attrs[`${name}${i}`]));
  return out;
}

const FLOAT_NAMES: Record<number, string> = { 2: 'float16', 4: 'float32', 8: 'float64' };

function describeType(md: any): string {
  if (md.type === 1) return FLOAT_NAMES[md.size] ?? `float${md.size * 8}`;
  if (md.type === 0) return `${md.signed ? 'int' : 'uint'}${md.size * 8}`;
  if (md.type === 3) return 'string';
  return `HDF5 type class ${md.type}`;
}

export interface ReadFloatOptions {
  /** For messages: "layer 'dense' weight 'kernel'". */
  what: string;
  file: string;
  /** Running element count of the model's weights: checked against MAX_TOTAL_ELEMENTS and updated before reading. */
  budget?: { total: number };
}

/**
 * Read a float dataset as float32 (row-major), with all checks done before the data is read.
 */
export function readFloatDataset(ds: any, o: ReadFloatOptions): { shape: number[]; data: Float32Array } {
  const md = ds.metadata;
  const shape: number[] = md.shape === null ? [] : [...md.shape];
  if (md.shape === null) throw badFile(o.file, `${o.what} is an empty (null-space) dataset`);
  if (md.vlen || md.type !== 1) {
    throw badFile(o.file, `${o.what} has dtype ${describeType(md)}; only float32/float64 weights are supported`);
  }
  if (md.size !== 4 && md.size !== 8) {
    throw badFile(o.file, `${o.what} has dtype ${describeType(md)}; only float32/float64 weights are supported (re-save as float32)`);
  }
  if (!md.littleEndian) throw badFile(o.file, `${o.what} is big-endian; only little-endian weights are supported`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw badFile(o.file, `${o.what} has an invalid shape [${shape.join(',')}]`);
    n *= d;
  }
  if (n > MAX_DATASET_ELEMENTS) {
    throw badFile(
      o.file,
      `${o.what} has ${n} elements (shape [${shape.join(',')}]); refusing more than ${MAX_DATASET_ELEMENTS} (MAX_DATASET_ELEMENTS) per weight`,
    );
  }
  if (o.budget) {
    if (o.budget.total + n > MAX_TOTAL_ELEMENTS) {
      throw badFile(
        o.file,
        `${o.what} (${n} elements) brings the weights to ${o.budget.total + n} elements; refusing more than ${MAX_TOTAL_ELEMENTS} (MAX_TOTAL_ELEMENTS) in total`,
      );
    }
    o.budget.total += n;
  }
  const v = ds.value;
  let data: Float32Array;
  if (v instanceof Float32Array) data = v;
  else if (v instanceof Float64Array) data = Float32Array.from(v);
  else if (typeof v === 'number') data = Float32Array.of(v);
  else throw badFile(o.file, `${o.what} could not be read as floats`);
  if (data.length !== n) {
    throw badFile(o.file, `${o.what}: read ${data.length} values but its shape [${shape.join(',')}] needs ${n}`);
  }
  return { shape, data };
}
