/** Core layers: Dense, Activation, Embedding, Masking, Identity, and the model's InputLayer. */
import type { IRNode } from '../graph/ir.ts';
import type { NormalizeCtx } from '../graph/config.ts';
import { fmt, identity, lintAct, lintDtype, lintPos, needKnown, prod as prodDims, type LayerRule, type WeightSpec } from '../graph/shapes.ts';
import * as core from '../float/layers/core.ts';
import * as misc from '../float/layers/misc.ts';
import { asymmetricQParams, channelWeights, foldBias, quantizeValue } from '../quantize/qparams.ts';
import { perTensorScale, xnnpackScale } from '../fixedpoint.ts';
import { blockRows4, blockRows8u } from '../quantize/reference-rnn.ts';
import { prod, constI8, constI16, unsupportedLayer, requantParams } from '../quantize/lower-util.ts';
import { bias64, constI64, quantizeWeights16, W16_MAX_IN } from '../quantize/weights16.ts';
import type { LowerCtx } from '../quantize/lower-ctx.ts';
import { lowerActivation } from './activations.ts';
import { keepConfig, type LayerEntry, type Normalize } from './entry.ts';

// ---------------------------------------------------------------------------------------
// InputLayer: not a layer the converter lowers, the model's input (read by the graph builder)

const normalizeInputLayer: Normalize = (c, src) => {
  let bis = c.batch_input_shape ?? (Array.isArray(src.input_shape) ? [null, ...src.input_shape] : (src.input_shape ?? null));
  if (src.batch_size !== undefined && src.batch_size !== null && Array.isArray(bis) && !src.batch_input_shape && !src.batch_shape)
    bis = [src.batch_size, ...bis.slice(1)];
  c.batch_input_shape = bis;
  c.sparse = !!src.sparse;
  c.ragged = !!src.ragged;
  delete c.batch_shape;
  delete c.input_shape;
  delete c.optional;
};

const inputLayerRule: LayerRule = {
  lint(cfg, add) {
    if (cfg.sparse) add('sparse', true, 'false');
    if (cfg.ragged) add('ragged', true, 'false');
    if (cfg.dtype && !/^(float|int|uint|mixed)/.test(cfg.dtype)) add('dtype', cfg.dtype, 'float or integer dtypes');
  },
  outputShapes: (cfg) => [cfg.batch_input_shape.slice()],
};

export const INPUT_LAYER = { className: 'InputLayer', normalize: normalizeInputLayer, rule: inputLayerRule };

// ---------------------------------------------------------------------------------------
// Dense

const normalizeDense: Normalize = (c, src, { act }: NormalizeCtx) => {
  c.units = Number(c.units);
  c.activation = act(src.activation);
  c.use_bias = c.use_bias !== false;
};

const denseRule: LayerRule = {
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
  macs: (cfg, ins) => prodDims(ins[0].slice(1)) * cfg.units,
};

function lowerDense(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, qm, emit, fuse } = L;
  const inIr = n.inputs[0];
  const inL = lt(inIr);
  const inT = tensors[inL];
  const k = n.weights.kernel;
  const [inDim, units] = k.shape;
  // kernel [in, units] -> [units][in]
  const wt = new Float32Array(k.data.length);
  for (let i = 0; i < inDim; i++) for (let u = 0; u < units; u++) wt[u * inDim + i] = k.data[i * units + u];
  const f = fuse(n, true);
  const outL = lt(f.outIr, f.outQ);
  if (L.opts.weightPrecision === 'int16' && L.prec.cur === 'int16' && inDim <= W16_MAX_IN) {
    emit('DENSE', denseW16Params(n, L, wt, inL, outL, f), [inL], [outL], f.fused ? `${n.name}+${f.fused}` : n.name);
    return;
  }
  const wq = channelWeights(wt, units, k);
  const bias = foldBias(n.weights.bias?.data ?? null, wq.q, wq.scales, inT.q.scale, inT.q.zeroPoint, n.weights.bias?.fileInt32);
  // a .tflite FULLY_CONNECTED's multiplier as TFLite forms it: the scale product in float32
  const scale = (s: number) =>
    L.opts.rounding === 'float'
      ? xnnpackScale(inT.q.scale, s, f.accQ.scale)
      : k.fileScales
        ? perTensorScale(inT.q.scale, s, f.accQ.scale)
        : (inT.q.scale * s) / f.accQ.scale;
  const ms = Array.from(wq.scales, (s) => qm(scale(s), n, 'output'));
  // layout 2 is an int8-activation layout (16x8 runs the int16 kernel on layout 1)
  const u8 = units >= 8 && L.prec.cur !== 'int16' && L.opts.interpreter !== 'wamr-classic' ? blockRows8u(wq.q, units, inDim) : null;
  emit(
    'DENSE',
    {
      in: inL,
      out: outL,
      rows: prod(inT.shape) / inDim,
      inDim,
      outDim: units,
      // layout 2: 8-row blocks of offset-binary bytes, two rows per i64 multiply (same bytes,
      // reordered); layout 1 (4-row blocks) below 8 units, beyond the lane bound, in int16 and
      // for WAMR's classic interpreter (LowerOptions.interpreter)
      weights: u8 ? { kind: 'const', bytes: u8, align: 16, what: `${n.name} weights` } : constI8(blockRows4(wq.q, units, inDim), `${n.name} weights`),
      ...requantParams(n.name, bias, ms, f),
      layout: u8 ? 2 : 1,
    },
    [inL],
    [outL],
    f.fused ? `${n.name}+${f.fused}` : n.name,
  );
  return;
}

/**
 * DENSE layout 3 params (int16 activations and int16 weights, 16x16): per-channel int16 weights
 * in layout 1's order, the int64 bias (no zero point to fold), multipliers s_in * s_w / s_out.
 */
function denseW16Params(n: IRNode, L: LowerCtx, wt: Float32Array, inL: number, outL: number, f: ReturnType<LowerCtx['fuse']>) {
  const inT = L.tensors[inL];
  const [inDim, units] = n.weights.kernel.shape;
  const wq = quantizeWeights16(wt, units);
  const bias = bias64(n.weights.bias?.data ?? null, wq.scales, inT.q.scale);
  const ms = Array.from(wq.scales, (s) => L.qm((inT.q.scale * s) / f.accQ.scale, n, 'output'));
  return {
    in: inL,
    out: outL,
    rows: prod(inT.shape) / inDim,
    inDim,
    outDim: units,
    weights: constI16(blockRows4(wq.q, units, inDim), `${n.name} weights`),
    ...requantParams(n.name, new Int32Array(0), ms, f),
    bias: constI64(bias, `${n.name} bias`),
    layout: 3,
  };
}

// ---------------------------------------------------------------------------------------
// Activation

const normalizeActivation: Normalize = (c, src, { act }: NormalizeCtx) => {
  c.activation = act(src.activation);
};

const activationRule: LayerRule = {
  lint: (cfg, add) => lintAct(cfg, 'activation', add),
  outputShapes: (_c, ins) => [ins[0].slice()],
};

// ---------------------------------------------------------------------------------------
// Embedding

const normalizeEmbedding: Normalize = (c, src) => {
  c.input_dim = Number(c.input_dim);
  c.output_dim = Number(c.output_dim);
  c.mask_zero = !!c.mask_zero;
  c.input_length = c.input_length ?? null;
  if (c.dtype === 'float32' && !src.dtype) c.dtype = 'float32';
};

const embeddingRule: LayerRule = {
  inputDtype: 'int32',
  lint(cfg, add) {
    lintPos(cfg, 'input_dim', add);
    lintPos(cfg, 'output_dim', add);
    if (cfg.sparse) add('sparse', cfg.sparse, 'false');
  },
  outputShapes: (cfg, ins) => [[...ins[0], cfg.output_dim]],
  weights: (cfg) => [{ name: 'embeddings', shape: [cfg.input_dim, cfg.output_dim], trainable: true }],
};

function lowerEmbedding(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, emit } = L;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
  const inL = lt(inIr);
  if (tensors[inL].dtype !== 'int32') throw unsupportedLayer(n, 'input that is not a model input of token ids', 'Embedding directly on a model input');
  const e = n.weights.embeddings;
  const [vocab, dim] = e.shape;
  let mn = 0,
    mx = 0;
  for (const v of e.data) {
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const outQ = asymmetricQParams(mn, mx);
  const outL = lt(outIr, outQ);
  const table = new Int8Array(e.data.length);
  for (let i = 0; i < table.length; i++) table[i] = quantizeValue(e.data[i], outQ);
  emit('GATHER', { ids: inL, out: outL, count: prod(tensors[inL].shape), vocab, dim, table: constI8(table, `${n.name} table`) }, [inL], [outL], n.name);
  return;
}

// ---------------------------------------------------------------------------------------
// entries

export const CORE: LayerEntry[] = [
  {
    className: 'Dense',
    aliases: [],
    normalize: normalizeDense,
    rule: denseRule,
    float: core.dense,
    passesMask: true,
    quant: {
      weights: 'int8 per output channel (symmetric), int32 bias; --weight-precision int16 on int16 activations: int16, int64 bias',
      output: 'calibrated',
      splitActivation: true,
      absorbsBatchNorm: true,
    },
    lower: { ops: ['DENSE'], emit: lowerDense },
  },
  {
    className: 'Activation',
    aliases: [],
    normalize: normalizeActivation,
    rule: activationRule,
    float: core.activation,
    passesMask: true,
    quant: {
      weights: 'an int8 lookup table (element-wise) or an exp table (softmax); fused into the preceding op where it is a clamp',
      output: 'calibrated; fixed for sigmoid, tanh and softmax (as TFLite)',
    },
    lower: { ops: ['LUT', 'SOFTMAX'], emit: lowerActivation },
  },
  {
    className: 'Embedding',
    aliases: [],
    normalize: normalizeEmbedding,
    rule: embeddingRule,
    float: misc.embedding,
    passesMask: false,
    quant: { weights: 'int8 table, one scale for the whole table', output: 'the range of the table' },
    lower: { ops: ['GATHER'], emit: lowerEmbedding },
  },
  {
    className: 'Masking',
    aliases: [],
    normalize: keepConfig,
    rule: identity,
    float: misc.masking,
    passesMask: false,
    quant: { weights: 'none', output: "the input's" },
    lower: { alias: true },
  },
  {
    className: 'Identity',
    aliases: [],
    normalize: keepConfig,
    rule: identity,
    float: core.identity,
    passesMask: false,
    quant: { weights: 'none', output: "the input's" },
    lower: { alias: true },
  },
];
