/**
 * The converter back half as a library: IR Graph -> prepared graph -> calibration ->
 * lowering -> memory plan -> blob (+ self-test vector) and a report. The CLI
 * (tools/cli/convert.ts) adds file handling; tests call convertGraph directly.
 */
import type { FloatTensor, Graph } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';
import { prepareGraph } from './prepare.ts';
import { calibrate, syntheticSamples, SYNTHETIC_NOTE, type Calibration } from './calibrate.ts';
import { assertLowerable, lowerGraph, type Lowered } from './lower.ts';
import { assemble, planLowered, type SelfTest } from '../blob/assemble.ts';
import type { MemoryPlan } from '../blob/plan.ts';
import { quantizeValue } from './qparams.ts';

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
}

export interface TensorReport {
  index: number;
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
  offset: number;
  aliasOf: number | null;
  scale: number;
  zeroPoint: number;
}

export interface ConvertResult {
  blob: Uint8Array;
  lowered: Lowered;
  plan: MemoryPlan;
  calibration: Calibration;
  graph: Graph;
  batch: number;
  constBytes: number;
  selfTest: SelfTest | null;
  assumptions: string[];
  notes: string[];
  tensors: TensorReport[];
}

export function resolveBatch(graph: Graph, batch?: number): number {
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
    const a = new Int8Array(n);
    for (let k = 0; k < n; k++) a[k] = quantizeValue(s.data[k % s.data.length], t.q);
    return new Uint8Array(a.buffer);
  });
}

export async function convertGraph(graph0: Graph, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const batch = resolveBatch(graph0, opts.batch);
  const assumptions: string[] = [];
  const freeBatch = graph0.inputs.some((t) => graph0.tensors[t].shape[0] === null);
  if (freeBatch && opts.batch === undefined) assumptions.push(`the model's batch is free: built with a static batch of ${batch} (use --batch to change it)`);
  assertLowerable(graph0);
  const { graph, notes } = prepareGraph(graph0);
  let samples = opts.calibration ?? null;
  if (!samples) {
    const n = opts.syntheticCount ?? 64;
    samples = syntheticSamples(graph, n);
    const msg = SYNTHETIC_NOTE(n);
    assumptions.push(msg);
    opts.warn?.(msg);
  }
  const cal = await calibrate(graph, samples, { batchSize: 32, assumptions });
  const lowered = lowerGraph(graph, cal, { batch });
  notes.push(...lowered.notes);
  const plan = planLowered(lowered);
  let { blob, constBytes } = assemble(lowered, plan);
  let selfTest: SelfTest | null = null;
  if (opts.runRaw) {
    // the self-test uses the first `batch` calibration samples (repeated if there are fewer)
    const inputs = rawInputs(lowered, samples, batch);
    const outputs = await opts.runRaw(blob, inputs);
    selfTest = { inputs, outputs };
    ({ blob, constBytes } = assemble(lowered, plan, selfTest));
  }
  const tensors: TensorReport[] = lowered.tensors.map((t) => ({
    index: t.index,
    name: t.name,
    dtype: t.dtype,
    shape: t.shape,
    bytes: t.bytes,
    offset: plan.offsets.get(t.index)!,
    aliasOf: t.aliasOf ?? null,
    scale: t.q.scale,
    zeroPoint: t.q.zeroPoint,
  }));
  return { blob, lowered, plan, calibration: cal, graph, batch, constBytes, selfTest, assumptions: cal.assumptions, notes, tensors };
}
