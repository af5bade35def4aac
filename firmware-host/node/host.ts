/**
 * Node host simulation of the firmware, in either weight mode:
 *  - ram: build/runtime.wasm (no imports); the blob is copied into linear memory exactly as
 *    firmware does (kw_blob_buffer -> write -> kw_init);
 *  - flash: build/runtime-flash.wasm; the blob stays here and the runtime reads it through the
 *    one import kw.read_blob (kw_blob_external -> kw_init), as firmware serves it from flash.
 * Inputs and outputs go through kw_input_ptr / kw_output_ptr; after every call the host checks
 * that linear memory never exceeds the memory limit.
 */
import { readFileSync } from 'node:fs';
import { decodeAcceptedBlob, type IOInfo, type ParsedBlob } from '../../tools/blob/parse.ts';
import { DTYPE, ERR, ERR_TEXT, EXPORTS, IMPORT_READ_BLOB } from '../../tools/blob/spec.ts';
import { dequantize, quantize } from '../../tools/fixedpoint.ts';
import { packageFile } from '../../tools/package-root.ts';

export const DEFAULT_WASM = packageFile('build', 'runtime.wasm');
export const FLASH_WASM = packageFile('build', 'runtime-flash.wasm');

/** Where the weights live on the device: streamed from flash (the default) or copied into RAM. */
export type WeightsMode = 'flash' | 'ram';
export const WEIGHT_MODES: readonly WeightsMode[] = ['flash', 'ram'];

export interface RuntimeExports {
  memory: WebAssembly.Memory;
  [name: string]: any;
}

export interface LoadOptions {
  /** cap on linear memory in bytes (kw_set_memory_limit); 0/undefined = none */
  memoryLimitBytes?: number;
  /** weight mode (default ram); flash needs a runtime with the kw.read_blob import */
  weights?: WeightsMode;
}

/** What kw.read_blob served: calls and bytes (the flash traffic of the device). */
export interface ReadStats {
  calls: number;
  bytes: number;
}

class MemoryLimitExceeded extends Error {}

const moduleCache = new Map<string, WebAssembly.Module>();

export class DeviceSim {
  readonly exports: RuntimeExports;
  readonly memoryLimitBytes: number;
  /** the parsed blob after a successful init (I/O descriptors) */
  model: ParsedBlob | null = null;
  readonly weights: WeightsMode;
  /** kw.read_blob traffic since the last init */
  readonly reads: ReadStats = { calls: 0, bytes: 0 };
  /** test hook: a read for which this returns false fails (the import returns -1) */
  readFault: ((offset: number, len: number) => boolean) | null = null;
  private blobAddr = 0;
  private blobLen = 0;
  /** the blob the runtime reads through kw.read_blob (flash mode) */
  private source: Uint8Array | null = null;

  private constructor(instance: WebAssembly.Instance, opts: LoadOptions) {
    this.exports = instance.exports as unknown as RuntimeExports;
    this.memoryLimitBytes = opts.memoryLimitBytes ?? 0;
    this.weights = opts.weights ?? 'ram';
    for (const e of EXPORTS) if (!e.flashOnly && typeof this.exports[e.name] !== 'function') throw new Error(`runtime lacks export ${e.name}`);
    if (this.memoryLimitBytes) this.call('kw_set_memory_limit', this.memoryLimitBytes | 0);
  }

  /**
   * Instantiate the runtime (module compiled once per path and cached): by default
   * runtime-flash.wasm for flash mode, runtime.wasm for ram mode.
   */
  static async load(wasm?: string | Uint8Array, opts: LoadOptions = {}): Promise<DeviceSim> {
    const path = typeof wasm === 'string' ? wasm : wasm ? 'the given runtime' : opts.weights === 'flash' ? FLASH_WASM : DEFAULT_WASM;
    let mod = typeof wasm === 'object' ? undefined : moduleCache.get(path);
    if (!mod) {
      mod = await WebAssembly.compile(typeof wasm === 'object' ? (wasm as Uint8Array<ArrayBuffer>) : readFileSync(path));
      if (typeof wasm !== 'object') moduleCache.set(path, mod);
    }
    const imports = WebAssembly.Module.imports(mod);
    const readsBlob = imports.some((i) => i.module === IMPORT_READ_BLOB.module && i.name === IMPORT_READ_BLOB.name);
    if (imports.length > (readsBlob ? 1 : 0)) throw new Error(`${path}: the runtime may import only ${IMPORT_READ_BLOB.module}.${IMPORT_READ_BLOB.name}`);
    if (opts.weights === 'flash' && !readsBlob)
      throw new Error(`${path}: flash mode needs a runtime that imports ${IMPORT_READ_BLOB.module}.${IMPORT_READ_BLOB.name}`);
    let sim: DeviceSim | null = null;
    const read = (offset: number, dst: number, len: number) => sim!.readBlob(offset, dst, len);
    const instance = await WebAssembly.instantiate(mod, readsBlob ? { [IMPORT_READ_BLOB.module]: { [IMPORT_READ_BLOB.name]: read } } : {});
    sim = new DeviceSim(instance, opts);
    return sim;
  }

  /** kw.read_blob: copies blob bytes [offset, offset + len) to dst; -1 when out of range. */
  private readBlob(offset: number, dst: number, len: number): number {
    const src = this.source;
    if (!src || offset < 0 || len < 0 || offset + len > src.length) return -1;
    if (dst < 0 || dst + len > this.memory.buffer.byteLength) return -1;
    if (this.readFault && !this.readFault(offset, len)) return -1;
    new Uint8Array(this.memory.buffer, dst, len).set(src.subarray(offset, offset + len));
    this.reads.calls++;
    this.reads.bytes += len;
    return len;
  }

  get memory(): WebAssembly.Memory {
    return this.exports.memory;
  }
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** Call an export by name, then check the memory limit. */
  call(name: string, ...args: number[]): number {
    const r = this.exports[name](...args) as number;
    if (this.memoryLimitBytes && this.memoryBytes > this.memoryLimitBytes && this.memoryBytes > 65536) {
      throw new MemoryLimitExceeded(`linear memory ${this.memoryBytes} B exceeds the limit ${this.memoryLimitBytes} B after ${name}`);
    }
    return r;
  }

  /**
   * As firmware does: ram, kw_blob_buffer + copy + kw_init; flash, kw_blob_external + kw_init
   * (the blob stays here and is read through kw.read_blob). Returns the error code (0 = OK).
   */
  init(blob: Uint8Array): number {
    this.model = null;
    this.reads.calls = 0;
    this.reads.bytes = 0;
    if (this.weights === 'flash') {
      this.source = blob;
      this.blobAddr = 0;
      this.blobLen = blob.length;
      const e = this.call('kw_blob_external', blob.length);
      const r = e === ERR.OK ? this.call('kw_init') : e;
      if (r === ERR.OK) this.model = decodeAcceptedBlob(blob);
      return r;
    }
    const addr = this.call('kw_blob_buffer', blob.length);
    if (addr === 0) return this.call('kw_last_error') || ERR.OUT_OF_MEMORY;
    new Uint8Array(this.memory.buffer, addr, blob.length).set(blob);
    this.blobAddr = addr;
    this.blobLen = blob.length;
    const r = this.call('kw_init');
    // this instance's kw_init has just accepted the blob: decode it without checking it again
    if (r === ERR.OK) this.model = decodeAcceptedBlob(blob);
    return r;
  }

  /** Like init, but throws with the runtime's error text on failure. */
  initOrThrow(blob: Uint8Array): void {
    const r = this.init(blob);
    if (r !== ERR.OK) throw new Error(`kw_init failed: ${r} ${ERR_TEXT[r]} (index ${this.call('kw_error_op')})`);
  }

  get blobAddress(): number {
    return this.blobAddr;
  }
  get blobLength(): number {
    return this.blobLen;
  }

  private need(): ParsedBlob {
    if (!this.model) throw new Error('DeviceSim: no model initialised');
    return this.model;
  }
  inputInfo(i: number): IOInfo {
    const m = this.need();
    if (i < 0 || i >= m.io.inputs.length) throw new RangeError(`input ${i} out of range`);
    return m.io.inputs[i];
  }
  outputInfo(i: number): IOInfo {
    const m = this.need();
    if (i < 0 || i >= m.io.outputs.length) throw new RangeError(`output ${i} out of range`);
    return m.io.outputs[i];
  }
  get numInputs(): number {
    return this.call('kw_num_inputs');
  }
  get numOutputs(): number {
    return this.call('kw_num_outputs');
  }

  private view(ptr: number, bytes: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, bytes);
  }

  setInputRaw(i: number, data: ArrayBufferView): void {
    const ptr = this.call('kw_input_ptr', i);
    const size = this.call('kw_input_size', i);
    if (ptr === 0) throw new Error(`kw_input_ptr(${i}) failed: ${ERR_TEXT[this.call('kw_last_error')]}`);
    const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (src.length !== size) throw new RangeError(`input ${i}: ${src.length} bytes given, tensor has ${size}`);
    this.view(ptr, size).set(src);
  }

  /** Quantize q = clamp(roundHalfAwayFromZero(x / scale) + zp) and write input i. */
  setInputFloat(i: number, x: ArrayLike<number>): void {
    const info = this.inputInfo(i);
    const n = info.bytes / (info.dtype === DTYPE.INT8 ? 1 : info.dtype === DTYPE.INT16 ? 2 : 4);
    if (x.length !== n) throw new RangeError(`input ${i}: ${x.length} values given, tensor has ${n}`);
    let q: Int8Array | Int16Array | Int32Array;
    if (info.dtype === DTYPE.INT8) q = new Int8Array(n);
    else if (info.dtype === DTYPE.INT16) q = new Int16Array(n);
    else q = new Int32Array(n);
    const lo = info.dtype === DTYPE.INT8 ? -128 : info.dtype === DTYPE.INT16 ? -32768 : -2147483648;
    const hi = info.dtype === DTYPE.INT8 ? 127 : info.dtype === DTYPE.INT16 ? 32767 : 2147483647;
    for (let k = 0; k < n; k++) q[k] = quantize(x[k], info.scale, info.zeroPoint, lo, hi);
    this.setInputRaw(i, q);
  }

  /** A copy of output i's raw bytes as a typed array of its dtype. */
  getOutputRaw(i: number): Int8Array | Int16Array | Int32Array {
    const ptr = this.call('kw_output_ptr', i);
    const size = this.call('kw_output_size', i);
    if (ptr === 0) throw new Error(`kw_output_ptr(${i}) failed: ${ERR_TEXT[this.call('kw_last_error')]}`);
    const bytes = this.view(ptr, size).slice();
    const dt = this.model ? this.outputInfo(i).dtype : DTYPE.INT8;
    if (dt === DTYPE.INT16) return new Int16Array(bytes.buffer);
    if (dt === DTYPE.INT32) return new Int32Array(bytes.buffer);
    return new Int8Array(bytes.buffer);
  }

  /** Dequantized output i: (q - zp) * scale. */
  getOutputFloat(i: number): Float32Array {
    const info = this.outputInfo(i);
    const q = this.getOutputRaw(i);
    const out = new Float32Array(q.length);
    for (let k = 0; k < q.length; k++) out[k] = dequantize(q[k], info.scale, info.zeroPoint);
    return out;
  }

  invoke(): number {
    return this.call('kw_invoke');
  }
  resetState(): number {
    return this.call('kw_reset_state');
  }
  selfTest(): number {
    return this.call('kw_self_test');
  }
  get lastErrorCode(): number {
    return this.call('kw_last_error');
  }
  get lastError(): string {
    const c = this.call('kw_last_error');
    return ERR_TEXT[c] ?? `error ${c}`;
  }
  get errorOp(): number {
    return this.call('kw_error_op');
  }
  get memoryUsed(): number {
    return this.call('kw_memory_used');
  }

  /** Convenience: set raw inputs, invoke, return raw outputs (throws on a runtime error). */
  run(inputs: ArrayBufferView[]): (Int8Array | Int16Array | Int32Array)[] {
    inputs.forEach((x, i) => this.setInputRaw(i, x));
    const r = this.invoke();
    if (r !== ERR.OK) throw new Error(`kw_invoke failed: ${r} ${ERR_TEXT[r]} (op ${this.errorOp})`);
    const outs = [];
    for (let i = 0; i < this.call('kw_num_outputs'); i++) outs.push(this.getOutputRaw(i));
    return outs;
  }
}
