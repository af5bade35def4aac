/**
 * The host-side blob check is the runtime's own: kw_init of the runtime .wasm (by default the
 * build/runtime.wasm these tools ship) on a copy of the blob. One validator, not two copies.
 */
import { existsSync, readFileSync } from 'node:fs';
import { UserError, EXIT } from '../errors.ts';
import { ERR } from './spec.ts';
import { packageFile } from '../package-root.ts';

const RUNTIME_WASM = packageFile('build', 'runtime.wasm');
let defaultModule: WebAssembly.Module | null = null;

function runtimeModule(wasm?: Uint8Array): WebAssembly.Module {
  if (wasm) return new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
  if (!defaultModule) {
    if (!existsSync(RUNTIME_WASM)) throw new UserError(`${RUNTIME_WASM} is missing: run \`npm run build:wasm\``, EXIT.BAD_INPUT);
    defaultModule = new WebAssembly.Module(readFileSync(RUNTIME_WASM));
  }
  return defaultModule;
}

export interface Verdict {
  /** the runtime's error code; OUT_OF_MEMORY only after every check passed */
  code: number;
  /** op / tensor / I/O index the error refers to (kw_error_op), -1 if none */
  index: number;
  /** op codes the runtime implements (kw_op_mask) */
  opMask: [number, number];
}

/**
 * Run the runtime's validator on `bytes`. Linear memory is capped just above the blob, so a
 * well-formed blob whose arena does not fit ends in OUT_OF_MEMORY instead of growing memory here.
 */
export function runtimeValidate(bytes: Uint8Array, wasm?: Uint8Array): Verdict {
  const e = new WebAssembly.Instance(runtimeModule(wasm), {}).exports as Record<string, any>;
  const opMask: [number, number] = [e.kw_op_mask(0) >>> 0, e.kw_op_mask(1) >>> 0];
  e.kw_set_memory_limit(e.memory.buffer.byteLength + bytes.length + 2 * 65536);
  // an empty file never reaches kw_init on a device (there is no blob to hand over)
  if (bytes.length === 0) return { code: ERR.BAD_SIZE, index: -1, opMask };
  const addr = e.kw_blob_buffer(bytes.length);
  if (addr === 0) throw new Error(`runtime refused a ${bytes.length}-byte blob buffer under a limit set to fit it`);
  new Uint8Array(e.memory.buffer, addr, bytes.length).set(bytes);
  const code = e.kw_init();
  return { code, index: code === ERR.OK ? -1 : e.kw_error_op(), opMask };
}
