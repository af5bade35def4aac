/**
 * Recurrent models through the real converter (tools/pipeline.ts convertGraph: prepare,
 * calibrate with the recurrent ranges, lowerGraph -> lowerRecurrent, memory plan + STATE region,
 * blob with a self-test from the integer reference) and run in build/runtime.wasm.
 *
 * Float oracles: tfjs 4.22 predict for models built and trained here (seeded; recurrentActivation
 * set explicitly since tfjs defaults to hard_sigmoid); the float forward (tools/float/forward.ts)
 * for the shared Keras fixtures (Keras 3 GRU reset_after=True, which tfjs cannot run) and the
 * recorded Keras predictions where a fixture ships them.
 *
 * Streaming: --stream --stream-steps 5 fed a 50-step sequence in 10 invokes is bit-identical to
 * the same model converted for 50 steps; a stateful=True LSTM follows tfjs stateful predict over
 * consecutive calls, and kw_reset_state / tfjs resetStates start over.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import h5wasm from 'h5wasm/node';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { haveFixtures, fixture, fixturesSkipReason, repoRoot } from '../helpers/fixtures.ts';
import { convertAndRun } from '../helpers/convert-harness.ts';
import { accelData, agreement, argmaxRows, fit, gauss, initTf, oneHot, predict, rng, saveTfjsFiles, sqnr, tf, type Arr } from '../helpers/tfjs-train.ts';
import { readModel } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import type { FloatTensor, Graph } from '../../tools/graph/ir.ts';
import { runFloat } from '../../tools/float/forward.ts';
import { convertGraph, rawInputs } from '../../tools/pipeline.ts';
import { convertWithAutoCalibration } from '../../tools/calibration-search.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { runBlob } from '../../tools/cli/run-blob.ts';
import { openSim } from '../../tools/cli/sim.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { FLAG, STORAGE } from '../../tools/blob/spec.ts';
import { readArray, writeNpy } from '../../tools/readers/npy.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-rnn-'));
const D = 3;
const C = 4;
const T_TRAIN = 25;
const T_EVAL = 50;
const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });
const orth = (seed: number) => tf.initializers.orthogonal({ seed }) as any;

beforeAll(async () => {
  await initTf();
  await tf.setBackend('wasm'); // RNN training ~5x faster than cpu; same results to ~1e-6
  await tf.ready();
  await h5wasm.ready;
});

async function graphOf(file: string, opts: { steps?: number; batch?: number; config?: string } = {}): Promise<Graph> {
  return buildGraph(await readModel(file, opts.config ? { config: opts.config } : {}), { steps: opts.steps, batch: opts.batch });
}

const refRaw = (blob: Uint8Array, inputs: Uint8Array[]) =>
  runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice());

/** Variable-length classifier: [null, 3] -> recurrent -> Dense softmax, trained on 25-step windows. */
async function trainClassifier(make: () => any, seed: number, epochs = 5): Promise<any> {
  const inp = tf.input({ shape: [null, D] });
  const h = make().apply(inp);
  const out = tf.layers.dense({ units: C, activation: 'softmax', kernelInitializer: glorot(seed) }).apply(h);
  const model = tf.model({ inputs: inp, outputs: out as any });
  const d = accelData(128, T_TRAIN, seed);
  await fit(model, d.x, oneHot(d.labels, C), { epochs, batchSize: 32, lr: 0.02, loss: 'categoricalCrossentropy' });
  return model;
}

/** A seeded regression target per step: exponentially smoothed |x| features. */
function smoothTarget(x: Arr, outDim: number): Arr {
  const [N, T, Dx] = x.shape;
  const y = new Float32Array(N * T * outDim);
  for (let n = 0; n < N; n++) {
    const acc = new Float64Array(outDim);
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < outDim; k++) {
        const v = x.data[(n * T + t) * Dx + (k % Dx)];
        acc[k] = 0.8 * acc[k] + 0.2 * (k < Dx ? v : Math.abs(v));
        y[(n * T + t) * outDim + k] = acc[k];
      }
    }
  }
  return { data: y, shape: [N, T, outDim] };
}

describe('recurrent models through the converter vs tfjs', () => {
  it('LSTM classifier: top-1 >= 99% vs tfjs on 200 held-out 50-step sequences; self-test and integer reference bit-exact', async () => {
    const model = await trainClassifier(
      () => tf.layers.lstm({ units: 16, recurrentActivation: 'sigmoid', kernelInitializer: glorot(1), recurrentInitializer: orth(2) }),
      11,
    );
    const file = await saveTfjsFiles(model, join(dir, 'lstm'));
    const g = await graphOf(file, { steps: T_EVAL });
    const cal = accelData(128, T_EVAL, 12).x;
    const test = accelData(200, T_EVAL, 13).x;
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [cal], [test]);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['LSTM', 'DENSE', 'SOFTMAX']);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.plan.stateSize).toBe(0); // not stateful: h/c live in the arena
    expect(result.tensors.filter((t) => t.dtype === 'int16').map((t) => t.storage)).toEqual(['arena', 'arena']);
    const ref = predict(model, [test])[0];
    const top1 = agreement(argmaxRows(ref, C), argmaxRows(outputs[0].data, C));
    console.log(`LSTM classifier: top-1 agreement ${(100 * top1).toFixed(1)}% of 200, SQNR ${sqnr(ref, outputs[0].data).toFixed(1)} dB`);
    expect(top1).toBeGreaterThanOrEqual(0.99);
  });

  it('GRU (reset_after=false) return_sequences regressor + TimeDistributed(Dense): SQNR >= 30 dB vs tfjs', async () => {
    const inp = tf.input({ shape: [null, D] });
    const h = tf.layers
      .gru({ units: 12, returnSequences: true, recurrentActivation: 'sigmoid', kernelInitializer: glorot(3), recurrentInitializer: orth(4) })
      .apply(inp);
    const out = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2, kernelInitializer: glorot(5) }) }).apply(h);
    const model = tf.model({ inputs: inp, outputs: out as any });
    const tr = accelData(96, T_TRAIN, 21).x;
    await fit(model, tr, smoothTarget(tr, 2), { epochs: 5, lr: 0.02, loss: 'meanSquaredError' });
    const file = await saveTfjsFiles(model, join(dir, 'gru'));
    const g = await graphOf(file, { steps: T_EVAL });
    expect(g.nodes.find((n) => n.className === 'GRU')!.config.reset_after).toBe(false);
    const cal = accelData(64, T_EVAL, 22).x;
    const test = accelData(64, T_EVAL, 23).x;
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [cal], [test]);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['GRU', 'DENSE']);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(outputs[0].shape).toEqual([64, T_EVAL, 2]);
    const ref = predict(model, [test])[0];
    const s = sqnr(ref, outputs[0].data);
    console.log(`GRU regressor: SQNR ${s.toFixed(1)} dB over ${T_EVAL} steps`);
    expect(s).toBeGreaterThanOrEqual(30);
  });

  it('Bidirectional(LSTM) concat classifier: top-1 >= 99% and SQNR >= 25 dB vs tfjs', async () => {
    const model = await trainClassifier(
      () =>
        tf.layers.bidirectional({
          layer: tf.layers.lstm({ units: 8, recurrentActivation: 'sigmoid', kernelInitializer: glorot(6), recurrentInitializer: orth(7) }) as any,
          mergeMode: 'concat',
        }),
      31,
      8,
    );
    const file = await saveTfjsFiles(model, join(dir, 'bidi'));
    const g = await graphOf(file, { steps: 30 });
    const cal = accelData(96, 30, 32).x;
    const test = accelData(200, 30, 33).x;
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [cal], [test]);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['LSTM', 'LSTM', 'CONCAT', 'DENSE', 'SOFTMAX']);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    const ref = predict(model, [test])[0];
    const top1 = agreement(argmaxRows(ref, C), argmaxRows(outputs[0].data, C));
    const s = sqnr(ref, outputs[0].data);
    console.log(`Bidirectional(LSTM): top-1 ${(100 * top1).toFixed(1)}%, SQNR ${s.toFixed(1)} dB`);
    expect(top1).toBeGreaterThanOrEqual(0.99);
    expect(s).toBeGreaterThanOrEqual(25);
    // convert's default calibration (auto) picks each tensor's range by the error it measures;
    // the single rules it chooses among, on the held-out samples (docs/ACCURACY.md quotes these)
    const figures: string[] = [];
    for (const method of ['minmax', 'percentile', 'mse'] as const) {
      const o = (await runBlob((await convertGraph(g, { calibration: [cal], calibrationMethod: method })).blob, [test])).outputs[0].data;
      figures.push(`${method} ${sqnr(ref, o).toFixed(1)} dB, top-1 ${(100 * agreement(argmaxRows(ref, C), argmaxRows(o, C))).toFixed(0)}%`);
    }
    const auto = (await convertWithAutoCalibration(g, { calibration: [cal] })).result;
    const a = (await runBlob(auto.blob, [test])).outputs[0].data;
    console.log(`Bidirectional(LSTM) by calibration method: ${figures.join('; ')}; auto ${sqnr(ref, a).toFixed(1)} dB`);
    expect(agreement(argmaxRows(ref, C), argmaxRows(a, C))).toBeGreaterThanOrEqual(0.99);
    expect(sqnr(ref, a)).toBeGreaterThanOrEqual(25);
  });

  it('Embedding(mask_zero) -> GRU on post-padded token sequences: top-1 >= 99% vs tfjs, masked steps honoured', async () => {
    const V = 12;
    const T = 16;
    const make = (n: number, seed: number) => {
      // class = which token band dominates; sequences of random length 6..16 padded with 0 after
      const r = rng(seed);
      const ids = new Float32Array(n * T);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const c = i % C;
        labels[i] = c;
        const len = 6 + Math.floor(r() * (T - 5));
        for (let t = 0; t < len; t++) ids[i * T + t] = r() < 0.6 ? 1 + c * 2 + Math.floor(r() * 2) + (c === 3 ? 1 : 0) : 1 + Math.floor(r() * (V - 1));
      }
      return { x: { data: ids, shape: [n, T], dtype: 'int32' as const }, labels };
    };
    const inp = tf.input({ shape: [T], dtype: 'int32' });
    const e = tf.layers
      .embedding({ inputDim: V, outputDim: 6, maskZero: true, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 41 }) })
      .apply(inp);
    const h = tf.layers.gru({ units: 12, recurrentActivation: 'sigmoid', kernelInitializer: glorot(42), recurrentInitializer: orth(43) }).apply(e);
    const out = tf.layers.dense({ units: C, activation: 'softmax', kernelInitializer: glorot(44) }).apply(h);
    const model = tf.model({ inputs: inp, outputs: out as any });
    const tr = make(160, 45);
    await tf.setBackend('cpu'); // the wasm backend lacks the Embedding gradient (UnsortedSegmentSum)
    try {
      await fit(model, tr.x, oneHot(tr.labels, C), { epochs: 6, lr: 0.03, loss: 'categoricalCrossentropy' });
    } finally {
      await tf.setBackend('wasm');
    }
    const file = await saveTfjsFiles(model, join(dir, 'emb'));
    const g = await graphOf(file);
    const test = make(200, 46);
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [make(96, 47).x], [test.x]);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['GATHER', 'GRU', 'DENSE', 'SOFTMAX']);
    const gru = result.lowered.ops[1];
    expect(gru.params.maskIds).toBe(result.lowered.inputs[0]); // the token ids mask the steps
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    const ref = predict(model, [test.x])[0];
    const top1 = agreement(argmaxRows(ref, C), argmaxRows(outputs[0].data, C));
    console.log(`Embedding->GRU (masked): top-1 ${(100 * top1).toFixed(1)}%, SQNR ${sqnr(ref, outputs[0].data).toFixed(1)} dB`);
    expect(top1).toBeGreaterThanOrEqual(0.99);
    expect(sqnr(ref, outputs[0].data)).toBeGreaterThanOrEqual(25);
  });

  it('the mask of Embedding(mask_zero) reaches a GRU through a PReLU (a layer that passes masks on, per the layer table), as in tfjs', async () => {
    const V = 10;
    const T = 12;
    const r = rng(71);
    const n = 64;
    const ids = new Float32Array(n * T);
    for (let i = 0; i < n; i++) {
      const len = 3 + Math.floor(r() * (T - 2));
      for (let t = 0; t < len; t++) ids[i * T + t] = 1 + Math.floor(r() * (V - 1));
    }
    const x = { data: ids, shape: [n, T], dtype: 'int32' as const };
    const inp = tf.input({ shape: [T], dtype: 'int32' });
    const e = tf.layers
      .embedding({ inputDim: V, outputDim: 5, maskZero: true, embeddingsInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 72 }) })
      .apply(inp);
    const p = tf.layers.prelu({ alphaInitializer: tf.initializers.constant({ value: 0.2 }) }).apply(e);
    const h = tf.layers.gru({ units: 8, recurrentActivation: 'sigmoid', kernelInitializer: glorot(73), recurrentInitializer: orth(74) }).apply(p);
    const out = tf.layers.dense({ units: 3, kernelInitializer: glorot(75) }).apply(h);
    const model = tf.model({ inputs: inp, outputs: out as any });
    const g = await graphOf(await saveTfjsFiles(model, join(dir, 'emb-prelu')));
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [x], [x]);
    const gru = result.lowered.ops.find((o) => o.name === 'GRU')!;
    expect(gru.params.maskIds).toBe(result.lowered.inputs[0]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    const s = sqnr(predict(model, [x])[0], outputs[0].data);
    console.log(`Embedding -> PReLU -> GRU (masked): SQNR ${s.toFixed(1)} dB vs tfjs`);
    expect(s).toBeGreaterThanOrEqual(25);
  });
});

describe('streaming and stateful recurrent blobs', () => {
  it('--stream 5 steps x 10 invokes == the 50-step conversion, bit for bit (return_sequences output); state region + FLAG.STATEFUL', async () => {
    const inp = tf.input({ shape: [null, D] });
    const h = tf.layers
      .lstm({ units: 10, returnSequences: true, recurrentActivation: 'sigmoid', kernelInitializer: glorot(51), recurrentInitializer: orth(52) })
      .apply(inp);
    const out = tf.layers.dense({ units: 3, kernelInitializer: glorot(53) }).apply(h);
    const model = tf.model({ inputs: inp, outputs: out as any });
    const tr = accelData(64, T_TRAIN, 54).x;
    await fit(model, tr, smoothTarget(tr, 3), { epochs: 3, lr: 0.02, loss: 'meanSquaredError' });
    const file = await saveTfjsFiles(model, join(dir, 'stream'));
    const cal = [accelData(64, T_EVAL, 55).x];
    const whole = await convertGraph(await graphOf(file, { steps: T_EVAL }), { calibration: cal, runRaw: refRaw });
    const K = 5;
    const stream = await convertGraph(await graphOf(file, { steps: K }), {
      calibration: cal,
      runRaw: refRaw,
      stream: true,
      calibrationGraph: await graphOf(file, { steps: T_EVAL }),
    });
    const pb = parseBlob(stream.blob);
    expect(pb.header.flags & FLAG.STATEFUL).toBe(FLAG.STATEFUL);
    expect(pb.header.stateSize).toBe(2 * 32); // h and c: 10 int16 each, 16-aligned
    expect(pb.tensors.filter((t) => t.storage === STORAGE.STATE)).toHaveLength(2);
    expect(parseBlob(whole.blob).header.flags & FLAG.STATEFUL).toBe(0);
    expect(pb.io.inputs[0].dims).toEqual([1, K, D]);

    const x = accelData(3, T_EVAL, 56).x; // 3 streams of 50 steps
    const yWhole = await runBlob(whole.blob, [x]);
    const sim = await openSim(stream.blob);
    expect(sim.selfTest()).toBe(0);
    const per = T_EVAL * D;
    for (let n = 0; n < 3; n++) {
      expect(sim.resetState()).toBe(0);
      const got: number[] = [];
      for (let k = 0; k < T_EVAL / K; k++) {
        sim.setInputFloat(0, x.data.slice(n * per + k * K * D, n * per + (k + 1) * K * D));
        expect(sim.invoke()).toBe(0);
        got.push(...sim.getOutputFloat(0));
      }
      const want = yWhole.outputs[0].data.subarray(n * T_EVAL * 3, (n + 1) * T_EVAL * 3);
      expect(got).toEqual(Array.from(want));
    }
    // the run CLI library: chunks in order keep state; --reset-each restarts every chunk
    const chunks = { data: x.data.slice(0, per), shape: [T_EVAL / K, K, D] };
    const kept = await runBlob(stream.blob, [chunks]);
    expect(kept.stateful).toBe(true);
    expect(Array.from(kept.outputs[0].data)).toEqual(Array.from(yWhole.outputs[0].data.subarray(0, T_EVAL * 3)));
    const reset = await runBlob(stream.blob, [chunks], 'blob', { resetEach: true });
    const first = Array.from(reset.outputs[0].data.subarray(0, K * 3));
    expect(Array.from(reset.outputs[0].data.subarray(K * 3, 2 * K * 3))).not.toEqual(Array.from(kept.outputs[0].data.subarray(K * 3, 2 * K * 3)));
    expect(first).toEqual(Array.from(kept.outputs[0].data.subarray(0, K * 3)));
    // and against tfjs on the whole sequence
    const ref = predict(model, [{ data: x.data.slice(0, per), shape: [1, T_EVAL, D] }])[0];
    expect(sqnr(ref, kept.outputs[0].data)).toBeGreaterThanOrEqual(30);
  });

  it('stateful=True LSTM (fixed batch 2) follows tfjs stateful predict over consecutive calls; reset starts over', async () => {
    const B = 2;
    const T = 10;
    // train a stateless twin, copy its weights into the stateful model
    const mk = (stateful: boolean) => {
      const m = tf.sequential();
      m.add(
        tf.layers.lstm({
          ...(stateful ? { batchInputShape: [B, T, D] } : { inputShape: [T, D] }),
          units: 8,
          stateful,
          recurrentActivation: 'sigmoid',
          kernelInitializer: glorot(61),
          recurrentInitializer: orth(62),
          name: 'lstm_s',
        }),
      );
      m.add(tf.layers.dense({ units: C, activation: 'softmax', kernelInitializer: glorot(63), name: 'head' }));
      return m;
    };
    const twin = mk(false);
    const d = accelData(128, T, 64);
    await fit(twin, d.x, oneHot(d.labels, C), { epochs: 4, lr: 0.02, loss: 'categoricalCrossentropy' });
    const model = mk(true);
    model.setWeights(twin.getWeights());
    const file = await saveTfjsFiles(model, join(dir, 'stateful'));
    const g = await graphOf(file);
    expect(g.tensors[g.inputs[0]].shape).toEqual([B, T, D]);
    // calibration: consecutive batches of 2 continue each other (as the device will run)
    const r = await convertGraph(g, { calibration: [accelData(64, T, 65).x], runRaw: refRaw });
    expect(r.batch).toBe(B);
    expect(parseBlob(r.blob).header.flags & FLAG.STATEFUL).toBe(FLAG.STATEFUL);
    expect(r.plan.stateSize).toBe(2 * 32); // h, c: 2x8 int16 each
    const sim = await openSim(r.blob);
    expect(sim.selfTest()).toBe(0);
    // 6 consecutive calls of 2 streams (each call continues the previous one)
    const x = accelData(B * 6, T, 66).x;
    const per = B * T * D;
    const call = (k: number) => ({ data: x.data.slice(k * per, (k + 1) * per), shape: [B, T, D] });
    const refs: Float32Array[] = [];
    const gots: Float32Array[] = [];
    const raw = (k: number) => rawInputs(r.lowered, [call(k)], B);
    let st: ArrayBuffer = new ArrayBuffer(64 + 16);
    for (let k = 0; k < 6; k++) {
      if (k === 4) {
        model.resetStates();
        expect(sim.resetState()).toBe(0);
        st = new ArrayBuffer(64 + 16);
      }
      refs.push(predict(model, [call(k)])[0]);
      sim.setInputFloat(0, call(k).data);
      expect(sim.invoke()).toBe(0);
      const y = sim.getOutputFloat(0);
      gots.push(Float32Array.from(y));
      // the integer reference keeps the same state in its own STATE buffer: bit-exact
      const [yr] = runBlobReference(r.blob, raw(k), st);
      const outQ = r.lowered.tensors[r.lowered.outputs[0]].q;
      expect(Array.from(yr, (v) => (v - outQ.zeroPoint) * outQ.scale)).toEqual(Array.from(y));
    }
    const ref = Float32Array.from(refs.flatMap((a) => Array.from(a)));
    const got = Float32Array.from(gots.flatMap((a) => Array.from(a)));
    const top1 = agreement(argmaxRows(ref, C), argmaxRows(got, C));
    console.log(`stateful LSTM: 6 consecutive calls x 2 streams, SQNR ${sqnr(ref, got).toFixed(1)} dB, top-1 ${(100 * top1).toFixed(0)}%`);
    expect(sqnr(ref, got)).toBeGreaterThanOrEqual(30);
    expect(top1).toBe(1);
    // state matters: the 2nd call differs from the same input on a fresh state, and reset at call 4 equals a fresh run
    const fresh = await runBlob(r.blob, [call(1)]);
    expect(Array.from(fresh.outputs[0].data)).not.toEqual(Array.from(gots[1]));
    const fresh4 = await runBlob(r.blob, [call(4)]);
    expect(Array.from(fresh4.outputs[0].data)).toEqual(Array.from(gots[4]));
    model.resetStates();
  });

  it('CLI: convert --stream --stream-steps 5 (report stateBytes, summary), run keeps state / --reset-each; go_backwards refused under --stream', async () => {
    const inp = tf.input({ shape: [20, D] });
    const h = tf.layers
      .gru({ units: 6, returnSequences: true, recurrentActivation: 'sigmoid', kernelInitializer: glorot(71), recurrentInitializer: orth(72), name: 'gru_s' })
      .apply(inp);
    const model = tf.model({ inputs: inp, outputs: h as any });
    const sub = join(dir, 'cli');
    const file = await saveTfjsFiles(model, sub);
    const cli = (tool: string, args: string[]) => {
      const p = spawnSync(process.execPath, [resolve(repoRoot, 'tools', tool), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
      return { code: p.status, stdout: p.stdout, stderr: p.stderr };
    };
    const cal = join(sub, 'cal.npy');
    writeNpy(cal, accelData(32, 20, 73).x.data, [32, 20, D]);
    const blob = join(sub, 's.blob');
    const rep = join(sub, 's.json');
    const c = cli('convert', [file, '--calibration', cal, '--stream', '--stream-steps', '5', '-o', blob, '--report', rep]);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/state: 16 B kept between invokes \(streaming: 5 time step\(s\) per invoke\)/);
    const report = JSON.parse(readFileSync(rep, 'utf8'));
    expect(report.ram.stateBytes).toBe(16);
    expect(report.stateful).toBe(true);
    expect(report.streamSteps).toBe(5);
    expect(report.tensors.find((t: any) => t.storage === 'state').dtype).toBe('int16');
    const x = accelData(1, 20, 74).x;
    const inF = join(sub, 'chunks.npy');
    writeNpy(inF, x.data, [4, 5, D]);
    const r1 = cli('run', [blob, '--input', inF, '-o', join(sub, 'kept.npy')]);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toMatch(/ran 4 samples in 4 invocation\(s\) \(stateful blob: state kept across invocations, in sample order\)/);
    const r2 = cli('run', [blob, '--input', inF, '--reset-each', '-o', join(sub, 'reset.npy')]);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/state reset before each invocation/);
    const kept = readArray(join(sub, 'kept.npy'));
    const reset = readArray(join(sub, 'reset.npy'));
    expect(kept.shape).toEqual([4, 5, 6]);
    const ref = predict(model, [{ data: x.data, shape: [1, 20, D] }])[0];
    expect(sqnr(ref, kept.data)).toBeGreaterThanOrEqual(30);
    expect(sqnr(ref, reset.data)).toBeLessThan(20); // restarting every 5 steps is a different computation
    // the stream-mode blob refuses a backward RNN with one line
    const m2 = tf.sequential();
    m2.add(tf.layers.gru({ inputShape: [20, D], units: 4, goBackwards: true, recurrentActivation: 'sigmoid', name: 'gru_back' }));
    const f2 = await saveTfjsFiles(m2, join(dir, 'cli-back'));
    const b = cli('convert', [f2, '--stream', '--stream-steps', '5', '-o', join(dir, 'cli-back', 'o.blob')]);
    expect(b.code).toBe(4);
    expect(
      b.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('error'))[0],
    ).toMatch(/layer 'gru_back' \(GRU\) option go_backwards=true: cannot be converted with --stream/);
    const u = cli('convert', [file, '--stream', '-o', join(sub, 'x.blob')]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--stream needs --stream-steps K/);
  });
});

describe.skipIf(!haveFixtures)(`recurrent shared fixtures through the converter${haveFixtures ? '' : ` (${fixturesSkipReason})`}`, () => {
  const randomInputs = (shape: number[], seed: number, scale: number): FloatTensor => {
    const r = rng(seed);
    return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * gauss(r)) };
  };
  const top1Vs = (g: Graph, x: FloatTensor, got: Float32Array) => {
    const ref = runFloat(g, [x])[0];
    const k = ref.shape[ref.shape.length - 1];
    return { top1: agreement(argmaxRows(ref.data, k), argmaxRows(got, k)), sqnr: sqnr(ref.data, got) };
  };

  it('Keras 3 stacked GRU (reset_after=True): top-1 >= 99% vs the float forward on random inputs', async () => {
    const g = await graphOf(fixture('cdt406_keras3_gru_stack', 'gru_model.keras'));
    expect(g.nodes.filter((n) => n.className === 'GRU').map((n) => n.config.reset_after)).toEqual([true, true]);
    const cal = randomInputs([128, 4, 1], 81, 1);
    const x = randomInputs([300, 4, 1], 82, 1);
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [cal], [x]);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['GRU', 'GRU', 'DENSE', 'SOFTMAX']);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    const m = top1Vs(g, x, outputs[0].data);
    console.log(`cdt406_keras3_gru_stack: top-1 ${(100 * m.top1).toFixed(1)}% of 300, SQNR ${m.sqnr.toFixed(1)} dB`);
    expect(m.top1).toBeGreaterThanOrEqual(0.99);
  });

  it('hls4ml GRU (Keras 2.1.3, relu candidate, reset_after=False): top-1 >= 99% vs the float forward on N(0, 0.5^2) inputs', async () => {
    const g = await graphOf(fixture('hls4ml_gru_keras213', 'KERAS_gru_model_weights.h5'), { config: fixture('hls4ml_gru_keras213', 'KERAS_gru_model.json') });
    // std 0.5 inputs: at unit variance the int8 activations between the relu GRU and the two
    // Dense layers limit agreement to ~96% (the GRU layer alone is at ~44 dB, rnn-fixtures)
    const cal = randomInputs([128, 20, 6], 83, 0.5);
    const x = randomInputs([300, 20, 6], 84, 0.5);
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [cal], [x]);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['GRU', 'DENSE', 'DENSE', 'SOFTMAX']);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    const m = top1Vs(g, x, outputs[0].data);
    console.log(`hls4ml_gru_keras213: top-1 ${(100 * m.top1).toFixed(1)}% of 300, SQNR ${m.sqnr.toFixed(1)} dB`);
    expect(m.top1).toBeGreaterThanOrEqual(0.99);
  });

  it('dl4j SimpleRNN (fixed batch 25): recorded Keras predictions/dense_1 within 4 output LSBs', async () => {
    const g = await graphOf(fixture('dl4j_simple_rnn', 'simple_rnn_tf_keras_2_model.h5'));
    const f = new h5wasm.File(fixture('dl4j_simple_rnn', 'simple_rnn_tf_keras_2_inputs_and_outputs.h5'), 'r');
    const get = (n: string): FloatTensor => {
      const ds = f.get(n) as any;
      return { shape: [...ds.shape], data: Float32Array.from(ds.value as ArrayLike<number>) };
    };
    const x = get('inputs/simple_rnn_1_input');
    const y = get('predictions/dense_1');
    f.close();
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [x], [x]);
    expect(result.batch).toBe(25);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['SIMPLE_RNN', 'DENSE']);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    const sOut = result.lowered.tensors[result.lowered.outputs[0]].q.scale;
    let err = 0;
    for (let i = 0; i < y.data.length; i++) err = Math.max(err, Math.abs(outputs[0].data[i] - y.data[i]));
    console.log(
      `dl4j_simple_rnn: max |y - keras| = ${err.toExponential(2)} (${(err / sOut).toFixed(2)} output LSB), SQNR ${sqnr(y.data, outputs[0].data).toFixed(1)} dB`,
    );
    expect(err).toBeLessThanOrEqual(4 * sOut);
  });
});
