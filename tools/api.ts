/**
 * The programmatic API (`import { convert, summary, verify, run, loadRuntime } from 'kerawasm'`).
 * Each function does what its command does, on paths or bytes, and returns typed results
 * instead of printing. A user error throws KerawasmError, whose exitCode is the command's exit
 * code (EXIT); anything else thrown is a bug (the CLI's exit 1). The commands in tools/cli/
 * parse their options, call the same functions and write the files. docs/API.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError, EXIT, type ExitCode, type LintProblem } from './errors.ts';
import { readModel, sniff } from './readers/index.ts';
import { readArray } from './readers/npy.ts';
import type { SummaryJson } from './graph/summary-format.ts';
import { summarizeModel, type SummaryOutput, type SummaryTextOptions } from './graph/summary.ts';
import { parseBlob, type IOInfo } from './blob/parse.ts';
import { ERR_TEXT, FORMAT_VERSION } from './blob/spec.ts';
import { toCHeader, cNameFromFile } from './blob/c-header.ts';
import type { WeightsMode } from '../firmware-host/node/host.ts';
import { convertModel, type CalibrationArray, type Report } from './cli/convert.ts';
import type { CalibrationMethod } from './quantize/ranges.ts';
import type { Precision } from './quantize/qparams.ts';
import type { AutoFlags } from './cli/precision.ts';
import type { Rounding } from './blob/spec.ts';
import type { Progress } from './pipeline.ts';
import { runBlob, type RunOptions, type RunResult } from './cli/run-blob.ts';
import { readFileOrThrow, verify as verifyBlob, type VerifyOptions, type VerifyResult, type Check, type BoardFit, type BoardRow } from './cli/verify-checks.ts';
import { BOARDS, type Board } from './boards.ts';
import { openSim } from './cli/sim.ts';
import { modelNotBlob } from './cli/inputs.ts';

export { EXIT, FORMAT_VERSION };
/** The board profiles `verify --list-boards` prints (their names are what `verify`'s `board` takes). */
export { BOARDS };
export type {
  ExitCode,
  LintProblem,
  Report,
  RunOptions,
  RunResult,
  VerifyResult,
  Check,
  BoardFit,
  BoardRow,
  Board,
  CalibrationArray,
  WeightsMode,
  IOInfo,
  SummaryJson,
  SummaryOutput,
};

/** A user error: a bad path, option or input. `exitCode` is what the CLI exits with; `details` are extra lines. */
export const KerawasmError = UserError;
export type KerawasmError = UserError;

/** A model: a path (.keras, .h5, tfjs model.json or its folder) or the bytes of a .keras or full-model .h5 file. */
export type ModelSource = string | Uint8Array;
/** A blob written by convert: a path or its bytes. */
export type BlobSource = string | Uint8Array;
/** Samples [N, ...dims] in C order: a .npy/.csv path (FILE.npz:NAME for an .npz member) or an array. */
export type ArraySource = string | CalibrationArray;

/** Runs `body` on a path to the model: the path itself, or the bytes written to a temporary file. */
async function withModelFile<T>(model: ModelSource, body: (file: string) => Promise<T>): Promise<T> {
  if (typeof model === 'string') return body(model);
  const kind = sniff(model.subarray(0, 16));
  if (kind !== 'zip' && kind !== 'hdf5')
    throw new UserError('model bytes: not a .keras or .h5 file (a tfjs model.json needs its weight files: give its path)', EXIT.BAD_INPUT);
  const dir = mkdtempSync(join(tmpdir(), 'kerawasm-'));
  const file = join(dir, kind === 'zip' ? 'model.keras' : 'model.h5');
  try {
    writeFileSync(file, model);
    return await body(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function blobBytes(blob: BlobSource): { bytes: Uint8Array; file: string } {
  return typeof blob === 'string' ? { bytes: readFileOrThrow(blob, 'blob'), file: blob } : { bytes: blob, file: 'blob' };
}

export interface ConvertOptions {
  /** architecture JSON (model.to_json()) for a weights-only .h5 */
  config?: string;
  /** one per model input: samples [N, ...input dims] (default: synthetic, with a warning) */
  calibration?: ArraySource[];
  /** static batch (default: the model's fixed batch, else 1) */
  batch?: number;
  /** streaming recurrent model: time steps per invoke (the CLI's --stream --stream-steps K) */
  streamSteps?: number;
  /** where the device keeps the weights (default flash) */
  weights?: WeightsMode;
  /** flash mode: bytes of the staging area */
  staging?: number;
  /** how each tensor's int8 range is chosen: minmax, percentile, mse, auto (default: auto with 32 or more calibration samples, else minmax) */
  calibrationMethod?: CalibrationMethod;
  /** activation precision of every layer: int8 (default), int16 (TFLite 16x8), or auto (int16 where needed to reach `auto.targetSqnr`) */
  precision?: Precision | 'auto';
  /** Dense weights on int16 activations: int8 (default, TFLite 16x8) or int16 (16x16: twice the weight flash) */
  weightPrecision?: 'int8' | 'int16';
  /** precision auto: target output SQNR in dB (default 30), budget (board name, ram/flash bytes), allowBelow */
  auto?: AutoFlags;
  /** requantisation rounding: double (default, TFLite reference / TFLite Micro) or single */
  rounding?: Rounding;
  /** the interpreter the blob is tuned for: wasm3 (default), wamr or wamr-classic (int8 Dense layers at the layout WAMR's classic interpreter runs faster on 32-bit cores) */
  interpreter?: 'wasm3' | 'wamr' | 'wamr-classic';
  /** called as long stages (calibration) advance: done of total steps of task */
  progress?: Progress;
  /** also build a runtime .wasm with only the model's ops (needs AssemblyScript, a few seconds) */
  runtime?: boolean;
  /** measure every layer of the blob against the float model on the first 256 calibration samples (report.layerErrors) */
  layerErrors?: boolean;
  /** also make the C header; the string is its array name (default: from `name`) */
  cHeader?: boolean | string;
  /** the blob's name in the report and messages (default 'model.blob') */
  name?: string;
  /** loud warnings (synthetic calibration); default: none */
  warn?: (message: string) => void;
}

export interface ConvertOutput {
  /** the blob for kw_init / kw_init_mapped */
  blob: Uint8Array;
  /** what `convert --report` writes */
  report: Report;
  /** ConvertOptions.cHeader: the blob as a C header */
  cHeader: string | null;
  /** ConvertOptions.runtime: the model's own runtime .wasm */
  runtimeWasm: Uint8Array | null;
}

/** Keras/tfjs model -> int8 blob, checked in the device simulation against the integer reference. */
export async function convert(model: ModelSource, opts: ConvertOptions = {}): Promise<ConvertOutput> {
  const name = opts.name ?? 'model.blob';
  return withModelFile(model, async (file) => {
    const { result, report, runtimeWasm } = await convertModel(file, { ...opts, output: name });
    const arrayName = typeof opts.cHeader === 'string' ? opts.cHeader : cNameFromFile(name.replace(/\.blob$/i, ''));
    const cHeader = opts.cHeader ? toCHeader(result.blob, { name: arrayName, source: name }) : null;
    return { blob: result.blob, report, cHeader, runtimeWasm };
  });
}

export interface SummaryOptions extends SummaryTextOptions {
  /** architecture JSON (model.to_json()) for a weights-only .h5 */
  config?: string;
}

/** What Keras's model.summary() prints, plus MACs; unsupported layers are listed, not thrown. */
export async function summary(model: ModelSource, opts: SummaryOptions = {}): Promise<SummaryOutput> {
  return withModelFile(model, async (file) => summarizeModel(await readModel(file, { config: opts.config }), opts));
}

/** Float samples through a blob in the device simulation: one array per model input, N a multiple of the batch. */
export async function run(blob: BlobSource, inputs: ArraySource[], opts: RunOptions = {}): Promise<RunResult> {
  const { bytes, file } = blobBytes(blob);
  const arrays = inputs.map((a, i) =>
    typeof a === 'string'
      ? { ...readArray(a), file: a }
      : { dtype: 'f4', ...a, data: a.data instanceof Int32Array ? a.data : Float32Array.from(a.data), file: `inputs[${i}]` },
  );
  return runBlob(bytes, arrays, file, opts);
}

/** verify's options (the CLI's, by the same names); the model and data are paths. */
export type VerifyApiOptions = Omit<VerifyOptions, 'blobFile' | 'blobBytes'>;

/** verify's checks; a failed check is a result (ok false, exitCode 5, 6 or 7), a bad input throws. */
export async function verify(blob: BlobSource, opts: VerifyApiOptions = {}): Promise<VerifyResult> {
  if (typeof blob === 'string') return verifyBlob({ ...opts, blobFile: blob });
  return verifyBlob({ ...opts, blobFile: 'blob', blobBytes: blob });
}

/** A blob loaded in the runtime .wasm: one instance, driven as the firmware drives it. */
export interface Runtime {
  inputs: IOInfo[];
  outputs: IOInfo[];
  weights: WeightsMode;
  /** float values of input `i` (quantised to the input's int8/int16 as the device's caller does) */
  setInput(i: number, values: ArrayLike<number>): void;
  /** runs every op once */
  invoke(): void;
  /** dequantised values of output `i` */
  getOutput(i: number): Float32Array;
  /** zeroes the recurrent state (stateful blobs) */
  resetState(): void;
  /** runs the embedded self-test vector */
  selfTest(): void;
}

/** Loads the blob into build/runtime.wasm (ram) or build/runtime-flash.wasm (flash) in this process. */
export async function loadRuntime(blob: BlobSource, opts: { weights?: WeightsMode } = {}): Promise<Runtime> {
  const { bytes, file } = blobBytes(blob);
  const notBlob = modelNotBlob(bytes, file);
  if (notBlob) throw notBlob;
  const pb = parseBlob(bytes, { file });
  const sim = await openSim(bytes, file, opts.weights);
  const check = (what: string, rc: number) => {
    if (rc !== 0) throw new UserError(`${file}: ${what} failed: ${ERR_TEXT[rc] ?? rc} (op ${sim.errorOp})`, EXIT.BAD_INPUT);
  };
  return {
    inputs: pb.io.inputs,
    outputs: pb.io.outputs,
    weights: sim.weights,
    setInput: (i, values) => sim.setInputFloat(i, values),
    invoke: () => check('kw_invoke', sim.invoke()),
    getOutput: (i) => sim.getOutputFloat(i),
    resetState: () => check('kw_reset_state', sim.resetState()),
    selfTest: () => check('kw_self_test', sim.selfTest()),
  };
}
