/**
 * Float reference vs TensorFlow.js (independent implementation): each case builds a model in
 * tfjs with seeded random weights, runs predict, saves the model with tfjs's own model.save(),
 * reads it back with the project's reader and graph builder, and compares runFloat outputs
 * (max err <= 1e-5, relative above 1).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { runFloat, FloatState } from '../../tools/float/forward.ts';
import type { FloatTensor } from '../../tools/graph/ir.ts';
import { maxErr, randomTensor } from '../helpers/random.ts';
import { graphFromTfjs, randomizeWeights, toTf } from '../helpers/tfjs.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const TOL = 1e-5;

function predictAll(model: tf.LayersModel, xs: FloatTensor[]): Float32Array[] {
  const out = model.predict(xs.map(toTf));
  const arr = Array.isArray(out) ? out : [out];
  return arr.map((t) => t.dataSync() as Float32Array);
}

/** Compare runFloat with tfjs predict on random inputs; returns the max error. */
async function check(model: tf.LayersModel, shapes: number[][], seed = 1, opts: { ints?: number; noRandomize?: boolean } = {}): Promise<number> {
  if (!opts.noRandomize) randomizeWeights(model, seed * 7 + 3);
  const xs = shapes.map((s, i) => {
    const t = randomTensor(s, seed * 101 + i, -2, 2);
    if (opts.ints) t.data = t.data.map((v) => Math.floor(((v + 2) / 4) * opts.ints!));
    return t;
  });
  const want = predictAll(model, xs);
  const graph = await graphFromTfjs(model);
  const got = runFloat(graph, xs);
  expect(got.length).toBe(want.length);
  let worst = 0;
  got.forEach((g, i) => {
    const ws = model.outputs[i].shape.slice(1);
    expect(g.shape.slice(1)).toEqual(ws);
    worst = Math.max(worst, maxErr(g.data, want[i]));
  });
  expect(worst).toBeLessThanOrEqual(TOL);
  return worst;
}

function seq(inputShape: number[], ...layers: tf.layers.Layer[]): tf.Sequential {
  const m = tf.sequential();
  layers.forEach((l, i) => {
    if (i === 0) (l as any).batchInputShape = [null, ...inputShape];
    m.add(l);
  });
  return m;
}
const L = tf.layers;

describe('float reference vs tfjs: core, conv, pooling, reshape', () => {
  it('Dense with mish', async () => {
    await check(seq([5], L.dense({ units: 7, activation: 'mish' as any, inputShape: [5] })), [[3, 5]], 15);
  });

  it('Dense on 2-D and 3-D inputs, all activations tfjs has', async () => {
    for (const [i, act] of [
      'linear',
      'relu',
      'relu6',
      'elu',
      'selu',
      'sigmoid',
      'hardSigmoid',
      'tanh',
      'softmax',
      'swish',
      'softplus',
      'softsign',
      'gelu',
      'gelu_new',
    ].entries()) {
      await check(seq([5], L.dense({ units: 7, activation: act as any, inputShape: [5] })), [[3, 5]], i + 1);
      await check(seq([4, 5], L.dense({ units: 6, activation: act as any, inputShape: [4, 5] })), [[2, 4, 5]], i + 20);
    }
  });

  it('Conv1D valid/same, strides, dilation', async () => {
    const cases = [
      { kernelSize: 3, strides: 2, padding: 'valid' },
      { kernelSize: 3, strides: 1, padding: 'same', dilationRate: 2 },
      { kernelSize: 4, strides: 3, padding: 'same' },
      { kernelSize: 2, strides: 2, padding: 'same' },
      { kernelSize: 5, strides: 1, padding: 'valid', dilationRate: 3 },
    ] as const;
    for (const [i, c] of cases.entries())
      await await check(seq([17, 3], L.conv1d({ filters: 4, activation: 'tanh', inputShape: [17, 3], ...c } as any)), [[2, 17, 3]], i + 1);
  });

  it('Conv2D channels_last/first, same/valid, strides, dilation', async () => {
    const cases = [
      { kernelSize: 3, strides: 1, padding: 'valid' },
      { kernelSize: [3, 2], strides: [2, 1], padding: 'same' },
      { kernelSize: 3, strides: 1, padding: 'same', dilationRate: 2 },
      { kernelSize: 2, strides: 3, padding: 'same' },
    ] as const;
    for (const [i, c] of cases.entries()) {
      await check(seq([9, 8, 3], L.conv2d({ filters: 5, activation: 'relu', inputShape: [9, 8, 3], ...c } as any)), [[2, 9, 8, 3]], i + 1);
      await check(seq([3, 9, 8], L.conv2d({ filters: 5, dataFormat: 'channelsFirst', inputShape: [3, 9, 8], ...c } as any)), [[2, 3, 9, 8]], i + 10);
    }
  });

  // tfjs's SeparableConv2D.getConfig omits depth_multiplier: the graph takes it from the kernel.
  it('SeparableConv2D with depth_multiplier 2 saved by tfjs', async () => {
    await check(
      seq([8, 7, 3], L.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu', inputShape: [8, 7, 3] })),
      [[2, 8, 7, 3]],
      3,
    );
  });

  it('DepthwiseConv2D and SeparableConv2D', async () => {
    await check(
      seq([8, 7, 3], L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', strides: 2, inputShape: [8, 7, 3] })),
      [[2, 8, 7, 3]],
      1,
    );
    await check(
      seq([8, 7, 3], L.depthwiseConv2d({ kernelSize: [2, 3], depthMultiplier: 1, padding: 'valid', activation: 'relu6', inputShape: [8, 7, 3] })),
      [[2, 8, 7, 3]],
      2,
    );
    await check(seq([8, 7, 3], L.separableConv2d({ filters: 5, kernelSize: 2, strides: 2, padding: 'valid', inputShape: [8, 7, 3] })), [[2, 8, 7, 3]], 4);
  });

  it('pooling 1D/2D valid/same (same-average over valid cells), channels_first, global pooling', async () => {
    await check(seq([11, 3], L.maxPooling1d({ poolSize: 3, strides: 2, padding: 'same', inputShape: [11, 3] })), [[2, 11, 3]], 1);
    await check(seq([11, 3], L.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same', inputShape: [11, 3] })), [[2, 11, 3]], 2);
    await check(seq([11, 3], L.averagePooling1d({ poolSize: 2, padding: 'valid', inputShape: [11, 3] })), [[2, 11, 3]], 3);
    await check(seq([7, 9, 2], L.maxPooling2d({ poolSize: [2, 3], strides: [2, 2], padding: 'same', inputShape: [7, 9, 2] })), [[2, 7, 9, 2]], 4);
    await check(seq([7, 9, 2], L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', inputShape: [7, 9, 2] })), [[2, 7, 9, 2]], 5);
    await check(seq([2, 7, 9], L.maxPooling2d({ poolSize: 2, padding: 'valid', dataFormat: 'channelsFirst', inputShape: [2, 7, 9] })), [[2, 2, 7, 9]], 6);
    await check(
      seq([2, 7, 9], L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', dataFormat: 'channelsFirst', inputShape: [2, 7, 9] })),
      [[2, 2, 7, 9]],
      7,
    );
    await check(seq([11, 3], L.globalMaxPooling1d({ inputShape: [11, 3] })), [[2, 11, 3]], 8);
    await check(seq([11, 3], L.globalAveragePooling1d({ inputShape: [11, 3] })), [[2, 11, 3]], 9);
    await check(seq([5, 6, 3], L.globalMaxPooling2d({ inputShape: [5, 6, 3] })), [[2, 5, 6, 3]], 10);
    await check(seq([3, 5, 6], L.globalAveragePooling2d({ dataFormat: 'channelsFirst', inputShape: [3, 5, 6] })), [[2, 3, 5, 6]], 11);
  });

  it('Flatten, Reshape (-1), Permute, RepeatVector, Dropout', async () => {
    await check(seq([4, 3, 2], L.flatten({ inputShape: [4, 3, 2] }), L.dense({ units: 3 })), [[2, 4, 3, 2]], 1);
    await check(seq([12], L.reshape({ targetShape: [3, 4], inputShape: [12] }), L.dense({ units: 2 })), [[2, 12]], 2);
    {
      const m = seq([12], L.reshape({ targetShape: [2, 6], inputShape: [12] }));
      const g = await graphFromTfjs(m);
      g.nodes[0].config.target_shape = [-1, 3];
      const y = runFloat(g, [randomTensor([2, 12], 5)])[0];
      expect(y.shape).toEqual([2, 4, 3]);
    }
    await check(seq([4, 3, 2], L.permute({ dims: [3, 1, 2], inputShape: [4, 3, 2] }), L.dropout({ rate: 0.5 }), L.flatten()), [[2, 4, 3, 2]], 3);
    await check(seq([5], L.repeatVector({ n: 4, inputShape: [5] }), L.dense({ units: 2 })), [[3, 5]], 4);
  });

  it('LayerNormalization (last axis, center/scale on and off)', async () => {
    await check(seq([6, 4], L.layerNormalization({ epsilon: 1e-3, inputShape: [6, 4] })), [[3, 6, 4]], 11);
    await check(seq([9], L.layerNormalization({ epsilon: 0.1, center: false, inputShape: [9] })), [[5, 9]], 12);
  });

  it('BatchNormalization (epsilon, axis -1 and 1), ReLU/LeakyReLU/PReLU/ELU/Softmax/ThresholdedReLU layers', async () => {
    await check(seq([6, 4], L.batchNormalization({ epsilon: 0.01, inputShape: [6, 4] })), [[3, 6, 4]], 1);
    {
      // tfjs's BatchNormalization layer and tf.batchNorm (cpu kernel indexes the parameters by
      // flat index modulo their length) are wrong for non-last axes, so axis=1 is checked
      // against broadcasting tfjs element-wise ops.
      const m = seq([3, 5, 4], L.batchNormalization({ axis: 1, epsilon: 1e-5, inputShape: [3, 5, 4] }));
      randomizeWeights(m, 2);
      const [gamma, beta, mean, variance] = m.layers[0].getWeights().map((w) => w.reshape([1, 3, 1, 1]));
      const x = randomTensor([2, 3, 5, 4], 2);
      const want = toTf(x).sub(mean).div(variance.add(1e-5).sqrt()).mul(gamma).add(beta).dataSync();
      expect(maxErr(runFloat(await graphFromTfjs(m), [x])[0].data, want)).toBeLessThanOrEqual(TOL);
    }
    await check(seq([8], L.reLU({ maxValue: 0.7, inputShape: [8] })), [[4, 8]], 3);
    await check(seq([8], L.leakyReLU({ alpha: 0.13, inputShape: [8] })), [[4, 8]], 4);
    await check(seq([5, 3], L.prelu({ sharedAxes: [1], inputShape: [5, 3] })), [[4, 5, 3]], 5);
    await check(seq([5, 3], L.prelu({ inputShape: [5, 3] })), [[4, 5, 3]], 6);
    await check(seq([8], L.elu({ alpha: 1, inputShape: [8] })), [[4, 8]], 7);
    await check(seq([5, 3], L.softmax({ axis: -1, inputShape: [5, 3] })), [[4, 5, 3]], 8);
    {
      // tfjs softmax only works on the last axis: axis=1 is checked through a transpose
      const g = await graphFromTfjs(seq([5, 3], L.softmax({ axis: -1, inputShape: [5, 3] })));
      g.nodes[0].config.axis = 1;
      const x = randomTensor([4, 5, 3], 8, -3, 3);
      const want = tf
        .softmax(toTf(x).transpose([0, 2, 1]))
        .transpose([0, 2, 1])
        .dataSync();
      expect(maxErr(runFloat(g, [x])[0].data, want)).toBeLessThanOrEqual(TOL);
    }
    await check(seq([8], L.thresholdedReLU({ theta: 0.4, inputShape: [8] })), [[4, 8]], 9);
    await check(seq([5, 3], L.activation({ activation: 'softmax', inputShape: [5, 3] })), [[4, 5, 3]], 10);
  });

  it('merge layers (functional): Add/Multiply/Average/Maximum/Minimum/Concatenate', async () => {
    const a = tf.input({ shape: [6, 4] });
    const b = tf.input({ shape: [6, 4] });
    const da = L.dense({ units: 4, activation: 'tanh' }).apply(a) as tf.SymbolicTensor;
    const outs = [
      L.add().apply([da, b]),
      L.multiply().apply([da, b, a]),
      L.average().apply([da, b]),
      L.maximum().apply([a, b]),
      L.minimum().apply([a, da]),
      L.concatenate({ axis: 1 }).apply([a, da]),
      L.concatenate().apply([a, b, da]),
    ] as tf.SymbolicTensor[];
    await check(
      tf.model({ inputs: [a, b], outputs: outs }),
      [
        [3, 6, 4],
        [3, 6, 4],
      ],
      1,
    );
  });
});

describe('float reference vs tfjs: recurrent', () => {
  it('SimpleRNN: return_sequences, go_backwards, relu', async () => {
    await check(seq([7, 3], L.simpleRNN({ units: 5, inputShape: [7, 3] })), [[2, 7, 3]], 1);
    await check(seq([7, 3], L.simpleRNN({ units: 5, returnSequences: true, goBackwards: true, inputShape: [7, 3] })), [[2, 7, 3]], 2);
    await check(seq([7, 3], L.simpleRNN({ units: 4, activation: 'relu', returnSequences: true, inputShape: [7, 3] })), [[2, 7, 3]], 3);
  });

  it('LSTM: sigmoid/hard_sigmoid gates, sequences, backwards, no bias', async () => {
    await check(seq([8, 3], L.lstm({ units: 5, recurrentActivation: 'sigmoid', inputShape: [8, 3] })), [[2, 8, 3]], 1);
    await check(
      seq([8, 3], L.lstm({ units: 5, recurrentActivation: 'hardSigmoid', returnSequences: true, goBackwards: true, inputShape: [8, 3] })),
      [[2, 8, 3]],
      2,
    );
    await check(
      seq([8, 3], L.lstm({ units: 4, recurrentActivation: 'sigmoid', useBias: false, activation: 'relu', returnSequences: true, inputShape: [8, 3] })),
      [[2, 8, 3]],
      3,
    );
  });

  it('GRU reset_after=false: sigmoid/hard_sigmoid, sequences, backwards', async () => {
    await check(seq([8, 3], L.gru({ units: 5, recurrentActivation: 'sigmoid', inputShape: [8, 3] })), [[2, 8, 3]], 1);
    await check(
      seq([8, 3], L.gru({ units: 5, recurrentActivation: 'hardSigmoid', returnSequences: true, goBackwards: true, inputShape: [8, 3] })),
      [[2, 8, 3]],
      2,
    );
  });

  it('return_state works; initial_state inputs are refused with their reason', async () => {
    const x = tf.input({ shape: [6, 3] });
    const [y, h, c] = L.lstm({ units: 4, recurrentActivation: 'sigmoid', returnState: true, returnSequences: true }).apply(x) as tf.SymbolicTensor[];
    const [g, gh] = L.gru({ units: 3, recurrentActivation: 'sigmoid', returnState: true }).apply(y) as tf.SymbolicTensor[];
    await check(tf.model({ inputs: [x], outputs: [y, h, c, g, gh] }), [[2, 6, 3]], 1);
    const x2 = tf.input({ shape: [5, 2] });
    const y2 = L.lstm({ units: 4, recurrentActivation: 'sigmoid' }).apply(x2, { initialState: [h, c] }) as tf.SymbolicTensor;
    await expect(graphFromTfjs(tf.model({ inputs: [x, x2], outputs: [y2] }))).rejects.toThrow(
      /option inputs=3: not supported; supported: 1 input tensor \(initial_state/,
    );
  });

  it('Bidirectional merge modes concat/sum/mul/ave/None with sequences', async () => {
    for (const [i, mode] of (['concat', 'sum', 'mul', 'ave'] as const).entries()) {
      await check(
        seq(
          [6, 3],
          L.bidirectional({ layer: L.lstm({ units: 4, recurrentActivation: 'sigmoid', returnSequences: true }) as any, mergeMode: mode, inputShape: [6, 3] }),
        ),
        [[2, 6, 3]],
        i + 1,
      );
      await check(
        seq([6, 3], L.bidirectional({ layer: L.gru({ units: 3, recurrentActivation: 'sigmoid' }) as any, mergeMode: mode, inputShape: [6, 3] })),
        [[2, 6, 3]],
        i + 10,
      );
    }
    const x = tf.input({ shape: [6, 3] });
    const outs = L.bidirectional({ layer: L.simpleRNN({ units: 3, returnSequences: true }) as any, mergeMode: null as any }).apply(x) as tf.SymbolicTensor[];
    await check(tf.model({ inputs: x, outputs: outs }), [[2, 6, 3]], 20);
  });

  it('Bidirectional return_state (functional) and Embedding(mask_zero) -> Bidirectional', async () => {
    const x = tf.input({ shape: [6, 3] });
    const outs = L.bidirectional({ layer: L.lstm({ units: 3, recurrentActivation: 'sigmoid', returnState: true }) as any, mergeMode: 'concat' }).apply(
      x,
    ) as tf.SymbolicTensor[];
    expect(outs.length).toBe(5);
    await check(tf.model({ inputs: x, outputs: outs }), [[2, 6, 3]], 30);
    const m = seq(
      [8],
      L.embedding({ inputDim: 5, outputDim: 3, maskZero: true, inputShape: [8] }),
      L.bidirectional({ layer: L.gru({ units: 3, recurrentActivation: 'sigmoid', returnSequences: true }) as any, mergeMode: 'concat' }),
      L.lstm({ units: 2, recurrentActivation: 'sigmoid' }),
    );
    randomizeWeights(m, 31);
    const ids: FloatTensor = { shape: [2, 8], data: Float32Array.from([0, 1, 2, 0, 3, 4, 0, 0, 4, 3, 2, 1, 0, 1, 2, 3]) };
    expect(maxErr(runFloat(await graphFromTfjs(m), [ids])[0].data, predictAll(m, [ids])[0])).toBeLessThanOrEqual(TOL);
  });

  it('TimeDistributed(Dense) and TimeDistributed(Conv1D)', async () => {
    await check(seq([5, 4], L.timeDistributed({ layer: L.dense({ units: 3, activation: 'relu' }), inputShape: [5, 4] })), [[2, 5, 4]], 1);
    await check(
      seq([5, 8, 2], L.timeDistributed({ layer: L.conv1d({ filters: 3, kernelSize: 3, padding: 'same' }), inputShape: [5, 8, 2] })),
      [[2, 5, 8, 2]],
      2,
    );
  });

  it('Embedding(mask_zero) -> LSTM(seq) -> GRU: masked steps keep state, mask propagates', async () => {
    const m = seq(
      [9],
      L.embedding({ inputDim: 6, outputDim: 4, maskZero: true, inputShape: [9] }),
      L.lstm({ units: 5, recurrentActivation: 'sigmoid', returnSequences: true }),
      L.gru({ units: 3, recurrentActivation: 'sigmoid', returnSequences: true }),
    );
    randomizeWeights(m, 5);
    // zeros at the start, in the middle and at the end of sequences
    const ids: FloatTensor = { shape: [3, 9], data: Float32Array.from([0, 0, 1, 2, 0, 3, 4, 5, 0, 1, 2, 3, 4, 5, 1, 2, 3, 4, 2, 0, 0, 3, 1, 0, 5, 0, 0]) };
    const want = predictAll(m, [ids])[0];
    const got = runFloat(await graphFromTfjs(m), [ids])[0];
    expect(got.shape).toEqual([3, 9, 3]);
    expect(maxErr(got.data, want)).toBeLessThanOrEqual(TOL);
    const m2 = seq([9], L.embedding({ inputDim: 6, outputDim: 4, maskZero: true, inputShape: [9] }), L.simpleRNN({ units: 3, goBackwards: true }));
    await check(m2, [[3, 9]], 3, { ints: 6 });
  });

  it('stateful LSTM keeps state across calls until reset', async () => {
    const m = tf.sequential();
    m.add(L.lstm({ units: 4, recurrentActivation: 'sigmoid', stateful: true, returnSequences: true, batchInputShape: [2, 5, 3] }));
    randomizeWeights(m, 9);
    const graph = await graphFromTfjs(m);
    const state = new FloatState();
    for (let call = 0; call < 3; call++) {
      const x = randomTensor([2, 5, 3], 40 + call);
      const want = predictAll(m, [x])[0];
      const got = runFloat(graph, [x], { state })[0];
      expect(maxErr(got.data, want)).toBeLessThanOrEqual(TOL);
    }
    m.resetStates();
    state.reset();
    const x = randomTensor([2, 5, 3], 77);
    expect(maxErr(runFloat(graph, [x], { state })[0].data, predictAll(m, [x])[0])).toBeLessThanOrEqual(TOL);
    // without a state object every call starts from zeros: equals a fresh run
    const fresh = runFloat(graph, [x])[0];
    expect(maxErr(fresh.data, runFloat(graph, [x], { state: new FloatState() })[0].data)).toBe(0);
  });
});
