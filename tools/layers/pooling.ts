/** Pooling layers: Max/AveragePooling1D/2D and their global forms. */
import type { IRNode } from '../graph/ir.ts';
import { lowerCase, tuple, dataFormat, type NormalizeCtx } from '../graph/config.ts';
import { convOutLen, fmt, joinCL, needRank, prod, splitCL, type LayerRule } from '../graph/shapes.ts';
import * as pool from '../float/layers/pooling.ts';
import { padInfo } from '../float/layers/conv.ts';
import type { LowerCtx } from '../quantize/lower-ctx.ts';
import { meanTfliteParams } from '../quantize/mean-tflite.ts';
import { unsupportedLayer } from '../quantize/lower-util.ts';
import { convLint } from './convolutional.ts';
import type { LayerEntry, Lowering, Normalize, QuantRule } from './entry.ts';

function normalizePool(r: 1 | 2): Normalize {
  return (c, src, { k1 }: NormalizeCtx) => {
    if (k1 && r === 1) {
      if ('pool_length' in src) c.pool_size = src.pool_length;
      if ('stride' in src) c.strides = src.stride;
      delete c.pool_length;
      delete c.stride;
    }
    delete c.dim_ordering;
    c.pool_size = tuple(c.pool_size, r, new Array(r).fill(2));
    c.strides = tuple(c.strides, r, c.pool_size);
    c.padding = lowerCase(c.padding, 'valid');
    c.data_format = dataFormat(c);
  };
}

const normalizeGlobalPool: Normalize = (c) => {
  delete c.dim_ordering;
  c.data_format = dataFormat(c);
  c.keepdims = !!c.keepdims;
};

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

/**
 * A .tflite MEAN over the spatial axes (GlobalAveragePooling2D with config.kernel 'tflite'): op
 * MEAN with the file's output quantization and the multiplier of TFLite's implementation for the
 * blob's rounding mode (tools/quantize/mean-tflite.ts).
 */
function lowerMeanTflite(n: IRNode, L: LowerCtx): void {
  const inIr = n.inputs[0];
  const { inL, inT, inH, inW, C } = L.nhwcInput(inIr, 2, n.config, n.name);
  const outL = L.lt(n.outputs[0]);
  const outQ = L.tensors[outL].q;
  let m;
  try {
    m = meanTfliteParams(inT.q.scale, outQ.scale, inH * inW, L.opts.rounding);
  } catch {
    throw unsupportedLayer(n, `input/output scale ratio ${inT.q.scale / outQ.scale}`, 'a ratio below 2^30');
  }
  const params = { in: inL, out: outL, batch: inT.shape[0], inH, inW, channels: C, zpIn: inT.q.zeroPoint, zpOut: outQ.zeroPoint, ...m };
  L.emit('MEAN', params, [inL], [outL], n.name);
}

/** Max/average pooling, windowed or global: the input's qparams carry through. */
function lowerPooling(n: IRNode, L: LowerCtx): void {
  if (n.config.kernel === 'tflite') return lowerMeanTflite(n, L);
  const { qOverride, newT, lt, emit, transposeL, nhwcInput, toFirst } = L;
  const cls = n.className;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
  const rank = cls.includes('1D') ? 1 : 2;
  const isMax = cls.includes('Max');
  const global = cls.startsWith('Global');
  const { cf, inL, inT, inH, inW, C } = nhwcInput(inIr, rank, c, n.name);
  let kH, kW, sH, sW, ph, pw;
  if (global) {
    kH = inH;
    kW = inW;
    sH = 1;
    sW = 1;
    ph = { out: 1, before: 0 };
    pw = { out: 1, before: 0 };
  } else {
    const ps: number[] = c.pool_size;
    const st: number[] = c.strides ?? ps;
    const padding = String(c.padding ?? 'valid');
    kH = rank === 1 ? 1 : ps[0];
    kW = ps[rank - 1];
    sH = rank === 1 ? 1 : st[0];
    sW = st[rank - 1];
    ph = padInfo(inH, kH, sH, 1, rank === 1 ? 'valid' : padding);
    pw = padInfo(inW, kW, sW, 1, padding);
  }
  // pooling keeps the input's qparams
  qOverride.set(outIr, inT.q);
  const outIrL = lt(outIr, inT.q);
  const nhwc = [inT.shape[0], ...(rank === 2 ? [ph.out] : []), pw.out, C];
  const outL = cf && !global ? newT(`${n.name}/nhwc`, nhwc, inT.q) : outIrL;
  emit(
    isMax ? 'MAX_POOL2D' : 'AVG_POOL2D',
    {
      in: inL,
      out: outL,
      batch: inT.shape[0],
      inH,
      inW,
      channels: C,
      outH: ph.out,
      outW: pw.out,
      kH,
      kW,
      strideH: sH,
      strideW: sW,
      padTop: ph.before,
      padLeft: pw.before,
      actMin: L.actRange()[0],
      actMax: L.actRange()[1],
    },
    [inL],
    [outL],
    n.name,
  );
  if (cf && !global) transposeL(outL, toFirst(rank + 2), n.name, outIrL);
  return;
}

const SAME_Q: QuantRule = { weights: 'none', output: 'input' };
const MAX: Lowering = { ops: ['MAX_POOL2D', 'LAYOUT'], emit: lowerPooling };
const AVG: Lowering = { ops: ['AVG_POOL2D', 'LAYOUT'], emit: lowerPooling };
// GlobalAveragePooling2D of a .tflite MEAN (config.kernel 'tflite') lowers to op MEAN
const GAP2D: Lowering = { ops: ['AVG_POOL2D', 'LAYOUT', 'MEAN'], int8Only: ['MEAN'], emit: lowerPooling };

function entry(className: string, aliases: string[], normalize: Normalize, rule: LayerRule, float: LayerEntry['float'], lower: Lowering): LayerEntry {
  return { className, aliases, normalize, rule, float, passesMask: false, quant: SAME_Q, lower };
}

export const POOLING: LayerEntry[] = [
  entry('MaxPooling1D', ['MaxPool1D'], normalizePool(1), poolRule(1, false), pool.maxPool1d, MAX),
  entry('MaxPooling2D', ['MaxPool2D'], normalizePool(2), poolRule(2, false), pool.maxPool2d, MAX),
  entry('AveragePooling1D', ['AvgPool1D', 'AveragePool1D'], normalizePool(1), poolRule(1, true), pool.avgPool1d, AVG),
  entry('AveragePooling2D', ['AvgPool2D'], normalizePool(2), poolRule(2, true), pool.avgPool2d, AVG),
  entry('GlobalMaxPooling1D', ['GlobalMaxPool1D'], normalizeGlobalPool, globalPoolRule(1, false), pool.globalMaxPool, MAX),
  entry('GlobalMaxPooling2D', ['GlobalMaxPool2D'], normalizeGlobalPool, globalPoolRule(2, false), pool.globalMaxPool, MAX),
  entry('GlobalAveragePooling1D', ['GlobalAvgPool1D'], normalizeGlobalPool, globalPoolRule(1, true), pool.globalAvgPool, AVG),
  entry('GlobalAveragePooling2D', ['GlobalAvgPool2D'], normalizeGlobalPool, globalPoolRule(2, true), pool.globalAvgPool, GAP2D),
];
