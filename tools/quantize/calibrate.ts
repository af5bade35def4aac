/**
 * Calibration: run the float reference over calibration samples, record each tensor's
 * min/max (widened to include 0), choose its int8 range by the calibration method (ranges.ts:
 * min/max as TFLite's legacy quantizer, percentile or MSE-optimal) and derive the int8 scale and
 * zero point as TFLite does (qparams.ts).
 */
import type { FloatTensor, Graph } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';
import { FloatState, runFloat, type RecurrentInfo } from '../float/forward.ts';
import { asymmetricQParams, type QParams } from './qparams.ts';
import { Histogram, rangeBy, type Range, type RangeMethod } from './ranges.ts';
import { mergeRecurrentInfo } from './lower-rnn.ts';
import type { Calibration } from './lower-util.ts';

export type { Calibration } from './lower-util.ts';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Vocabulary size of the Embedding that reads model input `tensorId` (null if none). */
function vocabOf(graph: Graph, tensorId: number): number | null {
  for (const n of graph.nodes) {
    if (n.className === 'Embedding' && n.inputs.includes(tensorId)) return Number(n.config.input_dim);
  }
  return null;
}

/**
 * N synthetic samples per model input: uniform in [-1, 1] (token ids uniform in
 * [0, vocab) for int32 inputs). Shapes use the graph's input shapes with batch N.
 */
export function syntheticSamples(graph: Graph, n = 64, seed = 1234): FloatTensor[] {
  const r = rng(seed);
  return graph.inputs.map((tid) => {
    const t = graph.tensors[tid];
    const dims = t.shape.slice(1).map((d) => {
      if (d === null) throw new Error(`input ${t.name} has a free non-batch dimension`);
      return d;
    });
    const shape = [n, ...dims];
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (t.dtype === 'int32') {
      const vocab = vocabOf(graph, tid) ?? 2;
      for (let i = 0; i < size; i++) data[i] = Math.min(vocab - 1, Math.floor(r() * vocab));
    } else {
      for (let i = 0; i < size; i++) data[i] = r() * 2 - 1;
    }
    return { shape, data };
  });
}

function sliceBatch(t: FloatTensor, start: number, count: number): FloatTensor {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return { shape: [count, ...t.shape.slice(1)], data: t.data.slice(start * per, (start + count) * per) };
}

export interface CalibrateOptions {
  batchSize?: number;
  assumptions?: string[];
  /**
   * Keras stateful=True semantics during calibration: recurrent states carry over from one
   * calibration batch to the next (sample i of batch k+1 continues sample i of batch k), so
   * the state ranges cover long streams as the device will see them. batchSize must then be
   * the model's fixed batch.
   */
  stateful?: boolean;
  /** How each tensor's int8 range is chosen (ranges.ts): one method, or one per tensor name with a default. */
  method?: RangeMethod | { byTensor: Map<string, RangeMethod>; otherwise: RangeMethod };
  /** Called after each batch of the first pass with the samples done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Every batch of `samples` through the float graph (whole batches only when stateful): `seen`
 * gets every tensor, model inputs and outputs included.
 */
async function forEachTensor(
  graph: Graph,
  samples: FloatTensor[],
  bs: number,
  opts: CalibrateOptions,
  seen: (id: number, t: FloatTensor) => void,
  onRecurrent?: (id: number, info: RecurrentInfo) => void,
): Promise<void> {
  const n = samples[0].shape[0];
  const state = opts.stateful ? new FloatState() : undefined;
  for (let s = 0; s < n; s += bs) {
    const c = Math.min(bs, n - s);
    if (state && c !== bs) break; // a stateful model only runs whole batches
    const batch = samples.map((t) => sliceBatch(t, s, c));
    batch.forEach((t, i) => seen(graph.inputs[i], t));
    const outs = await runFloat(graph, batch, { onTensor: seen, onRecurrent, state });
    (outs as FloatTensor[]).forEach((t, i) => seen(graph.outputs[i], t));
    opts.onProgress?.(s + c, n);
  }
}

/** The method of each tensor under `m`. */
function methodOf(graph: Graph, m: CalibrateOptions['method'], id: number): RangeMethod {
  if (!m) return 'minmax';
  if (typeof m === 'string') return m;
  return m.byTensor.get(graph.tensors[id]?.name) ?? m.otherwise;
}

/**
 * Run `samples` (one FloatTensor per model input, batch-major, all with the same N) through
 * the float graph in chunks of `batchSize`, recording min/max of every tensor; a second pass
 * records value histograms when a tensor's method needs them (percentile, mse).
 */
export async function calibrate(graph: Graph, samples: FloatTensor[], opts: CalibrateOptions = {}): Promise<Calibration> {
  if (samples.length !== graph.inputs.length) {
    throw new Error(`calibrate: ${samples.length} sample arrays for ${graph.inputs.length} inputs`);
  }
  const n = samples[0].shape[0];
  for (const s of samples) if (s.shape[0] !== n) throw new Error('calibrate: inputs disagree on the sample count');
  const bs = Math.max(1, opts.batchSize ?? 32);
  const ranges = new Map<number, Range>();
  const record = (id: number, t: FloatTensor) => {
    let mn = Infinity;
    let mx = -Infinity;
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const r = ranges.get(id);
    if (!r) ranges.set(id, { min: mn, max: mx });
    else {
      if (mn < r.min) r.min = mn;
      if (mx > r.max) r.max = mx;
    }
  };
  if (opts.stateful && n < bs) {
    throw new UserError(
      `calibration: the model has stateful layers built for batch ${bs} but only ${n} calibration sample(s) were given: give at least ${bs}`,
      EXIT.BAD_INPUT,
    );
  }
  const recurrent = new Map<number, RecurrentInfo>();
  await forEachTensor(graph, samples, bs, opts, record, (id, info) => mergeRecurrentInfo(recurrent, id, info));
  for (const [id, r] of ranges) {
    if (!Number.isFinite(r.min) || !Number.isFinite(r.max)) {
      // float32 overflow in the float forward (absurd weights or inputs): a property of the input files
      throw new UserError(
        `${graph.source.file}: calibration produced a non-finite value in tensor '${graph.tensors[id]?.name}' (weights or calibration inputs overflow float32)`,
        EXIT.BAD_INPUT,
      );
    }
    r.min = Math.min(r.min, 0);
    r.max = Math.max(r.max, 0);
  }
  const methods = new Map<number, RangeMethod>();
  for (const id of ranges.keys()) if (graph.tensors[id]?.dtype !== 'int32') methods.set(id, methodOf(graph, opts.method, id));
  const hists = await histograms(graph, samples, bs, opts, ranges, methods);
  const qparams = new Map<number, QParams>();
  const quantRanges = new Map<number, Range>();
  for (const [id, r] of ranges) {
    const m = methods.get(id);
    if (!m) {
      qparams.set(id, { scale: 1, zeroPoint: 0 });
      continue;
    }
    const q = rangeBy(m, r, hists.get(id));
    quantRanges.set(id, q);
    qparams.set(id, asymmetricQParams(q.min, q.max));
  }
  return { ranges, qparams, samples: n, recurrent, assumptions: [...(opts.assumptions ?? [])], methods, quantRanges };
}

/** Value histograms over each tensor's [min, max], for the tensors whose method reads one. */
async function histograms(
  graph: Graph,
  samples: FloatTensor[],
  bs: number,
  opts: CalibrateOptions,
  ranges: Map<number, Range>,
  methods: Map<number, RangeMethod>,
): Promise<Map<number, Histogram>> {
  const hists = new Map<number, Histogram>();
  for (const [id, m] of methods) if (m !== 'minmax') hists.set(id, new Histogram(ranges.get(id)!.min, ranges.get(id)!.max));
  if (hists.size) await forEachTensor(graph, samples, bs, { ...opts, onProgress: undefined }, (id, t) => hists.get(id)?.add(t.data));
  return hists;
}

export const SYNTHETIC_NOTE = (n: number) =>
  `no calibration data given: calibrated on ${n} synthetic samples uniform in [-1, 1] (token ids uniform over the vocabulary); ` +
  `quantisation ranges will be wrong if real inputs differ: pass --calibration with real samples`;
