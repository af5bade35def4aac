/**
 * Test helper: map a tfjs LayersModel (Sequential or functional) to the graph IR by hand, so the
 * float reference can be compared with tfjs `predict` on the same weights. Configs come from
 * `model.toJSON()` (Keras-2 snake_case), with the few normalisations the IR contract asks for
 * (canonical activation names, initializers dropped, GRU reset_after explicit). Weight names
 * lose their layer prefix; Bidirectional's `forward_<inner>/x` becomes `forward/x`.
 */
import * as tf from '@tensorflow/tfjs';
import type { FloatTensor, Graph, IRNode, IRTensor } from '../../tools/graph/ir.ts';

const ACT: Record<string, string> = { hardSigmoid: 'hard_sigmoid', gelu_new: 'gelu_tanh', leakyRelu: 'leaky_relu', logSoftmax: 'log_softmax' };

function normConfig(cls: string, cfg: any): any {
  const out: any = {};
  for (const [k, v] of Object.entries(cfg ?? {})) {
    if (/_(initializer|regularizer|constraint)$/.test(k)) continue;
    if ((k === 'activation' || k === 'recurrent_activation') && typeof v === 'string') out[k] = ACT[v] ?? v;
    else if (k === 'layer' && v && typeof v === 'object')
      out[k] = { class_name: (v as any).class_name, config: normConfig((v as any).class_name, (v as any).config) };
    else out[k] = v;
  }
  if (cls === 'GRU' && out.reset_after == null) out.reset_after = false;
  if ('data_format' in out && out.data_format == null) out.data_format = 'channels_last';
  return out;
}

function weightName(layer: tf.layers.Layer, full: string): string {
  const parts = full.replace(/_\d+$/, '').split('/');
  const rest = parts[0] === layer.name ? parts.slice(1) : parts.slice(-1);
  if (layer.getClassName() === 'Bidirectional') {
    const dir = rest[0].startsWith('forward') ? 'forward' : rest[0].startsWith('backward') ? 'backward' : null;
    if (!dir) throw new Error(`cannot map Bidirectional weight ${full}`);
    return `${dir}/${rest[rest.length - 1]}`;
  }
  return rest[rest.length - 1];
}

export function layerWeights(layer: tf.layers.Layer): Record<string, FloatTensor> {
  const ws: Record<string, FloatTensor> = {};
  const vals = layer.getWeights();
  layer.weights.forEach((w, i) => {
    ws[weightName(layer, w.originalName ?? w.name)] = { shape: [...vals[i].shape], data: Float32Array.from(vals[i].dataSync()) };
  });
  return ws;
}

export function graphFromTfjs(model: tf.LayersModel, name = 'tfjs-model'): Graph {
  const json: any = model.toJSON(null, false);
  const cfgByName = new Map<string, any>();
  for (const l of json.config.layers) cfgByName.set(l.config.name ?? l.name, l);
  const tensors: IRTensor[] = [];
  const idOf = new Map<number, number>(); // tfjs SymbolicTensor id -> IR id
  const tid = (st: tf.SymbolicTensor, producer: number, nm: string): number => {
    let id = idOf.get(st.id);
    if (id === undefined) {
      id = tensors.length;
      idOf.set(st.id, id);
      tensors.push({ id, name: nm, shape: [...st.shape], dtype: st.dtype === 'int32' ? 'int32' : 'float32', producer });
    }
    return id;
  };
  const inputs = model.inputs.map((st) => tid(st, -1, st.name));
  const nodes: IRNode[] = [];
  // topological walk over (layer, inbound node) pairs
  const pending: { layer: tf.layers.Layer; node: any }[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    for (const n of (layer as any).inboundNodes) pending.push({ layer, node: n });
  }
  const weightCache = new Map<string, Record<string, FloatTensor>>();
  while (pending.length) {
    const k = pending.findIndex((p) => p.node.inputTensors.every((st: tf.SymbolicTensor) => idOf.has(st.id)));
    if (k < 0) throw new Error('graphFromTfjs: cannot order the graph');
    const { layer, node } = pending.splice(k, 1)[0];
    const cls = layer.getClassName();
    const raw = cfgByName.get(layer.name);
    const config = normConfig(cls, raw?.config ?? {});
    if (!weightCache.has(layer.name)) weightCache.set(layer.name, layerWeights(layer));
    const nid = nodes.length;
    const outs: tf.SymbolicTensor[] = node.outputTensors;
    nodes.push({
      id: nid,
      name: nodes.some((n) => n.name === layer.name) ? `${layer.name}_${nid}` : layer.name,
      className: cls,
      config,
      inputs: node.inputTensors.map((st: tf.SymbolicTensor) => idOf.get(st.id)!),
      outputs: outs.map((st, i) => tid(st, nid, outs.length > 1 ? `${layer.name}:${i}` : layer.name)),
      weights: weightCache.get(layer.name)!,
      trainableParams: 0,
      nonTrainableParams: 0,
      macs: 0,
    });
  }
  return {
    name,
    inputs,
    outputs: model.outputs.map((st) => idOf.get(st.id)!),
    tensors,
    nodes,
    source: { file: '(tfjs in memory)', format: 'tfjs', dialect: 'tfjs', kerasVersion: 'tfjs-layers 4.22.0' },
    notes: [],
  };
}

/** Deterministic uniform random numbers in [lo, hi) (mulberry32). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let a = seed >>> 0;
  return (lo = -1, hi = 1) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}

export function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): FloatTensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, () => r(lo, hi)) };
}

/** Give every weight of every layer seeded random values (variances positive) so biases are non-zero. */
export function randomizeWeights(model: tf.LayersModel, seed: number, scale = 0.5): void {
  const r = rng(seed);
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (!ws.length) continue;
    layer.setWeights(
      ws.map((w) => {
        const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
        const positive = /variance/.test(w.originalName ?? w.name);
        return tf.tensor(
          Float32Array.from({ length: n }, () => (positive ? r(0.2, 1.5) : r(-scale, scale))),
          w.shape as number[],
        );
      }),
    );
  }
}

/** Max abs error, relative to max(1, |expected|) per element. */
export function maxErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let m = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(e <= m)) m = Number.isNaN(e) ? Infinity : Math.max(m, e);
  }
  return m;
}

export function toTf(t: FloatTensor): tf.Tensor {
  return tf.tensor(t.data, t.shape);
}
