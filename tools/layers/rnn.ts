/** Recurrent layers: SimpleRNN, GRU, LSTM and Bidirectional of them (lowering: tools/quantize/lower-rnn.ts). */
import type { IRNode } from '../graph/ir.ts';
import { DROP_KEYS, isObj, stripWrappers, type NormalizeCtx } from '../graph/config.ts';
import { lintAct, lintDtype, lintPos, needKnown, needRank, type LayerRule, type RuleCtx, type Shape, type WeightSpec } from '../graph/shapes.ts';
import * as rnn from '../float/layers/recurrent.ts';
import type { LowerCtx } from '../quantize/lower-ctx.ts';
import { lowerRecurrent } from '../quantize/lower-rnn.ts';
import { RECURRENT } from '../blob/spec.ts';
import type { LayerEntry, Lowering, Normalize, QuantRule } from './entry.ts';

function normalizeRnn(cls: 'SimpleRNN' | 'GRU' | 'LSTM'): Normalize {
  return (c, src, { dialect, act }: NormalizeCtx) => {
    // Keras 3 / RNN(cell) forms: fields might be inside `cell`
    if (isObj(src.cell) && isObj(src.cell.config)) {
      for (const [k, v] of Object.entries(stripWrappers(src.cell.config) as Record<string, any>)) if (!(k in c) && !DROP_KEYS.has(k)) c[k] = v;
      delete c.cell;
    }
    c.units = Number(c.units);
    c.activation = act(c.activation ?? 'tanh');
    if (cls !== 'SimpleRNN') {
      const dfltRec = dialect === 'keras1' || dialect === 'tfjs' ? 'hard_sigmoid' : 'sigmoid';
      c.recurrent_activation = act(c.recurrent_activation ?? dfltRec);
    }
    c.use_bias = c.use_bias !== false;
    c.return_sequences = !!c.return_sequences;
    c.return_state = !!c.return_state;
    c.go_backwards = !!c.go_backwards;
    c.stateful = !!c.stateful;
    c.unroll = !!c.unroll;
    if (cls === 'GRU') c.reset_after = c.reset_after === true;
    if (cls === 'LSTM') c.unit_forget_bias = c.unit_forget_bias !== false;
    c.dropout = Number(c.dropout ?? 0);
    c.recurrent_dropout = Number(c.recurrent_dropout ?? 0);
  };
}

const normalizeBidirectional: Normalize = (c, src, { layer }: NormalizeCtx) => {
  if (isObj(src.layer)) c.layer = layer(src.layer);
  c.merge_mode = src.merge_mode === undefined ? 'concat' : src.merge_mode;
  if (isObj(src.backward_layer)) c.backward_layer = layer(src.backward_layer);
};

const RNN_GATES: Record<string, number> = RECURRENT.GATES;
const RNN_STATES: Record<string, number> = { SimpleRNN: 1, GRU: 1, LSTM: 2 };

function rnnLint(cls: string) {
  return (cfg: Record<string, any>, add: (o: string | undefined, v: unknown, s: string) => void) => {
    lintAct(cfg, 'activation', add);
    if (cls !== 'SimpleRNN') lintAct(cfg, 'recurrent_activation', add);
    lintPos(cfg, 'units', add);
    if (cfg.time_major) add('time_major', cfg.time_major, 'false');
    if (cfg.implementation !== undefined && cfg.implementation !== null && ![0, 1, 2].includes(cfg.implementation))
      add('implementation', cfg.implementation, '0, 1, 2');
    lintDtype(cfg, add);
  };
}

function rnnOut(cls: string, cfg: Record<string, any>, x: Shape): Shape[] {
  const u = cfg.units;
  const out: Shape[] = [cfg.return_sequences ? [x[0], x[1], u] : [x[0], u]];
  if (cfg.return_state) for (let i = 0; i < RNN_STATES[cls]; i++) out.push([x[0], u]);
  return out;
}

function rnnWeights(cls: string, cfg: Record<string, any>, x: Shape, ctx: RuleCtx): WeightSpec[] {
  const g = RNN_GATES[cls];
  const u = cfg.units;
  const fin = needKnown(ctx, x[2], 'the input feature size');
  const w: WeightSpec[] = [
    { name: 'kernel', shape: [fin, g * u], trainable: true },
    { name: 'recurrent_kernel', shape: [u, g * u], trainable: true },
  ];
  if (cfg.use_bias) w.push({ name: 'bias', shape: cls === 'GRU' && cfg.reset_after ? [2, g * u] : [g * u], trainable: true });
  return w;
}

function rnnMacs(cls: string, cfg: Record<string, any>, x: Shape): number {
  const g = RNN_GATES[cls];
  return (x[1] ?? 1) * g * cfg.units * ((x[2] ?? 1) + cfg.units);
}

function rnnRule(cls: string): LayerRule {
  return {
    lint: rnnLint(cls),
    outputShapes(cfg, ins, ctx) {
      needRank(ctx, ins[0], 3, 'a 3-D (batch, time, features)');
      return rnnOut(cls, cfg, ins[0]);
    },
    weights: (cfg, ins, ctx) => rnnWeights(cls, cfg, ins[0], ctx),
    macs: (cfg, ins) => rnnMacs(cls, cfg, ins[0]),
  };
}

const bidirectional: LayerRule = {
  lint(cfg, add) {
    const inner = cfg.layer;
    if (!inner || !RNN_GATES[inner.class_name]) {
      add('layer', inner?.class_name, 'SimpleRNN, GRU, LSTM');
      return;
    }
    rnnLint(inner.class_name)(inner.config, (o, v, s) => add(`layer.${o}`, v, s));
    if (!['concat', 'sum', 'mul', 'ave', null].includes(cfg.merge_mode)) add('merge_mode', cfg.merge_mode, 'concat, sum, mul, ave, None');
    const b = cfg.backward_layer;
    if (
      b &&
      (b.class_name !== inner.class_name ||
        b.config.units !== inner.config.units ||
        b.config.return_sequences !== inner.config.return_sequences ||
        b.config.return_state !== inner.config.return_state ||
        b.config.activation !== inner.config.activation ||
        b.config.recurrent_activation !== inner.config.recurrent_activation ||
        b.config.use_bias !== inner.config.use_bias ||
        b.config.reset_after !== inner.config.reset_after)
    ) {
      add('backward_layer', b.class_name, 'a backward layer of the same class and options as the forward layer');
    }
  },
  outputShapes(cfg, ins, ctx) {
    const inner = cfg.layer;
    needRank(ctx, ins[0], 3, 'a 3-D (batch, time, features)');
    const outs = rnnOut(inner.class_name, inner.config, ins[0]);
    const y = outs[0];
    const states = outs.slice(1);
    let ys: Shape[];
    if (cfg.merge_mode === 'concat') ys = [[...y.slice(0, -1), (y[y.length - 1] as number) * 2]];
    else if (cfg.merge_mode === null) ys = [y.slice(), y.slice()];
    else ys = [y.slice()];
    return [...ys, ...states, ...states.map((s) => s.slice())];
  },
  weights(cfg, ins, ctx) {
    const inner = cfg.layer;
    const w = rnnWeights(inner.class_name, inner.config, ins[0], ctx);
    return [...w.map((x) => ({ ...x, name: `forward/${x.name}` })), ...w.map((x) => ({ ...x, name: `backward/${x.name}` }))];
  },
  macs: (cfg, ins) => 2 * rnnMacs(cfg.layer.class_name, cfg.layer.config, ins[0]),
};

/** Layers whose state needs a fixed batch when stateful. */
export function isRecurrent(className: string): boolean {
  return RNN_GATES[className] !== undefined;
}

const RECURRENT_QUANT: QuantRule = {
  weights: 'int8 kernels per gate row, int32 bias; int16 state (docs/RECURRENT.md)',
  output: 'calibrated; gates and state from their calibrated ranges',
};
const LOWER_RNN: Lowering = {
  ops: ['SIMPLE_RNN', 'GRU', 'LSTM', 'REQUANT', 'CONCAT', 'ADD_N', 'MUL'],
  emit: (n: IRNode, L: LowerCtx) => lowerRecurrent(n, L.rctx),
};

function entry(className: 'SimpleRNN' | 'GRU' | 'LSTM', float: LayerEntry['float']): LayerEntry {
  return {
    className,
    aliases: [],
    normalize: normalizeRnn(className),
    rule: rnnRule(className),
    float,
    passesMask: false,
    quant: RECURRENT_QUANT,
    lower: LOWER_RNN,
  };
}

export const RNN: LayerEntry[] = [
  entry('SimpleRNN', rnn.simpleRnn),
  entry('GRU', rnn.gru),
  entry('LSTM', rnn.lstm),
  {
    className: 'Bidirectional',
    aliases: [],
    normalize: normalizeBidirectional,
    rule: bidirectional,
    float: rnn.bidirectional,
    passesMask: false,
    quant: RECURRENT_QUANT,
    lower: LOWER_RNN,
  },
];

/** The recurrent layers (cells and Bidirectional): their float references report internal ranges. */
export const RECURRENT_LAYERS: ReadonlySet<string> = new Set(RNN.map((e) => e.className));
