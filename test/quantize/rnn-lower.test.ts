/**
 * lowerRecurrent (tools/quantize/lower-rnn.ts) through a minimal converter context backed by
 * BlobBuilder: Bidirectional with every merge_mode (concat, sum, mul, ave, None), return_state
 * (LSTM h and c), stateful and --stream layers, run in build/runtime.wasm and compared with the
 * float forward (tools/float/layers/recurrent.ts, itself checked against tfjs/ORT elsewhere).
 */
import { describe, expect, it } from 'vitest';
import { ERR } from '../../tools/blob/spec.ts';
import type { FloatTensor, IRNode } from '../../tools/graph/ir.ts';
import { lowerRecurrent, type RecurrentLowerCtx } from '../../tools/quantize/lower-rnn.ts';
import { lowerAndRun } from '../helpers/rnn-lower-ctx.ts';
import { UserError } from '../../tools/errors.ts';
import { gauss, rng, sqnr } from '../helpers/tfjs-train.ts';

const B = 2;
const T = 30;
void B;
const D = 4;

function weights(prefix: string, G: number, u: number, r: () => number): Record<string, FloatTensor> {
  return {
    [prefix + 'kernel']: { shape: [D, G * u], data: Float32Array.from({ length: D * G * u }, () => gauss(r) * 0.5) },
    [prefix + 'recurrent_kernel']: { shape: [u, G * u], data: Float32Array.from({ length: u * G * u }, () => gauss(r) * 0.3) },
    [prefix + 'bias']: { shape: [G * u], data: Float32Array.from({ length: G * u }, () => gauss(r) * 0.2) },
  };
}

const r = rng(77);
const x: FloatTensor = { shape: [B, T, D], data: Float32Array.from({ length: B * T * D }, () => gauss(r)) };

describe('lowerRecurrent in the runtime', () => {
  it.each([['concat'], ['sum'], ['mul'], ['ave'], [null]] as [string | null][])('Bidirectional(GRU) merge_mode=%s', async (mode) => {
    const u = 6;
    const inner = {
      class_name: 'GRU',
      config: { units: u, activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: false, return_sequences: true, use_bias: true },
    };
    const rr = rng(5);
    const node: IRNode = {
      id: 0,
      name: 'bi',
      className: 'Bidirectional',
      config: { layer: inner, merge_mode: mode },
      inputs: [0],
      outputs: mode === null ? [1, 2] : [1],
      weights: { ...weights('forward/', 3, u, rr), ...weights('backward/', 3, u, rr) },
      trainableParams: 0,
      nonTrainableParams: 0,
      macs: 0,
    };
    const { fouts, run, xq } = await lowerAndRun(node, x);
    const outs = run(xq);
    expect(outs.length).toBe(fouts.length);
    outs.forEach((o, i) => {
      const s = sqnr(fouts[i].data, o);
      expect(o.length).toBe(fouts[i].data.length);
      expect(s, `output ${i}`).toBeGreaterThan(mode === 'mul' ? 25 : 30);
    });
  });

  it('LSTM return_state: h and c outputs', async () => {
    const u = 5;
    const node: IRNode = {
      id: 0,
      name: 'lstm',
      className: 'LSTM',
      config: { units: u, activation: 'tanh', recurrent_activation: 'sigmoid', return_sequences: false, return_state: true, use_bias: true },
      inputs: [0],
      outputs: [1, 2, 3],
      weights: weights('', 4, u, rng(9)),
      trainableParams: 0,
      nonTrainableParams: 0,
      macs: 0,
    };
    const { fouts, run, xq } = await lowerAndRun(node, x);
    const outs = run(xq);
    expect(outs.length).toBe(3);
    // y == h for return_sequences=False
    for (let i = 0; i < 3; i++) expect(sqnr(fouts[i].data, outs[i]), `output ${i}`).toBeGreaterThan(30);
  });

  it('--stream: a non-stateful GRU fed in chunks of 6 equals the whole-sequence float result; reset restarts', async () => {
    const u = 6;
    const node: IRNode = {
      id: 0,
      name: 'gru',
      className: 'GRU',
      config: { units: u, activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: true, return_sequences: true, use_bias: true },
      inputs: [0],
      outputs: [1],
      weights: { ...weights('', 3, u, rng(12)), bias: { shape: [2, 3 * u], data: Float32Array.from({ length: 6 * u }, () => 0.1) } },
      trainableParams: 0,
      nonTrainableParams: 0,
      macs: 0,
    };
    const x1: FloatTensor = { shape: [1, T, D], data: x.data.slice(0, T * D) };
    const K = 6;
    const { fouts, run, xq, dev } = await lowerAndRun(node, x1, { stream: true, chunk: K });
    const got: number[] = [];
    for (let t = 0; t < T; t += K) got.push(...run(xq.subarray(t * D, (t + K) * D))[0]);
    expect(got.length).toBe(T * u);
    expect(sqnr(fouts[0].data, got)).toBeGreaterThan(30);
    // after kw_reset_state the first chunk gives the first chunk's output again
    expect(dev.resetState()).toBe(ERR.OK);
    expect(Array.from(run(xq.subarray(0, K * D))[0])).toEqual(got.slice(0, K * u));
  });

  it('rejects --stream with Bidirectional and go_backwards, and unknown activations, with one-line UserErrors', async () => {
    const base = { id: 0, inputs: [0], outputs: [1], trainableParams: 0, nonTrainableParams: 0, macs: 0 };
    const mk = (stream: boolean): RecurrentLowerCtx => ({
      batch: 1,
      stream,
      tensorOf: () => 0,
      qOf: () => ({ scale: 1 / 64, zeroPoint: 0 }),
      tensorShape: () => [1, T, D],
      newTensor: () => 0,
      emit: () => {},
      konst: () => 0,
      recurrentInfo: () => ({ h: { min: -1, max: 1 } }) as any,
      maskIds: () => -1,
    });
    const gru = { units: 4, activation: 'tanh', recurrent_activation: 'sigmoid', return_sequences: true };
    expect(() =>
      lowerRecurrent(
        { ...base, name: 'b', className: 'Bidirectional', config: { layer: { class_name: 'GRU', config: gru }, merge_mode: 'concat' }, weights: {} } as IRNode,
        mk(true),
      ),
    ).toThrow(UserError);
    expect(() =>
      lowerRecurrent({ ...base, name: 'g', className: 'GRU', config: { ...gru, go_backwards: true }, weights: weights('', 3, 4, rng(1)) } as IRNode, mk(true)),
    ).toThrow(/go_backwards/);
    expect(() =>
      lowerRecurrent(
        { ...base, name: 'g', className: 'GRU', config: { ...gru, activation: 'softsign' }, weights: weights('', 3, 4, rng(1)) } as IRNode,
        mk(false),
      ),
    ).toThrow(/activation='softsign'.*supported: tanh/);
  });
});
