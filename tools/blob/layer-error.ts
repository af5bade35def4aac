/**
 * Per-layer error of a blob against the float model: the blob runs in the runtime .wasm with its
 * op loop tapped (op-tap.ts), each op's output tensor is read right after the op, dequantized
 * with the tensor's scale and zero point, and compared with the float forward pass's output of
 * the same Keras layer (tools/float/forward.ts) on the same inputs. Which blob tensor holds which
 * Keras layer's output, at what scale, and which op writes it, is in the blob's metadata section.
 */
import { packageFile } from '../package-root.ts';
import type { FloatTensor, Graph } from '../graph/ir.ts';
import { runFloat } from '../float/forward.ts';
import { decodeAcceptedBlob, type ParsedBlob } from './parse.ts';
import { DTYPE } from './spec.ts';
import { quantize } from '../fixedpoint.ts';
import { OpTap } from './op-tap.ts';

type Precision = 'int8' | 'int16';

/** One Keras layer's output in the blob against the float model (the HTML report plots this shape). */
export interface LayerError {
  layer: string;
  className: string;
  sqnrDb: number;
  maxAbsError: number;
  precision: Precision;
}

/** A blob tensor that holds a Keras layer's output. */
interface MappedTensor {
  /** index in the blob's tensor table */
  index: number;
  /** the float model's tensor it holds (Keras name: `<layer>` or `<layer>:<k>`) */
  name: string;
  scale: number;
  zeroPoint: number;
}

/** The float model and where its layers' outputs are in the blob. */
interface LayerModel {
  /** the model as read (buildGraph), before the converter's rewrites */
  graph: Graph;
  tensors: MappedTensor[];
  /** the tensors each blob op writes last, in op order */
  ops: { outputs: number[] }[];
}

export interface LayerErrorOptions {
  /** the runtime .wasm to run (default: runtime-flash.wasm for a blob with a staging area, else runtime.wasm) */
  runtime?: string;
}

/** The map the blob's metadata section gives: tensors holding Keras layer outputs, and the op that writes each. */
function layerMapOf(graph: Graph, blob: ParsedBlob): LayerModel {
  const ops: { outputs: number[] }[] = blob.ops.map(() => ({ outputs: [] }));
  const tensors: MappedTensor[] = [];
  blob.tensors.forEach((t, index) => {
    const m = t.meta;
    if (!m) return;
    if (m.writer >= 0 && m.writer < ops.length) ops[m.writer].outputs.push(index);
    if (m.layerOutput) tensors.push({ index, name: m.name, scale: m.scale, zeroPoint: m.zeroPoint });
  });
  return { graph, tensors, ops };
}

/** The Keras layer (and its class) that produced tensor `name` in the model as read. */
function layerOf(g: Graph, id: number): { layer: string; className: string } {
  const n = g.nodes[g.tensors[id].producer];
  return { layer: g.tensors[id].name, className: n ? n.className : 'InputLayer' };
}

interface Acc {
  id: number;
  tensor: MappedTensor;
  op: number;
  se: number;
  sr: number;
  maxAbs: number;
  precision: Precision;
}

/** One accumulator per mapped tensor the float model also has, keyed by the op that writes it last. */
function accumulators(model: LayerModel, dtypes: number[]): Map<number, Acc[]> {
  const byName = new Map(model.graph.tensors.map((t) => [t.name, t.id]));
  const writer = new Map<number, number>();
  model.ops.forEach((o, k) => o.outputs.forEach((t) => writer.set(t, k)));
  const byOp = new Map<number, Acc[]>();
  for (const t of model.tensors) {
    const id = byName.get(t.name);
    const op = writer.get(t.index);
    if (id === undefined || op === undefined || model.graph.inputs.includes(id)) continue;
    const precision: Precision = dtypes[t.index] === DTYPE.INT16 ? 'int16' : 'int8';
    const list = byOp.get(op) ?? [];
    list.push({ id, tensor: t, op, se: 0, sr: 0, maxAbs: 0, precision });
    byOp.set(op, list);
  }
  return byOp;
}

function quantizeInputs(model: ReturnType<typeof decodeAcceptedBlob>, xs: FloatTensor[]): ArrayBufferView[] {
  return model.io.inputs.map((io, i) => {
    const d = xs[i].data;
    if (io.dtype === DTYPE.INT32) return Int32Array.from(d, (v) => Math.round(v));
    const [lo, hi] = io.dtype === DTYPE.INT16 ? [-32768, 32767] : [-128, 127];
    const q = io.dtype === DTYPE.INT16 ? new Int16Array(d.length) : new Int8Array(d.length);
    for (let k = 0; k < d.length; k++) q[k] = quantize(d[k], io.scale, io.zeroPoint, lo, hi);
    return q;
  });
}

function slice(t: FloatTensor, start: number, count: number): FloatTensor {
  const per = t.data.length / t.shape[0];
  return { shape: [count, ...t.shape.slice(1)], data: t.data.subarray(start * per, (start + count) * per) };
}

/** The runtime firmware would run the blob on: the streaming build for a blob with a staging area. */
function defaultRuntime(hasStaging: boolean): string {
  return packageFile('build', hasStaging ? 'runtime-flash.wasm' : 'runtime.wasm');
}

/**
 * Each Keras layer's output in the blob against the float model on `inputs` (one FloatTensor
 * per model input, [N, ...]; N a multiple of the blob's batch, the rest is dropped), in the
 * order the blob computes them.
 */
export async function layerErrors(blob: Uint8Array, graph: Graph, inputs: FloatTensor[], opts: LayerErrorOptions = {}): Promise<LayerError[]> {
  const parsed = decodeAcceptedBlob(blob);
  const model = layerMapOf(graph, parsed);
  const tap = await OpTap.load(opts.runtime ?? defaultRuntime(parsed.header.stagingSize > 0));
  const rc = tap.init(blob);
  if (rc !== 0) throw new Error(`layerErrors: kw_init failed with error ${rc}`);
  const byOp = accumulators(
    model,
    parsed.tensors.map((t) => t.dtype),
  );
  const B = parsed.header.batch;
  const n = Math.floor(inputs[0].shape[0] / B);
  if (n < 1) throw new Error(`layerErrors: ${inputs[0].shape[0]} sample(s), the blob runs batches of ${B}`);
  for (let b = 0; b < n; b++) {
    const xs = inputs.map((t) => slice(t, b * B, B));
    const ref = new Map<number, Float32Array>();
    runFloat(model.graph, xs, { onTensor: (id, t) => ref.set(id, t.data) });
    tap.invoke(quantizeInputs(parsed, xs), (op) => {
      for (const a of byOp.get(op) ?? []) accumulate(a, tap.read(a.tensor.index), ref.get(a.id));
    });
  }
  return [...byOp.values()]
    .flat()
    .sort((x, y) => x.op - y.op)
    .map((a) => ({ ...layerOf(model.graph, a.id), sqnrDb: sqnr(a.sr, a.se), maxAbsError: a.maxAbs, precision: a.precision }));
}

function accumulate(a: Acc, q: Int8Array | Int16Array | Int32Array, ref: Float32Array | undefined): void {
  if (!ref || ref.length !== q.length) throw new Error(`layerErrors: tensor '${a.tensor.name}' holds ${q.length} values, the float model's ${ref?.length}`);
  const { scale, zeroPoint } = a.tensor;
  for (let i = 0; i < q.length; i++) {
    const e = (q[i] - zeroPoint) * scale - ref[i];
    a.se += e * e;
    a.sr += ref[i] * ref[i];
    if (Math.abs(e) > a.maxAbs) a.maxAbs = Math.abs(e);
  }
}

/** 10·log10(signal / noise); +Infinity when exact, -Infinity for a zero signal with noise. */
export function sqnr(signal: number, noise: number): number {
  if (noise === 0) return Infinity;
  if (signal === 0) return -Infinity;
  return 10 * Math.log10(signal / noise);
}

/** The first layer (in the blob's order) whose SQNR is below `thresholdDb`, or null. */
export function firstBelow(errors: LayerError[], thresholdDb: number): LayerError | null {
  return errors.find((e) => e.sqnrDb < thresholdDb) ?? null;
}
