/**
 * Graph rewrites before calibration and lowering (the float semantics are unchanged):
 *  1. every non-linear `activation` of a Dense/Conv/Depthwise/Separable layer becomes its own
 *     Activation node, so calibration sees the pre-activation tensor (needed for LUTs and
 *     clamp ranges; the lowering fuses it back into the op);
 *  2. SeparableConv1D/2D becomes DepthwiseConv (no bias) + 1x1 Conv, so the intermediate
 *     tensor is calibrated too;
 *  0. TimeDistributed(inner) becomes _MergeTime ([B,T,...] -> [B*T,...], a view) + inner +
 *     _SplitTime (a view back), so every layer the converter lowers works inside it;
 *  3. BatchNormalization whose input comes only from a linear Dense/Conv/DepthwiseConv is
 *     folded into that layer's kernel and bias (using the BN layer's own epsilon).
 */
import type { FloatTensor, Graph, IRNode, IRTensor } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';

const WEIGHTED = new Set(['Dense', 'Conv1D', 'Conv2D', 'DepthwiseConv1D', 'DepthwiseConv2D', 'SeparableConv1D', 'SeparableConv2D']);

function cloneGraph(g: Graph): Graph {
  return {
    ...g,
    inputs: [...g.inputs],
    outputs: [...g.outputs],
    tensors: g.tensors.map((t) => ({ ...t, shape: [...t.shape] })),
    nodes: g.nodes.map((n) => ({ ...n, config: { ...n.config }, inputs: [...n.inputs], outputs: [...n.outputs], weights: { ...n.weights } })),
    notes: [...g.notes],
  };
}

export function consumers(g: Graph, tensorId: number): IRNode[] {
  return g.nodes.filter((n) => n.inputs.includes(tensorId));
}

function newTensor(g: Graph, name: string, shape: IRTensor['shape'], producer: number): IRTensor {
  const t: IRTensor = { id: g.tensors.length, name, shape: [...shape], dtype: 'float32', producer };
  g.tensors.push(t);
  return t;
}

function renumber(g: Graph) {
  g.nodes.forEach((n, i) => {
    n.id = i;
    for (const t of n.outputs) g.tensors[t].producer = i;
  });
}

function uniqueName(g: Graph, base: string): string {
  const names = new Set(g.nodes.map((n) => n.name));
  let name = base;
  for (let i = 2; names.has(name); i++) name = `${base}_${i}`;
  return name;
}

/** Split `activation` of weighted layers into separate Activation nodes. */
function splitActivations(g: Graph): void {
  const out: IRNode[] = [];
  for (const n of g.nodes) {
    out.push(n);
    const act = n.config.activation;
    if (!WEIGHTED.has(n.className) || act === undefined || act === null || act === 'linear') continue;
    const post = n.outputs[0];
    const pre = newTensor(g, `${n.name}/pre_activation`, g.tensors[post].shape, n.id);
    n.outputs = [pre.id];
    n.config = { ...n.config, activation: 'linear' };
    const a: IRNode = {
      id: -1,
      name: uniqueName(g, `${n.name}/activation`),
      className: 'Activation',
      config: { name: `${n.name}/activation`, activation: act, trainable: false },
      inputs: [pre.id],
      outputs: [post],
      weights: {},
      trainableParams: 0,
      nonTrainableParams: 0,
      macs: 0,
    };
    out.push(a);
  }
  g.nodes = out;
  renumber(g);
}

/** SeparableConv -> DepthwiseConv (no bias, linear) + pointwise Conv (k = 1, bias, activation). */
function splitSeparable(g: Graph): void {
  const out: IRNode[] = [];
  for (const n of g.nodes) {
    if (n.className !== 'SeparableConv1D' && n.className !== 'SeparableConv2D') {
      out.push(n);
      continue;
    }
    const rank = n.className === 'SeparableConv1D' ? 1 : 2;
    const c = n.config;
    const dk = n.weights.depthwise_kernel;
    const inShape = g.tensors[n.inputs[0]].shape;
    const outShape = g.tensors[n.outputs[0]].shape;
    const cf = c.data_format === 'channels_first';
    const inC = dk.shape[rank];
    const dm = dk.shape[rank + 1];
    // intermediate shape: the output's spatial dims with inC*dm channels
    const midShape = cf ? [outShape[0], inC * dm, ...outShape.slice(2)] : [...outShape.slice(0, -1), inC * dm];
    void inShape;
    const mid = newTensor(g, `${n.name}/depthwise`, midShape, -1);
    const dw: IRNode = {
      ...n,
      name: uniqueName(g, `${n.name}/depthwise`),
      className: rank === 1 ? 'DepthwiseConv1D' : 'DepthwiseConv2D',
      config: {
        ...c,
        depth_multiplier: dm,
        use_bias: false,
        activation: 'linear',
      },
      inputs: [...n.inputs],
      outputs: [mid.id],
      weights: { depthwise_kernel: dk },
    };
    const pw: IRNode = {
      ...n,
      name: uniqueName(g, `${n.name}/pointwise`),
      className: rank === 1 ? 'Conv1D' : 'Conv2D',
      config: {
        ...c,
        kernel_size: rank === 1 ? [1] : [1, 1],
        strides: rank === 1 ? [1] : [1, 1],
        dilation_rate: rank === 1 ? [1] : [1, 1],
        padding: 'valid',
        groups: 1,
      },
      inputs: [mid.id],
      outputs: [...n.outputs],
      weights: n.weights.bias ? { kernel: n.weights.pointwise_kernel, bias: n.weights.bias } : { kernel: n.weights.pointwise_kernel },
    };
    out.push(dw, pw);
  }
  g.nodes = out;
  renumber(g);
}

/** Channel axis (index into the full shape, batch included) of a layer's output. */
function channelAxis(n: IRNode, rank: number): number {
  if (n.className === 'Dense') return rank - 1;
  return n.config.data_format === 'channels_first' ? 1 : rank - 1;
}

/** Fold BatchNormalization into the preceding linear Dense/Conv/DepthwiseConv. */
function foldBatchNorm(g: Graph, notes: string[] = []): void {
  const removed = new Set<IRNode>();
  for (const bn of g.nodes) {
    if (bn.className !== 'BatchNormalization') continue;
    const src = bn.inputs[0];
    const prodId = g.tensors[src].producer;
    if (prodId < 0) continue;
    const p = g.nodes[prodId];
    if (removed.has(p)) continue;
    if (!['Dense', 'Conv1D', 'Conv2D', 'DepthwiseConv1D', 'DepthwiseConv2D'].includes(p.className)) continue;
    if ((p.config.activation ?? 'linear') !== 'linear') continue;
    if (consumers(g, src).length !== 1 || g.outputs.includes(src)) continue;
    const rank = g.tensors[src].shape.length;
    let axes = bn.config.axis;
    if (Array.isArray(axes)) {
      if (axes.length !== 1) continue;
      axes = axes[0];
    }
    const axis = axes < 0 ? axes + rank : axes;
    if (axis !== channelAxis(p, rank)) continue;
    // shared layers: the kernel objects are shared, so fold into copies
    const eps = Number(bn.config.epsilon ?? 1e-3);
    const { gamma, beta, moving_mean: mean, moving_variance: vr } = bn.weights;
    const C = gamma.data.length;
    const mul = new Float64Array(C);
    for (let c = 0; c < C; c++) mul[c] = gamma.data[c] / Math.sqrt(vr.data[c] + eps);
    const kname = p.className.startsWith('Depthwise') ? 'depthwise_kernel' : 'kernel';
    const k = p.weights[kname];
    // out channel is the last axis of every kernel layout (Depthwise: c*dm+m flattened over the last 2 axes)
    const kd = new Float32Array(k.data.length);
    for (let i = 0; i < kd.length; i++) kd[i] = k.data[i] * mul[i % C];
    const oldB = p.weights.bias?.data;
    const bd = new Float32Array(C);
    for (let c = 0; c < C; c++) bd[c] = (oldB ? oldB[c] : 0) * mul[c] + (beta.data[c] - mean.data[c] * mul[c]);
    p.weights = { ...p.weights, [kname]: { shape: [...k.shape], data: kd } as FloatTensor, bias: { shape: [C], data: bd } };
    p.config = { ...p.config, use_bias: true };
    p.outputs = [...bn.outputs];
    removed.add(bn);
    notes.push(`BatchNormalization '${bn.name}' folded into '${p.name}' (epsilon ${eps})`);
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  renumber(g);
}

/** TimeDistributed(inner) -> _MergeTime + inner + _SplitTime (views; needs a static batch). */
function unwrapTimeDistributed(g: Graph): void {
  const out: IRNode[] = [];
  for (const n of g.nodes) {
    if (n.className !== 'TimeDistributed') {
      out.push(n);
      continue;
    }
    const x = g.tensors[n.inputs[0]];
    const y = g.tensors[n.outputs[0]];
    const [B, T] = x.shape;
    if (T === null)
      throw new UserError(
        `layer '${n.name}' (TimeDistributed): the time dimension must be fixed for the converter (input ${JSON.stringify(x.shape)})`,
        EXIT.UNSUPPORTED,
      );
    const mult = (x.batchMultiple ?? 1) * (T as number);
    const merged = newTensor(g, `${n.name}/merged`, [B === null ? null : (B as number) * (T as number), ...x.shape.slice(2)], -1);
    const innerOut = newTensor(g, `${n.name}/inner`, [merged.shape[0], ...y.shape.slice(2)], -1);
    merged.batchMultiple = mult;
    innerOut.batchMultiple = mult;
    const mk = (name: string, className: string, config: Record<string, any>, inputs: number[], outputs: number[], weights = {}): IRNode => ({
      id: -1,
      name: uniqueName(g, name),
      className,
      config,
      inputs,
      outputs,
      weights,
      trainableParams: 0,
      nonTrainableParams: 0,
      macs: 0,
    });
    out.push(mk(`${n.name}/merge_time`, '_MergeTime', {}, [x.id], [merged.id]));
    out.push({
      ...mk(n.name, n.config.layer.class_name, { ...n.config.layer.config, name: n.name }, [merged.id], [innerOut.id], n.weights),
      name: n.name,
      macs: n.macs,
    });
    out.push(mk(`${n.name}/split_time`, '_SplitTime', { steps: T }, [innerOut.id], [y.id]));
  }
  g.nodes = out;
  renumber(g);
}

/** All rewrites, on a copy. */
export function prepareGraph(graph: Graph): { graph: Graph; notes: string[] } {
  const g = cloneGraph(graph);
  const notes: string[] = [];
  unwrapTimeDistributed(g);
  splitSeparable(g);
  splitActivations(g);
  foldBatchNorm(g, notes);
  return { graph: g, notes };
}
