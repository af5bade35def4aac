/**
 * Recurrent layers under convert --precision int16: their state, gates and cell are int16 in
 * every precision (docs/RECURRENT.md; TFLite's integer LSTM scheme), their input and output int8;
 * the int16 layers around them are joined by REQUANT ops. Against tfjs predict (SQNR), and
 * streamed in chunks bit for bit equal to the whole sequence.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accelData, fit, initTf, predict, saveTfjsFiles, sqnr, tf, type Arr } from '../helpers/tfjs-train.ts';
import { readModel } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import type { Graph } from '../../tools/graph/ir.ts';
import { convertGraph, uniformPrecision } from '../../tools/pipeline.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { runBlob } from '../../tools/cli/run-blob.ts';
import { openSim } from '../../tools/cli/sim.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-int16-rnn-'));
const D = 3;
const T_EVAL = 50;
const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });
const orth = (seed: number) => tf.initializers.orthogonal({ seed }) as any;

beforeAll(async () => {
  await initTf();
  await tf.setBackend('wasm');
  await tf.ready();
});

const graphOf = async (file: string, steps: number): Promise<Graph> => buildGraph(await readModel(file), { steps });
const refRaw = (blob: Uint8Array, inputs: Uint8Array[]) =>
  runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice());

/** Exponentially smoothed inputs (and their magnitudes) as targets: a task with memory. */
function smoothTarget(x: Arr, outDim: number): Arr {
  const [N, T, Dx] = x.shape;
  const y = new Float32Array(N * T * outDim);
  for (let n = 0; n < N; n++) {
    const acc = new Float64Array(outDim);
    for (let t = 0; t < T; t++)
      for (let k = 0; k < outDim; k++) {
        const v = x.data[(n * T + t) * Dx + (k % Dx)];
        acc[k] = 0.8 * acc[k] + 0.2 * (k < Dx ? v : Math.abs(v));
        y[(n * T + t) * outDim + k] = acc[k];
      }
  }
  return { data: y, shape: [N, T, outDim] };
}

/** The SQNR each cell must reach: LSTM and GRU >= 45 dB; SimpleRNN (no gates) stays below with its int8 output. */
const CELLS = [
  [
    'LSTM',
    (s: number) =>
      tf.layers.lstm({ units: 12, returnSequences: true, recurrentActivation: 'sigmoid', kernelInitializer: glorot(s), recurrentInitializer: orth(s + 1) }),
  ],
  [
    'GRU',
    (s: number) =>
      tf.layers.gru({ units: 12, returnSequences: true, recurrentActivation: 'sigmoid', kernelInitializer: glorot(s), recurrentInitializer: orth(s + 1) }),
  ],
  ['SimpleRNN', (s: number) => tf.layers.simpleRNN({ units: 12, returnSequences: true, kernelInitializer: glorot(s), recurrentInitializer: orth(s + 1) })],
] as const;

describe('recurrent layers with int16 state under --precision int16', () => {
  for (const [cell, make] of CELLS) {
    it(`Dense -> ${cell} -> Dense, all asked int16: SQNR vs tfjs; 5-step chunks x 10 == the 50-step blob, bit for bit`, async () => {
      const inp = tf.input({ shape: [null, D] });
      const pre = tf.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: glorot(60) }).apply(inp);
      const h = make(61).apply(pre);
      const out = tf.layers.dense({ units: 3, kernelInitializer: glorot(63) }).apply(h);
      const model = tf.model({ inputs: inp, outputs: out as any });
      const tr = accelData(64, 25, 64).x;
      await fit(model, tr, smoothTarget(tr, 3), { epochs: 4, lr: 0.02, loss: 'meanSquaredError' });
      const file = await saveTfjsFiles(model, join(dir, cell));
      const cal = [accelData(64, T_EVAL, 65).x];
      const g50 = await graphOf(file, T_EVAL);
      const precision = uniformPrecision(g50, 'int16');
      const whole = await convertGraph(g50, { calibration: cal, runRaw: refRaw, precision });
      const ops = whole.lowered.ops.map((o) => o.name);
      expect(ops.filter((o) => o === 'REQUANT')).toHaveLength(2);
      expect(whole.lowered.tensors[whole.lowered.inputs[0]].dtype).toBe('int16');
      const stream = await convertGraph(await graphOf(file, 5), { calibration: cal, runRaw: refRaw, precision, stream: true, calibrationGraph: g50 });
      expect((await openSim(stream.blob)).selfTest()).toBe(0);

      const x = accelData(2, T_EVAL, 66).x;
      const yWhole = await runBlob(whole.blob, [x]);
      const per = T_EVAL * D;
      for (let n = 0; n < 2; n++) {
        const chunks = { data: x.data.slice(n * per, (n + 1) * per), shape: [T_EVAL / 5, 5, D] };
        const kept = await runBlob(stream.blob, [chunks]);
        expect(Array.from(kept.outputs[0].data)).toEqual(Array.from(yWhole.outputs[0].data.subarray(n * T_EVAL * 3, (n + 1) * T_EVAL * 3)));
      }
      const ref = predict(model, [x])[0];
      const db16 = sqnr(ref, yWhole.outputs[0].data);
      const int8 = await convertGraph(g50, { calibration: cal, runRaw: refRaw });
      const db8 = sqnr(ref, (await runBlob(int8.blob, [x])).outputs[0].data);
      console.log(`${cell}: SQNR int8 ${db8.toFixed(1)} dB, int16 (int16 state, int8 recurrent I/O) ${db16.toFixed(1)} dB`);
      if (cell === 'SimpleRNN') expect(db16).toBeGreaterThan(db8 + 3);
      else expect(db16).toBeGreaterThanOrEqual(45);
    });
  }
});
