/**
 * channels_first convolution and pooling through the converter (LAYOUT transposes around NHWC
 * kernels): Conv2D/MaxPooling2D/Flatten against TensorFlow.js predict, Conv1D (tfjs cannot run
 * channels_first Conv1D correctly, see docs) against the float reference, which is itself
 * checked against ONNX Runtime in test/float/ort.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTf, predict, rng, saveTfjsFiles, sqnr, tf } from '../helpers/tfjs-train.ts';
import { convertAndRun, graphFromFile } from '../helpers/convert-harness.ts';
import { runFloat } from '../../tools/float/forward.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-cf-'));
const seed = (s: number) => tf.initializers.glorotUniform({ seed: s });

beforeAll(async () => {
  await initTf();
});

function uniform(n: number, shape: number[], s: number) {
  const r = rng(s);
  const size = n * shape.reduce((a, b) => a * b, 1);
  return { data: new Float32Array(size).map(() => r() * 2 - 1), shape: [n, ...shape] };
}

describe('channels_first', () => {
  it('Conv2D + MaxPooling2D + Flatten (NCHW) vs tfjs predict', async () => {
    const m = tf.sequential();
    m.add(
      tf.layers.conv2d({
        inputShape: [3, 9, 8],
        dataFormat: 'channelsFirst',
        filters: 5,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: seed(1),
        name: 'conv',
      }),
    );
    m.add(tf.layers.maxPooling2d({ poolSize: 2, dataFormat: 'channelsFirst', name: 'pool' }));
    m.add(tf.layers.flatten({ name: 'flat' }));
    m.add(tf.layers.dense({ units: 4, kernelInitializer: seed(2), name: 'out' }));
    const file = await saveTfjsFiles(m, join(dir, 'c2d'));
    const g = await graphFromFile(file);
    expect(g.tensors[g.nodes.find((n) => n.name === 'pool')!.outputs[0]].shape).toEqual(m.getLayer('pool').outputShape);
    const test = uniform(40, [3, 9, 8], 4);
    const { outputs, selfTest, bitExact, result } = await convertAndRun(g, [uniform(64, [3, 9, 8], 3)], [test]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.lowered.ops.filter((o) => o.name === 'LAYOUT').length).toBeGreaterThanOrEqual(2);
    expect(sqnr(predict(m, [test])[0], outputs[0].data)).toBeGreaterThanOrEqual(25);
  });

  it('Conv1D channels_first (causal, dilated) vs the float reference', async () => {
    const m = tf.sequential();
    m.add(
      tf.layers.conv1d({
        inputShape: [20, 4],
        filters: 6,
        kernelSize: 3,
        dilationRate: 2,
        padding: 'same',
        activation: 'tanh',
        kernelInitializer: seed(5),
        name: 'conv',
      }),
    );
    m.add(tf.layers.flatten({ name: 'flat' }));
    m.add(tf.layers.dense({ units: 3, kernelInitializer: seed(6), name: 'out' }));
    const file = await saveTfjsFiles(m, join(dir, 'c1d'));
    // the same layer as Keras writes it with data_format='channels_first' (input [C, T]) and causal padding
    const json = JSON.parse(readFileSync(file, 'utf8'));
    const conv = json.modelTopology.config.layers[0].config;
    conv.data_format = 'channels_first';
    conv.padding = 'causal';
    conv.batch_input_shape = [null, 4, 20];
    writeFileSync(file, JSON.stringify(json));
    const g = await graphFromFile(file);
    expect(g.tensors[g.nodes[0].outputs[0]].shape).toEqual([null, 6, 20]);
    const test = uniform(40, [4, 20], 8);
    const { outputs, selfTest, bitExact } = await convertAndRun(g, [uniform(64, [4, 20], 7)], [test]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(sqnr(runFloat(g, [test])[0].data, outputs[0].data)).toBeGreaterThanOrEqual(30);
  });
});
