/**
 * The shape-rule kit every layer entry (tools/layers/) builds its rule from: the rule's
 * interface, config lint helpers (each adds "option, value, what is supported"), and Keras's
 * shape arithmetic.
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
import { ACTIVATION_KERAS_NAMES, SUPPORTED_ACTIVATIONS } from './config.ts';

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

const ACTS = new Set(SUPPORTED_ACTIVATIONS);
const ACT_LIST = SUPPORTED_ACTIVATIONS.map((a) => ACTIVATION_KERAS_NAMES[a] ?? a).join(', ');

export function lintAct(cfg: Record<string, any>, key: string, add: (o: string, v: unknown, s: string) => void) {
  if (!ACTS.has(cfg[key])) add(key, cfg[key], ACT_LIST);
}

export function lintDtype(cfg: Record<string, any>, add: (o: string, v: unknown, s: string) => void) {
  const d = cfg.dtype;
  if (d !== undefined && d !== null && !['float32', 'float16', 'bfloat16', 'float64', 'mixed_float16', 'mixed_bfloat16'].includes(d))
    add('dtype', d, 'float dtypes (float32, float16, mixed_float16)');
}

export type Add = (o: string | undefined, v: unknown, s: string) => void;

export function isPosInt(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 1;
}

/**
 * THE size lint used by every rule: `cfg[key]` must be a positive integer (no `rank`) or a list
 * of exactly `rank` positive integers. null, 0, negatives, fractions, NaN and strings are refused
 * here, so no rule's shape function ever sees them.
 */
export function lintPos(cfg: Record<string, any>, key: string, add: Add, rank?: number): boolean {
  const v = cfg[key];
  const ok = rank === undefined ? isPosInt(v) : Array.isArray(v) && v.length === rank && v.every(isPosInt);
  if (!ok) add(key, v, rank === undefined ? 'a positive integer' : `${rank} positive integers`);
  return ok;
}

/** A pair of non-negative integers (1-D paddings / croppings). */
export function lintPair(cfg: Record<string, any>, key: string, add: Add): void {
  const v = cfg[key];
  if (!(Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n) && n >= 0))) add(key, v, 'non-negative integers (before, after)');
}

export function prod(a: Dim[]): number {
  let p = 1;
  for (const d of a) p *= d ?? 1;
  return p;
}

export function prodOrNull(a: Dim[]): Dim {
  let p = 1;
  for (const d of a) {
    if (d === null) return null;
    p *= d;
  }
  return p;
}

/** Keras conv_utils.conv_output_length. */
export function convOutLen(len: Dim, k: number, padding: string, stride: number, dilation = 1): Dim {
  if (len === null) return null;
  const dk = k + (k - 1) * (dilation - 1);
  let out: number;
  if (padding === 'same' || padding === 'causal') out = len;
  else if (padding === 'valid') out = len - dk + 1;
  else out = len + dk - 1;
  return Math.floor((out + stride - 1) / stride);
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Spatial dims and channel dim of a conv-like input. */
export function splitCL(shape: Shape, r: number, df: string): { spatial: Dim[]; ch: Dim } {
  if (df === 'channels_first') return { spatial: shape.slice(2, 2 + r), ch: shape[1] };
  return { spatial: shape.slice(1, 1 + r), ch: shape[1 + r] };
}

export function joinCL(batch: Dim, spatial: Dim[], ch: Dim, df: string): Shape {
  return df === 'channels_first' ? [batch, ch, ...spatial] : [batch, ...spatial, ch];
}

/** ZeroPadding2D (sign 1) / Cropping2D (sign -1): config [[top, bottom], [left, right]], channels_last. */

export function needRank(ctx: RuleCtx, s: Shape, rank: number | number[], what: string) {
  const ok = Array.isArray(rank) ? rank.includes(s.length) : s.length === rank;
  if (!ok) ctx.fail(`expects ${what} input (rank ${Array.isArray(rank) ? rank.join(' or ') : rank} incl. batch), got shape ${fmt(s)}`);
}

export function needKnown(ctx: RuleCtx, d: Dim, what: string): number {
  if (d === null) ctx.fail(`${what} must be known (got None)`);
  return d as number;
}

export function fmt(s: Shape): string {
  return `(${s.map((d) => (d === null ? 'None' : String(d))).join(', ')}${s.length === 1 ? ',' : ''})`;
}

export const identity: LayerRule = { outputShapes: (_c, ins) => [ins[0].slice()] };

/** Keras's parameter counts: trainable and non-trainable sizes of a layer's weights. */
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
export type { Shape, Dim } from './ir.ts';
