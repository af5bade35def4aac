/**
 * Graph rewrites before calibration and lowering (the float semantics are unchanged), each
 * driven by the layer table:
 *  1. a node whose entry has a rewrite becomes the nodes it names (TimeDistributed: views
 *     around its inner layer; SeparableConv: DepthwiseConv + 1x1 Conv), so every intermediate
 *     tensor is calibrated;
 *  2. a non-linear `activation` option of a layer whose quant rule says `splitActivation`
 *     becomes its own Activation node, so calibration sees the pre-activation tensor (needed for
 *     LUTs and clamp ranges; the lowering fuses it back into the op);
 *  3. a BatchNormalization whose input comes only from a linear layer that `absorbsBatchNorm`
 *     is folded into that layer's kernel and bias (using the BN layer's own epsilon).
 */
import type { FloatTensor, Graph, IRNode, IRTensor } from '../graph/ir.ts';
import { entryFor, type RewriteKit } from '../layers/index.ts';
import { consumers } from './lower-util.ts';

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

/** Split the `activation` option of layers whose quant rule says so into separate Activation nodes. */
function splitActivations(g: Graph): void {
  const out: IRNode[] = [];
  for (const n of g.nodes) {
    out.push(n);
    const act = n.config.activation;
    if (!entryFor(n.className, `layer '${n.name}'`).quant.splitActivation || act === undefined || act === null || act === 'linear') continue;
    const post = n.outputs[0];
    const pre = newTensor(g, `${n.name}/pre_activation`, g.tensors[post].shape, n.id);
    // inside a TimeDistributed view the rows are batch x steps: the pre-activation tensor is too
    if (g.tensors[post].batchMultiple !== undefined) pre.batchMultiple = g.tensors[post].batchMultiple;
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
    if (!entryFor(p.className, `layer '${p.name}'`).quant.absorbsBatchNorm) continue;
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

/**
 * Replace every node whose entry has a rewrite (TimeDistributed, SeparableConv) by the nodes it
 * becomes, until none is left (a TimeDistributed's inner layer may itself be rewritten).
 */
function applyRewrites(g: Graph): void {
  const kit: RewriteKit = {
    graph: g,
    newTensor: (name, shape, producer) => newTensor(g, name, shape, producer),
    uniqueName: (base) => uniqueName(g, base),
    node: (name, className, config, inputs, outputs, weights = {}) => ({
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
    }),
  };
  const rewriteOf = (n: IRNode) => {
    const l = entryFor(n.className, `layer '${n.name}'`).lower;
    return 'rewrite' in l ? l.rewrite : null;
  };
  while (g.nodes.some(rewriteOf)) {
    g.nodes = g.nodes.flatMap((n) => rewriteOf(n)?.(n, kit) ?? [n]);
    renumber(g);
  }
}

/** All rewrites, on a copy. */
export function prepareGraph(graph: Graph): { graph: Graph; notes: string[] } {
  const g = cloneGraph(graph);
  const notes: string[] = [];
  applyRewrites(g);
  splitActivations(g);
  foldBatchNorm(g, notes);
  return { graph: g, notes };
}
