/**
 * SimpleRNN, GRU (reset_after true/false), LSTM (gates i,f,c,o) and Bidirectional, with
 * go_backwards, return_sequences, return_state, stateful, initial_state inputs and time masks
 * (masked steps keep the previous state; the output is the previous output, or zeros with
 * zero_output_for_mask, the previous output starting at zeros, as the Keras backend `rnn` does).
 */
import type { FloatTensor, IRNode } from '../../graph/ir.ts';
import { UserError, EXIT } from '../../errors.ts';
import { activationFn } from '../activations.ts';
import { rangeUpdate, type LayerCtx, type LayerFn, type RecurrentInfo, type TimeMask } from '../types.ts';
import { matmulLast } from './core.ts';
import { applyMergeMode } from './bidir-merge.ts';
import { RECURRENT } from '../../blob/spec.ts';

export type RnnKind = 'SimpleRNN' | 'GRU' | 'LSTM';

export interface RnnSpec {
  kind: RnnKind;
  name: string;
  units: number;
  act: (x: number) => number;
  ract: (x: number) => number;
  resetAfter: boolean;
  kernel: FloatTensor; // [F, g*u]
  recurrent: FloatTensor; // [u, g*u]
  inBias?: Float32Array; // [g*u]
  recBias?: Float32Array; // [g*u] (GRU reset_after only)
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  stateful: boolean;
  zeroOutputForMask: boolean;
}

const GATES: Record<RnnKind, number> = RECURRENT.GATES;
const STATE_COUNT: Record<RnnKind, number> = { SimpleRNN: 1, GRU: 1, LSTM: 2 };

/** Build a spec from a normalised RNN config and weights looked up under `prefix` ('' or 'forward/'). */
export function rnnSpec(kind: RnnKind, name: string, c: Record<string, any>, weights: Record<string, FloatTensor>, prefix = ''): RnnSpec {
  const u: number = c.units;
  const g = GATES[kind];
  const w = (n: string) => weights[prefix + n];
  const kernel = w('kernel');
  const recurrent = w('recurrent_kernel');
  if (!kernel || !recurrent) throw new Error(`float forward: RNN '${name}' misses ${prefix}kernel/recurrent_kernel`);
  const resetAfter = kind === 'GRU' && c.reset_after === true;
  let inBias: Float32Array | undefined;
  let recBias: Float32Array | undefined;
  const b = c.use_bias === false ? undefined : w('bias');
  if (b) {
    if (resetAfter) {
      if (b.data.length !== 2 * g * u) throw new Error(`float forward: GRU '${name}' reset_after bias must be [2, ${3 * u}], got [${b.shape}]`);
      inBias = b.data.subarray(0, g * u);
      recBias = b.data.subarray(g * u);
    } else {
      if (b.data.length !== g * u) throw new Error(`float forward: RNN '${name}' bias must be [${g * u}], got [${b.shape}]`);
      inBias = b.data;
    }
  }
  return {
    kind,
    name,
    units: u,
    act: activationFn(c.activation ?? 'tanh'),
    ract: activationFn(kind === 'SimpleRNN' ? 'linear' : (c.recurrent_activation ?? 'sigmoid')),
    resetAfter,
    kernel,
    recurrent,
    inBias,
    recBias,
    returnSequences: !!c.return_sequences,
    returnState: !!c.return_state,
    goBackwards: !!c.go_backwards,
    stateful: !!c.stateful,
    zeroOutputForMask: !!c.zero_output_for_mask,
  };
}

export interface RnnResult {
  /** [B, T, u] outputs in iteration order (reversed in time when go_backwards). */
  seq: FloatTensor;
  /** [B, u] output of the last step (after masking). */
  last: FloatTensor;
  /** Final states [h] or [h, c], each [B, u]. */
  states: FloatTensor[];
}

/** One GRU step of one batch row: gates z, r, then the candidate h (reset before or after the matmul). */
function gruStep(
  s: RnnSpec,
  io: { xw: Float32Array; xo: number; rec: Float64Array; pre: Float64Array; hb: Float64Array; hNew: Float64Array; rh: Float64Array; rec2: Float64Array },
  rec_: ((k: string, v: ArrayLike<number>) => void) | null,
): void {
  const { xw, xo, rec, pre, hb, hNew, rh, rec2 } = io;
  const u = s.units;
  const G = GATES[s.kind] * u;
  const U = s.recurrent.data;
  const z = pre.subarray(0, u);
  const r = pre.subarray(u, 2 * u);
  for (let j = 0; j < u; j++) {
    z[j] = xw[xo + j] + rec[j];
    r[j] = xw[xo + u + j] + rec[u + j];
  }
  if (rec_) {
    rec_('z_pre', z);
    rec_('r_pre', r);
    rec_('rec_z', rec.subarray(0, u));
    rec_('rec_r', rec.subarray(u, 2 * u));
  }
  const zs = new Float64Array(u);
  for (let j = 0; j < u; j++) {
    zs[j] = s.ract(z[j]);
    r[j] = s.ract(r[j]);
  }
  if (s.resetAfter) {
    for (let j = 0; j < u; j++) rec2[j] = rec[2 * u + j];
  } else {
    for (let j = 0; j < u; j++) rh[j] = r[j] * hb[j];
    rec2.fill(0);
    for (let k = 0; k < u; k++) {
      const hv = rh[k];
      if (hv === 0) continue;
      const ro = k * G + 2 * u;
      for (let j = 0; j < u; j++) rec2[j] += hv * U[ro + j];
    }
  }
  const hp = new Float64Array(u);
  for (let j = 0; j < u; j++) {
    hp[j] = xw[xo + 2 * u + j] + (s.resetAfter ? r[j] * rec2[j] : rec2[j]);
    const hh = s.act(hp[j]);
    hNew[j] = zs[j] * hb[j] + (1 - zs[j]) * hh;
    if (rec_) rec_('hh', [hh]);
  }
  if (rec_) {
    rec_('z', zs);
    rec_('r', r);
    rec_('h_pre', hp);
    rec_('rec_h', rec2);
    rec_('x_z', xw.subarray(xo, xo + u));
    rec_('x_r', xw.subarray(xo + u, xo + 2 * u));
    rec_('x_h', xw.subarray(xo + 2 * u, xo + 3 * u));
  }
}

/** Run one recurrent layer over x [B, T, F]. */
export function runRnn(s: RnnSpec, x: FloatTensor, mask: TimeMask | null, init: FloatTensor[] | null, info?: RecurrentInfo, pfx = ''): RnnResult {
  const [B, T] = x.shape;
  const u = s.units;
  const g = GATES[s.kind];
  const G = g * u;
  const xw = matmulLast(x, s.kernel, s.inBias ? { shape: [G], data: s.inBias } : undefined).data; // [B,T,G]
  const U = s.recurrent.data;
  const nStates = STATE_COUNT[s.kind];
  const h = new Float64Array(B * u);
  const cst = new Float64Array(B * u);
  if (init) {
    for (let i = 0; i < B * u; i++) h[i] = init[0].data[i];
    if (nStates === 2) for (let i = 0; i < B * u; i++) cst[i] = init[1].data[i];
  }
  const prevOut = new Float64Array(B * u);
  const seq = new Float32Array(B * T * u);
  const rec = new Float64Array(G);
  const pre = new Float64Array(G);
  const hNew = new Float64Array(u);
  const cNew = new Float64Array(u);
  const rh = new Float64Array(u);
  const rec2 = new Float64Array(u);
  // per-quantity scratch for the range hook
  const rec_ = info ? (k: string, v: ArrayLike<number>) => rangeUpdate(info, pfx + k, v) : null;

  for (let b = 0; b < B; b++) {
    const hb = h.subarray(b * u, (b + 1) * u);
    const cb = cst.subarray(b * u, (b + 1) * u);
    for (let step = 0; step < T; step++) {
      const t = s.goBackwards ? T - 1 - step : step;
      const valid = !mask || mask.data[b * T + t] !== 0;
      const xo = (b * T + t) * G;
      if (valid) {
        // recurrent matmul over the gates that use h directly
        const gcols = s.kind === 'GRU' && !s.resetAfter ? 2 * u : G;
        for (let j = 0; j < gcols; j++) rec[j] = s.recBias ? s.recBias[j] : 0;
        for (let k = 0; k < u; k++) {
          const hv = hb[k];
          if (hv === 0) continue;
          const ro = k * G;
          for (let j = 0; j < gcols; j++) rec[j] += hv * U[ro + j];
        }
        if (s.kind === 'SimpleRNN') {
          for (let j = 0; j < u; j++) {
            pre[j] = xw[xo + j] + rec[j];
            hNew[j] = s.act(pre[j]);
          }
          if (rec_) rec_('pre', pre.subarray(0, u));
        } else if (s.kind === 'LSTM') {
          for (let j = 0; j < G; j++) pre[j] = xw[xo + j] + rec[j];
          for (let j = 0; j < u; j++) {
            const i = s.ract(pre[j]);
            const f = s.ract(pre[u + j]);
            const gg = s.act(pre[2 * u + j]);
            const o = s.ract(pre[3 * u + j]);
            cNew[j] = f * cb[j] + i * gg;
            hNew[j] = o * s.act(cNew[j]);
            if (rec_) {
              rec_('i', [i]);
              rec_('f', [f]);
              rec_('g', [gg]);
              rec_('o', [o]);
              rec_('act_c', [s.act(cNew[j])]);
            }
          }
          if (rec_) {
            rec_('i_pre', pre.subarray(0, u));
            rec_('f_pre', pre.subarray(u, 2 * u));
            rec_('c_pre', pre.subarray(2 * u, 3 * u));
            rec_('o_pre', pre.subarray(3 * u, 4 * u));
            rec_('c', cNew);
          }
        } else {
          gruStep(s, { xw, xo, rec, pre, hb, hNew, rh, rec2 }, rec_);
        }
        if (rec_) rec_('h', hNew);
        hb.set(hNew);
        if (s.kind === 'LSTM') cb.set(cNew);
        prevOut.set(hNew, b * u);
        seq.set(hNew, (b * T + step) * u);
      } else {
        if (!s.zeroOutputForMask) seq.set(prevOut.subarray(b * u, (b + 1) * u), (b * T + step) * u);
      }
    }
  }
  const last = new Float32Array(B * u);
  for (let b = 0; b < B; b++) {
    if (T > 0) last.set(seq.subarray((b * T + T - 1) * u, (b * T + T) * u), b * u);
  }
  const states: FloatTensor[] = [{ shape: [B, u], data: Float32Array.from(h) }];
  if (nStates === 2) states.push({ shape: [B, u], data: Float32Array.from(cst) });
  return { seq: { shape: [B, T, u], data: seq }, last: { shape: [B, u], data: last }, states };
}

/** Initial states: explicit inputs, else stored stateful states, else zeros (null). */
function initialStates(s: RnnSpec, key: string, explicit: FloatTensor[], ctx: LayerCtx, B: number): FloatTensor[] | null {
  if (explicit.length) {
    if (explicit.length !== STATE_COUNT[s.kind]) {
      throw new UserError(`layer '${s.name}' (${s.kind}): got ${explicit.length} initial states, expected ${STATE_COUNT[s.kind]}`, EXIT.UNSUPPORTED);
    }
    return explicit;
  }
  if (s.stateful && ctx.state) {
    const st = ctx.state.states.get(key);
    if (st) {
      if (st[0].shape[0] !== B) {
        throw new UserError(`layer '${s.name}' (${s.kind}) is stateful with batch ${st[0].shape[0]} but got batch ${B}; reset the state first`, EXIT.USAGE);
      }
      return st;
    }
  }
  return null;
}

function runOne(s: RnnSpec, key: string, x: FloatTensor, mask: TimeMask | null, explicit: FloatTensor[], ctx: LayerCtx, pfx: string): RnnResult {
  const init = initialStates(s, key, explicit, ctx, x.shape[0]);
  const r = runRnn(s, x, mask, init, ctx.recurrent, pfx);
  if (s.stateful && ctx.state) ctx.state.states.set(key, r.states);
  return r;
}

export function makeRnn(kind: RnnKind): LayerFn {
  return (node: IRNode, [x, ...init], ctx) => {
    const s = rnnSpec(kind, node.name, node.config, node.weights);
    const r = runOne(s, node.name, x, ctx.inMasks[0] ?? null, init, ctx, '');
    const out = s.returnSequences ? r.seq : r.last;
    const outs = s.returnState ? [out, ...r.states] : [out];
    ctx.outMasks = outs.map((_, i) => (i === 0 && s.returnSequences ? (ctx.inMasks[0] ?? null) : null));
    return outs;
  };
}

export const simpleRnn = makeRnn('SimpleRNN');
export const gru = makeRnn('GRU');
export const lstm = makeRnn('LSTM');

/** Reverse a [B, T, u] tensor in time. */
function reverseTime(t: FloatTensor): FloatTensor {
  const [B, T, u] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) out.set(t.data.subarray((b * T + i) * u, (b * T + i + 1) * u), (b * T + T - 1 - i) * u);
  return { shape: [...t.shape], data: out };
}

export const bidirectional: LayerFn = (node, [x, ...init], ctx) => {
  const c = node.config;
  const inner = c.layer;
  const kind = inner.class_name as RnnKind;
  if (!(kind in GATES))
    throw new UserError(`layer '${node.name}' (Bidirectional): inner layer ${kind} not supported; supported: SimpleRNN, GRU, LSTM`, EXIT.UNSUPPORTED);
  const fcfg = inner.config;
  const bcfg = c.backward_layer?.config ?? { ...fcfg, go_backwards: !fcfg.go_backwards };
  const fs = rnnSpec(kind, node.name, fcfg, node.weights, 'forward/');
  const bs = rnnSpec(kind, node.name, bcfg, node.weights, 'backward/');
  const half = init.length / 2;
  const mask = ctx.inMasks[0] ?? null;
  const rf = runOne(fs, node.name + '/forward', x, mask, init.slice(0, half), ctx, 'forward/');
  const rb = runOne(bs, node.name + '/backward', x, mask, init.slice(half), ctx, 'backward/');
  let yf: FloatTensor, yb: FloatTensor;
  if (fs.returnSequences) {
    yf = rf.seq;
    yb = reverseTime(rb.seq);
  } else {
    yf = rf.last;
    yb = rb.last;
  }
  const merged = applyMergeMode(c.merge_mode === undefined ? 'concat' : c.merge_mode, yf, yb);
  const states = fs.returnState ? [...rf.states, ...rb.states] : [];
  const outs = [...merged, ...states];
  ctx.outMasks = outs.map((_, i) => (i < merged.length && fs.returnSequences ? mask : null));
  return outs;
};
