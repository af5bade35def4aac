/** Activation layers: ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax (and the lowering of Activation). */
import type { IRNode } from '../graph/ir.ts';
import { identity, needKnown, normAxis, type LayerRule } from '../graph/shapes.ts';
import * as core from '../float/layers/core.ts';
import { buildLut16, quantizeMultiplier16Softmax, softmaxTable, Q15_OUT, SOFTMAX_OUT } from '../quantize/qparams.ts';
import { prod, constI8, constU32, unsupportedLayer, elementwiseFn, activationLut, type ConstRef } from '../quantize/lower-util.ts';
import { softmaxTfliteParams } from '../quantize/softmax-tflite.ts';
import type { LowerCtx } from '../quantize/lower-ctx.ts';
import type { LayerEntry, Lowering, Normalize, QuantRule } from './entry.ts';

const normalizeReLU: Normalize = (c) => {
  c.max_value = c.max_value === undefined || c.max_value === null ? null : Number(c.max_value);
  c.negative_slope = Number(c.negative_slope ?? 0);
  c.threshold = Number(c.threshold ?? 0);
};

const normalizeLeakyReLU: Normalize = (c, src) => {
  c.alpha = Number(src.alpha ?? src.negative_slope ?? 0.3);
  delete c.negative_slope;
};

const normalizeELU: Normalize = (c) => {
  c.alpha = Number(c.alpha ?? 1.0);
};

const normalizeThresholdedReLU: Normalize = (c) => {
  c.theta = Number(c.theta ?? 1.0);
};

const normalizePReLU: Normalize = (c) => {
  const sa = c.shared_axes;
  c.shared_axes = sa === undefined || sa === null ? null : (Array.isArray(sa) ? sa : [sa]).map(Number);
};

const normalizeSoftmax: Normalize = (c) => {
  c.axis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : (c.axis ?? -1);
};

const reluRule: LayerRule = {
  lint(cfg, add) {
    if (cfg.max_value !== null && !(cfg.max_value >= 0)) add('max_value', cfg.max_value, 'None or a number >= 0');
    if (!(cfg.negative_slope >= 0)) add('negative_slope', cfg.negative_slope, 'a number >= 0');
  },
  outputShapes: (_c, ins) => [ins[0].slice()],
};

const preluRule: LayerRule = {
  outputShapes: (_c, ins) => [ins[0].slice()],
  weights(cfg, ins, ctx) {
    const x = ins[0];
    const shape = x.slice(1).map((d, i) => (cfg.shared_axes && cfg.shared_axes.includes(i + 1) ? 1 : needKnown(ctx, d, `input dimension ${i + 1}`)));
    return [{ name: 'alpha', shape: shape as number[], trainable: true }];
  },
};

const softmaxRule: LayerRule = {
  lint(cfg, add) {
    if (!Number.isInteger(cfg.axis)) add('axis', cfg.axis, 'a single axis (-1)');
  },
  outputShapes(cfg, ins, ctx) {
    const x = ins[0];
    if (normAxis(cfg.axis, x.length) !== x.length - 1) ctx.problem('axis', cfg.axis, 'the last axis (-1)');
    return [x.slice()];
  },
};

/**
 * The int16 SOFTMAX table: i32 mult and shift scaling x - max (at the input scale) so that a
 * real difference of -10 reaches -32768 of the exp table, then TFLite's 513-entry int16 LUT of
 * exp over [-10, 0] at 2^-15.
 */
function softmaxTable16(sIn: number, what: string): ConstRef {
  const { mult, shift } = quantizeMultiplier16Softmax(sIn);
  const step = 10 / 65535;
  const lut = buildLut16((v) => Math.exp(v - 32767 * step), { scale: step, zeroPoint: 0 }, Q15_OUT);
  const b = new Uint8Array(8 + 2 * lut.length);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, mult, true);
  dv.setInt32(4, shift, true);
  lut.forEach((v, i) => dv.setInt16(8 + 2 * i, v, true));
  return { kind: 'const', bytes: b, align: 16, what };
}

/** Activation, ReLU, LeakyReLU, ELU, ThresholdedReLU, Softmax: a lookup table or the softmax op. */
export function lowerActivation(n: IRNode, L: LowerCtx): void {
  const { tensors, irQ, lt, emit, fixedActivationQ } = L;
  const cls = n.className;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
  const inL = lt(inIr);
  const inT = tensors[inL];
  const isSoftmax = cls === 'Softmax' || c.activation === 'softmax';
  if (c.activation === 'log_softmax') throw unsupportedLayer(n, 'activation "log_softmax"', 'softmax, element-wise activations');
  if (isSoftmax) {
    const r = inT.shape.length;
    let axis = Array.isArray(c.axis) ? (c.axis.length === 1 ? c.axis[0] : NaN) : (c.axis ?? -1);
    if (axis < 0) axis += r;
    if (axis !== r - 1) throw unsupportedLayer(n, `option axis=${JSON.stringify(c.axis)}`, 'softmax over the last axis');
    const wide = L.prec.cur === 'int16';
    const outL = lt(outIr, wide ? Q15_OUT : SOFTMAX_OUT);
    const depth = inT.shape[r - 1];
    if (c.kernel === 'tflite') {
      // a .tflite SOFTMAX: TFLite's own int8 kernel, bit for bit
      const params = { in: inL, out: outL, rows: prod(inT.shape) / depth, depth, ...softmaxTfliteParams(c.beta ?? 1, inT.q.scale) };
      emit('SOFTMAX_TFLITE', params, [inL], [outL], n.name);
      return;
    }
    const table = wide ? softmaxTable16(inT.q.scale, `${n.name} exp table`) : constU32(softmaxTable(inT.q.scale), `${n.name} exp table`);
    emit('SOFTMAX', { in: inL, out: outL, rows: prod(inT.shape) / depth, depth, table }, [inL], [outL], n.name);
    return;
  }
  const fn = elementwiseFn(n);
  if (!fn) throw unsupportedLayer(n, `activation ${JSON.stringify(c.activation)}`, 'element-wise activations and softmax');
  const outQ = fixedActivationQ(n) ?? irQ(outIr);
  const outL = lt(outIr, outQ);
  const table =
    c.kernel === 'tflite' ? constI8(activationLut(n, fn, inT.q, outQ, L.opts.rounding), `${n.name} lut`) : L.lutConst(fn, inT.q, outQ, `${n.name} lut`);
  emit('LUT', { in: inL, out: outL, count: prod(inT.shape), table }, [inL], [outL], n.name);
  return;
}

function lowerPReLU(n: IRNode, L: LowerCtx): void {
  const { tensors, irQ, lt, qm, emit } = L;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
  const inL = lt(inIr);
  const inT = tensors[inL];
  const alpha = n.weights.alpha;
  const inner = inT.shape.slice(1);
  const as = [...alpha.shape];
  while (as.length > inner.length) as.shift();
  while (as.length < inner.length) as.unshift(1);
  let lead = 0;
  while (lead < as.length && as[lead] === 1) lead++;
  const suffix = as.slice(lead);
  if (suffix.join(',') !== inner.slice(lead).join(',')) {
    throw unsupportedLayer(
      n,
      `option shared_axes=${JSON.stringify(c.shared_axes)}`,
      'alpha shared over leading axes only (e.g. shared_axes=[1] for [batch, steps, channels])',
    );
  }
  const channels = prod(suffix);
  const outQ = irQ(outIr);
  const outL = lt(outIr, outQ);
  let amax = 0;
  for (const v of alpha.data) amax = Math.max(amax, Math.abs(v));
  const sA = amax > 0 ? Math.fround(amax / 127) : 1;
  const aq = new Int8Array(channels);
  for (let i = 0; i < channels; i++) aq[i] = Math.max(-127, Math.min(127, Math.round(alpha.data[i] / sA)));
  const pos = qm(inT.q.scale / outQ.scale, n, 'positive');
  const neg = qm((inT.q.scale * sA) / outQ.scale, n, 'negative');
  emit(
    'PRELU',
    {
      in: inL,
      out: outL,
      count: prod(inT.shape),
      channels,
      zpIn: inT.q.zeroPoint,
      zpOut: outQ.zeroPoint,
      posMult: pos.mult,
      posShift: pos.shift,
      alpha: constI8(aq, `${n.name} alpha`),
      negMult: neg.mult,
      negShift: neg.shift,
    },
    [inL],
    [outL],
    n.name,
  );
  return;
}

const LUT: QuantRule = { weights: 'an int8 lookup table of the function', output: 'calibrated' };
const ELEMENTWISE: Lowering = { ops: ['LUT'], emit: lowerActivation };

function entry(className: string, normalize: Normalize, rule: LayerRule, float: LayerEntry['float'], quant: QuantRule, lower: Lowering): LayerEntry {
  return { className, aliases: [], normalize, rule, float, passesMask: true, quant, lower };
}

export const ACTIVATIONS: LayerEntry[] = [
  entry('ReLU', normalizeReLU, reluRule, core.reluLayer, LUT, ELEMENTWISE),
  entry('LeakyReLU', normalizeLeakyReLU, identity, core.leakyRelu, LUT, ELEMENTWISE),
  entry('ELU', normalizeELU, identity, core.eluLayer, LUT, ELEMENTWISE),
  entry('ThresholdedReLU', normalizeThresholdedReLU, identity, core.thresholdedRelu, LUT, ELEMENTWISE),
  entry('PReLU', normalizePReLU, preluRule, core.prelu, { weights: 'alpha as int8, one scale', output: 'calibrated' }, { ops: ['PRELU'], emit: lowerPReLU }),
  entry(
    'Softmax',
    normalizeSoftmax,
    softmaxRule,
    core.softmaxLayer,
    { weights: 'an exp table of the input scale', output: 'fixed: scale 1/256, zero point -128 (as TFLite)' },
    { ops: ['SOFTMAX'], emit: lowerActivation },
  ),
];
