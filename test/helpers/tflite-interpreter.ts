/**
 * A real TFLite interpreter in Node: the TFLite Web API (TFLite compiled to wasm, with XNNPACK)
 * shipped in @tensorflow/tfjs-tflite 0.0.1-alpha.10, used as the integer oracle for .tflite files.
 *
 * tfjs-tflite expects a browser web worker, so this module gives it one: `self`, `location`,
 * `navigator`, an `importScripts` that evaluates the file it names with vm.runInThisContext, and
 * the `.wasm` bytes handed to the emscripten factory directly (no fetch). It always loads the plain
 * (non-SIMD, non-threaded) build whatever the feature probe picks: the threaded build needs real
 * workers. tfjs-tflite's bundle requires `@tensorflow/tfjs-core`, whose peer it pins to 4.9.0; the
 * project installs that version under the alias `tfjs-core-4.9` (package.json, with
 * legacy-peer-deps in .npmrc because the root @tensorflow/tfjs-core is 4.22), and the require of
 * tfjs-core from inside tfjs-tflite is pointed at the alias here.
 *
 * Tensors are read and written raw (int8 bytes in, int8 bytes out) through the model runner, so no
 * tfjs tensor conversion touches the values. Its FULLY_CONNECTED / CONV kernels requantize with
 * single rounding (see docs/FORMAT.md, rounding modes).
 */
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

const require = createRequire(import.meta.url);

/** One input or output tensor of the runner: name, TFLite type name, shape and a view of its bytes. */
interface RunnerTensor {
  name: string;
  dataType: string;
  shape: string;
  data(): Int8Array | Uint8Array | Int32Array | Float32Array;
}
interface ModelRunner {
  getInputs(): RunnerTensor[];
  getOutputs(): RunnerTensor[];
  infer(): boolean;
  cleanUp(): void;
}

export interface TfliteInterpreter {
  inputs: { name: string; dtype: string; shape: number[] }[];
  outputs: { name: string; dtype: string; shape: number[] }[];
  /** Runs one inference on raw input tensors (int8 for int8 models); returns copies of the outputs. */
  run(inputs: ArrayLike<number>[]): Int8Array[];
  close(): void;
}

const pkgDir = path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));
const wasmDir = path.join(pkgDir, 'wasm');
const FACTORY = 'tflite_web_api_ModuleFactory';

let loaded: Promise<{ loadTFLiteModel: (m: ArrayBuffer, o: object) => Promise<{ modelRunner: ModelRunner }> }> | null = null;

/** Browser-worker globals tfjs-tflite reads; installed once, only where Node lacks them. */
function installShims(build: string): void {
  const g = globalThis as Record<string, unknown>;
  g.self ??= globalThis;
  g.location ??= { href: `file://${wasmDir}/`, origin: 'file://' };
  g.navigator ??= { hardwareConcurrency: 1, userAgent: 'node' };
  const wasmBinary = fs.readFileSync(path.join(wasmDir, `${build}.wasm`));
  g.importScripts = () => {
    // Whatever variant the loader asks for, evaluate the chosen build and feed it its wasm bytes.
    vm.runInThisContext(fs.readFileSync(path.join(wasmDir, `${build}.js`), 'utf8'), { filename: `${build}.js` });
    const factory = g[FACTORY] as (o: object) => Promise<unknown>;
    g[FACTORY] = (opts: object) => factory({ ...opts, wasmBinary, print: () => {}, printErr: () => {} });
  };
}

/** require('@tensorflow/tfjs-tflite') with its tfjs-core require pointed at the pinned 4.9.0 alias. */
function requireTflite(): unknown {
  const m = Module as unknown as { _resolveFilename: (req: string, parent: unknown, ...rest: unknown[]) => string };
  const orig = m._resolveFilename;
  m._resolveFilename = (req, parent, ...rest) => orig(req === '@tensorflow/tfjs-core' ? 'tfjs-core-4.9' : req, parent, ...rest);
  try {
    return require('@tensorflow/tfjs-tflite');
  } finally {
    m._resolveFilename = orig;
  }
}

const shape = (s: string): number[] => s.split(',').filter(Boolean).map(Number);

/** Loads a .tflite file (bytes) into the real interpreter. build: 'tflite_web_api_cc' or '..._simd'. */
export async function loadTflite(bytes: Uint8Array, build = 'tflite_web_api_cc'): Promise<TfliteInterpreter> {
  loaded ??= (async () => {
    installShims(build);
    return requireTflite() as Awaited<NonNullable<typeof loaded>>;
  })();
  const tflite = await loaded;
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const { modelRunner: runner } = await tflite.loadTFLiteModel(buf, { numThreads: 1 });
  const info = (ts: RunnerTensor[]) => ts.map((t) => ({ name: t.name, dtype: t.dataType, shape: shape(t.shape) }));
  return {
    inputs: info(runner.getInputs()),
    outputs: info(runner.getOutputs()),
    run(inputs) {
      runner.getInputs().forEach((t, i) => t.data().set(inputs[i]));
      if (!runner.infer()) throw new Error('TFLite interpreter: inference failed');
      return runner.getOutputs().map((t) => Int8Array.from(t.data()));
    },
    close: () => runner.cleanUp(),
  };
}
