/**
 * Shapes and parameter counts of the graph builder against TensorFlow.js, an independent
 * Keras implementation: every layer's output shape(s) must equal tfjs's layer.outputShape and
 * every parameter count layer.countParams() / model.countParams().
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { initTf, rawFromTfjs } from '../helpers/tfjs.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import type { Graph } from '../../tools/graph/ir.ts';

let tf: Awaited<ReturnType<typeof initTf>>;
beforeAll(async () => {
  tf = await initTf();
});

function sizeOf(ws: { shape: number[] }[]): number {
  return ws.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
}

/** Build our graph from the tfjs export and compare every layer with tfjs. */
async function check(model: any, opts: { batch?: number } = {}): Promise<Graph> {
  const raw = await rawFromTfjs(model);
  const g = buildGraph(raw, opts);
  let total = 0;
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const node = g.nodes.find((n) => n.name === layer.name);
    if (layer.getClassName() === 'Sequential' || layer.getClassName() === 'Model') continue; // nested: checked via model outputs
    expect(node, `node for layer ${layer.name}`).toBeDefined();
    const os = layer.outputShape;
    const expected = Array.isArray(os[0]) || (os.length > 0 && os[0] !== null && typeof os[0] === 'object') ? os : [os];
    const got = node!.outputs.map((t) => g.tensors[t].shape);
    expect(got, `output shapes of ${layer.name}`).toEqual(expected);
    expect(node!.trainableParams + node!.nonTrainableParams, `params of ${layer.name}`).toBe(layer.countParams());
    expect(node!.trainableParams, `trainable params of ${layer.name}`).toBe(sizeOf(layer.trainableWeights));
    for (const w of layer.weights) {
      // every tfjs weight appears with the same values
      const canon = w.originalName.split('/').pop()!.replace(/_\d+$/, '');
      const dir = /forward/.test(w.originalName) ? 'forward/' : /backward/.test(w.originalName) ? 'backward/' : '';
      const mine = node!.weights[dir + canon];
      expect(mine, `weight ${dir + canon} of ${layer.name}`).toBeDefined();
      expect(mine.shape).toEqual(w.shape);
      expect(Array.from(mine.data)).toEqual(Array.from(w.read().dataSync()));
    }
  }
  for (const n of g.nodes) total += n.trainableParams + n.nonTrainableParams;
  expect(total).toBe(model.countParams());
  const outShapes = model.outputs.map((o: any) => o.shape);
  expect(g.outputs.map((t) => g.tensors[t].shape)).toEqual(outShapes);
  expect(g.inputs.map((t) => g.tensors[t].shape)).toEqual(model.inputs.map((i: any) => i.shape));
  return g;
}

function seq(inputShape: number[], layers: any[], batch?: number): any {
  const m = tf.sequential();
  layers.forEach((l, i) => {
    if (i === 0) {
      const l0 = l(batch ? { batchInputShape: [batch, ...inputShape] } : { inputShape });
      m.add(l0);
    } else m.add(l({}));
  });
  return m;
}
const L = (f: (a: any) => any, args: any) => (extra: any) => f({ ...args, ...extra });

describe('graph vs tfjs: dense, conv, pooling', () => {
  it('Dense on 2-D and 3-D input (acts on the last axis), no bias', async () => {
    await check(seq([7], [L(tf.layers.dense, { units: 5, activation: 'relu' }), L(tf.layers.dense, { units: 3, useBias: false })]));
    const g = await check(seq([4, 6], [L(tf.layers.dense, { units: 5 })]));
    expect(g.nodes[0].macs).toBe(4 * 6 * 5);
  });
  it('Conv1D valid/same, strides, dilation, channels_last', async () => {
    for (const [padding, strides, dilationRate] of [
      ['valid', 1, 1],
      ['valid', 2, 1],
      ['same', 3, 1],
      ['same', 1, 2],
      ['valid', 1, 3],
    ] as const) {
      const g = await check(seq([17, 3], [L(tf.layers.conv1d, { filters: 4, kernelSize: 3, padding, strides, dilationRate, activation: 'tanh' })]));
      const out = g.tensors[g.outputs[0]].shape[1] as number;
      expect(g.nodes[0].macs).toBe(out * 3 * 3 * 4);
    }
  });
  it('Conv2D channels_last and channels_first, strides, same/valid', async () => {
    await check(seq([9, 11, 3], [L(tf.layers.conv2d, { filters: 5, kernelSize: [3, 2], strides: [2, 1], padding: 'same' })]));
    await check(seq([3, 9, 11], [L(tf.layers.conv2d, { filters: 5, kernelSize: 3, padding: 'valid', dataFormat: 'channelsFirst' })]));
    await check(seq([10, 10, 3], [L(tf.layers.conv2d, { filters: 2, kernelSize: 3, dilationRate: 2 })]));
  });
  it('DepthwiseConv2D and SeparableConv2D (depth_multiplier)', async () => {
    await check(seq([8, 8, 3], [L(tf.layers.depthwiseConv2d, { kernelSize: 3, depthMultiplier: 2, padding: 'same' })]));
    // (tfjs omits depth_multiplier from SeparableConv configs, so only dm=1 round-trips; dm>1 is in graph/keras.test.ts)
    await check(seq([8, 8, 3], [L(tf.layers.separableConv2d, { filters: 4, kernelSize: 3, strides: 2 })]));
    await check(seq([8, 8, 3], [L(tf.layers.separableConv2d, { filters: 4, kernelSize: 3, useBias: false })]));
  });
  it('Max/AveragePooling1D/2D: valid/same, strides default = pool_size', async () => {
    await check(seq([13, 3], [L(tf.layers.maxPooling1d, { poolSize: 3 }), L(tf.layers.averagePooling1d, { poolSize: 2, strides: 1, padding: 'same' })]));
    await check(seq([13, 3], [L(tf.layers.averagePooling1d, { poolSize: 3, padding: 'same' }), L(tf.layers.maxPooling1d, { poolSize: 2, strides: 1 })]));
    await check(seq([9, 7, 2], [L(tf.layers.maxPooling2d, { poolSize: [2, 3] }), L(tf.layers.averagePooling2d, { poolSize: 2, padding: 'same' })]));
    await check(seq([2, 9, 7], [L(tf.layers.maxPooling2d, { poolSize: 2, dataFormat: 'channelsFirst' })]));
  });
  it('Global pooling 1D/2D', async () => {
    await check(seq([9, 4], [L(tf.layers.globalMaxPooling1d, {})]));
    await check(seq([9, 4], [L(tf.layers.globalAveragePooling1d, {})]));
    await check(seq([5, 6, 4], [L(tf.layers.globalMaxPooling2d, {})]));
    await check(seq([4, 5, 6], [L(tf.layers.globalAveragePooling2d, { dataFormat: 'channelsFirst' })]));
  });
});

describe('graph vs tfjs: reshaping, identity, normalisation, activations', () => {
  it('Flatten, Reshape (with -1), Permute, RepeatVector', async () => {
    await check(
      seq(
        [4, 6],
        [
          L(tf.layers.flatten, {}),
          L(tf.layers.reshape, { targetShape: [3, 8] }),
          L(tf.layers.permute, { dims: [2, 1] }),
          L(tf.layers.flatten, {}),
          L(tf.layers.repeatVector, { n: 5 }),
        ],
      ),
    );
    // tfjs declares the -1 dimension as None; Keras (Reshape._fix_unknown_dimension) resolves it: 24 / (2*3) = 4
    const g = buildGraph(await rawFromTfjs(seq([4, 6], [L(tf.layers.reshape, { targetShape: [2, -1, 3] })])));
    expect(g.nodes[0].config.target_shape).toEqual([2, -1, 3]);
    expect(g.tensors[g.outputs[0]].shape).toEqual([null, 2, 4, 3]);
    await check(seq([2, 3, 4], [L(tf.layers.permute, { dims: [3, 1, 2] })]));
  });
  it('Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout, AlphaDropout are identities', async () => {
    await check(
      seq(
        [6, 4],
        [
          L(tf.layers.dropout, { rate: 0.3 }),
          L(tf.layers.spatialDropout1d, { rate: 0.2 }),
          L(tf.layers.gaussianNoise, { stddev: 0.1 }),
          L(tf.layers.gaussianDropout, { rate: 0.1 }),
          L(tf.layers.alphaDropout, { rate: 0.1 }),
        ],
      ),
    );
  });
  it('BatchNormalization: axis -1, channels_first axis 1, center/scale off', async () => {
    const g = await check(
      seq(
        [6, 4],
        [
          L(tf.layers.batchNormalization, {}),
          L(tf.layers.batchNormalization, { center: false }),
          L(tf.layers.batchNormalization, { scale: false, center: false }),
        ],
      ),
    );
    expect(g.nodes[0].nonTrainableParams).toBe(8);
    // builder fills gamma=1 / beta=0 when absent
    expect(Array.from(g.nodes[2].weights.gamma.data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(g.nodes[1].weights.beta.data)).toEqual([0, 0, 0, 0]);
    await check(seq([3, 5, 5], [L(tf.layers.batchNormalization, { axis: 1 })]));
  });
  it('Activation layers and activation options', async () => {
    const acts = ['relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softmax', 'swish', 'softplus', 'softsign', 'linear', 'gelu'];
    const g = await check(
      seq(
        [5],
        acts.map((a) => L(tf.layers.activation, { activation: a })),
      ),
    );
    expect(g.nodes.map((n) => n.config.activation)).toEqual([
      'relu',
      'relu6',
      'elu',
      'selu',
      'sigmoid',
      'hard_sigmoid',
      'tanh',
      'softmax',
      'swish',
      'softplus',
      'softsign',
      'linear',
      'gelu',
    ]);
    const g2 = await check(
      seq(
        [5],
        [
          L(tf.layers.reLU, { maxValue: 6 }),
          L(tf.layers.leakyReLU, { alpha: 0.1 }),
          L(tf.layers.elu, {}),
          L(tf.layers.softmax, {}),
          L(tf.layers.dense, { units: 3, activation: 'hardSigmoid' }),
        ],
      ),
    );
    expect(g2.nodes[0].config).toMatchObject({ max_value: 6, negative_slope: 0, threshold: 0 });
    expect(g2.nodes[1].config.alpha).toBeCloseTo(0.1);
    expect(g2.nodes[4].config.activation).toBe('hard_sigmoid');
    expect(g2.notes.join()).not.toMatch(/Keras 3/);
  });
  it('PReLU with and without shared_axes', async () => {
    await check(seq([4, 6], [L(tf.layers.prelu, {})]));
    await check(seq([4, 5, 6], [L(tf.layers.prelu, { sharedAxes: [1, 2] })]));
  });
});

describe('graph vs tfjs: recurrent', () => {
  it('SimpleRNN, GRU (reset_after=false), LSTM; return_sequences; go_backwards', async () => {
    const g = await check(
      seq(
        [7, 3],
        [
          L(tf.layers.simpleRNN, { units: 4, returnSequences: true }),
          L(tf.layers.gru, { units: 5, returnSequences: true, goBackwards: true, recurrentActivation: 'sigmoid' }),
          L(tf.layers.lstm, { units: 6, recurrentActivation: 'sigmoid' }),
        ],
      ),
    );
    expect(g.nodes[1].config.reset_after).toBe(false);
    expect(g.nodes[1].weights.bias.shape).toEqual([15]);
    expect(g.nodes[2].macs).toBe(7 * 4 * 6 * (5 + 6));
  });
  it('stateful LSTM with a fixed batch', async () => {
    const g = await check(seq([5, 2], [L(tf.layers.lstm, { units: 3, stateful: true })], 4));
    expect(g.tensors[g.inputs[0]].shape).toEqual([4, 5, 2]);
  });
  it('return_state gives extra outputs in a functional model', async () => {
    const x = tf.input({ shape: [6, 3] });
    const [y, h, c] = tf.layers.lstm({ units: 4, returnState: true, returnSequences: true }).apply(x) as any[];
    const [y2, h2] = tf.layers.gru({ units: 2, returnState: true }).apply(y) as any[];
    const z = tf.layers.concatenate().apply([h, c]) as any;
    const m = tf.model({ inputs: x, outputs: [z, y2, h2] });
    const g = await check(m);
    expect(g.nodes[0].outputs.map((t) => g.tensors[t].name)).toEqual([`${g.nodes[0].name}:0`, `${g.nodes[0].name}:1`, `${g.nodes[0].name}:2`]);
  });
  it('Bidirectional: concat/sum/mul/ave and None (two outputs)', async () => {
    for (const mergeMode of ['concat', 'sum', 'mul', 'ave'] as const) {
      await check(
        seq(
          [5, 3],
          [
            L(tf.layers.bidirectional, { layer: tf.layers.lstm({ units: 4, returnSequences: true }), mergeMode }),
            L(tf.layers.bidirectional, { layer: tf.layers.gru({ units: 2 }), mergeMode }),
          ],
        ),
      );
    }
    const x = tf.input({ shape: [5, 3] });
    const outs = tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: 3 }) as any, mergeMode: null as any }).apply(x) as any[];
    const g = await check(tf.model({ inputs: x, outputs: outs }));
    expect(g.nodes[0].config.merge_mode).toBe(null);
    expect(g.nodes[0].outputs.length).toBe(2);
  });
  it('TimeDistributed(Dense) and TimeDistributed(Conv1D)', async () => {
    await check(seq([5, 8], [L(tf.layers.timeDistributed, { layer: tf.layers.dense({ units: 3 }) })]));
    const g = await check(seq([4, 9, 2], [L(tf.layers.timeDistributed, { layer: tf.layers.conv1d({ filters: 3, kernelSize: 2 }) })]));
    expect(g.nodes[0].weights.kernel.shape).toEqual([2, 2, 3]);
    expect(g.nodes[0].macs).toBe(4 * 8 * 2 * 2 * 3);
  });
  it('Embedding (mask_zero) feeding an LSTM; its input is int32', async () => {
    const g = await check(seq([6], [L(tf.layers.embedding, { inputDim: 20, outputDim: 4, maskZero: true }), L(tf.layers.lstm, { units: 3 })]));
    expect(g.tensors[g.inputs[0]].dtype).toBe('int32');
    expect(g.nodes[0].config.mask_zero).toBe(true);
  });
});

describe('graph vs tfjs: functional graphs', () => {
  it('merge layers Add, Multiply, Average, Maximum, Minimum, Concatenate(axis)', async () => {
    const a = tf.input({ shape: [4, 3], name: 'a' });
    const b = tf.input({ shape: [4, 3], name: 'b' });
    const outs = [
      tf.layers.add(),
      tf.layers.multiply(),
      tf.layers.average(),
      tf.layers.maximum(),
      tf.layers.minimum(),
      tf.layers.concatenate({ axis: 1 }),
      tf.layers.concatenate(),
    ].map((l) => l.apply([a, b]) as any);
    const g = await check(tf.model({ inputs: [a, b], outputs: outs }));
    expect(g.inputs.map((t) => g.tensors[t].name)).toEqual(['a', 'b']);
  });
  it('shared layer: one weight copy, params counted once', async () => {
    const a = tf.input({ shape: [5] });
    const b = tf.input({ shape: [5] });
    const d = tf.layers.dense({ units: 3, name: 'shared' });
    const y = tf.layers.add().apply([d.apply(a) as any, d.apply(b) as any]) as any;
    const m = tf.model({ inputs: [a, b], outputs: y });
    const raw = await rawFromTfjs(m);
    const g = buildGraph(raw);
    const shared = g.nodes.filter((n) => n.className === 'Dense');
    expect(shared.map((n) => n.name)).toEqual(['shared', 'shared@1']);
    expect(shared[0].weights.kernel).toBe(shared[1].weights.kernel);
    expect(shared[0].trainableParams).toBe(18);
    expect(shared[1].trainableParams).toBe(0);
    expect(g.nodes.reduce((s, n) => s + n.trainableParams, 0)).toBe(m.countParams());
  });
  it('nested Sequential inside a functional model is flattened as outer/inner', async () => {
    const inner = tf.sequential({
      name: 'enc',
      layers: [tf.layers.dense({ inputShape: [6], units: 4, name: 'd1' }), tf.layers.dense({ units: 2, name: 'd2' })],
    });
    const x = tf.input({ shape: [6] });
    const y = tf.layers.dense({ units: 1, name: 'head' }).apply(inner.apply(x) as any) as any;
    const m = tf.model({ inputs: x, outputs: y });
    const g = await check(m);
    expect(g.nodes.map((n) => n.name)).toEqual(['enc/d1', 'enc/d2', 'head']);
    expect(g.nodes[0].trainableParams).toBe(28);
    expect(Array.from(g.nodes[1].weights.kernel.data)).toEqual(Array.from(inner.layers[1].getWeights()[0].dataSync()));
  });
  it('a nested Sequential called twice: each call reads its own input (tfjs counts the creation node)', async () => {
    const inner = tf.sequential({ name: 'enc', layers: [tf.layers.dense({ inputShape: [4], units: 3, name: 'e1' })] });
    const a = tf.input({ shape: [4], name: 'a' });
    const b = tf.input({ shape: [4], name: 'b' });
    const y = tf.layers.add({ name: 'sum' }).apply([inner.apply(a) as any, inner.apply(b) as any]) as any;
    const g = await check(tf.model({ inputs: [a, b], outputs: y }));
    const name = (t: number) => g.tensors[t].name;
    expect(g.nodes.map((n) => [n.name, n.inputs.map(name)])).toEqual([
      ['enc/e1', ['a']],
      ['enc@1/e1', ['b']],
      ['sum', ['enc/e1', 'enc@1/e1']],
    ]);
  });
  it('opts.batch fixes a free batch', async () => {
    const g = await check(seq([3], [L(tf.layers.dense, { units: 2 })]));
    expect(g.tensors[g.outputs[0]].shape).toEqual([null, 2]);
    const raw = await rawFromTfjs(seq([3], [L(tf.layers.dense, { units: 2 })]));
    const g1 = buildGraph(raw, { batch: 1 });
    expect(g1.tensors[g1.inputs[0]].shape).toEqual([1, 3]);
    expect(g1.tensors[g1.outputs[0]].shape).toEqual([1, 2]);
  });
});
