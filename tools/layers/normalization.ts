/** Normalization layers: BatchNormalization, LayerNormalization. */
import type { IRNode } from '../graph/ir.ts';
import type { NormalizeCtx } from '../graph/config.ts';
import { lintDtype, needKnown, normAxis, prod as prodDims, type LayerRule, type WeightSpec } from '../graph/shapes.ts';
import * as core from '../float/layers/core.ts';
import { foldBias, quantizeWeightsPerChannel } from '../quantize/qparams.ts';
import { prod, constI8, constI32, constShift, unsupportedLayer, requantParams } from '../quantize/lower-util.ts';
import type { LowerCtx } from '../quantize/lower-ctx.ts';
import { keepConfig, type LayerEntry, type Normalize } from './entry.ts';

const normalizeBatchNormalization: Normalize = (c, src, { k1 }: NormalizeCtx) => {
  let ax = c.axis ?? -1;
  if (Array.isArray(ax) && ax.length === 1) ax = ax[0];
  c.axis = ax;
  c.momentum = Number(c.momentum ?? 0.99);
  c.epsilon = Number(c.epsilon ?? 1e-3);
  c.center = c.center !== false;
  c.scale = c.scale !== false;
  if (k1) c.mode = src.mode ?? 0;
};

const batchNormalizationRule: LayerRule = {
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
  macs: (_cfg, _ins, outs) => prodDims(outs[0].slice(1)),
};

const layerNormalizationRule: LayerRule = {
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
  macs: (_cfg, ins) => 3 * prodDims(ins[0].map((d) => d ?? 1)),
};

/** A BatchNormalization that is not folded into a Dense/Conv: a 1x1 depthwise op. */
function lowerBatchNormalization(n: IRNode, L: LowerCtx): void {
  const { tensors, notes, lt, qm, emit, fuse } = L;
  const c = n.config;
  const inIr = n.inputs[0];
  const inL = lt(inIr);
  const inT = tensors[inL];
  const r = inT.shape.length;
  let axis = Array.isArray(c.axis) ? (c.axis.length === 1 ? c.axis[0] : NaN) : (c.axis ?? -1);
  if (axis < 0) axis += r;
  if (axis !== r - 1)
    throw unsupportedLayer(
      n,
      `option axis=${JSON.stringify(c.axis)}`,
      'the last axis (channels_last), or a BatchNormalization foldable into the preceding Dense/Conv',
    );
  const C = inT.shape[r - 1];
  const eps = Number(c.epsilon ?? 1e-3);
  const { gamma, beta, moving_mean: mean, moving_variance: vr } = n.weights;
  const w = new Float32Array(C);
  const b = new Float32Array(C);
  for (let i = 0; i < C; i++) {
    w[i] = gamma.data[i] / Math.sqrt(vr.data[i] + eps);
    b[i] = beta.data[i] - mean.data[i] * w[i];
  }
  const f = fuse(n, true);
  const outL = lt(f.outIr, f.outQ);
  const wq = quantizeWeightsPerChannel(w, C);
  const bias = foldBias(b, wq.q, wq.scales, inT.q.scale, inT.q.zeroPoint);
  const ms = Array.from(wq.scales, (s) => qm((inT.q.scale * s) / f.accQ.scale, n, 'output'));
  const W = prod(inT.shape.slice(1, -1));
  emit(
    'DEPTHWISE_CONV2D',
    {
      in: inL,
      out: outL,
      batch: inT.shape[0],
      inH: 1,
      inW: W,
      inC: C,
      outH: 1,
      outW: W,
      depthMult: 1,
      kH: 1,
      kW: 1,
      strideH: 1,
      strideW: 1,
      dilH: 1,
      dilW: 1,
      padTop: 0,
      padLeft: 0,
      zpIn: inT.q.zeroPoint,
      weights: constI8(wq.q, `${n.name} weights`),
      ...requantParams(n.name, bias, ms, f),
    },
    [inL],
    [outL],
    f.fused ? `${n.name}+${f.fused}` : n.name,
  );
  notes.push(`BatchNormalization '${n.name}' kept standalone (as a 1x1 depthwise op): its input is not a linear Dense/Conv used only by it`);
  return;
}

/**
 * LayerNormalization over the last axis: LAYER_NORM normalises each row in integers; gamma rides
 * in the per-channel multiplier (the op's t is the normalised value times 2^16), beta is the bias.
 */
function lowerLayerNormalization(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, qm, emit } = L;
  const inL = lt(n.inputs[0]);
  const outL = lt(n.outputs[0]);
  const inQ = tensors[inL].q;
  const outQ = tensors[outL].q;
  const C = tensors[inL].shape[tensors[inL].shape.length - 1];
  const c = n.config;
  const gamma = c.scale === false ? null : n.weights.gamma.data;
  const beta = c.center === false ? null : n.weights.beta.data;
  const ms = Array.from({ length: C }, (_, k) => {
    const m = qm((gamma ? gamma[k] : 1) / (outQ.scale * 65536), n, 'gamma');
    return m.shift < -31 ? { mult: 0, shift: 0 } : m; // |gamma| too small to move an output LSB
  });
  const limit = (1 << 24) - 1;
  const bias = Array.from({ length: C }, (_, k) => Math.max(-limit, Math.min(limit, Math.round((beta ? beta[k] : 0) / outQ.scale))));
  const epsTerm = Math.min(2 ** 31 - 1, Math.round((C * C * (c.epsilon ?? 1e-3)) / (inQ.scale * inQ.scale)));
  const params = {
    in: inL,
    out: outL,
    rows: prod(tensors[inL].shape) / C,
    channels: C,
    zpIn: inQ.zeroPoint,
    zpOut: outQ.zeroPoint,
    epsTerm,
    mult: constI32(
      ms.map((m) => m.mult),
      `${n.name} mult`,
    ),
    shift: constShift(ms, `${n.name} shift`),
    bias: constI32(bias, `${n.name} bias`),
  };
  emit('LAYER_NORM', params, [inL], [outL], n.name);
}

export const NORMALIZATION: LayerEntry[] = [
  {
    className: 'BatchNormalization',
    aliases: [],
    normalize: normalizeBatchNormalization,
    rule: batchNormalizationRule,
    float: core.batchNorm,
    passesMask: true,
    quant: {
      weights: 'folded into the preceding Dense/Conv when it reads only that output; else int8 per channel, int32 bias',
      output: 'calibrated',
    },
    lower: { ops: ['DEPTHWISE_CONV2D'], emit: lowerBatchNormalization },
  },
  {
    className: 'LayerNormalization',
    aliases: [],
    normalize: keepConfig,
    rule: layerNormalizationRule,
    float: core.layerNorm,
    passesMask: true,
    quant: { weights: 'gamma as int32 per-channel multipliers, beta as int32 bias', output: 'calibrated' },
    lower: { ops: ['LAYER_NORM'], emit: lowerLayerNormalization },
  },
];
