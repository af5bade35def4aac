/** Convolution layers: Conv1D/2D, DepthwiseConv1D/2D, SeparableConv1D/2D. */
import type { IRNode } from '../graph/ir.ts';
import { lowerCase, tuple, dataFormat, type NormalizeCtx } from '../graph/config.ts';
import { convOutLen, fmt, joinCL, lintAct, lintDtype, lintPos, needKnown, needRank, prod, splitCL, type LayerRule, type WeightSpec } from '../graph/shapes.ts';
import * as conv from '../float/layers/conv.ts';
import { padInfo } from '../float/layers/conv.ts';
import { channelWeights, foldBias } from '../quantize/qparams.ts';
import { blockRows4 } from '../quantize/reference-rnn.ts';
import { constI8, constI16, unsupportedLayer, requantParams, outputScale } from '../quantize/lower-util.ts';
import { bias64, constI64, quantizeWeights16, W16_MAX_IN } from '../quantize/weights16.ts';
import type { LowerCtx } from '../quantize/lower-ctx.ts';
import type { LayerEntry, Lowering, Normalize, QuantRule, RewriteKit } from './entry.ts';

// ---------------------------------------------------------------------------------------
// normalisation

function normalizeConv(r: 1 | 2): Normalize {
  return (c, src, { k1, act }: NormalizeCtx) => {
    if (k1) {
      if ('nb_filter' in src) c.filters = src.nb_filter;
      if (r === 1) {
        if ('filter_length' in src) c.kernel_size = [src.filter_length];
        if ('subsample_length' in src) c.strides = [src.subsample_length];
      } else {
        if ('nb_row' in src) c.kernel_size = [src.nb_row, src.nb_col];
        if ('subsample' in src) c.strides = src.subsample;
      }
      if ('atrous_rate' in src) c.dilation_rate = src.atrous_rate;
      for (const k of ['nb_filter', 'filter_length', 'subsample_length', 'nb_row', 'nb_col', 'subsample', 'atrous_rate', 'dim_ordering']) delete c[k];
    }
    c.filters = Number(c.filters);
    c.groups = c.groups ?? 1;
    normalizeWindow(c, src, r, act);
  };
}

/** The keys every convolution shares: kernel, strides, padding, data format, dilation, activation, bias. */
function normalizeWindow(c: Record<string, any>, src: Record<string, any>, r: 1 | 2, act: NormalizeCtx['act']): void {
  c.kernel_size = tuple(c.kernel_size, r, null);
  c.strides = tuple(c.strides, r, new Array(r).fill(1));
  c.padding = lowerCase(c.padding, 'valid');
  c.data_format = dataFormat(c);
  c.dilation_rate = tuple(c.dilation_rate, r, new Array(r).fill(1));
  c.activation = act(src.activation);
  c.use_bias = c.use_bias !== false;
}

function normalizeDepthwise(r: 1 | 2, separable: boolean): Normalize {
  return (c, src, { k1, act }: NormalizeCtx) => {
    if (k1) {
      if ('nb_filter' in src) c.filters = src.nb_filter;
      if ('nb_row' in src) c.kernel_size = [src.nb_row, src.nb_col];
      if ('subsample' in src) c.strides = src.subsample;
      for (const k of ['nb_filter', 'nb_row', 'nb_col', 'subsample', 'dim_ordering']) delete c[k];
    }
    if (separable) c.filters = Number(c.filters);
    c.depth_multiplier = c.depth_multiplier ?? 1;
    normalizeWindow(c, src, r, act);
  };
}

// ---------------------------------------------------------------------------------------
// shape rules

/** Config lint shared by the convolution and pooling rules. */
export function convLint(rank: number, kind: 'conv' | 'depthwise' | 'separable' | 'pool') {
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

// ---------------------------------------------------------------------------------------
// lowering

/** Conv1D, Conv2D, DepthwiseConv1D, DepthwiseConv2D (SeparableConv is split into the two by prepare.ts). */
function lowerConv(n: IRNode, L: LowerCtx): void {
  const { staticShape, newT, lt, qm, emit, transposeL, nhwcInput, toLast, toFirst, fuse } = L;
  const cls = n.className;
  const c = n.config;
  const inIr = n.inputs[0];
  const rank = cls.endsWith('1D') ? 1 : 2;
  const dw = cls.startsWith('Depthwise');
  const { cf, inL, inT, inH, inW, C: inC } = nhwcInput(inIr, rank, c, n.name);
  const ks: number[] = c.kernel_size;
  const st: number[] = c.strides ?? ks.map(() => 1);
  const dl: number[] = c.dilation_rate ?? ks.map(() => 1);
  const padding = String(c.padding ?? 'valid');
  const [kH, sH, dH] = rank === 1 ? [1, 1, 1] : [ks[0], st[0], dl[0]];
  const [kW, sW, dW] = [ks[rank - 1], st[rank - 1], dl[rank - 1]];
  if (padding === 'causal' && rank !== 1) throw unsupportedLayer(n, `option padding="causal"`, 'valid, same (causal for 1-D only)');
  const ph = padInfo(inH, kH, sH, dH, rank === 1 ? 'valid' : padding);
  const pw = padInfo(inW, kW, sW, dW, padding);
  const f = fuse(n, true);
  const outShapeIr = staticShape(f.outIr);
  const outShapeNHWC = cf ? toLast(rank + 2).map((p) => outShapeIr[p]) : outShapeIr;
  const outH = rank === 1 ? 1 : outShapeNHWC[1];
  const outW = outShapeNHWC[rank];
  const outC = outShapeNHWC[rank + 1];
  if (outH !== ph.out || outW !== pw.out) throw new Error(`${n.name}: output shape ${outShapeIr} disagrees with padding math ${ph.out}x${pw.out}`);
  const outIrL = lt(f.outIr, f.outQ);
  const outL = cf ? newT(`${n.name}/nhwc`, outShapeNHWC, f.outQ) : outIrL;
  const common = {
    in: inL,
    out: outL,
    batch: inT.shape[0],
    inH,
    inW,
    inC,
    outH,
    outW,
    kH,
    kW,
    strideH: sH,
    strideW: sW,
    dilH: dH,
    dilW: dW,
    padTop: ph.before,
    padLeft: pw.before,
    zpIn: inT.q.zeroPoint,
  };
  let wq, bias;
  if (!dw) {
    const k = n.weights.kernel; // [kh?, kw, cin/g, F]
    const groups = Number(c.groups ?? 1);
    const F = k.shape[k.shape.length - 1];
    const per = k.data.length / F;
    const wt = new Float32Array(k.data.length);
    for (let i = 0; i < per; i++) for (let o = 0; o < F; o++) wt[o * per + i] = k.data[i * F + o];
    const label = f.fused ? `${n.name}+${f.fused}` : n.name;
    if (L.opts.weightPrecision === 'int16' && L.prec.cur === 'int16' && groups === 1 && per <= W16_MAX_IN) {
      emit('CONV2D', { ...common, outC, ...convW16Params(n, L, wt, F, inT.q.scale, f), groups }, [inL], [outL], label);
      if (cf) transposeL(outL, toFirst(rank + 2), n.name, outIrL);
      return;
    }
    wq = channelWeights(wt, F, k);
    bias = foldBias(n.weights.bias?.data ?? null, wq.q, wq.scales, inT.q.scale, inT.q.zeroPoint, n.weights.bias?.fileInt32);
    const ms = Array.from(wq.scales, (s) => qm(outputScale(L.opts.rounding, inT.q.scale, s, f.accQ.scale), n, 'output'));
    // layout 1 (runtime: each output as one DENSE vector over its kernel rows) where the taps
    // of a kernel row are contiguous in NHWC: no width dilation, one group
    const layout = groups === 1 && dW === 1 ? 1 : 0;
    emit(
      'CONV2D',
      {
        ...common,
        outC,
        weights: constI8(layout ? blockRows4(wq.q, F, per) : wq.q, `${n.name} weights`),
        ...requantParams(n.name, bias, ms, f),
        groups,
        layout,
      },
      [inL],
      [outL],
      label,
    );
  } else {
    const k = n.weights.depthwise_kernel; // [kh?, kw, C, dm]
    const dm = k.shape[k.shape.length - 1];
    const OC = inC * dm;
    const taps = k.data.length / OC;
    const wt = new Float32Array(k.data.length);
    for (let t = 0; t < taps; t++) for (let o = 0; o < OC; o++) wt[o * taps + t] = k.data[t * OC + o];
    wq = channelWeights(wt, OC, k);
    bias = foldBias(n.weights.bias?.data ?? null, wq.q, wq.scales, inT.q.scale, inT.q.zeroPoint, n.weights.bias?.fileInt32);
    const back = new Int8Array(wq.q.length);
    for (let t = 0; t < taps; t++) for (let o = 0; o < OC; o++) back[t * OC + o] = wq.q[o * taps + t];
    const ms = Array.from(wq.scales, (s) => qm(outputScale(L.opts.rounding, inT.q.scale, s, f.accQ.scale), n, 'output'));
    emit(
      'DEPTHWISE_CONV2D',
      {
        ...common,
        depthMult: dm,
        weights: constI8(back, `${n.name} weights`),
        ...requantParams(n.name, bias, ms, f),
      },
      [inL],
      [outL],
      f.fused ? `${n.name}+${f.fused}` : n.name,
    );
  }
  if (cf) transposeL(outL, toFirst(rank + 2), n.name, outIrL);
  return;
}

/**
 * CONV2D layout 2 params (int16 activations and int16 weights, 16x16, groups 1): the [F][per]
 * matrix `wt` as per-channel int16 weights in DENSE layout 1's order, the int64 bias (zero points
 * are 0: nothing folded), multipliers s_in * s_w / s_out.
 */
function convW16Params(n: IRNode, L: LowerCtx, wt: Float32Array, F: number, sIn: number, f: ReturnType<LowerCtx['fuse']>) {
  const wq = quantizeWeights16(wt, F);
  const ms = Array.from(wq.scales, (s) => L.qm((sIn * s) / f.accQ.scale, n, 'output'));
  return {
    weights: constI16(blockRows4(wq.q, F, wt.length / F), `${n.name} weights`),
    ...requantParams(n.name, new Int32Array(0), ms, f),
    bias: constI64(bias64(n.weights.bias?.data ?? null, wq.scales, sIn), `${n.name} bias`),
    layout: 2,
  };
}

/** SeparableConv -> DepthwiseConv (no bias, linear) + pointwise Conv (k = 1, bias, activation). */
function splitSeparable(n: IRNode, kit: RewriteKit): IRNode[] {
  const g = kit.graph;
  const rank = n.className === 'SeparableConv1D' ? 1 : 2;
  const c = n.config;
  const dk = n.weights.depthwise_kernel;
  const outShape = g.tensors[n.outputs[0]].shape;
  const cf = c.data_format === 'channels_first';
  const inC = dk.shape[rank];
  const dm = dk.shape[rank + 1];
  // intermediate shape: the output's spatial dims with inC*dm channels
  const midShape = cf ? [outShape[0], inC * dm, ...outShape.slice(2)] : [...outShape.slice(0, -1), inC * dm];
  const mid = kit.newTensor(`${n.name}/depthwise`, midShape, -1);
  // inside a TimeDistributed view the rows are batch x steps: the intermediate tensor is too
  const mult = g.tensors[n.outputs[0]].batchMultiple;
  if (mult !== undefined) mid.batchMultiple = mult;
  const dw: IRNode = {
    ...n,
    name: kit.uniqueName(`${n.name}/depthwise`),
    className: rank === 1 ? 'DepthwiseConv1D' : 'DepthwiseConv2D',
    config: { ...c, depth_multiplier: dm, use_bias: false, activation: 'linear' },
    inputs: [...n.inputs],
    outputs: [mid.id],
    weights: { depthwise_kernel: dk },
  };
  const one = rank === 1 ? [1] : [1, 1];
  const pw: IRNode = {
    ...n,
    name: kit.uniqueName(`${n.name}/pointwise`),
    className: rank === 1 ? 'Conv1D' : 'Conv2D',
    config: { ...c, kernel_size: one, strides: one, dilation_rate: one, padding: 'valid', groups: 1 },
    inputs: [mid.id],
    outputs: [...n.outputs],
    weights: n.weights.bias ? { kernel: n.weights.pointwise_kernel, bias: n.weights.bias } : { kernel: n.weights.pointwise_kernel },
  };
  return [dw, pw];
}

// ---------------------------------------------------------------------------------------
// entries

const PER_CHANNEL: QuantRule = {
  weights: 'int8 per output channel (symmetric), int32 bias',
  output: 'calibrated',
  splitActivation: true,
  absorbsBatchNorm: true,
};
const CONV: Lowering = { ops: ['CONV2D', 'LAYOUT'], emit: lowerConv };
const DEPTHWISE: Lowering = { ops: ['DEPTHWISE_CONV2D', 'LAYOUT'], emit: lowerConv };

function entry(
  className: string,
  aliases: string[],
  normalize: Normalize,
  rule: LayerRule,
  float: LayerEntry['float'],
  lower: Lowering,
  quant = PER_CHANNEL,
): LayerEntry {
  return { className, aliases, normalize, rule, float, passesMask: false, quant, lower };
}

export const CONVOLUTIONAL: LayerEntry[] = [
  entry('Conv1D', ['Convolution1D', 'AtrousConvolution1D'], normalizeConv(1), convRule(1), conv.conv1d, CONV),
  entry('Conv2D', ['Convolution2D', 'AtrousConvolution2D'], normalizeConv(2), convRule(2), conv.conv2d, CONV),
  entry('DepthwiseConv1D', [], normalizeDepthwise(1, false), depthwiseRule(1, false), conv.depthwiseConv1d, DEPTHWISE),
  entry('DepthwiseConv2D', ['DepthwiseConvolution2D'], normalizeDepthwise(2, false), depthwiseRule(2, false), conv.depthwiseConv2d, DEPTHWISE),
  entry('SeparableConv1D', ['SeparableConvolution1D'], normalizeDepthwise(1, true), depthwiseRule(1, true), conv.separableConv1d, {
    rewrite: splitSeparable,
    into: ['DepthwiseConv1D', 'Conv1D'],
  }),
  entry('SeparableConv2D', ['SeparableConvolution2D'], normalizeDepthwise(2, true), depthwiseRule(2, true), conv.separableConv2d, {
    rewrite: splitSeparable,
    into: ['DepthwiseConv2D', 'Conv2D'],
  }),
];
