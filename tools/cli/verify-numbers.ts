/**
 * verify's `numbers` check: the float model (Node) against the blob in DeviceSim on --data, and
 * a verdict by the metric that fits each output's task:
 *
 *   top1  classifiers (a softmax or sigmoid head, or --labels given): top-1 agreement with the
 *         float model (a one-unit sigmoid head: agreement of the p >= 0.5 decision)
 *   sqnr  regressors and autoencoders (any other head): SQNR and the maximum relative error
 *         (max |blob - float| over max |float|, the error as a share of the output's full scale)
 *
 * `--metric top1|sqnr` overrides the choice for every output. A threshold given on the command
 * line is checked whatever the metric; the defaults apply to the chosen metric only.
 */
import { blobStaging } from '../blob/runtime-info.ts';
import { readFileSync } from 'node:fs';
import type { Graph } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';
import { DTYPE, ERR_TEXT, FLAG } from '../blob/spec.ts';
import { checkSamples, sameSampleCount } from './inputs.ts';
import type { ParsedBlob } from '../blob/parse.ts';
import type { Progress } from '../pipeline.ts';
import { entryFor } from '../layers/index.ts';

export const METRICS = ['top1', 'sqnr'] as const;
export type Metric = (typeof METRICS)[number];

export function parseMetric(v: string): Metric {
  if (!(METRICS as readonly string[]).includes(v)) throw new UserError(`--metric ${v}: expected one of ${METRICS.join(', ')}`, EXIT.USAGE);
  return v as Metric;
}

export interface Thresholds {
  maxAbsErr?: number;
  minSqnr: number;
  maxRelErr: number;
  minTop1: number;
  minCosine?: number;
}
/** The defaults of the chosen metric (docs/VERIFY.md states them). */
export const DEFAULT_THRESHOLDS: Thresholds = { minSqnr: 15, maxRelErr: 0.1, minTop1: 0.9 };

export interface NumbersOptions {
  /** the blob's file, for messages */
  blobFile: string;
  model: string;
  config?: string;
  data: string[];
  /** class ids or one-hot rows for the (single) output: judges it as a classifier, reports accuracy */
  labels?: string;
  /** thresholds given on the command line (checked whatever the metric) */
  thresholds?: Partial<Thresholds>;
  metric?: Metric;
  maxSamples?: number;
  /** called as batches of --data complete ('verification') */
  progress?: Progress;
}

export interface NumbersCheck {
  name: 'numbers';
  status: 'PASS' | 'FAIL';
  summary: string;
  details: string[];
  figures: Record<string, unknown>;
}

// ---------------------------------------------------------------- device

export interface Device {
  setInputFloat(i: number, data: Float32Array): void;
  invoke(): number;
  getOutputFloat(i: number): Float32Array;
  selfTest(): number;
  resetState(): number;
}

/** Opens the blob in the Node host simulation (firmware-host/node/host.ts) on this runtime build. */
export async function openDevice(runtimeFile: string, blob: Uint8Array): Promise<Device> {
  const { DeviceSim } = await import('../../firmware-host/node/host.ts');
  // a streaming runtime reads a blob that names a staging area through kw.read_blob
  const streams = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(runtimeFile))).some((i) => i.name === 'read_blob');
  const sim = await DeviceSim.load(runtimeFile, { weights: streams && blobStaging(blob) > 0 ? 'flash' : 'ram' });
  const rc = sim.init(blob);
  if (rc !== 0) throw new UserError(`DeviceSim: kw_init failed: ${ERR_TEXT[rc] ?? rc}`, EXIT.VERIFY_FAILED);
  return sim;
}

// ---------------------------------------------------------------- metrics

export interface Metrics {
  maxAbsErr: number;
  /** max |got - ref| / max |ref| */
  maxRelErr: number;
  rmse: number;
  sqnrDb: number;
  cosine: number;
  top1: number | null;
  samples: number;
}

/** The predicted class of each row: argmax over `classes`, or (one class) value >= `decision`. */
export function predictions(d: Float32Array, classes: number, decision: number | undefined): Int32Array | null {
  if (classes === 1) return decision === undefined ? null : Int32Array.from(d, (v) => (v >= decision ? 1 : 0));
  const rows = Math.floor(d.length / classes);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let a = 0;
    for (let k = 1; k < classes; k++) if (d[r * classes + k] > d[r * classes + a]) a = k;
    out[r] = a;
  }
  return out;
}

/**
 * Error metrics of `got` against the float reference `ref`; top-1 agreement over rows of
 * `classes` (argmax), or with one class the agreement of the `value >= decision` decision.
 */
export function compareOutputs(ref: Float32Array, got: Float32Array, classes: number, decision?: number): Metrics {
  let maxAbs = 0;
  let peak = 0;
  let se = 0;
  let sr = 0;
  let dot = 0;
  let ng = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = got[i] - ref[i];
    maxAbs = Math.max(maxAbs, Math.abs(e));
    peak = Math.max(peak, Math.abs(ref[i]));
    se += e * e;
    sr += ref[i] * ref[i];
    dot += ref[i] * got[i];
    ng += got[i] * got[i];
  }
  const pr = predictions(ref, classes, decision);
  const pg = predictions(got, classes, decision);
  const agree = pr && pg ? pr.filter((c, r) => c === pg[r]).length : 0;
  const sqnr = se === 0 ? Infinity : sr === 0 ? -Infinity : 10 * Math.log10(sr / se);
  const cos = sr === 0 && ng === 0 ? 1 : sr === 0 || ng === 0 ? 0 : dot / Math.sqrt(sr * ng);
  return {
    maxAbsErr: maxAbs,
    maxRelErr: maxAbs === 0 ? 0 : peak === 0 ? Infinity : maxAbs / peak,
    rmse: Math.sqrt(se / Math.max(1, ref.length)),
    sqnrDb: sqnr,
    cosine: cos,
    top1: pr ? agree / pr.length : null,
    samples: pr ? pr.length : 0,
  };
}

// ---------------------------------------------------------------- which metric

/**
 * The activation an output ends in (a layer's `activation`, Activation, Softmax), looking through
 * layers that only move bytes (reshapes, dropout); else the class of the layer it ends in.
 */
export function headActivation(g: Graph, tensorId: number): string | null {
  let id = tensorId;
  for (let hop = 0; hop < g.nodes.length; hop++) {
    const n = g.nodes[g.tensors[id].producer];
    if (!n) return null;
    const inner =
      n.className === 'TimeDistributed' ? { cls: n.config.layer?.class_name, cfg: n.config.layer?.config ?? {} } : { cls: n.className, cfg: n.config };
    if (inner.cls === 'Softmax') return 'softmax';
    const act = inner.cfg.activation;
    if (typeof act === 'string' && act !== 'linear') return act;
    const lower = entryFor(n.className, `layer '${n.name}'`).lower;
    const passes = n.inputs.length === 1 && ('alias' in lower || inner.cls === 'Activation');
    if (!passes) return typeof act === 'string' ? act : (inner.cls ?? n.className);
    id = n.inputs[0];
  }
  return null;
}

export interface MetricChoice {
  metric: Metric;
  why: string;
  /** one-unit sigmoid head: the decision threshold of its top-1 */
  decision?: number;
}

export function chooseMetric(g: Graph, outIndex: number, o: { metric?: Metric; labels?: boolean }): MetricChoice {
  const head = headActivation(g, g.outputs[outIndex]);
  const units = g.tensors[g.outputs[outIndex]].shape.at(-1);
  const decision = units === 1 ? (head === 'sigmoid' ? 0.5 : 0) : undefined;
  if (o.metric) return { metric: o.metric, why: `--metric ${o.metric} given`, decision };
  if (head === 'softmax' || head === 'sigmoid') return { metric: 'top1', why: `${head} head, so a classifier`, decision };
  if (o.labels) return { metric: 'top1', why: '--labels given, so a classifier', decision };
  return { metric: 'sqnr', why: `${head ?? 'input'} head (not softmax or sigmoid), so a regressor or autoencoder` };
}

// ---------------------------------------------------------------- running both

const shapeText = (d: readonly (number | null)[]) => `[${d.map((x) => (x === null ? 'None' : x)).join(', ')}]`;

interface Runs {
  graph: Graph;
  refs: Float32Array[];
  gots: Float32Array[];
  samples: number;
  /** samples in --data (labels cover all of them) */
  total: number;
}

/** One float array per blob input from the --data files, checked against the blob's shapes. */
async function readData(p: ParsedBlob, files: string[]): Promise<{ data: Float32Array; n: number; perN: number }[]> {
  const { readArray } = await import('../readers/npy.ts');
  const ins = p.io.inputs;
  if (files.length !== ins.length)
    throw new UserError(`--data: the blob has ${ins.length} input(s), ${files.length} file(s) given (one .npy per input, in input order)`, EXIT.USAGE);
  const arrays = files.map((f, i) => {
    const a = checkSamples(f, readArray(f), { name: ins[i].name, dims: ins[i].dims.slice(1), int: ins[i].dtype === DTYPE.INT32 }, 'data');
    const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as ArrayLike<number>);
    return { data, n: a.shape[0], perN: data.length / a.shape[0] };
  });
  sameSampleCount(
    files,
    arrays.map((a) => ({ shape: [a.n] })),
    '--data',
  );
  return arrays;
}

/**
 * --model must be the model the blob was converted from: the same number of inputs and outputs,
 * with the same per-sample shapes. Anything else is a wrong file given, named with both files.
 */
function modelMatchesBlob(graph: Graph, p: ParsedBlob, model: string, blobFile: string): void {
  const side = (kind: string, ids: number[], io: ParsedBlob['io']['inputs']) => {
    const m = ids.map((id) => graph.tensors[id]);
    const dims = (s: readonly (number | null)[]) => shapeText([null, ...s.slice(1)]);
    const bad = m.length !== io.length || m.some((t, i) => dims(t.shape) !== dims(io[i].dims));
    if (!bad) return;
    const list = (xs: { name: string; s: readonly (number | null)[] }[]) => xs.map((x) => `'${x.name}' ${dims(x.s)}`).join(', ');
    throw new UserError(
      `--model ${model} is not the model ${blobFile} was converted from: its ${kind}s are ${list(m.map((t) => ({ name: t.name, s: t.shape })))}, the blob's are ${list(io.map((t) => ({ name: t.name, s: t.dims })))}`,
      EXIT.BAD_INPUT,
    );
  };
  side('input', graph.inputs, p.io.inputs);
  side('output', graph.outputs, p.io.outputs);
}

/** The float model and the blob on the same batches of --data; a failed invoke is a FAIL check. */
async function runBoth(p: ParsedBlob, runtimeFile: string, blob: Uint8Array, o: NumbersOptions): Promise<Runs | NumbersCheck> {
  const { readModel } = await import('../readers/index.ts');
  const { buildGraph } = await import('../graph/build.ts');
  const { runFloat } = await import('../float/forward.ts');
  const B = p.header.batch;
  const cfg = o.config ? { config: o.config } : {};
  let graph = buildGraph(await readModel(o.model, cfg), { batch: B });
  const ins = p.io.inputs;
  // a --stream blob processes K steps per invoke: compare against the model with K time steps
  // (both start from a zero state: the device state is reset before every batch below)
  const K = ins[0]?.dims[1];
  if (p.header.flags & FLAG.STATEFUL && ins[0]?.dims.length >= 2 && graph.inputs.some((t) => graph.tensors[t].shape[1] !== K))
    graph = buildGraph(await readModel(o.model, cfg), { batch: B, steps: K });
  modelMatchesBlob(graph, p, o.model, o.blobFile);
  const arrays = await readData(p, o.data);
  const n0 = arrays[0].n;
  const batches = Math.floor(Math.min(n0, o.maxSamples ?? 256) / B);
  if (batches < 1) throw new UserError(`--data: ${n0} sample(s), but the blob was built with batch ${B}: give at least ${B}`, EXIT.BAD_INPUT);
  const dev = await openDevice(runtimeFile, blob);
  const outs = p.io.outputs;
  const refs: number[][] = outs.map(() => []);
  const gots: number[][] = outs.map(() => []);
  for (let bi = 0; bi < batches; bi++) {
    const floatIn = arrays.map((a, i) => ({ shape: [B, ...ins[i].dims.slice(1)], data: a.data.subarray(bi * B * a.perN, (bi + 1) * B * a.perN) }));
    const ref = runFloat(graph, floatIn);
    dev.resetState();
    floatIn.forEach((t, i) => dev.setInputFloat(i, t.data));
    const rc = dev.invoke();
    if (rc !== 0)
      return { name: 'numbers', status: 'FAIL', summary: `kw_invoke failed on batch ${bi}: ${ERR_TEXT[rc] ?? rc}`, details: [], figures: { code: rc } };
    outs.forEach((_, k) => {
      for (const v of ref[k].data) refs[k].push(v);
      for (const v of dev.getOutputFloat(k)) gots[k].push(v);
    });
    o.progress?.('verification', (bi + 1) * B, batches * B);
  }
  return { graph, refs: refs.map((r) => Float32Array.from(r)), gots: gots.map((g) => Float32Array.from(g)), samples: batches * B, total: n0 };
}

/**
 * The label of each output row from --labels: class ids (one per row) or one-hot/probability
 * rows of `classes` (argmax); a one-unit output takes 0/1 labels.
 */
async function readLabels(file: string, rows: number, classes: number, totalRows: number): Promise<Int32Array> {
  const { readArray } = await import('../readers/npy.ts');
  const a = readArray(file);
  const d = a.data;
  const what = `class ids (${totalRows} values, one per output row) or one-hot rows [${totalRows}, ${classes}]`;
  if (classes > 1 && d.length === totalRows * classes) return predictions(Float32Array.from(d), classes, undefined)!.subarray(0, rows);
  if (d.length !== totalRows) throw new UserError(`${file}: ${d.length} value(s) in shape ${shapeText(a.shape)}; expected ${what}`, EXIT.BAD_INPUT);
  const ids = Int32Array.from(d, (v) => Math.round(Number(v)));
  const bad = ids.findIndex((v) => v < 0 || v >= Math.max(2, classes));
  if (bad >= 0) throw new UserError(`${file}: label ${ids[bad]} at index ${bad} is not a class id in [0, ${Math.max(2, classes) - 1}]`, EXIT.BAD_INPUT);
  return ids.subarray(0, rows);
}

function accuracy(pred: Int32Array | null, labels: Int32Array): number {
  if (!pred) return NaN;
  let ok = 0;
  for (let r = 0; r < labels.length; r++) if (pred[r] === labels[r]) ok++;
  return ok / labels.length;
}

// ---------------------------------------------------------------- verdict

const fmt = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

interface Judged extends Metrics {
  output: string;
  metric: Metric;
  why: string;
  accuracy?: { float: number; blob: number; dropPoints: number };
}

/** Threshold failures of one output: the chosen metric's (defaults apply), then any given on the command line. */
function failures(m: Judged, given: Partial<Thresholds>): string[] {
  const th = { ...DEFAULT_THRESHOLDS, ...given };
  const out = `output '${m.output}'`;
  const f: string[] = [];
  if (given.maxAbsErr !== undefined && m.maxAbsErr > given.maxAbsErr) f.push(`${out}: max abs error ${fmt(m.maxAbsErr, 5)} > --max-abs-err ${given.maxAbsErr}`);
  const sqnr = m.metric === 'sqnr';
  if ((sqnr || given.minSqnr !== undefined) && m.sqnrDb < th.minSqnr) f.push(`${out}: SQNR ${fmt(m.sqnrDb, 1)} dB < --min-sqnr ${th.minSqnr}`);
  if ((sqnr || given.maxRelErr !== undefined) && m.maxRelErr > th.maxRelErr)
    f.push(`${out}: max relative error ${fmt(m.maxRelErr, 4)} > --max-rel-err ${th.maxRelErr}`);
  if (given.minCosine !== undefined && m.cosine < given.minCosine) f.push(`${out}: cosine ${fmt(m.cosine, 5)} < --min-cosine ${given.minCosine}`);
  if (m.metric === 'top1' && m.top1 === null) f.push(`${out}: top-1 needs a class axis (the last axis has one unit and no sigmoid head): use --metric sqnr`);
  else if ((m.metric === 'top1' || given.minTop1 !== undefined) && m.top1 !== null && m.top1 < th.minTop1)
    f.push(`${out}: top-1 agreement ${pct(m.top1)} < --min-top1 ${th.minTop1}`);
  return f;
}

/** The chosen metric's figures against its thresholds. */
function verdict(m: Judged, given: Partial<Thresholds>): string {
  const th = { ...DEFAULT_THRESHOLDS, ...given };
  if (m.metric === 'top1') return `top-1 agreement ${m.top1 === null ? 'n/a' : `${pct(m.top1)} of ${m.samples}`} (min ${th.minTop1})`;
  return `SQNR ${fmt(m.sqnrDb, 1)} dB (min ${th.minSqnr}), max relative error ${fmt(m.maxRelErr, 4)} (max ${th.maxRelErr})`;
}

/** One output: the metric, why it was chosen, its verdict, then the other figures. */
function describe(m: Judged, given: Partial<Thresholds>): string {
  const drop = m.accuracy ? Math.round(10 * m.accuracy.dropPoints) / 10 : 0;
  const rest = [
    `max abs err ${fmt(m.maxAbsErr, 5)}`,
    `RMSE ${fmt(m.rmse, 5)}`,
    ...(m.metric === 'top1' ? [`SQNR ${fmt(m.sqnrDb, 1)} dB`, `max relative error ${fmt(m.maxRelErr, 4)}`] : []),
    `cosine ${fmt(m.cosine, 5)}`,
    ...(m.metric === 'sqnr' && m.top1 !== null ? [`top-1 agreement ${pct(m.top1)}`] : []),
    ...(m.accuracy
      ? [
          `accuracy on the labels: float ${pct(m.accuracy.float)}, blob ${pct(m.accuracy.blob)} (${drop === 0 ? 'no change' : `${drop > 0 ? '-' : '+'}${Math.abs(drop).toFixed(1)} points`})`,
        ]
      : []),
  ];
  return `output '${m.output}' judged by ${m.metric === 'top1' ? 'top-1 agreement' : 'SQNR and max relative error'} (${m.why}): ${verdict(m, given)}; also ${rest.join(', ')}`;
}

export async function checkNumbers(p: ParsedBlob, runtimeFile: string, blob: Uint8Array, o: NumbersOptions): Promise<NumbersCheck> {
  const given = Object.fromEntries(Object.entries(o.thresholds ?? {}).filter(([, v]) => v !== undefined)) as Partial<Thresholds>;
  const outs = p.io.outputs;
  if (o.labels && outs.length !== 1) throw new UserError(`--labels: the blob has ${outs.length} outputs; labels go with a single-output model`, EXIT.USAGE);
  const runs = await runBoth(p, runtimeFile, blob, o);
  if ('status' in runs) return runs;
  const judged: Judged[] = [];
  for (let k = 0; k < outs.length; k++) {
    const t = outs[k];
    const classes = t.dims[t.dims.length - 1];
    const choice = chooseMetric(runs.graph, k, { metric: o.metric, labels: !!o.labels });
    const m: Judged = { output: t.name, metric: choice.metric, why: choice.why, ...compareOutputs(runs.refs[k], runs.gots[k], classes, choice.decision) };
    if (o.labels) {
      const perSample = runs.refs[k].length / runs.samples / classes;
      const labels = await readLabels(o.labels, runs.samples * perSample, classes, runs.total * perSample);
      const af = accuracy(predictions(runs.refs[k], classes, choice.decision ?? 0.5), labels);
      const ab = accuracy(predictions(runs.gots[k], classes, choice.decision ?? 0.5), labels);
      m.accuracy = { float: af, blob: ab, dropPoints: 100 * (af - ab) };
    }
    judged.push(m);
  }
  const fails = judged.flatMap((m) => failures(m, given));
  const rows = judged.map((m) => describe(m, given));
  const figures = {
    samples: runs.samples,
    batch: p.header.batch,
    thresholds: { ...DEFAULT_THRESHOLDS, ...given },
    given,
    outputs: judged.map((m) => ({ ...m, sqnrDb: Number.isFinite(m.sqnrDb) ? m.sqnrDb : m.sqnrDb > 0 ? 'inf' : '-inf' })),
  };
  if (fails.length) return { name: 'numbers', status: 'FAIL', summary: fails[0], details: [...fails.slice(1), ...rows], figures };
  const short = judged.map((m) => `output '${m.output}' ${verdict(m, given)}`).join('; ');
  return { name: 'numbers', status: 'PASS', summary: `${runs.samples} sample(s) vs the float model: ${short}`, details: rows, figures };
}
