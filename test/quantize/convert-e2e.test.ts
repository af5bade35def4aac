/**
 * End to end: models built AND trained here with TensorFlow.js (seeded, cpu backend), saved as
 * real model.json + weights.bin files, read back, converted to int8, run in build/runtime.wasm
 * (DeviceSim) and compared with tfjs model.predict on held-out samples.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accelData, agreement, argmaxRows, fit, gauss, initTf, oneHot, predict, rng, saveTfjsFiles, sqnr, tf, type Arr } from '../helpers/tfjs-train.ts';
import { convertAndRun, graphFromFile, slice } from '../helpers/convert-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-e2e-'));
const seedInit = (s: number) => tf.initializers.glorotUniform({ seed: s });

beforeAll(async () => {
  await initTf();
});

/** Gaussian blobs: n samples, d features, k classes. */
function blobs(n: number, d: number, k: number, seed: number, spread = 0.6): { x: Arr; labels: Int32Array } {
  const r = rng(seed);
  const cr = rng(1000 + k * 7 + d);
  const centers = Array.from({ length: k }, () => Array.from({ length: d }, () => (cr() * 2 - 1) * 2));
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * k);
    labels[i] = c;
    for (let j = 0; j < d; j++) data[i * d + j] = centers[c][j] + spread * gauss(r);
  }
  return { x: { data, shape: [n, d] }, labels };
}

function top1(ref: Float32Array, got: Float32Array, k: number): number {
  return agreement(argmaxRows(ref, k), argmaxRows(got, k));
}

describe('convert -> wasm runtime vs tfjs predict (trained models)', () => {
  it('MLP classifier (relu, tanh via fused LUT, softmax), static batch 4: top-1 agreement >= 99% on 300 held-out samples', async () => {
    const train = blobs(600, 10, 4, 1);
    const test = blobs(300, 10, 4, 2);
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [10], units: 32, activation: 'relu', kernelInitializer: seedInit(1) }));
    m.add(tf.layers.dense({ units: 16, activation: 'tanh', kernelInitializer: seedInit(2) }));
    m.add(tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: seedInit(3) }));
    await fit(m, train.x, oneHot(train.labels, 4), { epochs: 15, loss: 'categoricalCrossentropy' });
    const file = await saveTfjsFiles(m, join(dir, 'mlp'));
    const g = await graphFromFile(file);
    const cal = [slice(train.x, 0, 128)];
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, cal, [test.x as any], 4);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.batch).toBe(4);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['DENSE', 'DENSE', 'DENSE', 'SOFTMAX']);
    expect(result.plan.arenaSize).toBe(result.plan.lowerBound); // sequential model
    const ref = predict(m, [test.x])[0];
    expect(outputs[0].shape).toEqual([300, 4]);
    const agree = top1(ref, outputs[0].data, 4);
    expect(agree).toBeGreaterThanOrEqual(0.99);
    // float accuracy is high too (the task is learnable; the comparison is meaningful)
    expect(agreement(argmaxRows(ref, 4), test.labels)).toBeGreaterThan(0.9);
  });

  it('MLP regressor: SQNR >= 30 dB on 300 held-out samples', async () => {
    const r = rng(5);
    const mk = (n: number) => {
      const x = new Float32Array(n * 4);
      const y = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < 4; j++) x[i * 4 + j] = r() * 2 - 1;
        y[i] = Math.sin(2 * x[i * 4]) + 0.5 * x[i * 4 + 1] * x[i * 4 + 2] - 0.3 * x[i * 4 + 3];
      }
      return { x: { data: x, shape: [n, 4] }, y: { data: y, shape: [n, 1] } };
    };
    const train = mk(800);
    const test = mk(300);
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 32, activation: 'relu', kernelInitializer: seedInit(11) }));
    m.add(tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: seedInit(12) }));
    m.add(tf.layers.dense({ units: 1, kernelInitializer: seedInit(13) }));
    await fit(m, train.x, train.y, { epochs: 20, loss: 'meanSquaredError' });
    const file = await saveTfjsFiles(m, join(dir, 'reg'));
    const g = await graphFromFile(file);
    const { outputs, selfTest } = await convertAndRun(g, [slice(train.x, 0, 200)], [test.x as any]);
    expect(selfTest).toBe(0);
    const ref = predict(m, [test.x])[0];
    const db = sqnr(ref, outputs[0].data);
    expect(db).toBeGreaterThanOrEqual(30);
  });

  it('Conv1D classifier: causal + same + strided valid convs, two BatchNorms folded, pooling: top-1 >= 99% on 256 samples', async () => {
    const T = 16;
    const pad = 2; // causal k=3, d=1 -> left pad 2 (tfjs cannot train dilated convs; dilation is covered by the dl4j causal fixture)
    const padLeft = (a: Arr): Arr => {
      const n = a.shape[0];
      const out = new Float32Array(n * (T + pad) * 3);
      for (let i = 0; i < n; i++) out.set(a.data.subarray(i * T * 3, (i + 1) * T * 3), (i * (T + pad) + pad) * 3);
      return { data: out, shape: [n, T + pad, 3] };
    };
    // tfjs cannot run padding='causal': train an equivalent model whose first conv is 'valid'
    // on inputs left-padded with zeros, then convert the same weights as a causal conv.
    const build = () => {
      const m = tf.sequential();
      m.add(tf.layers.conv1d({ inputShape: [T + pad, 3], filters: 8, kernelSize: 3, padding: 'valid', kernelInitializer: seedInit(21), name: 'c1' }));
      m.add(tf.layers.batchNormalization({ name: 'bn1', momentum: 0.8 }));
      m.add(tf.layers.activation({ activation: 'relu', name: 'r1' }));
      m.add(tf.layers.conv1d({ filters: 8, kernelSize: 5, padding: 'same', kernelInitializer: seedInit(22), name: 'c2' }));
      m.add(tf.layers.batchNormalization({ name: 'bn2', momentum: 0.8 }));
      m.add(tf.layers.activation({ activation: 'relu', name: 'r2' }));
      m.add(tf.layers.maxPooling1d({ poolSize: 2, name: 'p1' }));
      m.add(tf.layers.conv1d({ filters: 12, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', kernelInitializer: seedInit(23), name: 'c3' }));
      m.add(tf.layers.globalMaxPooling1d({ name: 'gmp' }));
      m.add(tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: seedInit(24), name: 'out' }));
      return m;
    };
    const train = accelData(192, T, 31);
    const test = accelData(256, T, 32);
    const m = build();
    await fit(m, padLeft(train.x), oneHot(train.labels, 4), { epochs: 10, loss: 'categoricalCrossentropy' });
    const file = await saveTfjsFiles(m, join(dir, 'conv1d'));
    // rewrite the topology: input length T, first conv causal
    const mj = JSON.parse(readFileSync(file, 'utf8'));
    const layers = mj.modelTopology.config.layers;
    const c1 = layers.find((l: any) => l.config.name === 'c1');
    c1.config.padding = 'causal';
    c1.config.batch_input_shape = [null, T, 3];
    if (c1.config.batchInputShape) c1.config.batchInputShape = [null, T, 3];
    const inLayer = layers.find((l: any) => l.class_name === 'InputLayer');
    if (inLayer) inLayer.config.batch_input_shape = [null, T, 3];
    writeFileSync(file, JSON.stringify(mj));
    const g = await graphFromFile(file);
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [slice(train.x, 0, 128)], [test.x as any]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.notes.filter((n) => n.includes('folded')).length).toBe(2);
    const ops = result.lowered.ops.map((o) => o.name);
    expect(ops).toEqual(['CONV2D', 'CONV2D', 'MAX_POOL2D', 'CONV2D', 'MAX_POOL2D', 'DENSE', 'SOFTMAX']);
    const convs = result.lowered.ops.filter((o) => o.name === 'CONV2D').map((o) => o.params);
    expect([convs[0].padLeft, convs[0].outW]).toEqual([2, T]); // causal
    expect([convs[1].padLeft, convs[1].outW]).toEqual([2, T]); // same
    expect([convs[2].padLeft, convs[2].strideW, convs[2].outW]).toEqual([0, 2, 3]); // valid, stride 2
    expect(result.plan.arenaSize).toBe(result.plan.lowerBound);
    const ref = predict(m, [padLeft(test.x)])[0];
    expect(top1(ref, outputs[0].data, 4)).toBeGreaterThanOrEqual(0.99);
    expect(agreement(argmaxRows(ref, 4), test.labels)).toBeGreaterThan(0.9);
  });

  it('functional model with Add (+fused relu) and Concatenate (requantised) branches: top-1 >= 99% on 300 samples', async () => {
    const train = blobs(600, 12, 3, 41, 0.8);
    const test = blobs(300, 12, 3, 42, 0.8);
    const x = tf.input({ shape: [12], name: 'x' });
    const d1 = tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: seedInit(31), name: 'd1' }).apply(x) as tf.SymbolicTensor;
    const d2 = tf.layers.dense({ units: 16, kernelInitializer: seedInit(32), name: 'd2' }).apply(d1) as tf.SymbolicTensor;
    const sk = tf.layers.dense({ units: 16, kernelInitializer: seedInit(33), name: 'skip' }).apply(x) as tf.SymbolicTensor;
    const add = tf.layers.add({ name: 'add' }).apply([d2, sk]) as tf.SymbolicTensor;
    const r = tf.layers.activation({ activation: 'relu', name: 'add_relu' }).apply(add) as tf.SymbolicTensor;
    const side = tf.layers.dense({ units: 8, activation: 'sigmoid', kernelInitializer: seedInit(34), name: 'side' }).apply(x) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate({ name: 'cat' }).apply([r, side]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seedInit(35), name: 'out' }).apply(cat) as tf.SymbolicTensor;
    const m = tf.model({ inputs: x, outputs: out });
    await fit(m, train.x, oneHot(train.labels, 3), { epochs: 15, loss: 'categoricalCrossentropy' });
    const file = await saveTfjsFiles(m, join(dir, 'functional'));
    const g = await graphFromFile(file);
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [slice(train.x, 0, 128)], [test.x as any]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    const names = result.lowered.ops.map((o) => `${o.name}:${o.layer}`);
    expect(names).toContain('ADD_N:add+add_relu');
    const cat0 = result.lowered.ops.find((o) => o.name === 'CONCAT')!;
    expect((cat0.params.rep as any[]).length).toBe(2);
    const ref = predict(m, [test.x])[0];
    expect(top1(ref, outputs[0].data, 3)).toBeGreaterThanOrEqual(0.99);
    expect(agreement(argmaxRows(ref, 3), test.labels)).toBeGreaterThan(0.85);
  });

  it('Embedding (GATHER on int32 token ids) + Flatten + Dense: top-1 >= 99% on 300 sequences', async () => {
    const V = 16,
      L = 8;
    const mk = (n: number, seed: number) => {
      const r = rng(seed);
      const ids = new Float32Array(n * L);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const c = i % 3;
        labels[i] = c;
        for (let t = 0; t < L; t++) {
          const dominant = r() < 0.7;
          ids[i * L + t] = dominant ? c * 5 + Math.floor(r() * 5) : Math.floor(r() * V);
        }
      }
      return { x: { data: ids, shape: [n, L], dtype: 'int32' as const }, labels };
    };
    const train = mk(600, 51);
    const test = mk(300, 52);
    const m = tf.sequential();
    m.add(
      tf.layers.embedding({
        inputDim: V,
        outputDim: 6,
        inputLength: L,
        embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 3 }),
        name: 'emb',
      }),
    );
    m.add(tf.layers.flatten({ name: 'flat' }));
    m.add(tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: seedInit(41), name: 'h' }));
    m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seedInit(42), name: 'out' }));
    await fit(m, train.x, oneHot(train.labels, 3), { epochs: 12, loss: 'categoricalCrossentropy' });
    const file = await saveTfjsFiles(m, join(dir, 'emb'));
    const g = await graphFromFile(file);
    expect(g.tensors[g.inputs[0]].dtype).toBe('int32');
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [slice(train.x, 0, 128)], [test.x as any]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['GATHER', 'DENSE', 'DENSE', 'SOFTMAX']);
    // Flatten is an alias: same arena offset as the embedding output
    const flat = result.tensors.find((t) => t.name === 'flat')!;
    const emb = result.tensors.find((t) => t.name === 'emb')!;
    expect(flat.aliasOf).toBe(emb.index);
    expect(flat.offset).toBe(emb.offset);
    const ref = predict(m, [test.x])[0];
    expect(top1(ref, outputs[0].data, 3)).toBeGreaterThanOrEqual(0.99);
  });
});
