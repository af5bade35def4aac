/**
 * ZeroPadding2D / Cropping2D / UpSampling2D and TimeDistributed(Dense / Conv1D / pooling), and a
 * Bidirectional(LSTM) tagger with a TimeDistributed(Dense, softmax) head:
 * shapes as Keras (tfjs) computes them, and the converted blob run in the wasm against tfjs
 * predict (seeded weights; the tagger is trained in the test).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agreement, argmaxRows, fit, initTf, oneHot, predict, rng, saveTfjsFiles, sqnr, tf } from '../helpers/tfjs-train.ts';
import { convertAndRun, graphFromFile } from '../helpers/convert-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-2d-td-'));
const seed = (s: number) => tf.initializers.glorotUniform({ seed: s });

beforeAll(async () => {
  await initTf();
});

function uniform(n: number, shape: number[], s: number) {
  const r = rng(s);
  const size = n * shape.reduce((a, b) => a * b, 1);
  return { data: new Float32Array(size).map(() => r() * 2 - 1), shape: [n, ...shape] };
}

/** Tag of step t of [N, T, 3] data: which of x[t, 0], x[t, 1], x[t, 2] and x[t - 1, 0] is largest. */
function tagsOf(t: { data: Float32Array; shape: number[] }): Int32Array {
  const steps = t.shape[1];
  const tags = new Int32Array(t.data.length / 3);
  for (let i = 0; i < tags.length; i++) {
    const v = [t.data[i * 3], t.data[i * 3 + 1], t.data[i * 3 + 2], i % steps === 0 ? -1 : t.data[(i - 1) * 3]];
    tags[i] = v.indexOf(Math.max(...v));
  }
  return tags;
}

describe('2-D padding/cropping/upsampling and TimeDistributed', () => {
  it('ZeroPadding2D, Cropping2D, UpSampling2D around Conv2D', async () => {
    const m = tf.sequential();
    m.add(
      tf.layers.zeroPadding2d({
        inputShape: [6, 5, 2],
        padding: [
          [1, 2],
          [0, 1],
        ],
        name: 'pad',
      }),
    );
    m.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, kernelInitializer: seed(1), activation: 'tanh', name: 'conv' }));
    m.add(
      tf.layers.cropping2D({
        cropping: [
          [1, 0],
          [0, 1],
        ],
        name: 'crop',
      }),
    );
    m.add(tf.layers.upSampling2d({ size: [2, 3], name: 'up' }));
    m.add(tf.layers.flatten({ name: 'flat' }));
    m.add(tf.layers.dense({ units: 3, kernelInitializer: seed(2), name: 'out' }));
    const file = await saveTfjsFiles(m, join(dir, 'pad2d'));
    const g = await graphFromFile(file);
    const shapes = Object.fromEntries(g.nodes.map((n) => [n.name, g.tensors[n.outputs[0]].shape]));
    for (const name of ['pad', 'conv', 'crop', 'up', 'flat', 'out']) expect(shapes[name]).toEqual(m.getLayer(name).outputShape);
    const { outputs, selfTest, bitExact, result } = await convertAndRun(g, [uniform(64, [6, 5, 2], 3)], [uniform(40, [6, 5, 2], 4)]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.lowered.ops.filter((o) => o.name === 'LAYOUT').length).toBe(3);
    expect(sqnr(predict(m, [uniform(40, [6, 5, 2], 4)])[0], outputs[0].data)).toBeGreaterThanOrEqual(25);
  });

  it('TimeDistributed(Conv1D), TimeDistributed(MaxPooling1D), TimeDistributed(Dense)', async () => {
    const m = tf.sequential();
    m.add(
      tf.layers.timeDistributed({
        inputShape: [4, 10, 3],
        layer: tf.layers.conv1d({ filters: 5, kernelSize: 3, activation: 'relu', kernelInitializer: seed(5) }),
        name: 'td_conv',
      }),
    );
    m.add(tf.layers.timeDistributed({ layer: tf.layers.maxPooling1d({ poolSize: 2 }), name: 'td_pool' }));
    m.add(tf.layers.timeDistributed({ layer: tf.layers.flatten(), name: 'td_flat' }));
    m.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 6, activation: 'sigmoid', kernelInitializer: seed(6) }), name: 'td_dense' }));
    m.add(tf.layers.globalAveragePooling1d({ name: 'gap' }));
    const file = await saveTfjsFiles(m, join(dir, 'td'));
    const g = await graphFromFile(file);
    const shapes = Object.fromEntries(g.nodes.map((n) => [n.name, g.tensors[n.outputs[0]].shape]));
    for (const name of ['td_conv', 'td_pool', 'td_flat', 'td_dense', 'gap']) expect(shapes[name]).toEqual(m.getLayer(name).outputShape);
    const test = uniform(30, [4, 10, 3], 8);
    const { outputs, selfTest, bitExact, result } = await convertAndRun(g, [uniform(64, [4, 10, 3], 7)], [test]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['CONV2D', 'MAX_POOL2D', 'DENSE', 'AVG_POOL2D']);
    expect(sqnr(predict(m, [test])[0], outputs[0].data)).toBeGreaterThanOrEqual(25);
  });

  it('TimeDistributed(SeparableConv1D) (absent from tfjs: model.json by hand; oracle = SeparableConv2D with a 1 x k kernel over [T, W, C])', async () => {
    // SeparableConv1D becomes DepthwiseConv1D + a 1x1 Conv1D; the tensor between them lives in
    // the TimeDistributed view too, so it must have batch x steps rows
    const [T, W, C, dm, F] = [4, 10, 3, 2, 4];
    const r = rng(61);
    const vals = (n: number) => Float32Array.from({ length: n }, () => r() - 0.5);
    const dk = vals(3 * C * dm);
    const pk = vals(C * dm * F);
    const bias = vals(F);
    const layer = {
      class_name: 'SeparableConv1D',
      config: { name: 'sep', filters: F, kernel_size: [3], strides: [1], padding: 'same', depth_multiplier: dm, use_bias: true, activation: 'relu' },
    };
    const topology = {
      class_name: 'Sequential',
      config: {
        name: 'td_sep',
        layers: [
          { class_name: 'InputLayer', config: { name: 'x', batch_input_shape: [null, T, W, C], dtype: 'float32' } },
          { class_name: 'TimeDistributed', config: { name: 'td', layer } },
        ],
      },
    };
    const weights = [
      { name: 'td/depthwise_kernel', shape: [3, C, dm], dtype: 'float32' },
      { name: 'td/pointwise_kernel', shape: [1, C * dm, F], dtype: 'float32' },
      { name: 'td/bias', shape: [F], dtype: 'float32' },
    ];
    const sub = join(dir, 'td-sep');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'w.bin'), Buffer.concat([dk, pk, bias].map((v) => Buffer.from(v.buffer))));
    const file = join(sub, 'model.json');
    writeFileSync(file, JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: [{ paths: ['w.bin'], weights }] }));
    const g = await graphFromFile(file);
    expect(g.tensors[g.outputs[0]].shape).toEqual([null, T, W, F]);
    const test = uniform(24, [T, W, C], 63);
    const { outputs, selfTest, bitExact, result } = await convertAndRun(g, [uniform(64, [T, W, C], 62)], [test], 2);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['DEPTHWISE_CONV2D', 'CONV2D']);
    const oracle = tf.sequential();
    oracle.add(
      tf.layers.separableConv2d({
        inputShape: [T, W, C],
        filters: F,
        kernelSize: [1, 3],
        padding: 'same',
        depthMultiplier: dm,
        activation: 'relu',
        weights: [tf.tensor(dk, [1, 3, C, dm]), tf.tensor(pk, [1, 1, C * dm, F]), tf.tensor(bias, [F])],
      }),
    );
    const db = sqnr(predict(oracle, [test])[0], outputs[0].data);
    console.log(`TimeDistributed(SeparableConv1D), batch 2: SQNR ${db.toFixed(1)} dB vs tfjs`);
    expect(db).toBeGreaterThanOrEqual(30);
  });

  it('Bidirectional(LSTM, return_sequences) -> TimeDistributed(Dense, softmax): a tagger, static batch 2, per-step top-1 vs tfjs', async () => {
    // softmax cannot be fused into DENSE, so the split-off pre-activation tensor is lowered on
    // its own: it must keep the batch x steps rows of the TimeDistributed view
    const m = tf.sequential();
    m.add(
      tf.layers.bidirectional({
        inputShape: [9, 3],
        layer: tf.layers.lstm({ units: 6, returnSequences: true, kernelInitializer: seed(11), recurrentInitializer: seed(12) }) as any,
        name: 'bi',
      }),
    );
    m.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: seed(13) }), name: 'tags' }));
    const train = uniform(256, [9, 3], 16);
    await fit(m, train, { ...oneHot(tagsOf(train), 4), shape: [256, 9, 4] }, { epochs: 12, lr: 0.02, loss: 'categoricalCrossentropy' });
    const file = await saveTfjsFiles(m, join(dir, 'tagger'));
    const g = await graphFromFile(file);
    expect(g.tensors[g.outputs[0]].shape).toEqual(m.getLayer('tags').outputShape);
    const test = uniform(40, [9, 3], 15);
    const { outputs, selfTest, bitExact, result } = await convertAndRun(g, [train], [test], 2);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['LSTM', 'LSTM', 'CONCAT', 'DENSE', 'SOFTMAX']);
    // DENSE and SOFTMAX see the 2 x 9 rows of the batch
    const dense = result.lowered.ops.find((o) => o.name === 'DENSE')!;
    expect(dense.params.rows).toBe(18);
    expect(result.lowered.tensors[dense.outputs[0]].shape).toEqual([18, 4]);
    const want = predict(m, [test])[0];
    const db = sqnr(want, outputs[0].data);
    const top1 = agreement(argmaxRows(want, 4), argmaxRows(outputs[0].data, 4));
    const acc = agreement(argmaxRows(want, 4), tagsOf(test));
    const accInt = agreement(argmaxRows(outputs[0].data, 4), tagsOf(test));
    console.log(`Bi-LSTM tagger: accuracy float ${(100 * acc).toFixed(1)}%, int8 ${(100 * accInt).toFixed(1)}%`);
    expect(acc).toBeGreaterThan(0.8);
    expect(Math.abs(acc - accInt)).toBeLessThanOrEqual(0.01);
    console.log(`Bi-LSTM tagger (40 x 9 steps): per-step top-1 ${(100 * top1).toFixed(1)}%, SQNR ${db.toFixed(1)} dB vs tfjs`);
    expect(db).toBeGreaterThanOrEqual(30);
    expect(top1).toBeGreaterThanOrEqual(0.97);
  });
});
