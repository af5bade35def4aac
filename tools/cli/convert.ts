/**
 * `npx ./tools/convert MODEL [--config CONFIG.json] [--calibration CAL.npy]... [--batch N]
 *    [--stream --stream-steps K] -o OUT.blob [--report REPORT.json]`
 *
 * Reads a Keras/tfjs model, calibrates (real samples, or loudly-announced synthetic ones),
 * quantises to int8, plans memory, writes the blob (atomically: temp file + rename) with an
 * embedded self-test vector computed by the runtime itself, and prints a summary.
 *
 * Recurrent models: stateful=True layers keep their state between invokes (the blob gets
 * FLAG.STATEFUL and a STATE region; kw_reset_state zeroes it). `--stream --stream-steps K`
 * makes every recurrent layer keep its state and sets the model input's time dimension to K,
 * so a long sequence is fed K steps per invoke (bit-identical to feeding it whole). Calibration
 * then runs on the model with its original time dimension (whole sequences); calibration files
 * are [N, T, ...] sequences of that length (any length when the model's time dimension is free).
 */
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { runMain, cliCommand } from './run-main.ts';
import { UserError, EXIT } from '../errors.ts';
import type { FloatTensor, Graph } from '../graph/ir.ts';
import { readModel } from '../readers/index.ts';
import { readArray } from '../readers/npy.ts';
import { buildGraph } from '../graph/build.ts';
import { RECURRENT_LAYERS } from '../layers/index.ts';
import { convertGraph, type ConvertOptions, type ConvertResult } from '../pipeline.ts';
import { convertWithAutoCalibration } from '../calibration-search.ts';
import { CALIBRATION_METHODS, defaultCalibrationMethod, MIN_SAMPLES, parseCalibrationMethod, type CalibrationMethod } from '../quantize/ranges.ts';
import { openSim } from './sim.ts';
import { WEIGHT_MODES, type WeightsMode } from '../../firmware-host/node/host.ts';
import { runBlobReference } from '../blob/reference.ts';
import { ERR_TEXT, HEADER, ROUNDINGS, type Rounding } from '../blob/spec.ts';
import { checkOutputs, dataFile, modelFiles, writeFilesAtomic } from './fsutil.ts';
import { checkSamples, sameSampleCount } from './inputs.ts';
import { toCHeader, cNameFromFile } from '../blob/c-header.ts';
import { buildModelRuntime } from '../blob/runtime-build.ts';
import { convertReport, modelKind } from './report/build.ts';
import { verify } from './verify-checks.ts';
import { progressBars } from './progress.ts';
import { autoOptions, checkPrecision, checkWeightPrecision, precisionMap, WEIGHT_PRECISION_HELP, type AutoFlags, type PrecisionMode } from './precision.ts';
import { hasW16, type WeightPrecision } from '../quantize/weights16.ts';
import { convertWithAutoPrecision, type PrecisionReport } from '../precision-auto.ts';
import { packageFile } from '../package-root.ts';
import { getInterpreter } from '../boards.ts';
import { layerErrors, type LayerError } from '../blob/layer-error.ts';
import { firstSamples } from '../float/tensor.ts';
import type { Progress } from '../pipeline.ts';

export const RUNTIME_WASM = packageFile('build', 'runtime.wasm');
export const RUNTIME_FLASH_WASM = packageFile('build', 'runtime-flash.wasm');

/** --rounding, checked: one of ROUNDINGS (default double, TFLite's reference kernels). */
export function roundingOption(v: string | undefined): Rounding {
  const r = (v ?? 'double') as Rounding;
  if (!ROUNDINGS.includes(r)) throw new UserError(`--rounding must be one of ${ROUNDINGS.join(', ')}, got '${v}'`, EXIT.USAGE);
  return r;
}

/** --weights and --staging, checked. */
export function weightOptions(o: { weights?: string; staging?: string }): { weights: WeightsMode; staging?: number } {
  const weights = (o.weights ?? 'flash') as WeightsMode;
  if (!WEIGHT_MODES.includes(weights)) throw new UserError(`--weights must be one of ${WEIGHT_MODES.join(', ')}, got '${o.weights}'`, EXIT.USAGE);
  if (o.staging === undefined) return { weights };
  if (weights !== 'flash') throw new UserError('--staging is only valid with --weights flash', EXIT.USAGE);
  const m = /^(\d+)(K|KB|KiB)?$/i.exec(o.staging.trim());
  const staging = m ? Number(m[1]) * (m[2] ? 1024 : 1) : NaN;
  if (!Number.isSafeInteger(staging) || staging < 1)
    throw new UserError(`--staging must be a positive number of bytes (e.g. 8192 or 8K), got '${o.staging}'`, EXIT.USAGE);
  return { weights, staging };
}

/** Calibration arrays -> one FloatTensor per model input, [N, ...input dims]. */
export function calibrationTensors(graph: Graph, files: string[]): FloatTensor[] {
  if (files.length !== graph.inputs.length) {
    throw new UserError(
      `--calibration: the model has ${graph.inputs.length} input(s) but ${files.length} calibration file(s) were given (one .npy per input, in input order)`,
      EXIT.USAGE,
    );
  }
  const samples = files.map((f, i) => {
    const t = graph.tensors[graph.inputs[i]];
    const spec = { name: t.name, dims: t.shape.slice(1), int: t.dtype === 'int32' };
    return checkSamples(f, readArray(f), spec, 'calibration');
  });
  sameSampleCount(files, samples, '--calibration');
  return samples;
}

export interface Report {
  model: { file: string; format: string; dialect: string; kerasVersion: string | null; name: string };
  output: string;
  batch: number;
  /** where the device keeps the weights: flash (streamed) or ram (blob copied in) */
  weights: WeightsMode;
  flash: { blobBytes: number; runtimeWasmBytes: number; totalBytes: number };
  /** the blob's CRC-32 (header field): which blob this report describes */
  blobCrc32: number;
  ram: {
    arenaBytes: number;
    arenaLowerBound: number;
    stateBytes: number;
    scratchBytes: number;
    ioBytes: { inputs: number; outputs: number };
    blobCopyBytes: number;
    /** flash mode: the staging area each op's constants are read into (0 in ram mode) */
    stagingBytes: number;
    linearMemoryBytes: number | null;
    pages64k: number | null;
  };
  /** The blob keeps recurrent state between invokes (stateful=True layers or --stream). */
  stateful: boolean;
  /** --stream: time steps per invoke; null when not streaming. */
  streamSteps: number | null;
  weightsBytes: number;
  calibration: {
    source: 'file' | 'synthetic' | 'model file';
    files: string[];
    samples: number;
    method: CalibrationMethod | 'none';
  };
  assumptions: string[];
  notes: string[];
  ops: { index: number; op: string; layer: string; inputs: number[]; outputs: number[] }[];
  tensors: ConvertResult['tensors'];
  /** per tensor: scale, zero point, the observed range and the calibration method that set the int8 range */
  quantization: Record<string, { scale: number; zeroPoint: number; min: number | null; max: number | null; method: string | null }>;
  selfTest: boolean;
  /** --precision auto: the layers promoted to int16 and what they cost */
  precision?: PrecisionReport;
  /** each layer of the blob against the float model on the first calibration samples (layerErrors option) */
  layerErrors?: { samples: number; layers: LayerError[] };
}

export function buildReport(
  r: ConvertResult,
  extra: {
    file: string;
    output: string;
    raw: any;
    calFiles: string[];
    runtimeBytes: number;
    linearMemory: number | null;
    streamSteps?: number | null;
    method?: CalibrationMethod;
  },
): Report {
  const low = r.lowered;
  const q: Report['quantization'] = {};
  for (const t of low.tensors) {
    if (t.aliasOf !== undefined) continue;
    const range = t.ir >= 0 ? r.calibration.ranges.get(t.ir) : undefined;
    // int16 tensors take the observed range (symmetric): the methods shape int8 ranges
    const method = t.ir < 0 ? null : t.dtype === 'int16' ? 'minmax' : (r.calibration.methods?.get(t.ir) ?? null);
    q[t.name] = { scale: t.q.scale, zeroPoint: t.q.zeroPoint, min: range?.min ?? null, max: range?.max ?? null, method };
  }
  return {
    model: { file: extra.file, format: extra.raw.format, dialect: extra.raw.dialect, kerasVersion: extra.raw.kerasVersion, name: r.graph.name },
    output: extra.output,
    batch: r.batch,
    weights: r.weights,
    flash: { blobBytes: r.blob.length, runtimeWasmBytes: extra.runtimeBytes, totalBytes: r.blob.length + extra.runtimeBytes },
    blobCrc32: new DataView(r.blob.buffer, r.blob.byteOffset, r.blob.byteLength).getUint32(HEADER.crc32, true),
    ram: {
      arenaBytes: r.plan.arenaSize,
      arenaLowerBound: r.plan.lowerBound,
      stateBytes: r.plan.stateSize,
      scratchBytes: 0,
      ioBytes: {
        inputs: low.inputs.reduce((a, i) => a + low.tensors[i].bytes, 0),
        outputs: low.outputs.reduce((a, i) => a + low.tensors[i].bytes, 0),
      },
      blobCopyBytes: r.weights === 'ram' ? r.blob.length : 0,
      stagingBytes: r.staging,
      linearMemoryBytes: extra.linearMemory,
      pages64k: extra.linearMemory === null ? null : Math.ceil(extra.linearMemory / 65536),
    },
    stateful: r.plan.stateSize > 0,
    streamSteps: extra.streamSteps ?? null,
    weightsBytes: r.constBytes,
    calibration: {
      source: r.graph.fileQuant ? 'model file' : extra.calFiles.length ? 'file' : 'synthetic',
      files: extra.calFiles,
      samples: r.calibration.samples,
      method: r.graph.fileQuant ? 'none' : (extra.method ?? 'minmax'),
    },
    assumptions: r.assumptions,
    notes: r.notes,
    ops: low.ops.map((o, index) => ({ index, op: o.name, layer: o.layer, inputs: o.inputs, outputs: o.outputs })),
    tensors: r.tensors,
    quantization: q,
    selfTest: r.selfTest !== null,
  };
}

function kb(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`;
}

export function summaryText(rep: Report): string {
  const L: string[] = [];
  L.push(`converted ${rep.model.file} (${modelKind(rep.model)}) -> ${rep.output}`);
  L.push(
    `  batch ${rep.batch}; ${rep.ops.length} ops, ${rep.tensors.length} tensors; calibration: ${rep.calibration.source === 'model file' ? "none (the model file's quantization)" : `${rep.calibration.source} (${rep.calibration.samples} samples, ${rep.calibration.method})`}`,
  );
  L.push(
    `  flash: blob ${kb(rep.flash.blobBytes)} (weights/tables ${kb(rep.weightsBytes)}) + runtime ${kb(rep.flash.runtimeWasmBytes)} = ${kb(rep.flash.totalBytes)}`,
  );
  L.push(
    `  RAM:   arena ${kb(rep.ram.arenaBytes)} (lower bound ${kb(rep.ram.arenaLowerBound)}; inputs ${kb(rep.ram.ioBytes.inputs)}, outputs ${kb(rep.ram.ioBytes.outputs)} inside it), ` +
      `state ${kb(rep.ram.stateBytes)}, ` +
      (rep.weights === 'flash' ? `staging ${kb(rep.ram.stagingBytes)} (weights stay in flash)` : `blob copy ${kb(rep.ram.blobCopyBytes)}`) +
      (rep.ram.linearMemoryBytes !== null ? `; linear memory ${kb(rep.ram.linearMemoryBytes)} = ${rep.ram.pages64k} x 64 KiB pages` : ''),
  );
  if (rep.stateful) {
    L.push(
      `  state: ${kb(rep.ram.stateBytes)} kept between invokes` +
        (rep.streamSteps !== null ? ` (streaming: ${rep.streamSteps} time step(s) per invoke)` : ' (stateful layers)') +
        '; reset it with kw_reset_state() before an unrelated sequence',
    );
  }
  L.push('  ops:');
  for (const o of rep.ops) L.push(`    ${String(o.index).padStart(3)} ${o.op.padEnd(17)} ${o.layer}`);
  for (const a of rep.assumptions) L.push(`  ASSUMED: ${a}`);
  for (const n of rep.notes) L.push(`  note: ${n}`);
  const low = rep.layerErrors?.layers.reduce<LayerError | null>((a, l) => (!a || l.sqnrDb < a.sqnrDb ? l : a), null);
  if (low)
    L.push(
      `  per-layer SQNR on ${rep.layerErrors!.samples} calibration samples: lowest '${low.layer}' (${low.className}, ${low.precision}) ${low.sqnrDb.toFixed(1)} dB (the report lists every layer)`,
    );
  L.push(`  self-test vector: ${rep.selfTest ? 'embedded' : 'none'}`);
  return L.join('\n') + '\n';
}

/** What convertModel takes: the command's options, checked, with arrays or .npy files for calibration. */
export interface ConvertModelOptions {
  config?: string;
  /** one per model input: a .npy/.csv file (FILE or FILE.npz:NAME) or an array [N, ...input dims] */
  calibration?: (string | CalibrationArray)[];
  /** how each tensor's int8 range is chosen (default minmax) */
  calibrationMethod?: CalibrationMethod;
  batch?: number;
  /** --stream --stream-steps K: time steps per invoke (null/undefined: not streaming) */
  streamSteps?: number | null;
  weights?: WeightsMode;
  staging?: number;
  /** activation precision of every layer (default int8); auto: int16 where it is needed to reach `auto.targetSqnr` */
  precision?: PrecisionMode;
  /** --precision auto: --target-sqnr, --board, --ram, --flash, --allow-below */
  auto?: AutoFlags;
  /** requantisation rounding (default double, TFLite's reference kernels) */
  rounding?: Rounding;
  /** int16: the Dense layers on int16 activations get int16 weights (16x16, DENSE layout 3; default int8) */
  weightPrecision?: WeightPrecision;
  /** the interpreter the blob is tuned for: wasm3 (default), wamr or wamr-classic (tools/boards.ts names) */
  interpreter?: string;
  /** also build a runtime .wasm with only the model's ops */
  runtime?: boolean;
  /** measure each layer of the blob against the float model on the calibration samples (report.layerErrors) */
  layerErrors?: boolean;
  /** the blob's file name, shown in the report (default 'model.blob') */
  output?: string;
  warn?: (msg: string) => void;
  /** called as long stages (calibration) advance */
  progress?: Progress;
}

/** A calibration array given in memory: [N, ...input dims] in C order; dtype as numpy names it ('f4', 'float32', ...). */
export interface CalibrationArray {
  data: Float32Array | Int32Array | Float64Array | number[];
  shape: number[];
  dtype?: string;
}

export interface ConvertModelResult {
  result: ConvertResult;
  report: Report;
  /** the graph the blob was built from */
  graph: Graph;
  /** the model's own runtime .wasm (ConvertModelOptions.runtime), else null */
  runtimeWasm: Uint8Array | null;
}

function calibrationArrays(graph: Graph, cal: (string | CalibrationArray)[]): FloatTensor[] {
  const files = cal.map((c, i) => (typeof c === 'string' ? c : `calibration[${i}]`));
  if (cal.every((c) => typeof c === 'string')) return calibrationTensors(graph, files);
  if (cal.length !== graph.inputs.length)
    throw new UserError(
      `calibration: the model has ${graph.inputs.length} input(s) but ${cal.length} array(s) were given (one per input, in input order)`,
      EXIT.USAGE,
    );
  const samples = cal.map((c, i) => {
    const t = graph.tensors[graph.inputs[i]];
    const a = typeof c === 'string' ? readArray(c) : { dtype: 'f4', ...c, data: c.data instanceof Int32Array ? c.data : Float32Array.from(c.data) };
    return checkSamples(files[i], a, { name: t.name, dims: t.shape.slice(1), int: t.dtype === 'int32' }, 'calibration');
  });
  sameSampleCount(files, samples, 'calibration');
  return samples;
}

function checkStreamSteps(k: number | null | undefined): number | null {
  if (k === null || k === undefined) return null;
  if (!Number.isInteger(k) || k < 1) throw new UserError(`--stream-steps must be a positive integer, got '${k}'`, EXIT.USAGE);
  return k;
}

/** The model as saved (calibration) and, for --stream, the same model with K time steps (the blob). */
async function modelGraphs(file: string, o: ConvertModelOptions, streamSteps: number | null) {
  const batch = o.batch;
  const raw = await readModel(file, { config: o.config });
  let calGraph = await buildGraph(raw, { batch });
  const graph = streamSteps !== null ? await buildGraph(await readModel(file, { config: o.config }), { batch, steps: streamSteps }) : calGraph;
  if (streamSteps !== null && !graph.nodes.some((n) => RECURRENT_LAYERS.has(n.className))) {
    throw new UserError(`${file}: --stream needs a model with a recurrent layer (SimpleRNN, GRU, LSTM)`, EXIT.USAGE);
  }
  if (raw.tflite && o.calibration?.length)
    throw new UserError(`${file}: a .tflite file carries its own scales and zero points; drop --calibration`, EXIT.USAGE);
  const cal = o.calibration?.length ? calibrationArrays(calGraph, o.calibration) : null;
  if (streamSteps !== null && calGraph.inputs.some((t) => calGraph.tensors[t].shape[1] === null)) {
    // free time dimension: calibrate on the given sequences' length, else on 10 chunks
    const T = cal ? cal[0].shape[1] : 10 * streamSteps;
    calGraph = await buildGraph(await readModel(file, { config: o.config }), { batch, steps: T });
  }
  return { raw, graph, calGraph, cal };
}

/**
 * convert without the files: reads the model, calibrates, quantises, checks the blob in the
 * simulator against the integer reference and returns blob, report and (on request) the model's runtime.
 */
export async function convertModel(file: string, o: ConvertModelOptions = {}): Promise<ConvertModelResult> {
  const streamSteps = checkStreamSteps(o.streamSteps);
  const mode = weightOptions({ weights: o.weights, staging: o.staging === undefined ? undefined : String(o.staging) });
  const calibrationMethod = o.calibrationMethod === undefined ? undefined : parseCalibrationMethod(o.calibrationMethod);
  const rounding = roundingOption(o.rounding);
  const precision = checkPrecision(o.precision);
  const weightPrecision = checkWeightPrecision(o.weightPrecision);
  const interpreter = o.interpreter === undefined ? undefined : getInterpreter(o.interpreter).name;
  const auto = autoOptions(precision, o.auto ?? {});
  if (auto && calibrationMethod === 'auto')
    throw new UserError('--precision auto and --calibration-method auto cannot be combined: give minmax, percentile or mse', EXIT.USAGE);
  const output = o.output ?? 'model.blob';
  const calFiles = (o.calibration ?? []).map((c, i) => (typeof c === 'string' ? c : `calibration[${i}]`));
  const { raw, graph, calGraph, cal } = await modelGraphs(file, o, streamSteps);
  const samples = cal?.[0].shape[0] ?? 0;
  const method = calibrationMethod ?? defaultCalibrationMethod({ real: !!cal, samples, stream: streamSteps !== null, precisionAuto: !!auto });
  const fewer = calibrationMethod === undefined && cal && !auto && streamSteps === null && samples < MIN_SAMPLES.auto;
  const convertOpts: ConvertOptions = {
    progress: o.progress,
    batch: o.batch,
    calibration: cal,
    stream: streamSteps !== null,
    weightPrecision,
    interpreter,
    calibrationGraph: calGraph,
    precision: precisionMap(graph, precision),
    ...mode,
    rounding,
    warn: o.warn,
    // expected self-test outputs come from the integer reference (independent of the runtime)
    runRaw: (blob, inputs) => runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice()),
  };
  const autoRun = auto ? await convertWithAutoPrecision(graph, { ...convertOpts, calibrationMethod: method === 'auto' ? undefined : method }, auto) : null;
  const result = autoRun
    ? autoRun.result
    : method === 'auto'
      ? (await convertWithAutoCalibration(graph, convertOpts)).result
      : await convertGraph(graph, { ...convertOpts, calibrationMethod: method });
  if (fewer) result.notes.push(`calibration: ${samples} samples, fewer than the ${MIN_SAMPLES.auto} the default (auto) measures on: min/max ranges`);
  const modelRuntime = o.runtime
    ? await buildModelRuntime(
        new Set(result.lowered.ops.map((op) => op.name)),
        mode.weights === 'flash',
        result.lowered.tensors.some((t) => t.dtype === 'int16'),
        result.lowered.ops.some(hasW16),
      )
    : null;
  // check the final blob in the simulator (on the model's runtime when one was built): it must reproduce the reference self-test
  const sim = await openSim(result.blob, output, mode.weights, modelRuntime ?? undefined);
  const st = sim.selfTest();
  if (st !== 0) throw new Error(`the runtime disagrees with the integer reference on the self-test vector: ${ERR_TEXT[st] ?? st} (op ${sim.errorOp})`);
  const runtimeWasm = mode.weights === 'flash' ? RUNTIME_FLASH_WASM : RUNTIME_WASM;
  const runtimeBytes = modelRuntime ? modelRuntime.length : existsSync(runtimeWasm) ? statSync(runtimeWasm).size : 0;
  const linearMemory = sim.memoryUsed;
  const report = buildReport(result, { file, output, raw, calFiles, runtimeBytes, linearMemory, streamSteps, method });
  if (autoRun) report.precision = autoRun.report;
  if (o.layerErrors) {
    const measured = await calibrationLayerErrors(result, graph, cal, streamSteps);
    if (measured) report.layerErrors = measured;
    else
      report.notes.push(
        `no per-layer errors: ${cal ? 'a streamed blob runs K steps per invoke, not whole calibration sequences' : 'no calibration data to measure on'}`,
      );
  }
  return { result, report, graph, runtimeWasm: modelRuntime };
}

/** The samples the per-layer errors are measured on (the first ones; as many as verify --layers takes by default). */
const LAYER_ERROR_SAMPLES = 256;

/** Each layer of the blob against the float model on the first calibration samples; null without data or when streamed. */
async function calibrationLayerErrors(r: ConvertResult, graph: Graph, cal: FloatTensor[] | null, streamSteps: number | null) {
  if (!cal || streamSteps !== null) return null;
  const n = Math.floor(Math.min(cal[0].shape[0], LAYER_ERROR_SAMPLES) / r.batch) * r.batch;
  if (n < 1) return null;
  return { samples: n, layers: await layerErrors(r.blob, graph, firstSamples(cal, n)) };
}

const ROUNDING_HELP =
  'requantisation rounding: double (TFLite reference kernels, TFLite Micro), single (TFLite built with TFLITE_SINGLE_ROUNDING) or float (the TFLite interpreter with XNNPACK: float32 requantization of Dense/Conv outputs)';
const INTERPRETER_HELP =
  "the interpreter the blob is tuned for: wasm3 (default), wamr (fast) or wamr-classic (int8 Dense layers keep the layout WAMR's classic interpreter runs faster on 32-bit cores)";

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export async function main(argv: string[]) {
  await runMain(async () => {
    const program = cliCommand('convert')
      .description('Convert a Keras/tfjs model to a fixed-point blob for the wasm runtime')
      .argument('<model>', 'model file (.h5, .keras, tfjs model.json, or weights .h5 with --config)')
      .option('--config <file>', 'architecture JSON (for weights-only .h5)')
      .option('--calibration <file>', 'calibration samples .npy [N, ...input dims] (repeat once per model input)', collect, [] as string[])
      .option('--batch <n>', "static batch size (default: the model's fixed batch, else 1)")
      .requiredOption('-o, --output <file>', 'output blob file')
      .option('--report <file>', 'write a report: FILE.html a self-contained page (layer table, memory plan, boards), else JSON')
      .option('--c-header <file>', 'also write the blob as an aligned C array with its shapes and sizes as named constants')
      .option('--stream', 'streaming recurrent model: every recurrent layer keeps its state between invokes (needs --stream-steps)')
      .option('--stream-steps <k>', "time steps per invoke with --stream (the model input's time dimension becomes K)")
      .option(
        '--weights <mode>',
        'where the device keeps the weights: flash (read through kw.read_blob into a staging area) or ram (blob copied into linear memory)',
        'flash',
      )
      .option(
        '--calibration-method <m>',
        `how each tensor's int8 range is chosen: ${CALIBRATION_METHODS.join(', ')} (auto: per tensor, by the error measured on the calibration samples; default: auto with ${MIN_SAMPLES.auto} or more calibration samples, else minmax)`,
      )
      .option('--staging <bytes>', "flash mode: bytes of the staging area (default: the largest op's constants, at most 8 KiB)")
      .option('--runtime <file>', 'also write a runtime .wasm with only the ops this model uses (for --weights flash: the streaming build)')
      .option(
        '--precision <p>',
        'activation precision of every layer: int8, int16 (int8 weights, TFLite 16x8; layers without int16 kernels stay int8), or auto (int16 for the layers that lose the most, until --target-sqnr is met)',
        'int8',
      )
      .option('--weight-precision <p>', WEIGHT_PRECISION_HELP, 'int8')
      .option('--target-sqnr <dB>', `--precision auto: the output SQNR to reach on the calibration samples (default 30)`)
      .option('--board <name>', '--precision auto: stop promoting when the RAM/flash the model needs exceed this board (tools/boards.ts)')
      .option('--ram <bytes>', "--precision auto: RAM budget for the model's arena, state and staging/blob copy (e.g. 64K)")
      .option('--flash <bytes>', '--precision auto: flash budget for the blob (e.g. 512K)')
      .option('--allow-below', '--precision auto: write the best mix found when the target cannot be reached')
      .option('--rounding <mode>', ROUNDING_HELP, 'double')
      .option('--interpreter <name>', INTERPRETER_HELP)
      .option('--force', 'overwrite existing output files')
      .option('--quiet', 'print nothing on stdout and draw no progress bar (warnings and errors still go to stderr)')
      .option('--json', "print convert's report as JSON instead of the summary (errors as {error, code})");
    program.parse(argv, { from: 'user' });
    const o = program.opts();
    const file: string = program.args[0];
    const mode = weightOptions(o);
    const calibrationMethod = o.calibrationMethod === undefined ? undefined : parseCalibrationMethod(o.calibrationMethod);
    const rounding = roundingOption(o.rounding);
    const precision = checkPrecision(o.precision);
    if (o.interpreter !== undefined) getInterpreter(o.interpreter);
    autoOptions(precision, { targetSqnr: o.targetSqnr, board: o.board, ram: o.ram, flash: o.flash, allowBelow: o.allowBelow });
    const outputs = [
      { option: '-o', file: o.output as string },
      ...(o.report ? [{ option: '--report', file: o.report as string }] : []),
      ...(o.cHeader ? [{ option: '--c-header', file: o.cHeader as string }] : []),
      ...(o.runtime ? [{ option: '--runtime', file: o.runtime as string }] : []),
    ];
    const inputs = [...modelFiles(file), ...(o.config ? [o.config] : []), ...(o.calibration as string[]).map(dataFile)];
    checkOutputs(outputs, inputs, !!o.force);
    let batch: number | undefined;
    if (o.batch !== undefined) {
      batch = Number(o.batch);
      if (!Number.isInteger(batch) || batch < 1) throw new UserError(`--batch must be a positive integer, got '${o.batch}'`, EXIT.USAGE);
    }
    let streamSteps: number | null = null;
    if (o.stream) {
      if (o.streamSteps === undefined) throw new UserError('--stream needs --stream-steps K (time steps per invoke)', EXIT.USAGE);
      streamSteps = Number(o.streamSteps);
      if (!Number.isInteger(streamSteps) || streamSteps < 1)
        throw new UserError(`--stream-steps must be a positive integer, got '${o.streamSteps}'`, EXIT.USAGE);
    } else if (o.streamSteps !== undefined) {
      throw new UserError('--stream-steps is only valid with --stream', EXIT.USAGE);
    }
    const bars = progressBars(o);
    const {
      result,
      report: rep,
      graph,
      runtimeWasm: modelRuntime,
    } = await convertModel(file, {
      config: o.config,
      calibration: o.calibration,
      calibrationMethod,
      batch,
      streamSteps,
      ...mode,
      precision,
      weightPrecision: o.weightPrecision,
      interpreter: o.interpreter,
      auto: { targetSqnr: o.targetSqnr, board: o.board, ram: o.ram, flash: o.flash, allowBelow: o.allowBelow },
      rounding,
      runtime: !!o.runtime,
      layerErrors: !!o.report,
      output: o.output,
      progress: bars.progress,
      warn: (m) => process.stderr.write(`WARNING: ${m}\n`),
    }).finally(bars.stop); // the bar ends before any message, an error's included
    const runtimeWasm = mode.weights === 'flash' ? RUNTIME_FLASH_WASM : RUNTIME_WASM;
    const check = (runtimeFile: string) => verify({ blobFile: o.output, blobBytes: result.blob, runtimeFile, boards: true, interpreter: o.interpreter });
    // every output is made before any is written, and they appear together or not at all
    const files: { file: string; data: Uint8Array | string }[] = [{ file: o.output, data: result.blob }];
    if (o.report)
      files.push({
        file: o.report,
        data: await convertReport(o.report, rep, {
          blob: result.blob,
          graph,
          runtime: modelRuntime ?? runtimeWasm,
          check,
          layerErrors: rep.layerErrors?.layers ?? null,
        }),
      });
    if (o.cHeader)
      files.push({ file: o.cHeader, data: toCHeader(result.blob, { name: cNameFromFile(o.cHeader.replace(/\.h$/i, '')), source: basename(o.output) }) });
    if (modelRuntime) files.push({ file: o.runtime, data: modelRuntime });
    writeFilesAtomic(files);
    if (!o.quiet) process.stdout.write(o.json ? JSON.stringify(rep, null, 2) + '\n' : summaryText(rep));
    return EXIT.OK;
  }, argv);
}
