/**
 * The converter back half as a library: IR Graph -> prepared graph -> calibration ->
 * lowering -> memory plan -> blob (+ self-test vector) and a report. The CLI
 * (tools/cli/convert.ts) adds file handling; tests call convertGraph directly.
 */
import type { FloatTensor, Graph } from './graph/ir.ts';
import { UserError, EXIT } from './errors.ts';
import { prepareGraph } from './quantize/prepare.ts';
import { calibrate, rng, syntheticSamples, SYNTHETIC_NOTE, type CalibrateOptions, type Calibration } from './quantize/calibrate.ts';
import { checkSampleCount } from './quantize/ranges.ts';
import { lowerGraph, type Lowered } from './quantize/lower.ts';
import { assemble, planLowered, type LoweredPlan, type SelfTest } from './blob/assemble.ts';
import { minimumStaging, opConstBytes, tileForStaging } from './blob/tile.ts';
import { quantizeValue, type Precision } from './quantize/qparams.ts';
import { LIMITS, type Rounding } from './blob/spec.ts';
import type { InterpreterProfile } from './boards.ts';

/**
 * Progress of a long stage: `done` of `total` steps of `task` ('calibration', 'verification',
 * a precision search). The CLI draws it as a bar (tools/cli/progress.ts); stages only call it.
 */
export type Progress = (task: string, done: number, total: number) => void;

export interface ConvertOptions {
  /** Static batch; default: the model's fixed batch, else 1. */
  batch?: number;
  /** One FloatTensor per model input, [N, ...dims]; null/undefined = synthetic. */
  calibration?: FloatTensor[] | null;
  /** Synthetic sample count when no calibration is given. */
  syntheticCount?: number;
  /**
   * Runs a blob (without self-test) on raw input bytes, returning raw output bytes. When
   * given, the first calibration sample(s) become the embedded self-test vector.
   */
  runRaw?: (blob: Uint8Array, inputs: Uint8Array[]) => Promise<Uint8Array[]> | Uint8Array[];
  /** Called with loud warnings (synthetic calibration, ...). */
  warn?: (msg: string) => void;
  /**
   * convert --stream: every recurrent layer keeps its state between invokes (FLAG.STATEFUL);
   * `graph` then has the chunk length as its time dimension (buildGraph `steps`).
   */
  stream?: boolean;
  /**
   * The same model with its original time dimension (stream mode): calibration runs on it, on
   * whole sequences, so the recurrent state ranges cover long streams rather than one chunk.
   * Its tensors and nodes must correspond one to one with `graph`'s (same model file).
   */
  calibrationGraph?: Graph;
  /** int16: Dense layers on int16 activations get int16 weights (DENSE layout 3, 16x16; LowerOptions.weightPrecision). */
  weightPrecision?: 'int8' | 'int16';
  /** The interpreter the blob is tuned for (LowerOptions.interpreter; default wasm3). */
  interpreter?: InterpreterProfile['name'];
  /** Where the device keeps the weights: streamed from flash (default) or copied into RAM. */
  weights?: 'flash' | 'ram';
  /** Flash mode: bytes of the staging area (default: the largest op's constants, at most 8 KiB). */
  staging?: number;
  /** How each tensor's int8 range is chosen (default minmax; convert's default is ranges.ts defaultCalibrationMethod); `auto` is tools/calibration-search.ts. */
  calibrationMethod?: CalibrateOptions['method'];
  /** Called as calibration batches complete. */
  progress?: Progress;
  /** Rounding mode of every requantisation (blob header; default double, TFLite's reference). */
  rounding?: Rounding;
  /**
   * Activation precision by Keras layer name (LowerOptions.precision); see `uniformPrecision`
   * for convert --precision. Default: every layer int8.
   */
  precision?: Map<string, Precision>;
}

/** convert --precision P: every layer of the graph at P. */
export function uniformPrecision(g: Graph, p: Precision): Map<string, Precision> {
  return new Map(g.nodes.map((n) => [n.name, p]));
}

/** The default staging area: the largest op's constants, capped at 8 KiB, never below the smallest tile. */
const DEFAULT_STAGING_CAP = 8192;

/** The staging size for `low`: the one asked for (checked), or the default. */
function chooseStaging(low: Lowered, asked: number | undefined): number {
  const least = minimumStaging(low);
  const largest = Math.max(16, ...low.ops.map(opConstBytes));
  const total = low.ops.reduce((a, op) => a + opConstBytes(op), 0);
  if (asked === undefined) return Math.max(least.minimum, Math.min(DEFAULT_STAGING_CAP, Math.ceil(largest / 16) * 16));
  if (asked < least.minimum)
    throw new UserError(
      `--staging ${asked}: op ${least.op} of layer '${least.layer}' needs at least ${least.minimum} bytes of staging; give --staging ${least.minimum} or more`,
      EXIT.USAGE,
    );
  if (asked > Math.max(total, least.minimum))
    throw new UserError(
      `--staging ${asked} is larger than all of the model's constants (${total} bytes): give at most ${Math.max(total, least.minimum)}`,
      EXIT.USAGE,
    );
  return asked;
}

interface TensorReport {
  index: number;
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
  /** 'arena' (offset in the arena) or 'state' (offset in the STATE region). */
  storage: 'arena' | 'state';
  offset: number;
  aliasOf: number | null;
  scale: number;
  zeroPoint: number;
  /** the model tensor (a Keras layer's output, by name) this tensor holds; null for the converter's own tensors */
  layerOutput: string | null;
}

export interface ConvertResult {
  blob: Uint8Array;
  lowered: Lowered;
  plan: LoweredPlan;
  calibration: Calibration;
  graph: Graph;
  batch: number;
  constBytes: number;
  selfTest: SelfTest | null;
  assumptions: string[];
  notes: string[];
  tensors: TensorReport[];
  weights: 'flash' | 'ram';
  /** staging bytes in the header (0 in ram mode) */
  staging: number;
}

function resolveBatch(graph: Graph, batch?: number): number {
  const fixed = graph.inputs.map((t) => graph.tensors[t].shape[0]).find((d) => d !== null) ?? null;
  if (batch !== undefined) {
    if (!Number.isInteger(batch) || batch < 1) throw new UserError(`--batch must be a positive integer, got ${batch}`, EXIT.USAGE);
    if (fixed !== null && fixed !== batch) throw new UserError(`--batch ${batch}: the model has a fixed batch of ${fixed}`, EXIT.USAGE);
    return batch;
  }
  return fixed ?? 1;
}

/** Quantise the first `batch` samples of each input to the raw bytes of the input tensors. */
export function rawInputs(low: Lowered, samples: FloatTensor[], batch: number): Uint8Array[] {
  return low.inputs.map((ti, i) => {
    const t = low.tensors[ti];
    const s = samples[i];
    const per = s.data.length / s.shape[0];
    const n = batch * per;
    if (t.dtype === 'int32') {
      const a = new Int32Array(n);
      for (let k = 0; k < n; k++) a[k] = Math.round(s.data[k % s.data.length]);
      return new Uint8Array(a.buffer);
    }
    const a = t.dtype === 'int16' ? new Int16Array(n) : new Int8Array(n);
    const [lo, hi] = t.dtype === 'int16' ? [-32768, 32767] : [-128, 127];
    for (let k = 0; k < n; k++) a[k] = quantizeValue(s.data[k % s.data.length], t.q, lo, hi);
    return new Uint8Array(a.buffer);
  });
}

/** True when a recurrent layer (or the inner layer of a Bidirectional) has stateful=True. */
function hasStatefulLayer(g: Graph): boolean {
  return g.nodes.some((n) => (n.className === 'Bidirectional' ? !!n.config.layer?.config?.stateful : !!n.config.stateful));
}

/** The calibration graph must be the same model (only shapes may differ). */
function checkSameModel(g: Graph, c: Graph): void {
  const same =
    g.tensors.length === c.tensors.length &&
    g.nodes.length === c.nodes.length &&
    g.tensors.every((t, i) => t.name === c.tensors[i].name) &&
    g.nodes.every((n, i) => n.name === c.nodes[i].name && n.className === c.nodes[i].className);
  if (!same) throw new Error('convertGraph: calibrationGraph is not the same model as graph');
}

/**
 * Stream mode: calibration samples are whole sequences [N, T, ...]; the self-test uses their
 * first K steps (the blob's time dimension), from a zero state as kw_self_test runs it.
 */
function firstSteps(low: Lowered, samples: FloatTensor[]): FloatTensor[] {
  return samples.map((s, i) => {
    const want = low.tensors[low.inputs[i]].shape;
    if (s.shape.length < 2 || s.shape.length !== want.length || s.shape[1] === want[1]) return s;
    const [N, T] = s.shape;
    const K = want[1];
    const inner = s.shape.slice(2).reduce((a, b) => a * b, 1);
    const data = new Float32Array(N * K * inner);
    for (let n = 0; n < N; n++) data.set(s.data.subarray(n * T * inner, (n * T + K) * inner), n * K * inner);
    return { shape: [N, K, ...s.shape.slice(2)], data };
  });
}

/**
 * The runtime refuses an arena or state region of LIMITS.MAX_REGION bytes or more (and a
 * wasm32 memory could not hold it next to the blob). A batch that large does not fit: say so
 * before the blob is assembled, with the largest batch that would.
 */
function checkRegions(plan: LoweredPlan, batch: number): void {
  const need = Math.max(plan.arenaSize, plan.stateSize);
  if (need < LIMITS.MAX_REGION) return;
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  const fits = Math.floor(((LIMITS.MAX_REGION - 1) / need) * batch);
  throw new UserError(
    `batch ${batch}: the model does not fit: its ${plan.arenaSize >= plan.stateSize ? 'arena' : 'state'} needs ${mib(need)}, the runtime's limit is ${mib(LIMITS.MAX_REGION)}; ` +
      (fits >= 1 ? `use a --batch of about ${fits} or less` : 'the model is too large even at batch 1'),
    EXIT.DOES_NOT_FIT,
  );
}

export async function convertGraph(graph0: Graph, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const batch = resolveBatch(graph0, opts.batch);
  const assumptions: string[] = [];
  const freeBatch = graph0.inputs.some((t) => graph0.tensors[t].shape[0] === null);
  if (freeBatch && opts.batch === undefined) assumptions.push(`the model's batch is free: built with a static batch of ${batch} (use --batch to change it)`);
  const { graph, notes } = prepareGraph(graph0);
  const calGraph = opts.calibrationGraph && opts.calibrationGraph !== graph0 ? prepareGraph(opts.calibrationGraph).graph : graph;
  if (calGraph !== graph) checkSameModel(graph, calGraph);
  let samples = opts.calibration ?? null;
  if (graph.fileQuant) return convertFileQuant(graph, notes, batch, opts);
  if (!samples) {
    const n = opts.syntheticCount ?? 64;
    samples = syntheticSamples(calGraph, n);
    const msg = SYNTHETIC_NOTE(n);
    assumptions.push(msg);
    opts.warn?.(msg);
  }
  // stateful=True layers: calibrate as the device runs (states carried across batches of the fixed batch)
  const stateful = hasStatefulLayer(graph);
  const method = opts.calibrationMethod ?? 'minmax';
  if (opts.calibration) checkSampleCount(typeof method === 'string' ? method : 'auto', samples[0].shape[0]);
  const onProgress = opts.progress && ((done: number, total: number) => opts.progress!('calibration', done, total));
  const cal = await calibrate(calGraph, samples, { batchSize: stateful ? batch : 32, stateful, assumptions, method, onProgress });
  if (stateful)
    notes.push(
      `stateful recurrent layers: calibrated with states carried over consecutive calibration batches of ${batch} (sample i of batch k+1 continues sample i of batch k)`,
    );
  return finishConvert(graph, cal, samples, notes, batch, opts);
}

/**
 * A model whose file carries its quantization (.tflite): the file's scales and zero points stand
 * in for calibration; the self-test runs int8 inputs drawn uniformly over the input's range.
 */
function convertFileQuant(graph: Graph, notes: string[], batch: number, opts: ConvertOptions): Promise<ConvertResult> {
  const qparams = new Map(graph.fileQuant!);
  const cal: Calibration = { ranges: new Map(), qparams, samples: 0, recurrent: new Map(), assumptions: [] };
  const r = rng(20261204);
  const samples = graph.inputs.map((id) => {
    const q = qparams.get(id)!;
    const shape = [batch, ...graph.tensors[id].shape.slice(1).map(Number)];
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (Math.floor(r() * 256) - 128 - q.zeroPoint) * q.scale);
    return { shape, data };
  });
  notes.push("quantization: the file's own scales and zero points (no calibration)");
  return finishConvert(graph, cal, samples, notes, batch, opts);
}

async function finishConvert(
  graph: Graph,
  cal: Calibration,
  samples: FloatTensor[],
  notes: string[],
  batch: number,
  opts: ConvertOptions,
): Promise<ConvertResult> {
  const unsplit = lowerGraph(graph, cal, {
    batch,
    stream: !!opts.stream,
    weightPrecision: opts.weightPrecision,
    interpreter: opts.interpreter,
    rounding: opts.rounding,
    ...(opts.precision ? { precision: opts.precision } : {}),
  });
  notes.push(...unsplit.notes);
  const weights = opts.weights ?? 'flash';
  const staging = weights === 'flash' ? chooseStaging(unsplit, opts.staging) : 0;
  const lowered = weights === 'flash' ? tileForStaging(unsplit, staging) : unsplit;
  const plan = planLowered(lowered);
  checkRegions(plan, batch);
  const layout = { weights, staging, rounding: opts.rounding };
  let { blob, constBytes } = assemble(lowered, plan, undefined, layout);
  let selfTest: SelfTest | null = null;
  if (opts.runRaw) {
    // the self-test uses the first `batch` calibration samples (repeated if there are fewer)
    const inputs = rawInputs(lowered, opts.stream ? firstSteps(lowered, samples) : samples, batch);
    const outputs = await opts.runRaw(blob, inputs);
    selfTest = { inputs, outputs };
    ({ blob, constBytes } = assemble(lowered, plan, selfTest, layout));
  }
  const tensors: TensorReport[] = lowered.tensors.map((t) => ({
    index: t.index,
    name: t.name,
    dtype: t.dtype,
    shape: t.shape,
    bytes: t.bytes,
    storage: t.storage,
    offset: t.storage === 'state' ? plan.stateOffsets.get(t.index)! : plan.offsets.get(t.index)!,
    aliasOf: t.aliasOf ?? null,
    scale: t.q.scale,
    zeroPoint: t.q.zeroPoint,
    layerOutput: t.ir >= 0 ? graph.tensors[t.ir].name : null,
  }));
  return { blob, lowered, plan, calibration: cal, graph, batch, constBytes, selfTest, assumptions: cal.assumptions, notes, tensors, weights, staging };
}
