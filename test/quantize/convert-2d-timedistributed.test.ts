/**
 * ZeroPadding2D / Cropping2D / UpSampling2D and TimeDistributed(Dense / Conv1D / pooling):
 * shapes as Keras (tfjs) computes them, and the converted blob run in the wasm against tfjs
 * predict on seeded (untrained) weights.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTf, predict, rng, saveTfjsFiles, sqnr, tf } from '../helpers/tfjs-train.ts';
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
});
