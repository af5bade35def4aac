/**
 * Float reference forward pass of the graph IR (Keras inference semantics), used for
 * calibration (onTensor ranges, onRecurrent internal ranges), verify, and as ground truth.
 * Values are stored as float32; dot products and reductions accumulate in float64.
 */
import type { FloatTensor, Graph } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';
import { entryFor, RECURRENT_LAYERS } from '../layers/index.ts';
import { FloatState, type LayerCtx, type RecurrentInfo, type TimeMask } from './types.ts';

export { FloatState };
export type { RecurrentInfo } from './types.ts';
export interface RunFloatOptions {
  /** Called for every tensor produced, model inputs included. */
  onTensor?: (tensorId: number, t: FloatTensor) => void;
  /** Called once per recurrent node (SimpleRNN/GRU/LSTM/Bidirectional) with min/max of its internals. */
  onRecurrent?: (nodeId: number, info: RecurrentInfo) => void;
  /** Stateful RNN states kept across calls (Keras stateful=True); default: fresh zero states. */
  state?: FloatState;
}

export function runFloat(graph: Graph, inputs: FloatTensor[], opts: RunFloatOptions = {}): FloatTensor[] {
  if (inputs.length !== graph.inputs.length) {
    throw new UserError(`model '${graph.name}' has ${graph.inputs.length} input(s) but ${inputs.length} were given`, EXIT.USAGE);
  }
  const values = new Map<number, FloatTensor>();
  const masks = new Map<number, TimeMask | null>();
  graph.inputs.forEach((tid, i) => {
    const t = inputs[i];
    // the batch (shape[0]) is free even when the model fixes it: calibration may use any batch
    const want = graph.tensors[tid].shape;
    const ok = t.shape.length === want.length && want.every((d, k) => k === 0 || d === null || d === t.shape[k]);
    if (!ok) {
      throw new UserError(
        `model input '${graph.tensors[tid].name}' expects shape [${want.map((d) => (d === null ? 'batch' : d))}] but got [${t.shape}]`,
        EXIT.USAGE,
      );
    }
    let n = 1;
    for (const d of t.shape) n *= d;
    if (t.data.length !== n) throw new UserError(`model input '${graph.tensors[tid].name}': ${t.data.length} values for shape [${t.shape}]`, EXIT.USAGE);
    values.set(tid, t);
    masks.set(tid, null);
    opts.onTensor?.(tid, t);
  });
  for (const node of graph.nodes) {
    const entry = entryFor(node.className, `layer '${node.name}'`);
    const fn = entry.float;
    const xs = node.inputs.map((tid) => {
      const v = values.get(tid);
      if (!v) throw new Error(`float forward: tensor ${tid} needed by '${node.name}' was not computed (graph not topologically sorted?)`);
      return v;
    });
    const wantRec = !!opts.onRecurrent && RECURRENT_LAYERS.has(node.className);
    const ctx: LayerCtx = { inMasks: node.inputs.map((tid) => masks.get(tid) ?? null), state: opts.state, recurrent: wantRec ? {} : undefined };
    let ys: FloatTensor[];
    try {
      ys = fn(node, xs, ctx);
    } catch (e) {
      if (e instanceof UserError) throw e;
      (e as Error).message = `float forward, layer '${node.name}' (${node.className}): ${(e as Error).message}`;
      throw e;
    }
    if (ys.length !== node.outputs.length) {
      throw new Error(`float forward: layer '${node.name}' (${node.className}) produced ${ys.length} outputs, the graph has ${node.outputs.length}`);
    }
    node.outputs.forEach((tid, i) => {
      values.set(tid, ys[i]);
      let m: TimeMask | null = null;
      if (ctx.outMasks) m = ctx.outMasks[i] ?? null;
      else if (entry.passesMask && i === 0) m = ctx.inMasks[0] ?? null;
      // a mask only makes sense while the [B, T] leading dims survive
      if (m && !(ys[i].shape.length >= 2 && ys[i].shape[0] === m.batch && ys[i].shape[1] === m.steps)) m = null;
      masks.set(tid, m);
      opts.onTensor?.(tid, ys[i]);
    });
    if (wantRec) opts.onRecurrent!(node.id, ctx.recurrent!);
  }
  return graph.outputs.map((tid) => values.get(tid)!);
}
