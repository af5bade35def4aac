/**
 * TimeDistributed: the inner layer applied to every time step. Its rule, float reference and
 * rewrite read the inner layer's entry through `lookup`.
 */
import type { IRNode } from '../graph/ir.ts';
import { isObj, type NormalizeCtx } from '../graph/config.ts';
import { fmt, identity, type LayerRule, type Shape } from '../graph/shapes.ts';
import * as misc from '../float/layers/misc.ts';
import type { LayerFn } from '../float/types.ts';
import { UserError, EXIT } from '../errors.ts';
import { keepConfig, type LayerEntry, type Normalize, type RewriteKit } from './entry.ts';

type Lookup = (className: string) => LayerEntry | undefined;

const normalizeTimeDistributed: Normalize = (c, src, { layer }: NormalizeCtx) => {
  if (isObj(src.layer)) c.layer = layer(src.layer);
};

const TD_INNER = new Set([
  'Dense',
  'Conv1D',
  'Conv2D',
  'MaxPooling1D',
  'AveragePooling1D',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalAveragePooling1D',
  'GlobalMaxPooling2D',
  'GlobalAveragePooling2D',
  'Flatten',
  'Activation',
  'Dropout',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Reshape',
  'DepthwiseConv1D',
  'SeparableConv1D',
  'BatchNormalization',
  'RepeatVector',
]);

function innerShape(x: Shape): Shape {
  return [x[0], ...x.slice(2)];
}

function timeDistributedRule(lookup: Lookup): LayerRule {
  return {
    lint(cfg, add) {
      const inner = cfg.layer;
      if (!inner || !TD_INNER.has(inner.class_name)) {
        add('layer', inner?.class_name, [...TD_INNER].join(', '));
        return;
      }
      lookup(inner.class_name)!.rule.lint?.(inner.config, (o, v, s) => add(`layer.${o}`, v, s));
    },
    outputShapes(cfg, ins, ctx) {
      const x = ins[0];
      if (x.length < 3) ctx.fail(`expects an input of rank >= 3 (batch, time, ...), got ${fmt(x)}`);
      const inner = lookup(cfg.layer.class_name)!.rule;
      const o = inner.outputShapes(cfg.layer.config, [innerShape(x)], ctx);
      return o.map((s) => [x[0], x[1], ...s.slice(1)]);
    },
    weights(cfg, ins, ctx) {
      const inner = lookup(cfg.layer.class_name)!.rule;
      return inner.weights ? inner.weights(cfg.layer.config, [innerShape(ins[0])], ctx) : [];
    },
    macs(cfg, ins, outs) {
      const inner = lookup(cfg.layer.class_name)!.rule;
      if (!inner.macs) return 0;
      return (ins[0][1] ?? 1) * inner.macs(cfg.layer.config, [innerShape(ins[0])], outs.map(innerShape));
    },
  };
}

/** The inner layer on [B*T, ...] then reshaped back to [B, T, ...]. */
function timeDistributedFloat(lookup: Lookup): LayerFn {
  return (node, [x], ctx) => {
    const inner = node.config.layer;
    const fn = lookup(inner.class_name)?.float;
    if (!fn) throw new UserError(`${node.name} (TimeDistributed): layer class ${inner.class_name} has no float reference implementation`, EXIT.UNSUPPORTED);
    const [B, T] = x.shape;
    const innerNode: IRNode = { ...node, className: inner.class_name, config: inner.config };
    const [y] = fn(innerNode, [{ shape: [B * T, ...x.shape.slice(2)], data: x.data }], { inMasks: [null], state: ctx.state });
    ctx.outMasks = [ctx.inMasks[0] ?? null];
    return [{ shape: [B, T, ...y.shape.slice(1)], data: y.data }];
  };
}

/** TimeDistributed(inner) -> _MergeTime + inner + _SplitTime (views; needs a static batch). */
function unwrapTimeDistributed(n: IRNode, kit: RewriteKit): IRNode[] {
  const g = kit.graph;
  const x = g.tensors[n.inputs[0]];
  const y = g.tensors[n.outputs[0]];
  const [B, T] = x.shape;
  if (T === null)
    throw new UserError(
      `layer '${n.name}' (TimeDistributed): the time dimension must be fixed for the converter (input ${JSON.stringify(x.shape)})`,
      EXIT.UNSUPPORTED,
    );
  const mult = (x.batchMultiple ?? 1) * (T as number);
  const merged = kit.newTensor(`${n.name}/merged`, [B === null ? null : (B as number) * (T as number), ...x.shape.slice(2)], -1);
  const innerOut = kit.newTensor(`${n.name}/inner`, [merged.shape[0], ...y.shape.slice(2)], -1);
  merged.batchMultiple = mult;
  innerOut.batchMultiple = mult;
  return [
    kit.node(`${n.name}/merge_time`, '_MergeTime', {}, [x.id], [merged.id]),
    {
      ...kit.node(n.name, n.config.layer.class_name, { ...n.config.layer.config, name: n.name }, [merged.id], [innerOut.id], n.weights),
      name: n.name,
      macs: n.macs,
    },
    kit.node(`${n.name}/split_time`, '_SplitTime', { steps: T }, [innerOut.id], [y.id]),
  ];
}

export function timeDistributed(lookup: Lookup): LayerEntry {
  return {
    className: 'TimeDistributed',
    aliases: [],
    normalize: normalizeTimeDistributed,
    rule: timeDistributedRule(lookup),
    float: timeDistributedFloat(lookup),
    passesMask: true,
    quant: { weights: "the inner layer's", output: "the inner layer's" },
    lower: { rewrite: unwrapTimeDistributed, into: ['_MergeTime', '(the inner layer)', '_SplitTime'] },
  };
}

/** The views TimeDistributed's rewrite introduces: internal, never in a Keras file. */
function view(className: string, float: LayerFn): LayerEntry {
  return {
    className,
    aliases: [],
    normalize: keepConfig,
    rule: identity,
    float,
    passesMask: false,
    quant: { weights: 'none', output: "the input's" },
    lower: { alias: true },
  };
}

export const TIME_VIEWS: LayerEntry[] = [view('_MergeTime', misc.mergeTime), view('_SplitTime', misc.splitTime)];
