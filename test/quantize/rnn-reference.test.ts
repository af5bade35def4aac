/**
 * Recurrent kernels (assembly/ops/rnn.ts, gru.ts, lstm.ts) are bit-identical to the integer
 * reference (tools/quantize/reference-rnn.ts) over random layers, every activation kind, every
 * flag, odd sizes, saturating parameters; chunked streaming equals the whole sequence; prepare
 * rejects inconsistent op records.
 */
import { describe, expect, it } from 'vitest';
import { rnnSpec, runRnn } from '../../tools/float/layers/recurrent.ts';
import { quantizeRnn, rnnFloatLayer } from '../../tools/quantize/lower-rnn.ts';
import { newState, runRnnRef, RNN_FLAG, type CellKind, type RnnQuant } from '../../tools/quantize/reference-rnn.ts';
import { asymmetricQParams, quantizeValue } from '../../tools/quantize/qparams.ts';
import { oneOpBlob, RnnHarness } from '../helpers/rnn-harness.ts';
import { rng, gauss } from '../helpers/tfjs-train.ts';

interface Case {
  cell: CellKind;
  units: number;
  inDim: number;
  act: string;
  rec: string;
  resetAfter?: boolean;
  seq: boolean;
  back?: boolean;
  inOrder?: boolean;
  bias?: boolean;
}

function makeLayer(c: Case, seed: number, keep: boolean, batch: number, steps: number, wild = false): { q: RnnQuant; x: Int8Array } {
  const r = rng(seed);
  const G = c.cell === 'LSTM' ? 4 : c.cell === 'GRU' ? 3 : 1;
  const u = c.units;
  const D = c.inDim;
  const ra = c.cell === 'GRU' && !!c.resetAfter;
  const w: any = {
    kernel: { shape: [D, G * u], data: Float32Array.from({ length: D * G * u }, () => gauss(r) * 0.5) },
    recurrent_kernel: { shape: [u, G * u], data: Float32Array.from({ length: u * G * u }, () => gauss(r) * 0.3) },
    bias: { shape: [ra ? 2 * G * u : G * u], data: Float32Array.from({ length: (ra ? 2 : 1) * G * u }, () => gauss(r) * 0.3) },
  };
  const cfg = {
    units: u,
    activation: c.act,
    recurrent_activation: c.rec,
    reset_after: ra,
    use_bias: c.bias !== false,
    return_sequences: c.seq,
    go_backwards: !!c.back,
  };
  const spec = rnnSpec(c.cell, 'l', cfg, w);
  const xf = { shape: [batch, steps, D], data: Float32Array.from({ length: batch * steps * D }, () => gauss(r) * 0.7) };
  const info: any = {};
  const fr = runRnn(spec, xf, null, null, info);
  let mn = 0;
  let mx = 0;
  for (const v of fr.seq.data) {
    mn = Math.min(mn, v);
    mx = Math.max(mx, v);
  }
  const inQ = asymmetricQParams(-2, 2.2);
  const q = quantizeRnn(rnnFloatLayer(c.cell, 'l', cfg, w, D), info, inQ, asymmetricQParams(mn, mx), { keepState: keep, outputInInputOrder: c.inOrder });
  if (wild) {
    // saturating, arbitrary integer parameters (still valid for prepare)
    const m = () => 0x40000000 + Math.floor(r() * 0x3fffffff);
    for (const a of [q.mx, q.mh]) for (let i = 0; i < a.length; i++) a[i] = m();
    for (const a of [q.sx, q.sh]) for (let i = 0; i < a.length; i++) a[i] = -Math.floor(r() * 14) - (a === q.sh ? 4 : 2);
    for (let i = 0; i < q.bh.length; i++) q.bh[i] = Math.floor((r() - 0.5) * 2e6);
    q.outMult = m();
    q.outShift = -Math.floor(r() * 12) - 1;
  }
  const x = Int8Array.from(xf.data, (v) => quantizeValue(v, inQ));
  return { q, x };
}

const ACTS = ['tanh', 'sigmoid', 'hard_sigmoid', 'hard_sigmoid_k3', 'relu', 'linear'];
const cases: Case[] = [];
let k = 0;
for (const cell of ['SimpleRNN', 'GRU', 'LSTM'] as CellKind[]) {
  for (const act of ACTS) {
    const rec =
      cell === 'SimpleRNN' ? 'linear' : ACTS[(k++ * 5 + 1) % ACTS.length] === 'linear' && act === 'linear' ? 'sigmoid' : ACTS[(k * 5 + 1) % ACTS.length];
    cases.push({
      cell,
      units: 5 + (k % 4),
      inDim: 3 + (k % 3),
      act,
      rec,
      resetAfter: k % 2 === 0,
      seq: k % 3 !== 0,
      back: k % 4 === 1,
      inOrder: k % 5 === 2,
      bias: k % 7 !== 3,
    });
  }
}
cases.push({ cell: 'GRU', units: 8, inDim: 4, act: 'tanh', rec: 'sigmoid', resetAfter: true, seq: true });
cases.push({ cell: 'GRU', units: 8, inDim: 4, act: 'tanh', rec: 'sigmoid', resetAfter: false, seq: true });
cases.push({ cell: 'LSTM', units: 12, inDim: 7, act: 'tanh', rec: 'hard_sigmoid', seq: true, back: true });

const label = (c: Case) =>
  `${c.cell} u${c.units} d${c.inDim} act=${c.act} rec=${c.rec}${c.cell === 'GRU' ? ` reset_after=${c.resetAfter}` : ''} seq=${c.seq} back=${!!c.back} inOrder=${!!c.inOrder} bias=${c.bias !== false}`;

describe('recurrent kernels vs integer reference', () => {
  it.each(cases.map((c, i) => [label(c), c, i] as const))('bit-exact: %s', async (_l, c, i) => {
    for (const wild of [false, true]) {
      const B = 2;
      const T = 9;
      const { q, x } = makeLayer(c, 100 + i, false, B, T, wild);
      const h = await new RnnHarness(oneOpBlob(q, B, T)).init();
      expect(h.prepareErr).toBe(0);
      const ref = runRnnRef(q, x, B, T, newState(q, B));
      const got = h.invoke(x);
      expect(got.length).toBe(B * (c.seq ? T : 1) * c.units);
      expect(Array.from(got)).toEqual(Array.from(ref));
      // not stateful: a second invoke starts from zero state again
      expect(Array.from(h.invoke(x))).toEqual(Array.from(ref));
    }
  });

  it.each((['SimpleRNN', 'GRU', 'LSTM'] as CellKind[]).map((c) => [c]))('%s: chunked streaming == whole sequence, reset restarts', async (cell) => {
    const c: Case = { cell, units: 6, inDim: 3, act: 'tanh', rec: 'sigmoid', resetAfter: true, seq: true };
    const T = 60;
    const K = 4;
    const whole = makeLayer(c, 7, true, 1, T);
    const chunked = makeLayer(c, 7, true, 1, K); // same weights (same seed), op compiled for K steps
    chunked.q.flags = whole.q.flags; // identical quantisation parameters
    const hw = await new RnnHarness(oneOpBlob(whole.q, 1, T)).init();
    const hc = await new RnnHarness(oneOpBlob(whole.q, 1, K)).init();
    expect(hw.prepareErr).toBe(0);
    expect(hc.prepareErr).toBe(0);
    const yWhole = hw.invoke(whole.x);
    const parts: number[] = [];
    for (let t = 0; t < T; t += K) parts.push(...hc.invoke(whole.x.subarray(t * 3, (t + K) * 3)));
    expect(parts).toEqual(Array.from(yWhole));
    // reference agrees too
    expect(Array.from(yWhole)).toEqual(Array.from(runRnnRef(whole.q, whole.x, 1, T, newState(whole.q, 1))));
    // the state persisted: invoking the first chunk again now differs from the first time...
    const again = hc.invoke(whole.x.subarray(0, K * 3));
    // ...until the state is reset
    hc.resetState();
    const fresh = hc.invoke(whole.x.subarray(0, K * 3));
    expect(Array.from(fresh)).toEqual(parts.slice(0, K * 6));
    expect(Array.from(again)).not.toEqual(Array.from(fresh));
  });

  it('masked steps (id 0) keep the state, as the reference', async () => {
    for (const cell of ['SimpleRNN', 'GRU', 'LSTM'] as CellKind[]) {
      const c: Case = { cell, units: 5, inDim: 3, act: 'tanh', rec: 'sigmoid', resetAfter: false, seq: true, back: cell === 'GRU' };
      const { q, x } = makeLayer(c, 11, false, 2, 8);
      const ids = Int32Array.from({ length: 16 }, (_, i) => (i % 8 >= 5 || i === 2 ? 0 : 1 + i));
      const h = await new RnnHarness(oneOpBlob(q, 2, 8, true)).init();
      expect(h.prepareErr).toBe(0);
      const got = h.invoke(x, ids);
      expect(Array.from(got)).toEqual(Array.from(runRnnRef(q, x, 2, 8, newState(q, 2), ids)));
      // step 5.. of sample 0 are masked: outputs repeat step 4's output
      if (!c.back) for (let t = 5; t < 8; t++) expect(Array.from(got.subarray(t * 5, t * 5 + 5))).toEqual(Array.from(got.subarray(4 * 5, 4 * 5 + 5)));
    }
  });

  it('prepare rejects inconsistent records without trapping', async () => {
    const c: Case = { cell: 'LSTM', units: 6, inDim: 3, act: 'tanh', rec: 'sigmoid', seq: true };
    const { q } = makeLayer(c, 3, true, 1, 4);
    const good = oneOpBlob(q, 1, 4);
    const P = (await new RnnHarness(good).init()).prepareErr;
    expect(P).toBe(0);
    const names = [
      'units',
      'steps',
      'inDim',
      'flags',
      'wx',
      'mx',
      'sh',
      'recKind',
      'actTable',
      'cellShift',
      'igShift',
      'outShift',
      'outZp',
      'cState',
      'scratch',
      'maskIds',
    ];
    const bad: Record<string, number> = {
      units: 7,
      steps: 5,
      inDim: 4,
      flags: 64,
      wx: 1 << 30,
      mx: 3,
      sh: 1 << 29,
      recKind: 3,
      actTable: 1 << 28,
      cellShift: 16,
      igShift: 31,
      outShift: 31,
      outZp: 200,
      cState: 99,
      scratch: 0,
      maskIds: 0,
    };
    const spec = (await import('../../tools/blob/spec.ts')).OP_BY_NAME.LSTM;
    for (const n of names) {
      const blob = good.blob.slice();
      new DataView(blob.buffer).setInt32(good.paramsOff + 4 * spec.params.indexOf(n), bad[n], true);
      const h = await new RnnHarness({ ...good, blob }).init();
      expect([9, 10], n).toContain(h.prepareErr);
    }
    // a stateful op whose state lives in the arena is rejected
    const q2 = { ...q, flags: q.flags & ~RNN_FLAG.KEEP_STATE };
    const arenaState = oneOpBlob(q2, 1, 4);
    const blob = arenaState.blob.slice();
    new DataView(blob.buffer).setInt32(arenaState.paramsOff + 4 * spec.params.indexOf('flags'), q2.flags | RNN_FLAG.KEEP_STATE, true);
    expect((await new RnnHarness({ ...arenaState, blob }).init()).prepareErr).toBe(9);
  });
});
