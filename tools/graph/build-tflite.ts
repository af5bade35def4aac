/**
 * The graph builder for an int8 .tflite model: its operators become nodes of the layer table's
 * classes through the table's TFLite side (tools/layers/tflite.ts), every activation tensor
 * keeps the file's scale and zero point (Graph.fileQuant), and every op, type or version the
 * converter cannot serve is listed at once, as the Keras builder does. QUANTIZE at a model input
 * and DEQUANTIZE at a model output are the blob's own edges (its inputs and outputs are int8 with
 * the file's quantization); they become no node.
 */
import { basename } from 'node:path';
import type { LintProblem } from '../errors.ts';
import { unsupported } from '../errors.ts';
import type { FloatTensor, Graph, IRNode, IRTensor, Shape } from './ir.ts';
import type { TfliteModel, TfliteOp } from '../readers/tflite/read.ts';
import { entryFor } from '../layers/index.ts';
import { TFLITE_OPS, TFLITE_REFUSED, type TfliteBuildCtx } from '../layers/tflite.ts';
import type { QParams } from '../quantize/qparams.ts';

/** A layer name from a TFLite tensor name: the Keras layer of its first fused name ('model/conv2d_1/Conv2D' -> 'conv2d_1'). */
function layerName(tensorName: string): string {
  const parts = tensorName.split(';').map((p) => p.split('/'));
  const pick = parts.find((p) => p.length >= 3 && !/^(activation|batch_normalization|re_lu)/.test(p[1])) ?? parts[0];
  return pick.length >= 3 ? pick[1] : pick.join('/');
}

const paramCount = (w: Record<string, FloatTensor>) => Object.values(w).reduce((a, t) => a + t.data.length, 0);

/** The edges: QUANTIZE ops that read a float model input and DEQUANTIZE ops that write a model output. */
function edges(m: TfliteModel) {
  const alias = new Map<number, number>();
  const skip = new Set<TfliteOp>();
  for (const op of m.ops) {
    if (op.opcode === 'QUANTIZE' && m.inputs.includes(op.inputs[0]) && m.tensors[op.inputs[0]].type === 'float32') {
      alias.set(op.inputs[0], op.outputs[0]);
      skip.add(op);
    }
    if (op.opcode === 'DEQUANTIZE' && m.outputs.includes(op.outputs[0]) && m.tensors[op.outputs[0]].type === 'float32') {
      alias.set(op.outputs[0], op.inputs[0]);
      skip.add(op);
    }
  }
  return { inputs: m.inputs.map((i) => alias.get(i) ?? i), outputs: m.outputs.map((i) => alias.get(i) ?? i), skip };
}

class TfliteBuilder {
  readonly tensors: IRTensor[] = [];
  readonly nodes: IRNode[] = [];
  readonly byIndex = new Map<number, number>();
  readonly fileQuant = new Map<number, QParams>();
  readonly problems: LintProblem[] = [];
  readonly names = new Set<string>();
  constructor(readonly m: TfliteModel) {}

  irTensor(name: string, shape: Shape, q: QParams | null): number {
    const id = this.tensors.length;
    this.tensors.push({ id, name, shape, dtype: 'float32', producer: -1 });
    if (q) this.fileQuant.set(id, q);
    return id;
  }
  tensor(i: number): number {
    let id = this.byIndex.get(i);
    if (id === undefined) {
      const t = this.m.tensors[i];
      const q = t.quant ? { scale: t.quant.scale[0], zeroPoint: t.quant.zeroPoint[0] ?? 0 } : null;
      id = this.irTensor(t.name, [1, ...t.shape.slice(1)], q);
      this.byIndex.set(i, id);
    }
    return id;
  }
  uniqueName(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  /** Type lint of one op's tensors: int8 activations, the types each op's constants may have. */
  lintTypes(op: TfliteOp, add: (option: string, value: unknown, supported: string) => void): void {
    for (const i of [...op.inputs, ...op.outputs]) {
      if (i < 0) continue;
      const t = this.m.tensors[i];
      if (t.data) continue;
      if (t.type !== 'int8')
        add(
          `tensor '${t.name}'`,
          t.type,
          t.type === 'float32' ? 'int8 activations (a full-integer model; float and hybrid models are not supported)' : 'int8 activations',
        );
      else if (!t.quant) add(`tensor '${t.name}'`, 'no quantization', 'int8 tensors with a scale and zero point');
    }
  }

  ctx(op: TfliteOp, layer: string, add: (option: string | undefined, value: unknown, supported: string) => void): TfliteBuildCtx {
    return {
      tensor: (i) => this.tensor(i),
      internal: (name, like) => {
        const id = this.irTensor(name, this.tensors[this.tensor(like)].shape, this.fileQuant.get(this.tensor(like)) ?? null);
        return id;
      },
      raw: (i) => this.m.tensors[i],
      node: (className, config, inputs, outputs, weights = {}) => this.addNode(op, layer, className, config, inputs, outputs, weights, add),
      problem: add,
    };
  }

  addNode(
    op: TfliteOp,
    layer: string,
    className: string,
    config: Record<string, any>,
    inputs: number[],
    outputs: number[],
    weights: Record<string, FloatTensor>,
    add: TfliteBuildCtx['problem'],
  ): void {
    const entry = entryFor(className, `operator ${op.index}`);
    const name = this.uniqueName(className === 'Activation' ? `${layer}_${config.activation}` : layer);
    const id = this.nodes.length;
    for (const o of outputs) this.tensors[o].producer = id;
    const ins = inputs.map((t) => this.tensors[t].shape);
    const outs = outputs.map((t) => this.tensors[t].shape);
    entry.rule.lint?.(config, add);
    const macs = entry.rule.macs ? entry.rule.macs(config, ins, outs) : 0;
    this.nodes.push({ id, name, className, config, inputs, outputs, weights, trainableParams: paramCount(weights), nonTrainableParams: 0, macs });
  }

  op(op: TfliteOp): void {
    const out = this.m.tensors[op.outputs[0]];
    const layer = layerName(out?.name ?? `op_${op.index}`);
    const cls = `${op.opcode === 'CUSTOM' ? `CUSTOM ${op.custom ?? ''}`.trim() : op.opcode} v${op.version}, operator ${op.index}`;
    const add = (option: string | undefined, value: unknown, supported: string) => this.problems.push({ layer, className: cls, option, value, supported });
    const e = TFLITE_OPS[op.opcode];
    const refused = TFLITE_REFUSED[op.opcode];
    if (refused) {
      add(refused.option, refused.value, refused.supported);
      return;
    }
    if (!e) {
      this.problems.push({ layer, className: cls, supported: `TFLite operators ${Object.keys(TFLITE_OPS).join(', ')}`, unknownClass: true });
      return;
    }
    const before = this.problems.length;
    if (!e.versions.includes(op.version)) add('version', op.version, `${op.opcode} version ${e.versions.join(', ')}`);
    this.lintTypes(op, add);
    // an op with a problem is not built (its tensors are still created by the ops that read them)
    if (this.problems.length === before) e.build(op, this.ctx(op, layer, add));
  }
}

export interface TfliteBuildOptions {
  /** Keep lint problems in the graph (summary) instead of throwing them. */
  keepProblems?: boolean;
}

/** Build the IR graph of a .tflite model (one subgraph, int8). */
export function buildTfliteGraph(m: TfliteModel, opts: TfliteBuildOptions = {}): Graph {
  const b = new TfliteBuilder(m);
  const { inputs, outputs, skip } = edges(m);
  const inIds = inputs.map((i) => b.tensor(i));
  for (const op of m.ops) if (!skip.has(op)) b.op(op);
  for (const i of [...inputs, ...outputs]) {
    const t = m.tensors[i];
    if (t.type !== 'int8')
      b.problems.push({
        layer: t.name,
        className: 'model input/output',
        option: 'type',
        value: t.type,
        supported: 'int8 (or float32 through QUANTIZE/DEQUANTIZE at the edge)',
      });
  }
  if (b.problems.length && !opts.keepProblems) throw unsupported(m.file, b.problems);
  const version = m.metadata.find((d) => d.name === 'min_runtime_version');
  return {
    // the converter writes no model name ('MLIR Converted.'): the file's name stands for it
    name: basename(m.file).replace(/\.tflite$/i, ''),
    modelClass: 'Functional',
    inputs: inIds,
    outputs: outputs.map((i) => b.tensor(i)),
    tensors: b.tensors,
    nodes: b.nodes,
    source: { file: m.file, format: 'tflite', dialect: 'tflite', kerasVersion: version ? new TextDecoder().decode(version.bytes).replace(/\0+$/, '') : null },
    notes: [],
    fileQuant: b.fileQuant,
    ...(b.problems.length ? { problems: b.problems } : {}),
  };
}
