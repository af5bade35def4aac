/**
 * C headers for firmware: a model blob or the runtime .wasm as an aligned `static const
 * uint8_t` array (like `xxd -i`, but aligned and with the shapes and sizes as named constants).
 *
 *   toCHeader(blobBytes, { name: 'model' })        -> model.h for `convert --c-header`
 *   wasmToCHeader(wasmBytes, { name: 'kw_runtime_wasm', info }) -> for `npx ./tools/wasm2h`
 *
 * The blob's constants come from its own header and I/O descriptors (parseBlob), so they can
 * never disagree with the bytes. Names: `<NAME>_INPUT0_DIMS` etc., NAME upper-cased; each input
 * and output also has an index macro named after its Keras name (`<NAME>_INPUT_<KERAS_NAME>`),
 * derived safely (c-names.ts), the whole name in its comment and in `<NAME>_INPUT0_NAME`.
 */
import { parseBlob, type ParsedBlob } from './parse.ts';
import { DTYPE, FLAG, FORMAT_VERSION } from './spec.ts';
import { UserError, EXIT } from '../errors.ts';
import { CNames, cIdentifier, commentText, cString, reservedReason } from './c-names.ts';

const WASM_PAGE = 65536;

export interface CHeaderOptions {
  /** C identifier of the array; constants are NAME_* in upper case. */
  name: string;
  /** Array alignment in bytes (power of two, >= 16 recommended: the runtime copies the blob to a 16-aligned buffer). */
  alignment?: number;
  /** Emit the named constants (default true). */
  constants?: boolean;
  /** Bytes of linear memory the runtime uses before the blob (static data), to state exact pages; when absent the page count is a lower bound. */
  runtimeStaticBytes?: number;
  /** Shown in the comment at the top (e.g. the source file name). */
  source?: string;
}

const DTYPE_C: Record<number, string> = { [DTYPE.INT8]: 'int8_t', [DTYPE.INT16]: 'int16_t', [DTYPE.INT32]: 'int32_t' };

export function checkCName(name: string): string {
  const why = reservedReason(name);
  if (why) throw new UserError(`--name ${name}: ${why}; give another name (e.g. ${cIdentifier(name, 'model')})`, EXIT.USAGE);
  return name;
}

/** Derives a C identifier from a file name: "models/har v2.blob" -> "har_v2_blob". */
export function cNameFromFile(file: string): string {
  return cIdentifier(file.replace(/^.*[\\/]/, ''), 'data');
}

function floatLiteral(x: number): string {
  if (!Number.isFinite(x)) return '0.0f';
  // shortest text that round-trips through float32
  const f = Math.fround(x);
  for (let p = 6; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return `${/[.e]/.test(s) ? s : s + '.0'}f`;
  }
  return `${f}f`;
}

function alignMacro(): string {
  return [
    '#ifndef KW_ALIGNAS',
    '#if defined(__cplusplus) && __cplusplus >= 201103L',
    '#define KW_ALIGNAS(n) alignas(n)',
    '#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L',
    '#define KW_ALIGNAS(n) _Alignas(n)',
    '#elif defined(__GNUC__) || defined(__clang__)',
    '#define KW_ALIGNAS(n) __attribute__((aligned(n)))',
    '#else',
    '#define KW_ALIGNAS(n)',
    '#endif',
    '#endif',
    '#ifndef KW_MAYBE_UNUSED',
    '#if defined(__GNUC__) || defined(__clang__)',
    '#define KW_MAYBE_UNUSED __attribute__((unused))',
    '#else',
    '#define KW_MAYBE_UNUSED',
    '#endif',
    '#endif',
  ].join('\n');
}

function bytesArray(bytes: Uint8Array, name: string, alignment: number): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row: string[] = [];
    for (let j = i; j < Math.min(i + 16, bytes.length); j++) row.push('0x' + bytes[j].toString(16).padStart(2, '0'));
    lines.push('  ' + row.join(', ') + ',');
  }
  if (bytes.length === 0) lines.push('  0');
  // KW_ALIGNAS leads the declaration: there it aligns the array in C11 (_Alignas), GNU C and
  // C++ (alignas); after the type, C++ would apply it to the type and ignore it (Arduino sketches are C++)
  return `KW_ALIGNAS(${alignment}) static const uint8_t KW_MAYBE_UNUSED ${name}[${Math.max(1, bytes.length)}] = {\n${lines.join('\n')}\n};`;
}

function checkAlignment(a: number): number {
  if (!Number.isInteger(a) || a < 1 || a > 4096 || (a & (a - 1)) !== 0)
    throw new UserError(`--alignment ${a}: must be a power of two between 1 and 4096`, EXIT.USAGE);
  return a;
}

function guardOf(name: string): string {
  return `${name.toUpperCase()}_H_`;
}

function define(lines: string[], name: string, value: string | number, comment?: string) {
  lines.push(`#define ${name} ${value}${comment ? ` /* ${comment} */` : ''}`);
}

/** `<P>_INPUT_<NAME> i` for every input and output: unique, never reserved, the whole name in a comment. */
function indexByName(p: ParsedBlob, P: string, defined: string[]): string[] {
  const names = new CNames();
  names.reserve(...defined.map((l) => /^#define (\w+)/.exec(l)?.[1] ?? ''));
  const L = ['/* inputs and outputs by their Keras names (an index for kw_input_ptr / kw_output_ptr) */'];
  const each = (kind: 'INPUT' | 'OUTPUT', list: typeof p.io.inputs) =>
    list.forEach((t, i) => {
      const stem = `${P}_${kind}_`;
      const id = names.take(stem + cIdentifier(t.name, 'unnamed', 63 - 3 - stem.length).toUpperCase());
      define(L, id, i, `${kind.toLowerCase()} '${commentText(t.name)}'`);
    });
  each('INPUT', p.io.inputs);
  each('OUTPUT', p.io.outputs);
  return L;
}

/** Constants describing a parsed blob (shared by toCHeader and tests). */
function blobConstants(p: ParsedBlob, totalBytes: number, prefix: string, runtimeStaticBytes?: number): string[] {
  const P = prefix.toUpperCase();
  const h = p.header;
  const L: string[] = [];
  define(L, `${P}_SIZE`, `${totalBytes}u`, 'bytes of the blob');
  define(L, `${P}_FORMAT_VERSION`, h.version);
  define(L, `${P}_CRC32`, `0x${(h.crc32 >>> 0).toString(16).toUpperCase().padStart(8, '0')}u`);
  define(L, `${P}_BATCH`, h.batch, 'static batch the blob was built with');
  define(L, `${P}_OP_MASK0`, `0x${(h.opMask0 >>> 0).toString(16).toUpperCase()}u`, 'ops used (bit = op code)');
  define(L, `${P}_OP_MASK1`, `0x${(h.opMask1 >>> 0).toString(16).toUpperCase()}u`);
  define(L, `${P}_HAS_SELFTEST`, h.flags & FLAG.HAS_SELFTEST ? 1 : 0);
  define(L, `${P}_STATEFUL`, h.flags & FLAG.STATEFUL ? 1 : 0);
  define(L, `${P}_ARENA_SIZE`, `${h.arenaSize}u`, 'activation arena bytes');
  define(L, `${P}_STATE_SIZE`, `${h.stateSize}u`, 'persistent state bytes');
  define(L, `${P}_SCRATCH_SIZE`, `${h.scratchSize}u`, 'per-op scratch bytes');
  const blobAligned = Math.ceil(totalBytes / 16) * 16;
  const modelBytes = blobAligned + h.arenaSize + h.stateSize + h.scratchSize;
  define(L, `${P}_MODEL_MEMORY`, `${modelBytes}u`, 'blob copy + arena + state + scratch in linear memory');
  if (runtimeStaticBytes !== undefined) {
    const total = runtimeStaticBytes + modelBytes;
    define(L, `${P}_LINEAR_MEMORY`, `${total}u`, `including ${runtimeStaticBytes} bytes of runtime static data`);
    define(L, `${P}_PAGES`, Math.max(1, Math.ceil(total / WASM_PAGE)), '64 KiB wasm pages the runtime grows to');
  } else {
    define(L, `${P}_PAGES_MIN`, Math.max(1, Math.ceil(modelBytes / WASM_PAGE)), '64 KiB pages, lower bound (runtime static data not included)');
  }
  const io = (kind: 'INPUT' | 'OUTPUT', list: typeof p.io.inputs) => {
    define(L, `${P}_NUM_${kind}S`, list.length);
    list.forEach((t, i) => {
      const q = `${P}_${kind}${i}`;
      const elements = t.dims.reduce((a, b) => a * b, 1);
      L.push(`/* ${kind.toLowerCase()} ${i}: '${commentText(t.name)}' ${DTYPE_C[t.dtype] ?? '?'} [${t.dims.join(', ')}] */`);
      define(L, `${q}_NAME`, cString(t.name));
      define(L, `${q}_DTYPE`, t.dtype, `${DTYPE_C[t.dtype] ?? '?'} (KW_DTYPE_*)`);
      define(L, `${q}_RANK`, t.rank);
      define(L, `${q}_DIMS`, `{${t.dims.join(', ')}}`, 'initializer');
      t.dims.forEach((d, k) => define(L, `${q}_DIM${k}`, d));
      define(L, `${q}_ELEMENTS`, `${elements}u`);
      define(L, `${q}_BYTES`, `${t.bytes}u`);
      define(L, `${q}_SCALE`, floatLiteral(t.scale), 'real = (q - zero_point) * scale');
      define(L, `${q}_ZERO_POINT`, t.zeroPoint);
    });
  };
  io('INPUT', p.io.inputs);
  io('OUTPUT', p.io.outputs);
  return [...L, ...indexByName(p, P, L)];
}

/** C header for a model blob: aligned array, length and named constants. */
export function toCHeader(bytes: Uint8Array, opts: CHeaderOptions): string {
  const name = checkCName(opts.name);
  const alignment = checkAlignment(opts.alignment ?? 16);
  const p = parseBlob(bytes, { file: opts.source ?? 'blob' });
  const out: string[] = [];
  const guard = guardOf(name);
  out.push(
    `/* Generated by kerawasm${opts.source ? ` from ${commentText(opts.source)}` : ''}. Model blob (format ${p.header.version}) for kw_init(). Do not edit. */`,
  );
  out.push(`#ifndef ${guard}`, `#define ${guard}`, '', '#include <stdint.h>', '', alignMacro(), '');
  if (opts.constants !== false) {
    out.push(...blobConstants(p, bytes.length, name, opts.runtimeStaticBytes), '');
  }
  define(out, `${name.toUpperCase()}_LEN`, `${bytes.length}u`);
  out.push(
    `/* ${bytes.length} bytes, ${alignment}-byte aligned; const, so it stays in flash on most toolchains: kw_init_mapped streams it from there, kw_init copies it to linear memory. */`,
  );
  out.push(bytesArray(bytes, name, alignment), '', `#endif /* ${guard} */`, '');
  return out.join('\n');
}

export interface RuntimeWasmInfo {
  abiVersion: number;
  formatVersion: number;
  opMask: [number, number];
  /** initial linear memory pages declared by the module */
  initialPages: number;
}

/** C header for the runtime .wasm (for wasm3: may stay in flash; for WAMR copy it to RAM first). */
export function wasmToCHeader(bytes: Uint8Array, opts: CHeaderOptions & { info?: RuntimeWasmInfo }): string {
  const name = checkCName(opts.name);
  const alignment = checkAlignment(opts.alignment ?? 16);
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    throw new UserError(`${opts.source ?? 'input'}: not a WebAssembly module (missing \\0asm magic)`, EXIT.BAD_INPUT);
  const N = name.toUpperCase();
  const guard = guardOf(name);
  const out: string[] = [];
  out.push(`/* Generated by kerawasm${opts.source ? ` from ${commentText(opts.source)}` : ''}. Runtime .wasm for kw_load(). Do not edit. */`);
  out.push("/* wasm3 reads it in place (flash is fine); WAMR's wasm_runtime_load needs a writable RAM copy. */");
  out.push(`#ifndef ${guard}`, `#define ${guard}`, '', '#include <stdint.h>', '', alignMacro(), '');
  define(out, `${N}_LEN`, `${bytes.length}u`);
  if (opts.info && opts.constants !== false) {
    define(out, `${N}_ABI_VERSION`, opts.info.abiVersion);
    define(out, `${N}_FORMAT_VERSION`, opts.info.formatVersion, `blob format it reads (this tool: ${FORMAT_VERSION})`);
    define(out, `${N}_OP_MASK0`, `0x${(opts.info.opMask[0] >>> 0).toString(16).toUpperCase()}u`, 'ops implemented');
    define(out, `${N}_OP_MASK1`, `0x${(opts.info.opMask[1] >>> 0).toString(16).toUpperCase()}u`);
    define(out, `${N}_INITIAL_PAGES`, opts.info.initialPages, 'declared initial 64 KiB pages');
  }
  out.push(bytesArray(bytes, name, alignment), '', `#endif /* ${guard} */`, '');
  return out.join('\n');
}
