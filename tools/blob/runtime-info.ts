/**
 * What a runtime .wasm build states about itself, read by instantiating it (no blob needed):
 * ABI version, blob format version, op mask, declared memory, and whether it exports every
 * function of the ABI (spec.ts EXPORTS) and imports only what the C glue provides (env.abort).
 */
import { UserError, EXIT } from '../errors.ts';
import { EXPORTS, HEADER, IMPORT_READ_BLOB } from './spec.ts';
import type { RuntimeWasmInfo } from './c-header.ts';

export interface RuntimeInfo extends RuntimeWasmInfo {
  bytes: number;
  missingExports: string[];
  /** imports other than env.abort and kw.read_blob (the glue provides only those) */
  unexpectedImports: string[];
  /** imports kw.read_blob: can stream a blob from flash (runtime-flash.wasm) */
  streams: boolean;
  /** linear memory bytes right after instantiation (static data lives below) */
  initialBytes: number;
  /** bytes the runtime uses before any blob: static data, CRC table, op area (kw_memory_used) */
  initialStatic: number;
}

/**
 * Imports the C glue and the Node host provide: AssemblyScript's env.abort traps; kw.read_blob
 * serves `blob` (none: every read fails).
 */
function runtimeImports(blob: Uint8Array | null = null, memory: () => WebAssembly.Memory | null = () => null): WebAssembly.Imports {
  const read = (off: number, dst: number, len: number) => {
    const mem = memory();
    if (!blob || !mem || off < 0 || len < 0 || off + len > blob.length || dst < 0 || dst + len > mem.buffer.byteLength) return -1;
    new Uint8Array(mem.buffer, dst, len).set(blob.subarray(off, off + len));
    return len;
  };
  return {
    env: {
      abort: (_msg: number, _file: number, line: number, col: number) => {
        throw new Error(`runtime aborted (line ${line}, column ${col})`);
      },
    },
    [IMPORT_READ_BLOB.module]: { [IMPORT_READ_BLOB.name]: read },
  };
}

const isReadBlob = (i: { module: string; name: string }) => i.module === IMPORT_READ_BLOB.module && i.name === IMPORT_READ_BLOB.name;

/** The staging size a blob's header names (0: built for copy-in only). */
export function blobStaging(blob: Uint8Array): number {
  if (blob.length < HEADER.stagingSize + 4) return 0;
  return new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(HEADER.stagingSize, true);
}

export async function readRuntimeInfo(bytes: Uint8Array, file = 'runtime.wasm'): Promise<RuntimeInfo> {
  let mod: WebAssembly.Module;
  try {
    mod = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new UserError(`${file}: not a valid WebAssembly module (${(e as Error).message})`, EXIT.BAD_INPUT);
  }
  const exported = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  const streams = WebAssembly.Module.imports(mod).some(isReadBlob);
  const missingExports = EXPORTS.filter((e) => streams || !e.flashOnly)
    .map((e) => e.name)
    .filter((n) => !exported.has(n));
  const unexpectedImports = WebAssembly.Module.imports(mod)
    .filter((i) => !(i.module === 'env' && i.name === 'abort') && !isReadBlob(i))
    .map((i) => `${i.module}.${i.name}`);
  if (unexpectedImports.length) {
    return {
      bytes: bytes.length,
      missingExports,
      unexpectedImports,
      streams,
      abiVersion: -1,
      formatVersion: -1,
      opMask: [0, 0],
      initialPages: 0,
      initialBytes: 0,
      initialStatic: 0,
    };
  }
  const inst = await WebAssembly.instantiate(mod, runtimeImports());
  const ex = inst.exports as Record<string, any>;
  const mem = ex.memory as WebAssembly.Memory | undefined;
  const call = (n: string, ...a: number[]) => (typeof ex[n] === 'function' ? (ex[n](...a) as number) : -1);
  const initialBytes = mem ? mem.buffer.byteLength : 0;
  return {
    bytes: bytes.length,
    missingExports,
    unexpectedImports,
    streams,
    abiVersion: call('kw_abi_version'),
    formatVersion: call('kw_format_version'),
    opMask: [call('kw_op_mask', 0) >>> 0, call('kw_op_mask', 1) >>> 0],
    initialPages: initialBytes / 65536,
    initialBytes,
    initialStatic: call('kw_memory_used') >>> 0,
  };
}

export interface MemoryMeasure {
  /** kw_init's return code (0 = the runtime accepted the blob) */
  initCode: number;
  errorOp: number;
  /** kw_memory_used after init */
  memoryUsed: number;
  /** linear memory pages after instantiation, after kw_blob_buffer, after kw_init */
  pagesAtStart: number;
  pagesAfterBuffer: number;
  pagesAfterInit: number;
  /** pages before the last memory.grow (WAMR reallocates: old + new block at once) */
  pagesBeforeLastGrow: number;
  /** address of the blob copy = static data + heap start of the runtime */
  blobAddress: number;
}

/**
 * Runs the ABI's load sequence on a fresh instance only to measure linear memory as the
 * interpreters will allocate it: whole 64 KiB pages, grown by the runtime. Streamed (a runtime
 * that imports kw.read_blob, and a blob that names a staging size, unless `weights` says ram):
 * kw_set_memory_limit? -> kw_blob_external -> kw_init; copy-in: kw_set_memory_limit? ->
 * kw_blob_buffer -> copy -> kw_init. The numbers and the self-test run in DeviceSim.
 */
export async function measureLinearMemory(runtime: Uint8Array, blob: Uint8Array, memoryLimit = 0, weights?: 'flash' | 'ram'): Promise<MemoryMeasure> {
  const mod = await WebAssembly.compile(runtime as Uint8Array<ArrayBuffer>);
  let memory: WebAssembly.Memory | null = null;
  const instance = await WebAssembly.instantiate(
    mod,
    runtimeImports(blob, () => memory),
  );
  const ex = instance.exports as Record<string, any>;
  const mem = ex.memory as WebAssembly.Memory;
  memory = mem;
  const pages = () => mem.buffer.byteLength / 65536;
  const pagesAtStart = pages();
  if (memoryLimit) ex.kw_set_memory_limit(memoryLimit);
  const streamed = (weights ?? (blobStaging(blob) > 0 ? 'flash' : 'ram')) === 'flash' && WebAssembly.Module.imports(mod).some(isReadBlob);
  if (streamed) return measureStreamed(ex, blob, pages, pagesAtStart);
  const addr = ex.kw_blob_buffer(blob.length) >>> 0;
  const pagesAfterBuffer = pages();
  if (addr === 0) {
    return {
      initCode: 11,
      errorOp: -1,
      memoryUsed: 0,
      pagesAtStart,
      pagesAfterBuffer,
      pagesAfterInit: pagesAfterBuffer,
      pagesBeforeLastGrow: 0,
      blobAddress: 0,
    };
  }
  new Uint8Array(mem.buffer, addr, blob.length).set(blob);
  const initCode = ex.kw_init() | 0;
  const pagesAfterInit = pages();
  // 0 when the runtime never grew its memory (no realloc peak)
  const pagesBeforeLastGrow = pagesAfterInit > pagesAfterBuffer ? pagesAfterBuffer : pagesAfterBuffer > pagesAtStart ? pagesAtStart : 0;
  return afterInit(ex, initCode, { pagesAtStart, pagesAfterBuffer, pagesAfterInit, pagesBeforeLastGrow }, addr);
}

/** The measure after kw_init: its code, the op it names, kw_memory_used and the page counts. */
function afterInit(
  ex: Record<string, any>,
  initCode: number,
  p: Pick<MemoryMeasure, 'pagesAtStart' | 'pagesAfterBuffer' | 'pagesAfterInit' | 'pagesBeforeLastGrow'>,
  blobAddress: number,
): MemoryMeasure {
  return { initCode, errorOp: ex.kw_error_op() | 0, memoryUsed: ex.kw_memory_used() >>> 0, ...p, blobAddress };
}

/** The streamed load sequence (the blob stays with the host): kw_blob_external -> kw_init. */
function measureStreamed(ex: Record<string, any>, blob: Uint8Array, pages: () => number, pagesAtStart: number): MemoryMeasure {
  const code = ex.kw_blob_external(blob.length) | 0;
  const pagesAfterBuffer = pages();
  const initCode = code === 0 ? ex.kw_init() | 0 : code;
  const pagesAfterInit = pages();
  const pagesBeforeLastGrow = pagesAfterInit > pagesAtStart ? pagesAtStart : 0;
  return afterInit(ex, initCode, { pagesAtStart, pagesAfterBuffer, pagesAfterInit, pagesBeforeLastGrow }, 0);
}
