/** Reshaping layers: Flatten, Reshape, Permute, RepeatVector, ZeroPadding, Cropping, UpSampling. */
import type { IRNode } from '../graph/ir.ts';
import { pair, tuple, dataFormat, type NormalizeCtx } from '../graph/config.ts';
import { fmt, isPosInt, lintPair, lintPos, needRank, prodOrNull, type Dim, type LayerRule } from '../graph/shapes.ts';
import * as rs from '../float/layers/reshape.ts';
import { pairs } from '../float/layers/reshape.ts';
import { unsupportedLayer } from '../quantize/lower-util.ts';
import type { LowerCtx } from '../quantize/lower-ctx.ts';
import type { LayerEntry, Lowering, Normalize, QuantRule } from './entry.ts';

// ---------------------------------------------------------------------------------------
// normalisation

const normalizeFlatten: Normalize = (c) => {
  delete c.dim_ordering;
  c.data_format = dataFormat(c);
};

// tfjs writes -1 as null
const normalizeReshape: Normalize = (c) => {
  if (Array.isArray(c.target_shape ?? [])) c.target_shape = (c.target_shape ?? []).map((d: any) => (d === null || d === undefined ? -1 : Number(d)));
};

const normalizePermute: Normalize = (c) => {
  if (Array.isArray(c.dims ?? [])) c.dims = (c.dims ?? []).map(Number);
};

const normalizeRepeatVector: Normalize = (c) => {
  c.n = Number(c.n);
};

const normalizePair =
  (key: 'padding' | 'cropping'): Normalize =>
  (c) => {
    c[key] = pair(c[key], [1, 1]);
  };

const normalizeUpSampling1D: Normalize = (c, src, { k1 }: NormalizeCtx) => {
  if (k1 && 'length' in src) {
    c.size = src.length;
    delete c.length;
  }
  c.size = tuple(c.size, 1, [2]);
};

/** ZeroPadding2D / Cropping2D: an int, a pair or a pair of pairs -> ((top, bottom), (left, right)). */
function normalizePadCrop2D(key: 'padding' | 'cropping'): Normalize {
  return (c) => {
    const v = c[key] ?? 1;
    const two = (p: any): [number, number] =>
      Array.isArray(p) ? (p.length === 1 ? [Number(p[0]), Number(p[0])] : [Number(p[0]), Number(p[1])]) : [Number(p), Number(p)];
    c[key] =
      typeof v === 'number'
        ? [
            [v, v],
            [v, v],
          ]
        : Array.isArray(v) && v.length === 2
          ? [two(v[0]), two(v[1])]
          : v;
    c.data_format = dataFormat(c);
  };
}

const normalizeUpSampling2D: Normalize = (c) => {
  c.size = tuple(c.size, 2, [2, 2]);
  c.interpolation = c.interpolation ?? 'nearest';
  c.data_format = dataFormat(c);
};

// ---------------------------------------------------------------------------------------
// shape rules

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

const flattenRule: LayerRule = {
  outputShapes(_cfg, ins, ctx) {
    if (ins[0].length < 2) ctx.fail(`expects an input of rank >= 2, got ${fmt(ins[0])}`);
    return [[ins[0][0], prodOrNull(ins[0].slice(1))]];
  },
};

const reshapeRule: LayerRule = {
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
};

const permuteRule: LayerRule = {
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
};

const repeatVectorRule: LayerRule = {
  lint: (cfg, add) => void lintPos(cfg, 'n', add),
  outputShapes(cfg, ins, ctx) {
    needRank(ctx, ins[0], 2, 'a 2-D (batch, features)');
    return [[ins[0][0], cfg.n, ins[0][1]]];
  },
};

const zeroPadding1DRule: LayerRule = {
  lint: (cfg, add) => lintPair(cfg, 'padding', add),
  outputShapes(cfg, ins, ctx) {
    needRank(ctx, ins[0], 3, 'a 3-D');
    const x = ins[0];
    return [[x[0], x[1] === null ? null : x[1] + cfg.padding[0] + cfg.padding[1], x[2]]];
  },
};

const cropping1DRule: LayerRule = {
  lint: (cfg, add) => lintPair(cfg, 'cropping', add),
  outputShapes(cfg, ins, ctx) {
    needRank(ctx, ins[0], 3, 'a 3-D');
    const x = ins[0];
    const l = x[1] === null ? null : x[1] - cfg.cropping[0] - cfg.cropping[1];
    if (l !== null && l <= 0) ctx.fail(`cropping ${JSON.stringify(cfg.cropping)} removes all of ${fmt(x)}`);
    return [[x[0], l, x[2]]];
  },
};

const upSampling1DRule: LayerRule = {
  lint: (cfg, add) => void lintPos(cfg, 'size', add, 1),
  outputShapes(cfg, ins, ctx) {
    needRank(ctx, ins[0], 3, 'a 3-D');
    const x = ins[0];
    return [[x[0], x[1] === null ? null : x[1] * cfg.size[0], x[2]]];
  },
};

const upSampling2DRule: LayerRule = {
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
};

// ---------------------------------------------------------------------------------------
// lowering

/** Flatten is a view, except of a channels_first tensor: Keras moves channels last first. */
function lowerFlatten(n: IRNode, L: LowerCtx): void {
  const { g, tensors, lt, alias, transposeL, toLast } = L;
  const inIr = n.inputs[0];
  if (!(n.config.data_format === 'channels_first' && g.tensors[inIr].shape.length >= 4)) {
    alias(n.outputs[0], lt(inIr));
    return;
  }
  const inL = lt(inIr);
  const r = tensors[inL].shape.length;
  alias(n.outputs[0], transposeL(inL, toLast(r), n.name));
}

function lowerPermute(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, transposeL } = L;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
  const inL = lt(inIr);
  const dims: number[] = c.dims;
  const outL = lt(outIr, tensors[inL].q);
  transposeL(inL, [0, ...dims], n.name, outL);
  return;
}

function lowerRepeatVector(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, layout } = L;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
  const inL = lt(inIr);
  const rep = Number(c.n);
  const outL = lt(outIr, tensors[inL].q);
  layout(inL, tensors[outL].shape, [{ inAxis: 0 }, { inAxis: -1, div: rep }, { inAxis: 1 }], n.name, outL);
  return;
}

function lowerPadCropUpSampling(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, layout } = L;
  const cls = n.className;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
  const rank = cls.endsWith('1D') ? 1 : 2;
  const cf = c.data_format === 'channels_first';
  const inL = lt(inIr);
  const inT = tensors[inL];
  const outL = lt(outIr, inT.q);
  const spatial = cf ? Array.from({ length: rank }, (_, i) => i + 2) : Array.from({ length: rank }, (_, i) => i + 1);
  const axes = inT.shape.map((_, a) => ({ inAxis: a, padBefore: 0, div: 1 }));
  if (cls.startsWith('UpSampling')) {
    if (rank === 2 && c.interpolation && c.interpolation !== 'nearest')
      throw unsupportedLayer(n, `option interpolation=${JSON.stringify(c.interpolation)}`, 'nearest');
    const s: number[] = Array.isArray(c.size) ? c.size : [c.size ?? 2];
    spatial.forEach((a, i) => (axes[a].div = s[i] ?? s[0]));
  } else {
    const key = cls.startsWith('Zero') ? 'padding' : 'cropping';
    const pp = pairs(c[key] ?? 1, rank, `${n.name}.${key}`);
    const sign = key === 'padding' ? 1 : -1;
    spatial.forEach((a, i) => (axes[a].padBefore = sign * pp[i][0]));
  }
  layout(inL, tensors[outL].shape, axes, n.name, outL);
  return;
}

// ---------------------------------------------------------------------------------------
// entries

const SAME_Q: QuantRule = { weights: 'none', output: 'input' };
const LAYOUT: Lowering = { ops: ['LAYOUT'], emit: lowerPadCropUpSampling };

function entry(className: string, normalize: Normalize, rule: LayerRule, float: LayerEntry['float'], lower: Lowering): LayerEntry {
  return { className, aliases: [], normalize, rule, float, passesMask: false, quant: SAME_Q, lower };
}

export const RESHAPING: LayerEntry[] = [
  entry('Flatten', normalizeFlatten, flattenRule, rs.flatten, { ops: ['LAYOUT'], emit: lowerFlatten }),
  entry('Reshape', normalizeReshape, reshapeRule, rs.reshapeLayer, { alias: true }),
  entry('Permute', normalizePermute, permuteRule, rs.permute, { ops: ['LAYOUT'], emit: lowerPermute }),
  entry('RepeatVector', normalizeRepeatVector, repeatVectorRule, rs.repeatVector, { ops: ['LAYOUT'], emit: lowerRepeatVector }),
  entry('ZeroPadding1D', normalizePair('padding'), zeroPadding1DRule, rs.zeroPad1d, LAYOUT),
  entry('ZeroPadding2D', normalizePadCrop2D('padding'), padCrop2d('padding', 1), rs.zeroPad2d, LAYOUT),
  entry('Cropping1D', normalizePair('cropping'), cropping1DRule, rs.crop1d, LAYOUT),
  entry('Cropping2D', normalizePadCrop2D('cropping'), padCrop2d('cropping', -1), rs.crop2d, LAYOUT),
  entry('UpSampling1D', normalizeUpSampling1D, upSampling1DRule, rs.upsample1d, LAYOUT),
  entry('UpSampling2D', normalizeUpSampling2D, upSampling2DRule, rs.upsample2d, LAYOUT),
];
