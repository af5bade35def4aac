/**
 * THE registry of supported Keras layers. For each canonical class (after normalize.ts):
 *  - lint(cfg):            config-only checks (options/values we support)
 *  - outputShapes(cfg, in): Keras-exact output shapes (batch at index 0, null = free)
 *  - weights(cfg, in):     expected weights in Keras order: canonical name, shape, trainable
 *  - macs(cfg, in, out):   multiply-accumulates for one inference at batch 1
 *
 * MAC convention (documented for reports): multiply-accumulates of the weight-bearing linear
 * algebra: Dense = rows*in*units; Conv = out positions * kernel taps * in/groups * filters;
 * Depthwise = out positions * taps * in * depth_multiplier; Separable = depthwise + pointwise;
 * SimpleRNN/GRU/LSTM = T * g*u*(in + u) (g = 1/3/4; both directions for Bidirectional);
 * TimeDistributed = T * inner; BatchNormalization = 1 per element (folded scale+shift);
 * AveragePooling = out elements * pool window, GlobalAveragePooling = in elements.
 * Activations, max pooling, merges, reshapes, Embedding lookups, dropout: 0.
 * Unknown (None) non-batch dimensions count as 1.
 *
 * Parameter counts follow Keras: the sum of the sizes of the layer's weights; BatchNormalization
 * moving_mean/moving_variance are non-trainable; a layer with trainable=false has all of its
 * weights non-trainable.
 */
import type { Shape, Dim } from './ir.ts';
import { ACTIVATION_KERAS_NAMES, SUPPORTED_ACTIVATIONS } from './normalize.ts';
import { RECURRENT } from '../blob/spec.ts';

export interface WeightSpec {
  name: string;
  shape: number[];
  trainable: boolean;
}

export interface RuleCtx {
  /** Record a lint problem about `option` (shape-dependent checks). */
  problem(option: string | undefined, value: unknown, supported: string): void;
  /** An impossible shape (the file is inconsistent): throws. */
  fail(what: string): never;
}

export interface LayerRule {
  /** Config-only lint: call add(option, value, supported) for every problem. */
  lint?(cfg: Record<string, any>, add: (option: string | undefined, value: unknown, supported: string) => void): void;
  /** Number of inputs: 1, 2 (exactly two) or 'many' (>= 2). Default 1. */
  arity?: 1 | 2 | 'many';
  outputShapes(cfg: Record<string, any>, ins: Shape[], ctx: RuleCtx): Shape[];
  weights?(cfg: Record<string, any>, ins: Shape[], ctx: RuleCtx): WeightSpec[];
  macs?(cfg: Record<string, any>, ins: Shape[], outs: Shape[]): number;
  /** Input dtype this layer needs (Embedding: int32). */
  inputDtype?: 'int32';
}

// ---------------------------------------------------------------------------------------
// helpers

const ACTS = new Set(SUPPORTED_ACTIVATIONS);
const ACT_LIST = SUPPORTED_ACTIVATIONS.map((a) => ACTIVATION_KERAS_NAMES[a] ?? a).join(', ');

function lintAct(cfg: Record<string, any>, key: string, add: (o: string, v: unknown, s: string) => void) {
  if (!ACTS.has(cfg[key])) add(key, cfg[key], ACT_LIST);
}

function lintDtype(cfg: Record<string, any>, add: (o: string, v: unknown, s: string) => void) {
  const d = cfg.dtype;
  if (d !== undefined && d !== null && !['float32', 'float16', 'bfloat16', 'float64', 'mixed_float16', 'mixed_bfloat16'].includes(d))
    add('dtype', d, 'float dtypes (float32, float16, mixed_float16)');
}

type Add = (o: string | undefined, v: unknown, s: string) => void;

function isPosInt(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 1;
}

/**
 * THE size lint used by every rule: `cfg[key]` must be a positive integer (no `rank`) or a list
 * of exactly `rank` positive integers. null, 0, negatives, fractions, NaN and strings are refused
 * here, so no rule's shape function ever sees them.
 */
function lintPos(cfg: Record<string, any>, key: string, add: Add, rank?: number): boolean {
  const v = cfg[key];
  const ok = rank === undefined ? isPosInt(v) : Array.isArray(v) && v.length === rank && v.every(isPosInt);
  if (!ok) add(key, v, rank === undefined ? 'a positive integer' : `${rank} positive integers`);
  return ok;
}

/** A pair of non-negative integers (1-D paddings / croppings). */
function lintPair(cfg: Record<string, any>, key: string, add: Add): void {
  const v = cfg[key];
  if (!(Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n) && n >= 0))) add(key, v, 'non-negative integers (before, after)');
}

function prod(a: Dim[]): number {
  let p = 1;
  for (const d of a) p *= d ?? 1;
  return p;
}

function prodOrNull(a: Dim[]): Dim {
  let p = 1;
  for (const d of a) {
    if (d === null) return null;
    p *= d;
  }
  return p;
}

/** Keras conv_utils.conv_output_length. */
function convOutLen(len: Dim, k: number, padding: string, stride: number, dilation = 1): Dim {
  if (len === null) return null;
  const dk = k + (k - 1) * (dilation - 1);
  let out: number;
  if (padding === 'same' || padding === 'causal') out = len;
  else if (padding === 'valid') out = len - dk + 1;
  else out = len + dk - 1;
  return Math.floor((out + stride - 1) / stride);
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Spatial dims and channel dim of a conv-like input. */
function splitCL(shape: Shape, r: number, df: string): { spatial: Dim[]; ch: Dim } {
  if (df === 'channels_first') return { spatial: shape.slice(2, 2 + r), ch: shape[1] };
  return { spatial: shape.slice(1, 1 + r), ch: shape[1 + r] };
}

function joinCL(batch: Dim, spatial: Dim[], ch: Dim, df: string): Shape {
  return df === 'channels_first' ? [batch, ch, ...spatial] : [batch, ...spatial, ch];
}

/** ZeroPadding2D (sign 1) / Cropping2D (sign -1): config [[top, bottom], [left, right]], channels_last. */
function padCrop2d(key: 'padding' | 'cropping', sign: 1 | -1): LayerRule {
  return {
    lint(cfg, add) {
      if (cfg.data_format !== 'channels_last') add('data_format', cfg.data_format, 'channels_last');
      const v = cfg[key];
      const ok =
        Array.isArray(v) && v.length === 2 && v.every((p: any) => Array.isArray(p) && p.length === 2 && p.every((n: any) => Number.isInteger(n) && n >= 0));
      if (!ok) add(key, v, 'non-negative integers ((top, bottom), (left, right))');
    },
    outputShapes(cfg, ins, ctx) {
      needRank(ctx, ins[0], 4, 'a 4-D');
      const x = ins[0];
      const p: number[][] = cfg[key];
      const h = x[1] === null ? null : x[1] + sign * (p[0][0] + p[0][1]);
      const w = x[2] === null ? null : x[2] + sign * (p[1][0] + p[1][1]);
      if ((h !== null && h <= 0) || (w !== null && w <= 0)) ctx.fail(`${key} ${JSON.stringify(p)} leaves nothing of ${fmt(x)}`);
      return [[x[0], h, w, x[3]]];
    },
  };
}

function needRank(ctx: RuleCtx, s: Shape, rank: number | number[], what: string) {
  const ok = Array.isArray(rank) ? rank.includes(s.length) : s.length === rank;
  if (!ok) ctx.fail(`expects ${what} input (rank ${Array.isArray(rank) ? rank.join(' or ') : rank} incl. batch), got shape ${fmt(s)}`);
}

function needKnown(ctx: RuleCtx, d: Dim, what: string): number {
  if (d === null) ctx.fail(`${what} must be known (got None)`);
  return d as number;
}

export function fmt(s: Shape): string {
  return `(${s.map((d) => (d === null ? 'None' : String(d))).join(', ')}${s.length === 1 ? ',' : ''})`;
}

const identity: LayerRule = { outputShapes: (_c, ins) => [ins[0].slice()] };

// ---------------------------------------------------------------------------------------
// conv family

function convLint(rank: number, kind: 'conv' | 'depthwise' | 'separable' | 'pool') {
  return (cfg: Record<string, any>, add: (o: string | undefined, v: unknown, s: string) => void) => {
    const pads = rank === 1 && kind !== 'pool' && kind !== 'separable' && kind !== 'depthwise' ? ['valid', 'same', 'causal'] : ['valid', 'same'];
    if (!pads.includes(cfg.padding)) add('padding', cfg.padding, pads.join(', '));
    if (cfg.data_format !== 'channels_last' && cfg.data_format !== 'channels_first') add('data_format', cfg.data_format, 'channels_last, channels_first');
    if (kind !== 'pool') {
      lintAct(cfg, 'activation', add);
      lintPos(cfg, 'kernel_size', add, rank);
      const dil = lintPos(cfg, 'dilation_rate', add, rank);
      if (dil && Array.isArray(cfg.strides) && cfg.strides.some((s: number) => s > 1) && cfg.dilation_rate.some((d: number) => d > 1))
        add('strides', cfg.strides, 'strides 1 when dilation_rate > 1 (as Keras)');
      if (kind === 'conv' || kind === 'separable') lintPos(cfg, 'filters', add);
      if (kind === 'depthwise' || kind === 'separable') lintPos(cfg, 'depth_multiplier', add);
    } else {
      lintPos(cfg, 'pool_size', add, rank);
    }
    lintPos(cfg, 'strides', add, rank);
    if (kind === 'conv' && !(Number.isInteger(cfg.groups) && cfg.groups >= 1))
      add('groups', cfg.groups, 'a positive integer dividing the input channels and filters');
    if (kind === 'conv' && cfg.groups > 1 && cfg.filters % cfg.groups !== 0) add('groups', cfg.groups, 'a divisor of filters');
    lintDtype(cfg, add);
  };
}

function convRule(rank: 1 | 2): LayerRule {
  return {
    lint: convLint(rank, 'conv'),
    outputShapes(cfg, ins, ctx) {
      const x = ins[0];
      needRank(ctx, x, rank + 2, `a ${rank + 2}-D`);
      const { spatial, ch } = splitCL(x, rank, cfg.data_format);
      if (ch !== null && ch % cfg.groups !== 0) ctx.problem('groups', cfg.groups, `a divisor of the input channels (${ch})`);
      const out = spatial.map((d, i) => convOutLen(d, cfg.kernel_size[i], cfg.padding, cfg.strides[i], cfg.dilation_rate[i]));
      if (out.some((d) => d !== null && d <= 0))
        ctx.fail(`output size ${fmt(joinCL(x[0], out, cfg.filters, cfg.data_format))} is not positive (input ${fmt(x)} too small for the kernel)`);
      return [joinCL(x[0], out, cfg.filters, cfg.data_format)];
    },
    weights(cfg, ins, ctx) {
      const { ch } = splitCL(ins[0], rank, cfg.data_format);
      const cin = needKnown(ctx, ch, 'input channels');
      const w: WeightSpec[] = [{ name: 'kernel', shape: [...cfg.kernel_size, cin / cfg.groups, cfg.filters], trainable: true }];
      if (cfg.use_bias) w.push({ name: 'bias', shape: [cfg.filters], trainable: true });
      return w;
    },
    macs(cfg, ins, outs) {
      const { ch } = splitCL(ins[0], rank, cfg.data_format);
      const o = splitCL(outs[0], rank, cfg.data_format);
      return prod(o.spatial) * prod(cfg.kernel_size) * ((ch ?? 1) / cfg.groups) * cfg.filters;
    },
  };
}

function depthwiseRule(rank: 1 | 2, separable: boolean): LayerRule {
  return {
    lint: convLint(rank, separable ? 'separable' : 'depthwise'),
    outputShapes(cfg, ins, ctx) {
      const x = ins[0];
      needRank(ctx, x, rank + 2, `a ${rank + 2}-D`);
      const { spatial, ch } = splitCL(x, rank, cfg.data_format);
      const out = spatial.map((d, i) => convOutLen(d, cfg.kernel_size[i], cfg.padding, cfg.strides[i], cfg.dilation_rate[i]));
      if (out.some((d) => d !== null && d <= 0)) ctx.fail(`output size is not positive (input ${fmt(x)} too small for the kernel)`);
      const cout = separable ? cfg.filters : ch === null ? null : ch * cfg.depth_multiplier;
      return [joinCL(x[0], out, cout, cfg.data_format)];
    },
    weights(cfg, ins, ctx) {
      const cin = needKnown(ctx, splitCL(ins[0], rank, cfg.data_format).ch, 'input channels');
      const dm = cfg.depth_multiplier;
      const w: WeightSpec[] = [{ name: 'depthwise_kernel', shape: [...cfg.kernel_size, cin, dm], trainable: true }];
      if (separable) w.push({ name: 'pointwise_kernel', shape: [...new Array(rank).fill(1), cin * dm, cfg.filters], trainable: true });
      if (cfg.use_bias) w.push({ name: 'bias', shape: [separable ? cfg.filters : cin * dm], trainable: true });
      return w;
    },
    macs(cfg, ins, outs) {
      const cin = splitCL(ins[0], rank, cfg.data_format).ch ?? 1;
      const pos = prod(splitCL(outs[0], rank, cfg.data_format).spatial);
      const dw = pos * prod(cfg.kernel_size) * cin * cfg.depth_multiplier;
      return separable ? dw + pos * cin * cfg.depth_multiplier * cfg.filters : dw;
    },
  };
}

function poolRule(rank: 1 | 2, avg: boolean): LayerRule {
  return {
    lint: convLint(rank, 'pool'),
    outputShapes(cfg, ins, ctx) {
      const x = ins[0];
      needRank(ctx, x, rank + 2, `a ${rank + 2}-D`);
      const { spatial, ch } = splitCL(x, rank, cfg.data_format);
      const out = spatial.map((d, i) => convOutLen(d, cfg.pool_size[i], cfg.padding, cfg.strides[i]));
      if (out.some((d) => d !== null && d <= 0)) ctx.fail(`output size is not positive (input ${fmt(x)} smaller than pool_size)`);
      return [joinCL(x[0], out, ch, cfg.data_format)];
    },
    macs: avg ? (cfg, _ins, outs) => prod(outs[0].slice(1)) * prod(cfg.pool_size) : undefined,
  };
}

function globalPoolRule(rank: 1 | 2, avg: boolean): LayerRule {
  return {
    lint(cfg, add) {
      if (cfg.data_format !== 'channels_last' && cfg.data_format !== 'channels_first') add('data_format', cfg.data_format, 'channels_last, channels_first');
    },
    outputShapes(cfg, ins, ctx) {
      const x = ins[0];
      needRank(ctx, x, rank + 2, `a ${rank + 2}-D`);
      const { ch } = splitCL(x, rank, cfg.data_format);
      if (!cfg.keepdims) return [[x[0], ch]];
      return [joinCL(x[0], new Array(rank).fill(1), ch, cfg.data_format)];
    },
    macs: avg ? (_cfg, ins) => prod(ins[0].slice(1)) : undefined,
  };
}

// ---------------------------------------------------------------------------------------
// recurrent

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

const timeDistributed: LayerRule = {
  lint(cfg, add) {
    const inner = cfg.layer;
    if (!inner || !TD_INNER.has(inner.class_name)) {
      add('layer', inner?.class_name, [...TD_INNER].join(', '));
      return;
    }
    REGISTRY[inner.class_name].lint?.(inner.config, (o, v, s) => add(`layer.${o}`, v, s));
  },
  outputShapes(cfg, ins, ctx) {
    const x = ins[0];
    if (x.length < 3) ctx.fail(`expects an input of rank >= 3 (batch, time, ...), got ${fmt(x)}`);
    const inner = REGISTRY[cfg.layer.class_name];
    const o = inner.outputShapes(cfg.layer.config, [innerShape(x)], ctx);
    return o.map((s) => [x[0], x[1], ...s.slice(1)]);
  },
  weights(cfg, ins, ctx) {
    const inner = REGISTRY[cfg.layer.class_name];
    return inner.weights ? inner.weights(cfg.layer.config, [innerShape(ins[0])], ctx) : [];
  },
  macs(cfg, ins, outs) {
    const inner = REGISTRY[cfg.layer.class_name];
    if (!inner.macs) return 0;
    return (ins[0][1] ?? 1) * inner.macs(cfg.layer.config, [innerShape(ins[0])], outs.map(innerShape));
  },
};

// ---------------------------------------------------------------------------------------
// merges

/** Keras _Merge._compute_elemwise_op_output_shape (broadcasting with None). */
function elemwise(a: Shape, b: Shape, ctx: RuleCtx): Shape {
  if (a.length < b.length) return elemwise(b, a, ctx);
  const out: Dim[] = a.slice(0, a.length - b.length);
  const at = a.slice(a.length - b.length);
  for (let i = 0; i < b.length; i++) {
    const i1 = at[i];
    const i2 = b[i];
    if (i1 === null || i2 === null) out.push(null);
    else if (i1 === 1) out.push(i2);
    else if (i2 === 1) out.push(i1);
    else {
      if (i1 !== i2) ctx.fail(`inputs with shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast together`);
      out.push(i1);
    }
  }
  return out;
}

function mergeRule(arity: 2 | 'many'): LayerRule {
  return {
    arity,
    outputShapes(_cfg, ins, ctx) {
      if (arity === 2 && ins.length !== 2) ctx.fail(`expects exactly 2 inputs, got ${ins.length}`);
      if (ins.length < 2) ctx.fail(`expects at least 2 inputs, got ${ins.length}`);
      let s = ins[0].slice(1);
      for (const t of ins.slice(1)) s = elemwise(s, t.slice(1), ctx);
      const batch = ins.every((t) => t[0] === null) ? null : ins.find((t) => t[0] !== null)![0];
      return [[batch, ...s]];
    },
  };
}

const concatenate: LayerRule = {
  arity: 'many',
  outputShapes(cfg, ins, ctx) {
    if (ins.length < 2) ctx.fail(`expects at least 2 inputs, got ${ins.length}`);
    const rank = ins[0].length;
    if (ins.some((s) => s.length !== rank)) ctx.fail(`inputs must have the same rank, got ${ins.map(fmt).join(', ')}`);
    const ax = normAxis(cfg.axis, rank);
    if (ax <= 0 || ax >= rank) ctx.problem('axis', cfg.axis, `a non-batch axis (1..${rank - 1} or negative)`);
    const out = ins[0].slice();
    let sum: Dim = 0;
    for (const s of ins) {
      for (let i = 1; i < rank; i++) {
        if (i === ax) continue;
        if (s[i] !== null && out[i] !== null && s[i] !== out[i]) ctx.fail(`inputs must match except along axis ${cfg.axis}, got ${ins.map(fmt).join(', ')}`);
        if (out[i] === null) out[i] = s[i];
      }
      sum = sum === null || s[ax] === null ? null : sum + (s[ax] as number);
    }
    out[ax] = sum;
    out[0] = ins.every((t) => t[0] === null) ? null : ins.find((t) => t[0] !== null)![0];
    return [out];
  },
};

// ---------------------------------------------------------------------------------------
// the table

export const REGISTRY: Record<string, LayerRule> = {
  InputLayer: {
    lint(cfg, add) {
      if (cfg.sparse) add('sparse', true, 'false');
      if (cfg.ragged) add('ragged', true, 'false');
      if (cfg.dtype && !/^(float|int|uint|mixed)/.test(cfg.dtype)) add('dtype', cfg.dtype, 'float or integer dtypes');
    },
    outputShapes: (cfg) => [cfg.batch_input_shape.slice()],
  },
  Dense: {
    lint(cfg, add) {
      lintAct(cfg, 'activation', add);
      lintPos(cfg, 'units', add);
      lintDtype(cfg, add);
    },
    outputShapes(cfg, ins, ctx) {
      const x = ins[0];
      if (x.length < 2) ctx.fail(`expects an input of rank >= 2, got ${fmt(x)}`);
      return [[...x.slice(0, -1), cfg.units]];
    },
    weights(cfg, ins, ctx) {
      const fin = needKnown(ctx, ins[0][ins[0].length - 1], 'the last input dimension');
      const w: WeightSpec[] = [{ name: 'kernel', shape: [fin, cfg.units], trainable: true }];
      if (cfg.use_bias) w.push({ name: 'bias', shape: [cfg.units], trainable: true });
      return w;
    },
    macs: (cfg, ins) => prod(ins[0].slice(1)) * cfg.units,
  },
  Conv1D: convRule(1),
  Conv2D: convRule(2),
  DepthwiseConv1D: depthwiseRule(1, false),
  DepthwiseConv2D: depthwiseRule(2, false),
  SeparableConv1D: depthwiseRule(1, true),
  SeparableConv2D: depthwiseRule(2, true),
  MaxPooling1D: poolRule(1, false),
  MaxPooling2D: poolRule(2, false),
  AveragePooling1D: poolRule(1, true),
  AveragePooling2D: poolRule(2, true),
  GlobalMaxPooling1D: globalPoolRule(1, false),
  GlobalMaxPooling2D: globalPoolRule(2, false),
  GlobalAveragePooling1D: globalPoolRule(1, true),
  GlobalAveragePooling2D: globalPoolRule(2, true),
  Flatten: {
    outputShapes(_cfg, ins, ctx) {
      if (ins[0].length < 2) ctx.fail(`expects an input of rank >= 2, got ${fmt(ins[0])}`);
      return [[ins[0][0], prodOrNull(ins[0].slice(1))]];
    },
  },
  Reshape: {
    lint(cfg, add) {
      const ts = cfg.target_shape;
      if (!Array.isArray(ts) || ts.filter((d: number) => d === -1).length > 1 || ts.some((d: number) => !(d === -1 || isPosInt(d))))
        add('target_shape', ts, 'positive integers with at most one -1');
    },
    outputShapes(cfg, ins, ctx) {
      const x = ins[0];
      const ts: number[] = cfg.target_shape;
      const total = prodOrNull(x.slice(1));
      const known = ts.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      if (ts.includes(-1)) {
        const v: Dim = total === null ? null : total / known;
        if (v !== null && !Number.isInteger(v)) ctx.fail(`cannot reshape ${fmt(x)} to target_shape ${JSON.stringify(ts)}`);
        return [[x[0], ...ts.map((d) => (d === -1 ? v : d))]];
      }
      if (total !== null && total !== known) ctx.fail(`cannot reshape ${fmt(x)} (${total} values) to target_shape ${JSON.stringify(ts)}`);
      return [[x[0], ...ts]];
    },
  },
  Permute: {
    lint(cfg, add) {
      const d: number[] = cfg.dims;
      const sorted = Array.isArray(d) ? [...d].sort((a, b) => a - b) : null;
      if (!sorted || !sorted.every((v, i) => v === i + 1)) add('dims', d, 'a permutation of 1..rank-1');
    },
    outputShapes(cfg, ins, ctx) {
      const x = ins[0];
      if (cfg.dims.length !== x.length - 1) ctx.fail(`dims ${JSON.stringify(cfg.dims)} do not match input ${fmt(x)}`);
      return [[x[0], ...cfg.dims.map((d: number) => x[d])]];
    },
  },
  RepeatVector: {
    lint: (cfg, add) => void lintPos(cfg, 'n', add),
    outputShapes(cfg, ins, ctx) {
      needRank(ctx, ins[0], 2, 'a 2-D (batch, features)');
      return [[ins[0][0], cfg.n, ins[0][1]]];
    },
  },
  ZeroPadding1D: {
    lint: (cfg, add) => lintPair(cfg, 'padding', add),
    outputShapes(cfg, ins, ctx) {
      needRank(ctx, ins[0], 3, 'a 3-D');
      const x = ins[0];
      return [[x[0], x[1] === null ? null : x[1] + cfg.padding[0] + cfg.padding[1], x[2]]];
    },
  },
  Cropping1D: {
    lint: (cfg, add) => lintPair(cfg, 'cropping', add),
    outputShapes(cfg, ins, ctx) {
      needRank(ctx, ins[0], 3, 'a 3-D');
      const x = ins[0];
      const l = x[1] === null ? null : x[1] - cfg.cropping[0] - cfg.cropping[1];
      if (l !== null && l <= 0) ctx.fail(`cropping ${JSON.stringify(cfg.cropping)} removes all of ${fmt(x)}`);
      return [[x[0], l, x[2]]];
    },
  },
  UpSampling1D: {
    lint: (cfg, add) => void lintPos(cfg, 'size', add, 1),
    outputShapes(cfg, ins, ctx) {
      needRank(ctx, ins[0], 3, 'a 3-D');
      const x = ins[0];
      return [[x[0], x[1] === null ? null : x[1] * cfg.size[0], x[2]]];
    },
  },
  ZeroPadding2D: padCrop2d('padding', 1),
  Cropping2D: padCrop2d('cropping', -1),
  UpSampling2D: {
    lint(cfg, add) {
      if (cfg.data_format !== 'channels_last') add('data_format', cfg.data_format, 'channels_last');
      if (cfg.interpolation !== 'nearest') add('interpolation', cfg.interpolation, 'nearest');
      lintPos(cfg, 'size', add, 2);
    },
    outputShapes(cfg, ins, ctx) {
      needRank(ctx, ins[0], 4, 'a 4-D');
      const x = ins[0];
      return [[x[0], x[1] === null ? null : x[1] * cfg.size[0], x[2] === null ? null : x[2] * cfg.size[1], x[3]]];
    },
  },
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  Identity: identity,
  Masking: identity,
  LayerNormalization: {
    lint(cfg, add) {
      if (Array.isArray(cfg.axis) && cfg.axis.length !== 1) add('axis', cfg.axis, 'the last axis only (-1)');
      if (cfg.rms_scaling) add('rms_scaling', cfg.rms_scaling, 'false');
    },
    outputShapes(cfg, ins, ctx) {
      const x = ins[0];
      const a = Number(Array.isArray(cfg.axis) ? cfg.axis[0] : (cfg.axis ?? -1));
      if (a !== -1 && a !== x.length - 1) ctx.problem('axis', cfg.axis, 'the last axis only (-1)');
      return [x.slice()];
    },
    weights(cfg, ins, ctx) {
      const C = needKnown(ctx, ins[0][ins[0].length - 1], 'the normalised (last) dimension');
      const w: WeightSpec[] = [];
      if (cfg.scale !== false) w.push({ name: 'gamma', shape: [C], trainable: true });
      if (cfg.center !== false) w.push({ name: 'beta', shape: [C], trainable: true });
      return w;
    },
    macs: (_cfg, ins) => 3 * prod(ins[0].map((d) => d ?? 1)),
  },
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  ActivityRegularization: identity,
  BatchNormalization: {
    lint(cfg, add) {
      if (!Number.isInteger(cfg.axis)) add('axis', cfg.axis, 'a single channel axis (-1 or 1)');
      if (cfg.mode !== undefined && cfg.mode !== 0) add('mode', cfg.mode, '0 (Keras 1 feature-wise normalisation)');
      if (cfg.renorm) add('renorm', cfg.renorm, 'false');
      if (cfg.virtual_batch_size) add('virtual_batch_size', cfg.virtual_batch_size, 'None');
      lintDtype(cfg, add);
    },
    outputShapes(cfg, ins, ctx) {
      const x = ins[0];
      const ax = normAxis(cfg.axis, x.length);
      if (!(ax === x.length - 1 || (ax === 1 && x.length >= 3)))
        ctx.problem('axis', cfg.axis, `the last axis (-1 / ${x.length - 1}) or the channels_first axis 1`);
      return [x.slice()];
    },
    weights(cfg, ins, ctx) {
      const x = ins[0];
      const c = needKnown(ctx, x[normAxis(cfg.axis, x.length)], 'the normalised axis');
      const w: WeightSpec[] = [];
      if (cfg.scale) w.push({ name: 'gamma', shape: [c], trainable: true });
      if (cfg.center) w.push({ name: 'beta', shape: [c], trainable: true });
      w.push({ name: 'moving_mean', shape: [c], trainable: false }, { name: 'moving_variance', shape: [c], trainable: false });
      return w;
    },
    macs: (_cfg, _ins, outs) => prod(outs[0].slice(1)),
  },
  Activation: {
    lint: (cfg, add) => lintAct(cfg, 'activation', add),
    outputShapes: (_c, ins) => [ins[0].slice()],
  },
  ReLU: {
    lint(cfg, add) {
      if (cfg.max_value !== null && !(cfg.max_value >= 0)) add('max_value', cfg.max_value, 'None or a number >= 0');
      if (!(cfg.negative_slope >= 0)) add('negative_slope', cfg.negative_slope, 'a number >= 0');
    },
    outputShapes: (_c, ins) => [ins[0].slice()],
  },
  LeakyReLU: identity,
  ELU: identity,
  ThresholdedReLU: identity,
  PReLU: {
    outputShapes: (_c, ins) => [ins[0].slice()],
    weights(cfg, ins, ctx) {
      const x = ins[0];
      const shape = x.slice(1).map((d, i) => (cfg.shared_axes && cfg.shared_axes.includes(i + 1) ? 1 : needKnown(ctx, d, `input dimension ${i + 1}`)));
      return [{ name: 'alpha', shape: shape as number[], trainable: true }];
    },
  },
  Softmax: {
    lint(cfg, add) {
      if (!Number.isInteger(cfg.axis)) add('axis', cfg.axis, 'a single axis (-1)');
    },
    outputShapes(cfg, ins, ctx) {
      const x = ins[0];
      if (normAxis(cfg.axis, x.length) !== x.length - 1) ctx.problem('axis', cfg.axis, 'the last axis (-1)');
      return [x.slice()];
    },
  },
  Add: mergeRule('many'),
  Subtract: mergeRule(2),
  Multiply: mergeRule('many'),
  Average: mergeRule('many'),
  Maximum: mergeRule('many'),
  Minimum: mergeRule('many'),
  Concatenate: concatenate,
  SimpleRNN: rnnRule('SimpleRNN'),
  GRU: rnnRule('GRU'),
  LSTM: rnnRule('LSTM'),
  Bidirectional: bidirectional,
  TimeDistributed: timeDistributed,
  Embedding: {
    inputDtype: 'int32',
    lint(cfg, add) {
      lintPos(cfg, 'input_dim', add);
      lintPos(cfg, 'output_dim', add);
      if (cfg.sparse) add('sparse', cfg.sparse, 'false');
    },
    outputShapes: (cfg, ins) => [[...ins[0], cfg.output_dim]],
    weights: (cfg) => [{ name: 'embeddings', shape: [cfg.input_dim, cfg.output_dim], trainable: true }],
  },
};

/** Classes supported (for messages). */
const SUPPORTED_CLASSES = Object.keys(REGISTRY).filter((k) => k !== 'InputLayer');

/** Lint one normalised layer config (config-only checks). Nested models are not layers here. */
export function lintLayer(className: string, cfg: Record<string, any>, add: (option: string | undefined, value: unknown, supported: string) => void): void {
  const rule = REGISTRY[className];
  if (!rule) {
    add(undefined, undefined, `layers ${SUPPORTED_CLASSES.join(', ')}`);
    return;
  }
  rule.lint?.(cfg, add);
}

/** True for recurrent layers (stateful needs a fixed batch). */
export function isRecurrent(className: string): boolean {
  return RNN_GATES[className] !== undefined;
}

/** Number of weights sizes. */
export function countParams(ws: WeightSpec[], layerTrainable: boolean): { trainable: number; nonTrainable: number } {
  let t = 0;
  let n = 0;
  for (const w of ws) {
    const s = w.shape.reduce((a, b) => a * b, 1);
    if (w.trainable && layerTrainable) t += s;
    else n += s;
  }
  return { trainable: t, nonTrainable: n };
}
