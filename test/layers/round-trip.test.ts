/**
 * Every entry of the layer table, through summary -> convert -> run: a small model per class
 * (saved by tfjs; classes tfjs lacks are renamed in the saved topology, or written by hand with
 * tfjs's 2-D layer as the float oracle) is summarised
 * (the graph build that `summary` prints), converted with calibration, run in the runtime .wasm
 * (self-test and bit-exactness with the integer reference checked) and compared with the float
 * reference. A class without a case fails the coverage test, so "summary accepts, convert
 * refuses" cannot come back unnoticed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_CLASSES } from '../../tools/layers/index.ts';
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
 * 1-D layers tfjs lacks: the model.json is written by hand (Input [T, C] -> the layer ->
 * GlobalAveragePooling1D -> Dense(4), seeded weights), and tfjs checks the float reference with
 * the same layer in 2-D on [1, T, C] (a kernel [k, ...] is the 2-D kernel [1, k, ...], same data).
 */
interface HandCase {
  input: [number, number];
  config: Record<string, any>;
  /** the layer's weights, Keras names and shapes */
  weights: [string, number[]][];
  /** the 2-D layer tfjs has, given the weights with a leading 1 added to every kernel shape */
  oracle: (w: tf.Tensor[]) => tf.layers.Layer;
}

const HAND: Record<string, HandCase> = {
  DepthwiseConv1D: {
    input: [10, 3],
    config: { kernel_size: [3], strides: [1], padding: 'valid', depth_multiplier: 2, use_bias: true, activation: 'relu' },
    weights: [
      ['depthwise_kernel', [3, 3, 2]],
      ['bias', [6]],
    ],
    oracle: (w) => L.depthwiseConv2d({ kernelSize: [1, 3], depthMultiplier: 2, activation: 'relu', weights: w }),
  },
  SeparableConv1D: {
    input: [10, 3],
    config: { filters: 4, kernel_size: [3], strides: [1], padding: 'same', depth_multiplier: 2, use_bias: true, activation: 'linear' },
    weights: [
      ['depthwise_kernel', [3, 3, 2]],
      ['pointwise_kernel', [1, 6, 4]],
      ['bias', [4]],
    ],
    oracle: (w) => L.separableConv2d({ filters: 4, kernelSize: [1, 3], padding: 'same', depthMultiplier: 2, weights: w }),
  },
  ZeroPadding1D: {
    input: [10, 3],
    config: { padding: [1, 2] },
    weights: [],
    oracle: () =>
      L.zeroPadding2d({
        padding: [
          [0, 0],
          [1, 2],
        ],
      }),
  },
  Cropping1D: {
    input: [10, 3],
    config: { cropping: [2, 1] },
    weights: [],
    oracle: () =>
      L.cropping2D({
        cropping: [
          [0, 0],
          [2, 1],
        ],
      }),
  },
  UpSampling1D: { input: [10, 3], config: { size: 2 }, weights: [], oracle: () => L.upSampling2d({ size: [1, 2] }) },
};

/** Writes the hand-made model.json + shard; returns the file and the weights in Keras order. */
function writeHandModel(cls: string, c: HandCase, dir: string): { file: string; values: Float32Array[] } {
  const r = rng(cls.length * 977);
  const [T, C] = c.input;
  const outC = c.config.filters ?? (c.config.depth_multiplier ? C * c.config.depth_multiplier : C);
  const all: [string, number[]][] = [...c.weights.map(([n, sh]): [string, number[]] => [`layer/${n}`, sh]), ['head/kernel', [outC, 4]], ['head/bias', [4]]];
  const values = all.map(([, sh]) => Float32Array.from({ length: sh.reduce((a, b) => a * b, 1) }, () => r() - 0.5));
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'hand',
      layers: [
        { class_name: 'InputLayer', config: { name: 'x', batch_input_shape: [null, T, C], dtype: 'float32' } },
        { class_name: cls, config: { name: 'layer', ...c.config } },
        { class_name: 'GlobalAveragePooling1D', config: { name: 'gap' } },
        { class_name: 'Dense', config: { name: 'head', units: 4, activation: 'linear', use_bias: true } },
      ],
    },
  };
  const manifest = [{ paths: ['hand.bin'], weights: all.map(([name, shape]) => ({ name, shape, dtype: 'float32' })) }];
  const bytes = Buffer.concat(values.map((v) => Buffer.from(v.buffer)));
  writeFileSync(join(dir, 'hand.bin'), bytes);
  const file = join(dir, 'model.json');
  writeFileSync(file, JSON.stringify({ format: 'layers-model', generatedBy: 'kerawasm round-trip test', modelTopology: topology, weightsManifest: manifest }));
  return { file, values };
}

/** The same model in 2-D, built by tfjs: its prediction for x [N, T, C]. */
function oraclePredict(c: HandCase, values: Float32Array[], x: { shape: number[]; data: Float32Array }): Float32Array {
  const [T, C] = c.input;
  const layerW = c.weights.map(([, sh], i) => tf.tensor(values[i], sh.length >= 3 ? [1, ...sh] : sh));
  const n = c.weights.length;
  const input = tf.input({ shape: [1, T, C] });
  const head = L.dense({ units: 4, weights: [tf.tensor(values[n], [values[n].length / 4, 4]), tf.tensor(values[n + 1], [4])] });
  const out = [c.oracle(layerW), L.globalAveragePooling2d({}), head].reduce((t, l) => l.apply(t) as tf.SymbolicTensor, input);
  const m = tf.model({ inputs: input, outputs: out });
  const y = m.predict(tf.tensor(x.data, [x.shape[0], 1, T, C])) as tf.Tensor;
  return y.dataSync() as Float32Array;
}

beforeAll(async () => {
  await initTf();
});

describe('every accepted class through summary -> convert -> run', () => {
  it('every class the registry accepts has a case (or a named reason)', () => {
    const accepted = [...SUPPORTED_CLASSES];
    expect(accepted.filter((c) => !CASES[c] && !HAND[c])).toEqual([]);
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

  for (const [cls, c] of Object.entries(HAND)) {
    it(`${cls} (model.json written by hand, tfjs's 2-D layer as the oracle)`, async () => {
      const { file, values } = writeHandModel(cls, c, mkdtempSync(join(tmpdir(), 'kw-rt-')));
      const g = await graphFromFile(file);
      expect(summaryText(g)).toContain(`(${cls})`);
      const r = rng(cls.charCodeAt(0) * 7 + 3);
      const x = { shape: [48, ...c.input], data: Float32Array.from({ length: 48 * c.input[0] * c.input[1] }, () => r() * 2 - 1) };
      const want = runFloat(await graphFromFile(file), [x])[0].data;
      const oracle = oraclePredict(c, values, x);
      expect(Math.max(...want.map((v, i) => Math.abs(v - oracle[i])))).toBeLessThan(1e-5);
      const { outputs, selfTest, bitExact } = await convertAndRun(g, [x], [x]);
      expect(selfTest).toBe(0);
      expect(bitExact).toBe(true);
      expect(sqnr(want, outputs[0].data)).toBeGreaterThan(25);
    });
  }
});
