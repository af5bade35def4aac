/** Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate. */
import type { IRNode } from '../graph/ir.ts';
import { fmt, normAxis, type Dim, type LayerRule, type RuleCtx, type Shape } from '../graph/shapes.ts';
import * as merge from '../float/layers/merge.ts';
import { frexp, roundHalfEven } from '../fixedpoint.ts';
import { asymmetricQParams, symmetricQParams16 } from '../quantize/qparams.ts';
import { prod } from '../quantize/lower-util.ts';
import type { LowerCtx } from '../quantize/lower-ctx.ts';
import { keepConfig, type LayerEntry, type Lowering, type Normalize, type QuantRule } from './entry.ts';

const normalizeConcatenate: Normalize = (c) => {
  c.axis = Number(c.axis ?? -1);
};

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
// lowering

/** An input's shape right-aligned to the output's rank (leading 1s), as numpy broadcasting reads it. */
function aligned(shape: number[], rank: number): number[] {
  return [...new Array(rank - shape.length).fill(1), ...shape];
}

/**
 * How an input of a broadcasting merge reaches the output shape: 'same' (identical), 'repeat'
 * (broadcast along leading axes only: its elements are a whole number of copies of the output's
 * trailing block, which MUL reads cyclically) or 'expand' (anything else: a LAYOUT materialises it).
 */
function broadcastKind(shape: number[], out: number[]): 'same' | 'repeat' | 'expand' {
  const a = aligned(shape, out.length);
  if (a.every((d, i) => d === out[i])) return 'same';
  const k = a.findIndex((d) => d !== 1);
  return k < 0 || a.slice(k).every((d, i) => d === out[k + i]) ? 'repeat' : 'expand';
}

/** The input expanded to the output shape by a LAYOUT (its broadcast axes read with stride 0). */
function expandTo(inL: number, out: number[], n: IRNode, k: number, L: LowerCtx): number {
  const shape = L.tensors[inL].shape;
  const lead = out.length - shape.length;
  // a broadcast axis reads index floor(o / outDim) = 0 of a size-1 axis
  const axes = aligned(shape, out.length).map((d, j) => (d === out[j] && j >= lead ? { inAxis: j - lead } : { inAxis: -1, div: out[j] }));
  return L.layout(inL, out, axes, n.name, undefined, `${n.name}/broadcast${k}`);
}

/**
 * XNNPACK's int8 add (what the TFLite interpreter runs in mode float) as ADD_N parameters: with
 * m_k = round-half-even(f32(s_k / s_out) · 2^shift), shift = 20 − the exponent of the largest
 * f32(s_k / s_out), XNNPACK computes y = (Σ (x_k − zp_k)·m_k + 2^(shift−1)) >> shift. Each input's
 * MBQM (single rounding, left shift 0) multiplies by m_k exactly (mult m_k·2^j, shift 31 − j),
 * and the output's (mult 2^30, shift 1 − shift) is the rounding shift.
 */
function xnnpackAdd(scales: number[], outScale: number) {
  const ratios = scales.map((s) => Math.fround(Math.fround(s) / Math.fround(outScale)));
  const shift = 20 - (frexp(Math.max(...ratios)).e - 1);
  const inputs = ratios.map((r) => {
    const m = roundHalfEven(r * 2 ** shift);
    if (m === 0) return { mult: 0, shift: 0 };
    const j = 31 - frexp(m).e; // m·2^j in [2^30, 2^31)
    return { mult: m * 2 ** j, shift: 31 - j };
  });
  return { inputs, output: { mult: 2 ** 30, shift: 1 - shift } };
}

function lowerAdd(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, qm, emit, fuse } = L;
  const cls = n.className;
  // broadcast inputs are expanded to the output shape first (ADD_N reads every input element-wise)
  const outShape = L.staticShape(n.outputs[0]);
  const ins = n.inputs.map((t, k) => {
    const i = lt(t);
    return broadcastKind(tensors[i].shape, outShape) === 'same' ? i : expandTo(i, outShape, n, k, L);
  });
  const f = fuse(n, false);
  const outL = lt(f.outIr, f.outQ);
  const scales = ins.map((i) => tensors[i].q.scale);
  const twiceMax = 2 * Math.max(...scales);
  // TFLite's ADD: inputs shifted left by 20 (int8) or 15 (int16) before their rescale
  let leftShift = L.prec.cur === 'int16' ? 15 : 20;
  let groups = ins.map((i, k) => {
    const sign = cls === 'Subtract' && k === 1 ? -1 : 1;
    const m = qm((sign * tensors[i].q.scale) / twiceMax, n, `input ${k}`);
    return { tensor: i, zp: tensors[i].q.zeroPoint, mult: m.mult, shift: m.shift };
  });
  let o = qm(twiceMax / ((1 << leftShift) * f.accQ.scale * (cls === 'Average' ? ins.length : 1)), n, 'output');
  if (cls === 'Add' && L.opts.rounding === 'float') {
    const x = xnnpackAdd(scales, f.accQ.scale);
    leftShift = 0;
    groups = groups.map((g, k) => ({ ...g, ...x.inputs[k] }));
    o = x.output;
  }
  emit(
    'ADD_N',
    {
      out: outL,
      count: prod(tensors[outL].shape),
      zpOut: f.accQ.zeroPoint,
      actMin: f.range[0],
      actMax: f.range[1],
      leftShift,
      outMult: o.mult,
      outShift: o.shift,
      n: groups.length,
      rep: groups,
    },
    ins,
    [outL],
    f.fused ? `${n.name}+${f.fused}` : n.name,
  );
  return;
}

/**
 * The inputs of a Multiply in chain order: one of the output's shape first (the first such, else
 * the first input expanded by a LAYOUT), then the others; one that broadcasts along leading axes
 * only is MUL's repeated `b`, any other broadcast is expanded by a LAYOUT.
 */
function multiplyOrder(n: IRNode, L: LowerCtx): { l: number; ir: number }[] {
  const outShape = L.staticShape(n.outputs[0]);
  const ins = n.inputs.map((ir) => ({ l: L.lt(ir), ir }));
  const kinds = ins.map((x) => broadcastKind(L.tensors[x.l].shape, outShape));
  let first = kinds.indexOf('same');
  if (first < 0) {
    first = 0;
    ins[0] = { ...ins[0], l: expandTo(ins[0].l, outShape, n, 0, L) };
    kinds[0] = 'same';
  }
  const rest = ins.flatMap((x, k) => (k === first ? [] : [kinds[k] === 'expand' ? { ...x, l: expandTo(x.l, outShape, n, k, L) } : x]));
  return [ins[first], ...rest];
}

function lowerMultiply(n: IRNode, L: LowerCtx): void {
  const { cal, tensors, notes, newT, lt, qm, emit, fuse } = L;
  const order = multiplyOrder(n, L);
  const ins = order.map((x) => x.l);
  const f = fuse(n, false);
  const outL = lt(f.outIr, f.outQ);
  let acc = ins[0];
  let accRange = cal.ranges.get(order[0].ir) ?? { min: -1, max: 1 };
  for (let k = 1; k < ins.length; k++) {
    const last = k === ins.length - 1;
    const rb = cal.ranges.get(order[k].ir) ?? { min: -1, max: 1 };
    const pr = [accRange.min * rb.min, accRange.min * rb.max, accRange.max * rb.min, accRange.max * rb.max];
    accRange = { min: Math.min(...pr, 0), max: Math.max(...pr, 0) };
    const oq = last ? f.accQ : L.prec.cur === 'int16' ? symmetricQParams16(accRange.min, accRange.max) : asymmetricQParams(accRange.min, accRange.max);
    const o = last ? outL : newT(`${n.name}/product${k}`, tensors[outL].shape, oq);
    const a = tensors[acc],
      b = tensors[ins[k]];
    const m = qm((a.q.scale * b.q.scale) / oq.scale, n, 'output');
    emit(
      'MUL',
      {
        a: acc,
        b: ins[k],
        out: o,
        count: prod(a.shape),
        zpA: a.q.zeroPoint,
        zpB: b.q.zeroPoint,
        zpOut: oq.zeroPoint,
        mult: m.mult,
        shift: m.shift,
        actMin: last ? f.range[0] : L.actRange()[0],
        actMax: last ? f.range[1] : L.actRange()[1],
      },
      [acc, ins[k]],
      [o],
      f.fused ? `${n.name}+${f.fused}` : n.name,
    );
    if (!last) notes.push(`Multiply '${n.name}': intermediate product range estimated from the input ranges`);
    acc = o;
  }
  return;
}

function lowerMaximum(n: IRNode, L: LowerCtx): void {
  const { tensors, irQ, lt, qm, emit } = L;
  const cls = n.className;
  const outIr = n.outputs[0];
  const outShape = L.staticShape(outIr);
  const ins = n.inputs.map((t, k) => {
    const i = lt(t);
    return broadcastKind(tensors[i].shape, outShape) === 'same' ? i : expandTo(i, outShape, n, k, L);
  });
  const outQ = irQ(outIr);
  const outL = lt(outIr, outQ);
  const groups = ins.map((i, k) => {
    const m = qm(tensors[i].q.scale / outQ.scale, n, `input ${k}`);
    return { tensor: i, zp: tensors[i].q.zeroPoint, mult: m.mult, shift: m.shift };
  });
  emit(
    'MAXMIN',
    {
      out: outL,
      count: prod(tensors[outL].shape),
      isMin: cls === 'Minimum' ? 1 : 0,
      zpOut: outQ.zeroPoint,
      actMin: L.actRange()[0],
      actMax: L.actRange()[1],
      n: groups.length,
      rep: groups,
    },
    ins,
    [outL],
    n.name,
  );
  return;
}

function lowerConcatenate(n: IRNode, L: LowerCtx): void {
  const { tensors, irQ, lt, qm, emit } = L;
  const c = n.config;
  const outIr = n.outputs[0];
  const ins = n.inputs.map((t) => lt(t));
  const outQ = irQ(outIr);
  const outL = lt(outIr, outQ);
  const oShape = tensors[outL].shape;
  let axis = Number(c.axis ?? -1);
  if (axis < 0) axis += oShape.length;
  const groups = ins.map((i, k) => {
    const t = tensors[i];
    const same = t.q.scale === outQ.scale && t.q.zeroPoint === outQ.zeroPoint;
    const m = same ? { mult: 0, shift: 0 } : qm(t.q.scale / outQ.scale, n, `input ${k}`);
    return { tensor: i, inner: prod(t.shape.slice(axis)), zp: t.q.zeroPoint, mult: m.mult, shift: m.shift, identity: same ? 1 : 0 };
  });
  emit('CONCAT', { out: outL, outer: prod(oShape.slice(0, axis)), zpOut: outQ.zeroPoint, n: groups.length, rep: groups }, ins, [outL], n.name);
  return;
}

// ---------------------------------------------------------------------------------------
// entries

const CALIBRATED: QuantRule = { weights: 'none', output: 'calibrated' };

function entry(className: string, rule: LayerRule, float: LayerEntry['float'], lower: Lowering, normalize: Normalize = keepConfig): LayerEntry {
  return { className, aliases: [], normalize, rule, float, passesMask: false, quant: CALIBRATED, lower };
}

// LAYOUT: a broadcast input expanded to the output shape
const ADD_N: Lowering = { ops: ['ADD_N', 'LAYOUT'], emit: lowerAdd };
const MAXMIN: Lowering = { ops: ['MAXMIN', 'LAYOUT'], emit: lowerMaximum };

export const MERGING: LayerEntry[] = [
  entry('Add', mergeRule('many'), merge.add, ADD_N),
  entry('Subtract', mergeRule(2), merge.subtract, ADD_N),
  entry('Multiply', mergeRule('many'), merge.multiply, { ops: ['MUL', 'LAYOUT'], emit: lowerMultiply }),
  entry('Average', mergeRule('many'), merge.average, ADD_N),
  entry('Maximum', mergeRule('many'), merge.maximum, MAXMIN),
  entry('Minimum', mergeRule('many'), merge.minimum, MAXMIN),
  entry('Concatenate', concatenate, merge.concatenate, { ops: ['CONCAT'], emit: lowerConcatenate }, normalizeConcatenate),
];
