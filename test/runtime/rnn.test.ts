/**
 * The recurrent ops inside the real runtime (build/runtime.wasm via the DeviceSim host): blobs
 * with one recurrent op built with BlobBuilder (validated by parseBlob, which runs the
 * runtime's own checks), bit-exact against the integer reference; stateful streaming across
 * kw_invoke calls equals the whole sequence; kw_reset_state restarts; the self-test passes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { DeviceSim, DEFAULT_WASM } from '../../firmware-host/node/host.ts';
import { ERR } from '../../tools/blob/spec.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { rnnSpec, runRnn } from '../../tools/float/layers/recurrent.ts';
import { quantizeRnn, rnnFloatLayer } from '../../tools/quantize/lower-rnn.ts';
import { newState, runRnnRef, type CellKind, type RnnQuant } from '../../tools/quantize/reference-rnn.ts';
import { asymmetricQParams, quantizeValue } from '../../tools/quantize/qparams.ts';
import { oneOpBlob } from '../helpers/rnn-harness.ts';
import { gauss, rng } from '../helpers/tfjs-train.ts';

function layer(cell: CellKind, seed: number, keep: boolean, seq: boolean, D = 4, u = 10): { q: RnnQuant; x: (B: number, T: number) => Int8Array } {
  const r = rng(seed);
  const G = cell === 'LSTM' ? 4 : cell === 'GRU' ? 3 : 1;
  const w: any = {
    kernel: { shape: [D, G * u], data: Float32Array.from({ length: D * G * u }, () => gauss(r) * 0.5) },
    recurrent_kernel: { shape: [u, G * u], data: Float32Array.from({ length: u * G * u }, () => gauss(r) * 0.3) },
    bias: { shape: [2, G * u], data: Float32Array.from({ length: 2 * G * u }, () => gauss(r) * 0.2) },
  };
  if (cell !== 'GRU') w.bias = { shape: [G * u], data: w.bias.data.subarray(0, G * u) };
  const cfg = { units: u, activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: cell === 'GRU', return_sequences: seq };
  const xf = { shape: [4, 40, D], data: Float32Array.from({ length: 4 * 40 * D }, () => gauss(r)) };
  const info: any = {};
  const fr = runRnn(rnnSpec(cell, 'l', cfg, w), xf, null, null, info);
  let mn = 0;
  let mx = 0;
  for (const v of fr.seq.data) {
    mn = Math.min(mn, v);
    mx = Math.max(mx, v);
  }
  const inQ = asymmetricQParams(-3, 3);
  const q = quantizeRnn(rnnFloatLayer(cell, 'l', cfg, w, D), info, inQ, asymmetricQParams(mn, mx), { keepState: keep });
  return { q, x: (B, T) => Int8Array.from({ length: B * T * D }, () => quantizeValue(gauss(r), inQ)) };
}

const haveRuntime = existsSync(DEFAULT_WASM);

describe.skipIf(!haveRuntime)('recurrent ops in build/runtime.wasm', () => {
  beforeAll(() => {
    expect(haveRuntime).toBe(true);
  });

  it.each([['SimpleRNN'], ['GRU'], ['LSTM']] as [CellKind][])('%s: blob validates, invoke is bit-exact, not stateful resets each invoke', async (cell) => {
    const { q, x } = layer(cell, 5, false, true);
    const b = oneOpBlob(q, 2, 12, false, true);
    parseBlob(b.blob);
    const dev = await DeviceSim.load();
    expect(dev.init(b.blob)).toBe(ERR.OK);
    const xi = x(2, 12);
    const ref = runRnnRef(q, xi, 2, 12, newState(q, 2));
    for (let k = 0; k < 2; k++) {
      dev.setInputRaw(0, xi);
      expect(dev.invoke()).toBe(ERR.OK);
      expect(Array.from(dev.getOutputRaw(0))).toEqual(Array.from(ref));
    }
  });

  it.each([['SimpleRNN'], ['GRU'], ['LSTM']] as [CellKind][])(
    '%s stateful: 100 steps fed 5 at a time == whole sequence; kw_reset_state restarts',
    async (cell) => {
      const { q, x } = layer(cell, 9, true, true);
      const T = 100;
      const K = 5;
      const xi = x(1, T);
      const ref = runRnnRef(q, xi, 1, T, newState(q, 1));
      const b = oneOpBlob(q, 1, K, false, true);
      const dev = await DeviceSim.load();
      expect(dev.init(b.blob)).toBe(ERR.OK);
      const got: number[] = [];
      for (let t = 0; t < T; t += K) {
        dev.setInputRaw(0, xi.subarray(t * q.inDim, (t + K) * q.inDim));
        expect(dev.invoke()).toBe(ERR.OK);
        got.push(...dev.getOutputRaw(0));
      }
      expect(got).toEqual(Array.from(ref));
      expect(dev.resetState()).toBe(ERR.OK);
      dev.setInputRaw(0, xi.subarray(0, K * q.inDim));
      expect(dev.invoke()).toBe(ERR.OK);
      expect(Array.from(dev.getOutputRaw(0))).toEqual(got.slice(0, K * q.units));
    },
  );

  it('LSTM return_sequences=False with batch 3 and a self-test vector', async () => {
    const { q, x } = layer('LSTM', 13, false, false, 3, 7);
    const xi = x(3, 20);
    const ref = runRnnRef(q, xi, 3, 20, newState(q, 3));
    const b0 = oneOpBlob(q, 3, 20, false, true, { x: xi, y: ref });
    const dev = await DeviceSim.load();
    expect(dev.init(b0.blob)).toBe(ERR.OK);
    expect(dev.selfTest()).toBe(ERR.OK);
    // a wrong expected output is detected
    const bad = ref.slice();
    bad[5] ^= 1;
    const dev2 = await DeviceSim.load();
    expect(dev2.init(oneOpBlob(q, 3, 20, false, true, { x: xi, y: bad }).blob)).toBe(ERR.OK);
    expect(dev2.selfTest()).toBe(ERR.SELFTEST_MISMATCH);
    dev.setInputRaw(0, xi);
    expect(dev.invoke()).toBe(ERR.OK);
    expect(Array.from(dev.getOutputRaw(0))).toEqual(Array.from(ref));
    expect(ref.length).toBe(3 * 7);
  });

  it('a corrupted recurrent op record is rejected by kw_init and by parseBlob with the same code', async () => {
    const { q } = layer('GRU', 3, true, true);
    const b = oneOpBlob(q, 1, 4, false, true);
    const blob = b.blob.slice();
    const dv = new DataView(blob.buffer);
    dv.setInt32(b.paramsOff + 4 * 23, 31, true); // gateShift out of range
    // fix the CRC so the op check is what fails
    const { crc32 } = await import('../../tools/blob/crc32.ts');
    dv.setUint32(12, crc32(blob, 16, blob.length), true);
    let code = -1;
    try {
      parseBlob(blob);
    } catch (e: any) {
      code = e.code;
    }
    const dev = await DeviceSim.load();
    expect(dev.init(blob)).toBe(ERR.BAD_PARAMS);
    expect(code).toBe(ERR.BAD_PARAMS);
  });
});
