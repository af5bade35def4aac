/**
 * Every class the graph accepts, through summary -> convert -> run: a small model per class
 * (saved by tfjs; classes tfjs lacks are renamed or inserted in the saved topology) is summarised
 * (the graph build that `summary` prints), converted with calibration, run in the runtime .wasm
 * (self-test and bit-exactness with the integer reference checked) and compared with the float
 * reference. A class without a case fails the coverage test, so "summary accepts, convert
 * refuses" cannot come back unnoticed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY } from '../../tools/graph/registry.ts';
import { runFloat } from '../../tools/float/forward.ts';
import { summaryText } from '../../tools/graph/summary-format.ts';
import { convertAndRun, graphFromFile } from '../helpers/convert-harness.ts';
import { initTf, rng, saveTfjsFiles, sqnr, tf } from '../helpers/tfjs-train.ts';

const L = tf.layers;
const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
const dense = (units: number, seed: number) =>
  L.dense({ units, kernelInitializer: seeded(seed), biasInitializer: tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed }) });

interface Case {
  /** input shape without the batch */
  input: number[];
  /** the layers between the input and the Flatten -> Dense(4) tail (or a functional body) */
  body: (x: tf.SymbolicTensor) => tf.SymbolicTensor;
  /** rename layers in the saved topology: layer name -> Keras class */
  rename?: Record<string, string>;
  /** integer inputs in [0, ints) (Embedding) */
  ints?: number;
}

const seq =
  (...layers: tf.layers.Layer[]) =>
  (x: tf.SymbolicTensor) =>
    layers.reduce((t, l) => l.apply(t) as tf.SymbolicTensor, x);
const merge = (m: (ts: tf.SymbolicTensor[]) => tf.SymbolicTensor) => (x: tf.SymbolicTensor) =>
  m([dense(6, 31).apply(x) as tf.SymbolicTensor, dense(6, 32).apply(x) as tf.SymbolicTensor]);
const conv = () => L.conv2d({ filters: 3, kernelSize: 3, kernelInitializer: seeded(11) });
const conv1 = () => L.conv1d({ filters: 3, kernelSize: 3, kernelInitializer: seeded(12) });

const CASES: Record<string, Case> = {
  Dense: { input: [8], body: seq(dense(6, 1)) },
  Conv1D: { input: [10, 3], body: seq(conv1()) },
  Conv2D: { input: [6, 6, 2], body: seq(conv()) },
  DepthwiseConv2D: { input: [6, 6, 2], body: seq(L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, depthwiseInitializer: seeded(13) })) },
  SeparableConv2D: {
    input: [6, 6, 2],
    body: seq(L.separableConv2d({ filters: 3, kernelSize: 3, depthwiseInitializer: seeded(14), pointwiseInitializer: seeded(15) })),
  },
  MaxPooling1D: { input: [10, 3], body: seq(conv1(), L.maxPooling1d({ poolSize: 2 })) },
  MaxPooling2D: { input: [6, 6, 2], body: seq(conv(), L.maxPooling2d({ poolSize: 2 })) },
  AveragePooling1D: { input: [10, 3], body: seq(conv1(), L.averagePooling1d({ poolSize: 2 })) },
  AveragePooling2D: { input: [6, 6, 2], body: seq(conv(), L.averagePooling2d({ poolSize: 2 })) },
  GlobalMaxPooling1D: { input: [10, 3], body: seq(conv1(), L.globalMaxPooling1d({})) },
  GlobalMaxPooling2D: { input: [6, 6, 2], body: seq(conv(), L.globalMaxPooling2d({})) },
  GlobalAveragePooling1D: { input: [10, 3], body: seq(conv1(), L.globalAveragePooling1d({})) },
  GlobalAveragePooling2D: { input: [6, 6, 2], body: seq(conv(), L.globalAveragePooling2d({})) },
  Flatten: { input: [4, 3], body: seq(L.flatten({})) },
  Reshape: { input: [12], body: seq(dense(12, 2), L.reshape({ targetShape: [3, 4] })) },
  Permute: { input: [4, 3], body: seq(conv1d1(), L.permute({ dims: [2, 1] })) },
  RepeatVector: { input: [5], body: seq(dense(4, 3), L.repeatVector({ n: 3 })) },
  ZeroPadding2D: { input: [5, 5, 2], body: seq(conv(), L.zeroPadding2d({ padding: 1 })) },
  Cropping2D: { input: [6, 6, 2], body: seq(conv(), L.cropping2D({ cropping: [1, 1] })) },
  UpSampling2D: { input: [4, 4, 2], body: seq(conv(), L.upSampling2d({ size: [2, 2] })) },
  Dropout: { input: [8], body: seq(dense(6, 4), L.dropout({ rate: 0.5 })) },
  SpatialDropout1D: { input: [10, 3], body: seq(conv1(), L.spatialDropout1d({ rate: 0.5 })) },
  SpatialDropout2D: { input: [6, 6, 2], body: seq(conv(), L.dropout({ rate: 0.5, name: 'sd2' })), rename: { sd2: 'SpatialDropout2D' } },
  Identity: { input: [8], body: seq(dense(6, 5), L.dropout({ rate: 0.1, name: 'ident' })), rename: { ident: 'Identity' } },
  ActivityRegularization: { input: [8], body: seq(dense(6, 6), L.dropout({ rate: 0.1, name: 'areg' })), rename: { areg: 'ActivityRegularization' } },
  Masking: { input: [6, 3], body: seq(L.masking({ maskValue: 0 })) },
  LayerNormalization: { input: [8], body: seq(dense(6, 7), L.layerNormalization({})) },
  GaussianNoise: { input: [8], body: seq(dense(6, 8), L.gaussianNoise({ stddev: 0.1 })) },
  GaussianDropout: { input: [8], body: seq(dense(6, 9), L.gaussianDropout({ rate: 0.1 })) },
  AlphaDropout: { input: [8], body: seq(dense(6, 10), L.alphaDropout({ rate: 0.1 })) },
  BatchNormalization: { input: [8], body: seq(dense(6, 11), L.batchNormalization({})) },
  Activation: { input: [8], body: seq(dense(6, 12), L.activation({ activation: 'tanh' })) },
  ReLU: { input: [8], body: seq(dense(6, 13), L.reLU({ maxValue: 0.8 })) },
  LeakyReLU: { input: [8], body: seq(dense(6, 14), L.leakyReLU({ alpha: 0.2 })) },
  ELU: { input: [8], body: seq(dense(6, 15), L.elu({})) },
  ThresholdedReLU: { input: [8], body: seq(dense(6, 16), L.thresholdedReLU({ theta: 0.2 })) },
  PReLU: { input: [8], body: seq(dense(6, 17), L.prelu({ alphaInitializer: tf.initializers.constant({ value: 0.25 }) })) },
  Softmax: { input: [8], body: seq(dense(6, 18), L.softmax({})) },
  Add: { input: [8], body: merge((ts) => L.add({}).apply(ts) as tf.SymbolicTensor) },
  Subtract: { input: [8], body: merge((ts) => L.add({ name: 'sub' }).apply(ts) as tf.SymbolicTensor), rename: { sub: 'Subtract' } },
  Multiply: { input: [8], body: merge((ts) => L.multiply({}).apply(ts) as tf.SymbolicTensor) },
  Average: { input: [8], body: merge((ts) => L.average({}).apply(ts) as tf.SymbolicTensor) },
  Maximum: { input: [8], body: merge((ts) => L.maximum({}).apply(ts) as tf.SymbolicTensor) },
  Minimum: { input: [8], body: merge((ts) => L.minimum({}).apply(ts) as tf.SymbolicTensor) },
  Concatenate: { input: [8], body: merge((ts) => L.concatenate({}).apply(ts) as tf.SymbolicTensor) },
  SimpleRNN: { input: [6, 3], body: seq(L.simpleRNN({ units: 5, kernelInitializer: seeded(19), recurrentInitializer: seeded(20) })) },
  GRU: { input: [6, 3], body: seq(L.gru({ units: 5, kernelInitializer: seeded(21), recurrentInitializer: seeded(22) })) },
  LSTM: { input: [6, 3], body: seq(L.lstm({ units: 5, kernelInitializer: seeded(23), recurrentInitializer: seeded(24) })) },
  Bidirectional: { input: [6, 3], body: seq(L.bidirectional({ layer: L.lstm({ units: 4, kernelInitializer: seeded(25) }) as any })) },
  TimeDistributed: { input: [5, 4], body: seq(L.timeDistributed({ layer: dense(3, 26) })) },
  Embedding: {
    input: [6],
    ints: 20,
    body: seq(L.embedding({ inputDim: 20, outputDim: 4, embeddingsInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 27 }) })),
  },
};

function conv1d1() {
  return L.conv1d({ filters: 3, kernelSize: 1, kernelInitializer: seeded(28) });
}

/**
 * Accepted classes without a case, and why: tfjs has no such layer and its weights cannot be
 * renamed from a tfjs layer (their kernels are 3-D). Their float semantics are the 2-D layer's
 * with a height of 1, which the lowering reuses.
 */
const NO_CASE: Record<string, string> = {
  DepthwiseConv1D: 'no tfjs layer with a [k, in, multiplier] kernel',
  SeparableConv1D: 'no tfjs layer with a [k, in, multiplier] depthwise kernel',
  ZeroPadding1D: 'inserted into a saved topology in test/quantize/convert-layers.test.ts',
  Cropping1D: 'inserted into a saved topology in test/quantize/convert-layers.test.ts',
  UpSampling1D: 'inserted into a saved topology in test/quantize/convert-layers.test.ts',
};

beforeAll(async () => {
  await initTf();
});

describe('every accepted class through summary -> convert -> run', () => {
  it('every class the registry accepts has a case (or a named reason)', () => {
    const accepted = Object.keys(REGISTRY).filter((c) => c !== 'InputLayer');
    expect(accepted.filter((c) => !CASES[c] && !NO_CASE[c])).toEqual([]);
  });

  for (const [cls, c] of Object.entries(CASES)) {
    it(cls, async () => {
      const input = tf.input({ shape: c.input, dtype: c.ints ? 'int32' : 'float32' });
      const body = c.body(input);
      const flat = body.shape.length > 2 ? (L.flatten({}).apply(body) as tf.SymbolicTensor) : body;
      const y = dense(4, 99).apply(flat) as tf.SymbolicTensor;
      const file = await saveTfjsFiles(tf.model({ inputs: input, outputs: y }), mkdtempSync(join(tmpdir(), 'kw-rt-')));
      if (c.rename) {
        const json = JSON.parse(readFileSync(file, 'utf8'));
        for (const l of json.modelTopology.config.layers) if (c.rename[l.config.name]) l.class_name = c.rename[l.config.name];
        writeFileSync(file, JSON.stringify(json));
      }
      const g = await graphFromFile(file);
      expect(g.nodes.map((n) => n.className)).toContain(cls);
      expect(summaryText(g)).toContain(`(${cls})`);
      const r = rng(cls.length * 131 + cls.charCodeAt(0));
      const n = 48 * c.input.reduce((a, b) => a * b, 1);
      const x = { shape: [48, ...c.input], data: Float32Array.from({ length: n }, () => (c.ints ? Math.floor(r() * c.ints) : r() * 2 - 1)) };
      const { outputs, selfTest, bitExact } = await convertAndRun(g, [x], [x]);
      expect(selfTest).toBe(0);
      expect(bitExact).toBe(true);
      const want = runFloat(await graphFromFile(file), [x])[0].data;
      expect(sqnr(want, outputs[0].data)).toBeGreaterThan(25);
    });
  }
});
