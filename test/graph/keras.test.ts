/**
 * Graph builder on hand-written Keras configs: layers/options tfjs lacks (checked against
 * Keras's documented shape and parameter formulas), the Keras 1 / Keras 2 / Keras 3 dialects,
 * the linter, and weight errors.
 */
import { describe, it, expect } from 'vitest';
import { buildGraph } from '../../tools/graph/build.ts';
import { UserError, EXIT } from '../../tools/errors.ts';
import type { RawModel, RawWeight, Dialect } from '../../tools/readers/types.ts';
import type { Graph } from '../../tools/graph/ir.ts';

function w(name: string, shape: number[], fill?: (i: number) => number): RawWeight {
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, shape, data: Float32Array.from({ length: n }, (_, i) => (fill ? fill(i) : Math.sin(i + shape.length))) };
}
function raw(config: any, dialect: Dialect, weights: Record<string, RawWeight[]> = {}): RawModel {
  return {
    file: 'm.h5',
    format: dialect === 'keras3' ? 'keras3' : 'h5',
    dialect,
    kerasVersion: null,
    config,
    weights: new Map(Object.entries(weights)),
    notes: [],
  };
}
/** Keras 2 functional config from [name, class, config, inbound names] rows. */
function functional(inputs: Array<[string, (number | null)[]]>, rows: Array<[string, string, any, string[]]>, outputs: string[]): any {
  const layers: any[] = inputs.map(([n, s]) => ({
    class_name: 'InputLayer',
    name: n,
    config: { name: n, batch_input_shape: s, dtype: 'float32' },
    inbound_nodes: [],
  }));
  for (const [n, cls, cfg, inb] of rows) layers.push({ class_name: cls, name: n, config: { name: n, ...cfg }, inbound_nodes: [inb.map((i) => [i, 0, 0, {}])] });
  return {
    class_name: 'Functional',
    config: { name: 'model', layers, input_layers: inputs.map(([n]) => [n, 0, 0]), output_layers: outputs.map((o) => [o, 0, 0]) },
    keras_version: '2.11.0',
  };
}
function shapeOf(g: Graph, node: string, i = 0) {
  const n = g.nodes.find((x) => x.name === node)!;
  return g.tensors[n.outputs[i]].shape;
}
function params(g: Graph, node: string) {
  const n = g.nodes.find((x) => x.name === node)!;
  return [n.trainableParams, n.nonTrainableParams];
}
function userError(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('layers tfjs lacks (Keras formulas)', () => {
  it('ZeroPadding1D, Cropping1D, UpSampling1D, Subtract, ActivityRegularization', () => {
    const g = buildGraph(
      raw(
        functional(
          [
            ['a', [null, 10, 3]],
            ['b', [null, 10, 3]],
          ],
          [
            ['zp', 'ZeroPadding1D', { padding: [1, 2] }, ['a']],
            ['cr', 'Cropping1D', { cropping: [2, 1] }, ['zp']],
            ['up', 'UpSampling1D', { size: 2 }, ['cr']],
            ['zp2', 'ZeroPadding1D', { padding: 3 }, ['b']],
            ['sub', 'Subtract', {}, ['a', 'b']],
            ['ar', 'ActivityRegularization', { l1: 0.01 }, ['sub']],
          ],
          ['up', 'zp2', 'ar'],
        ),
        'keras2',
      ),
    );
    expect(shapeOf(g, 'zp')).toEqual([null, 13, 3]); // 10 + 1 + 2
    expect(shapeOf(g, 'cr')).toEqual([null, 10, 3]); // 13 - 2 - 1
    expect(shapeOf(g, 'up')).toEqual([null, 20, 3]);
    expect(shapeOf(g, 'zp2')).toEqual([null, 16, 3]);
    expect(shapeOf(g, 'sub')).toEqual([null, 10, 3]);
    expect(shapeOf(g, 'ar')).toEqual([null, 10, 3]);
    const nodes = Object.fromEntries(g.nodes.map((n) => [n.name, n.config]));
    expect(nodes.up.size).toEqual([2]);
    expect(nodes.zp2.padding).toEqual([3, 3]);
  });
  it('Subtract needs exactly two inputs', () => {
    const e = userError(() =>
      buildGraph(
        raw(
          functional(
            [
              ['a', [null, 4]],
              ['b', [null, 4]],
              ['c', [null, 4]],
            ],
            [['sub', 'Subtract', {}, ['a', 'b', 'c']]],
            ['sub'],
          ),
          'keras2',
        ),
      ),
    );
    expect(e.message).toMatch(/sub.*exactly 2 inputs/);
  });
  it('causal Conv1D keeps the length (ceil(L/stride)), dilation', () => {
    const g = buildGraph(
      raw(
        functional(
          [['x', [null, 16, 3]]],
          [
            ['c1', 'Conv1D', { filters: 4, kernel_size: [3], padding: 'causal', dilation_rate: [2] }, ['x']],
            ['c2', 'Conv1D', { filters: 2, kernel_size: 5, padding: 'causal', strides: 2 }, ['c1']],
          ],
          ['c2'],
        ),
        'keras2',
        { c1: [w('kernel', [3, 3, 4]), w('bias', [4])], c2: [w('kernel', [5, 4, 2]), w('bias', [2])] },
      ),
    );
    expect(shapeOf(g, 'c1')).toEqual([null, 16, 4]);
    expect(shapeOf(g, 'c2')).toEqual([null, 8, 2]);
    expect(params(g, 'c1')).toEqual([40, 0]);
    expect(g.nodes[0].macs).toBe(16 * 3 * 3 * 4);
  });
  it('Conv1D groups, channels_first Conv1D', () => {
    const g = buildGraph(
      raw(
        functional(
          [
            ['x', [null, 9, 6]],
            ['y', [null, 6, 9]],
          ],
          [
            ['g', 'Conv1D', { filters: 6, kernel_size: [2], groups: 3 }, ['x']],
            ['cf', 'Conv1D', { filters: 4, kernel_size: [3], data_format: 'channels_first', strides: [2] }, ['y']],
          ],
          ['g', 'cf'],
        ),
        'keras2',
        { g: [w('kernel', [2, 2, 6]), w('bias', [6])], cf: [w('kernel', [3, 6, 4]), w('bias', [4])] },
      ),
    );
    expect(shapeOf(g, 'g')).toEqual([null, 8, 6]);
    expect(params(g, 'g')).toEqual([30, 0]); // 2*(6/3)*6 + 6
    expect(shapeOf(g, 'cf')).toEqual([null, 4, 4]); // floor((9-3)/2)+1 = 4
  });
  it('SeparableConv1D / DepthwiseConv1D / SeparableConv2D with depth_multiplier', () => {
    const g = buildGraph(
      raw(
        functional(
          [
            ['x', [null, 10, 3]],
            ['y', [null, 8, 8, 3]],
          ],
          [
            ['sep', 'SeparableConv1D', { filters: 5, kernel_size: [3], depth_multiplier: 2 }, ['x']],
            ['dw', 'DepthwiseConv1D', { kernel_size: 3, depth_multiplier: 2, padding: 'same' }, ['x']],
            ['sep2', 'SeparableConv2D', { filters: 4, kernel_size: [3, 3], depth_multiplier: 2, use_bias: false }, ['y']],
          ],
          ['sep', 'dw', 'sep2'],
        ),
        'keras2',
        {
          sep: [w('depthwise_kernel', [3, 3, 2]), w('pointwise_kernel', [1, 6, 5]), w('bias', [5])],
          dw: [w('depthwise_kernel', [3, 3, 2]), w('bias', [6])],
          sep2: [w('depthwise_kernel', [3, 3, 3, 2]), w('pointwise_kernel', [1, 1, 6, 4])],
        },
      ),
    );
    expect(shapeOf(g, 'sep')).toEqual([null, 8, 5]);
    expect(params(g, 'sep')).toEqual([18 + 30 + 5, 0]);
    expect(shapeOf(g, 'dw')).toEqual([null, 10, 6]);
    expect(params(g, 'dw')).toEqual([24, 0]);
    expect(shapeOf(g, 'sep2')).toEqual([null, 6, 6, 4]);
    expect(params(g, 'sep2')).toEqual([54 + 24, 0]);
    expect(g.nodes[0].macs).toBe(8 * 3 * 3 * 2 + 8 * 6 * 5);
  });
  it('GRU reset_after=true: bias [2, 3u] and Keras 3 param count', () => {
    const g = buildGraph(
      raw(
        functional(
          [['x', [null, 7, 3]]],
          [
            ['gru', 'GRU', { units: 4, reset_after: true, return_sequences: true }, ['x']],
            ['gru2', 'GRU', { units: 2 }, ['gru']],
          ],
          ['gru2'],
        ),
        'keras2',
        {
          gru: [w('kernel', [3, 12]), w('recurrent_kernel', [4, 12]), w('bias', [2, 12])],
          gru2: [w('kernel', [4, 6]), w('recurrent_kernel', [2, 6]), w('bias', [6])],
        },
      ),
    );
    expect(params(g, 'gru')).toEqual([3 * (3 * 4 + 4 * 4 + 2 * 4), 0]);
    expect(g.nodes[0].weights.bias.shape).toEqual([2, 12]);
    expect(g.nodes[1].config.reset_after).toBe(false); // omitted -> false
    expect(shapeOf(g, 'gru2')).toEqual([null, 2]);
  });
  it('global pooling keepdims', () => {
    const g = buildGraph(
      raw(
        functional(
          [
            ['x', [null, 10, 3]],
            ['y', [null, 3, 5, 5]],
          ],
          [
            ['g1', 'GlobalAveragePooling1D', { keepdims: true }, ['x']],
            ['g2', 'GlobalMaxPooling2D', { keepdims: true, data_format: 'channels_first' }, ['y']],
          ],
          ['g1', 'g2'],
        ),
        'keras2',
      ),
    );
    expect(shapeOf(g, 'g1')).toEqual([null, 1, 3]);
    expect(shapeOf(g, 'g2')).toEqual([null, 3, 1, 1]);
  });
});

describe('dialects', () => {
  it('Keras 3: batch_shape, DTypePolicy, __keras_tensor__ args, flat input_layers, hard_sigmoid_k3, activation objects', () => {
    const dt = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    const kt = (n: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 5], dtype: 'float32', keras_history: [n, 0, 0] } });
    const cfg = {
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      registered_name: 'Functional',
      config: {
        name: 'k3',
        trainable: true,
        layers: [
          {
            module: 'keras.layers',
            class_name: 'InputLayer',
            config: { batch_shape: [null, 6, 5], dtype: 'float32', sparse: false, name: 'inp' },
            registered_name: null,
            name: 'inp',
            inbound_nodes: [],
          },
          {
            module: 'keras.layers',
            class_name: 'LSTM',
            config: { name: 'lstm', dtype: dt, units: 3, activation: 'tanh', recurrent_activation: 'hard_sigmoid', return_sequences: false, use_bias: true },
            registered_name: null,
            build_config: { input_shape: [null, 6, 5] },
            name: 'lstm',
            inbound_nodes: [{ args: [kt('inp')], kwargs: { training: false } }],
          },
          {
            module: 'keras.layers',
            class_name: 'Dense',
            config: {
              name: 'd',
              dtype: dt,
              units: 4,
              activation: { module: 'keras.activations', class_name: 'function', config: 'relu', registered_name: 'function' },
              use_bias: true,
            },
            name: 'd',
            inbound_nodes: [{ args: [kt('lstm')], kwargs: {} }],
          },
          {
            module: 'keras.layers',
            class_name: 'Activation',
            config: { name: 'hs', dtype: dt, activation: 'hard_sigmoid' },
            name: 'hs',
            inbound_nodes: [{ args: [kt('d')], kwargs: {} }],
          },
          {
            module: 'keras.layers',
            class_name: 'LeakyReLU',
            config: { name: 'lr', dtype: dt, negative_slope: 0.25 },
            name: 'lr',
            inbound_nodes: [{ args: [kt('d')], kwargs: {} }],
          },
          {
            module: 'keras.layers',
            class_name: 'Add',
            config: { name: 'add', dtype: dt },
            name: 'add',
            inbound_nodes: [{ args: [[kt('hs'), kt('lr')]], kwargs: {} }],
          },
        ],
        input_layers: ['inp', 0, 0],
        output_layers: ['add', 0, 0],
      },
    };
    const g = buildGraph(
      raw(cfg, 'keras3', {
        lstm: [w('cell/vars/0', [5, 12]), w('cell/vars/1', [3, 12]), w('cell/vars/2', [12])],
        d: [w('vars/0', [3, 4]), w('vars/1', [4])],
      }),
    );
    const n = Object.fromEntries(g.nodes.map((x) => [x.name, x]));
    expect(n.lstm.config.recurrent_activation).toBe('hard_sigmoid_k3');
    expect(n.lstm.config.dtype).toBe('float32');
    expect(n.d.config.activation).toBe('relu');
    expect(n.hs.config.activation).toBe('hard_sigmoid_k3');
    expect(n.lr.config.alpha).toBe(0.25);
    expect(n.lr.config.negative_slope).toBeUndefined();
    expect(n.add.inputs).toEqual([n.hs.outputs[0], n.lr.outputs[0]]);
    expect(g.tensors[g.inputs[0]].shape).toEqual([null, 6, 5]);
    expect(shapeOf(g, 'add')).toEqual([null, 4]);
    expect(n.lstm.weights.recurrent_kernel.shape).toEqual([3, 12]);
    expect(g.notes).toContain('hard_sigmoid uses the Keras 3 definition clip(x/6 + 0.5, 0, 1)');
  });
  it('Keras 2: bare-list Sequential and tf.keras 2.13+ module/registered_name', () => {
    const bare = {
      class_name: 'Sequential',
      config: [
        { class_name: 'Dense', config: { name: 'd1', units: 3, activation: 'hard_sigmoid', batch_input_shape: [null, 4] } },
        { class_name: 'Dropout', config: { name: 'dr', rate: 0.5 } },
      ],
    };
    const g = buildGraph(raw(bare, 'keras2', { d1: [w('kernel', [4, 3]), w('bias', [3])] }));
    expect(g.nodes.map((x) => x.name)).toEqual(['d1', 'dr']);
    expect(g.tensors[g.inputs[0]].name).toBe('d1_input');
    expect(g.nodes[0].config.activation).toBe('hard_sigmoid');
    const k213 = {
      module: 'keras',
      class_name: 'Sequential',
      registered_name: null,
      config: {
        name: 's',
        layers: [
          {
            module: 'keras.layers',
            class_name: 'InputLayer',
            registered_name: null,
            config: { batch_input_shape: [null, 8, 2], dtype: 'float32', name: 'in' },
          },
          {
            module: 'keras.layers',
            class_name: 'Conv1D',
            registered_name: null,
            config: {
              name: 'c',
              filters: 3,
              kernel_size: [3],
              strides: [1],
              padding: 'SAME',
              activation: 'relu',
              use_bias: true,
              kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: {} },
            },
          },
          { module: 'keras.layers', class_name: 'MaxPooling1D', registered_name: null, config: { name: 'p', pool_size: [2], strides: null, padding: 'valid' } },
        ],
      },
    };
    const g2 = buildGraph(raw(k213, 'keras2', { c: [w('kernel', [3, 2, 3]), w('bias', [3])] }));
    expect(g2.nodes[0].config).toMatchObject({ padding: 'same', data_format: 'channels_last', dilation_rate: [1], groups: 1 });
    expect(g2.nodes[0].config.kernel_initializer).toBeUndefined();
    expect(g2.nodes[1].config.strides).toEqual([2]);
    expect(shapeOf(g2, 'p')).toEqual([null, 4, 3]);
  });
  it('Keras 1: config names mapped, per-gate LSTM/GRU weights fused (i,f,c,o / z,r,h), Conv1D kernels squeezed', () => {
    const cfg = {
      class_name: 'Sequential',
      config: [
        {
          class_name: 'Convolution1D',
          config: {
            name: 'conv',
            nb_filter: 4,
            filter_length: 3,
            border_mode: 'same',
            subsample_length: 1,
            activation: 'relu',
            bias: true,
            batch_input_shape: [null, 8, 2],
            input_dtype: 'float32',
            init: 'glorot_uniform',
          },
        },
        {
          class_name: 'LSTM',
          config: {
            name: 'lstm_1',
            output_dim: 3,
            inner_activation: 'hard_sigmoid',
            activation: 'tanh',
            return_sequences: true,
            consume_less: 'cpu',
            dropout_W: 0,
            dropout_U: 0,
          },
        },
        { class_name: 'GRU', config: { name: 'gru_1', output_dim: 2, inner_activation: 'sigmoid', activation: 'tanh', return_sequences: false } },
        { class_name: 'Dense', config: { name: 'dense_1', output_dim: 1, activation: 'linear', W_regularizer: null } },
      ],
    };
    // gate g of LSTM gets constant value 10*gate+k so the fused layout is checkable
    const gate = (layer: string, kind: string, g: string, gi: number, shape: number[]) =>
      w(`${layer}_${kind}_${g}`, shape, () => gi * 10 + ['W', 'U', 'b'].indexOf(kind));
    const lstmW: RawWeight[] = [];
    // Keras 1 stores i, c, f, o
    for (const [g, gi] of [
      ['i', 0],
      ['c', 2],
      ['f', 1],
      ['o', 3],
    ] as const)
      lstmW.push(gate('lstm_1', 'W', g, gi, [4, 3]), gate('lstm_1', 'U', g, gi, [3, 3]), gate('lstm_1', 'b', g, gi, [3]));
    const gruW: RawWeight[] = [];
    for (const [g, gi] of [
      ['z', 0],
      ['r', 1],
      ['h', 2],
    ] as const)
      gruW.push(gate('gru_1', 'W', g, gi, [3, 2]), gate('gru_1', 'U', g, gi, [2, 2]), gate('gru_1', 'b', g, gi, [2]));
    const g = buildGraph(
      raw(cfg, 'keras1', {
        conv: [w('conv_W', [3, 1, 2, 4]), w('conv_b', [4])],
        lstm_1: lstmW,
        gru_1: gruW,
        dense_1: [w('dense_1_W', [2, 1]), w('dense_1_b', [1])],
      }),
    );
    const n = Object.fromEntries(g.nodes.map((x) => [x.name, x]));
    expect(n.conv.className).toBe('Conv1D');
    expect(n.conv.config).toMatchObject({ filters: 4, kernel_size: [3], padding: 'same', strides: [1], use_bias: true });
    expect(n.conv.weights.kernel.shape).toEqual([3, 2, 4]);
    expect(n.lstm_1.config).toMatchObject({ units: 3, recurrent_activation: 'hard_sigmoid', return_sequences: true });
    expect(n.lstm_1.config.output_dim).toBeUndefined();
    expect(n.lstm_1.weights.kernel.shape).toEqual([4, 12]);
    // row 0 of the fused kernel: gates i,f,c,o -> 0,10,20,30 (W kind 0)
    expect(Array.from(n.lstm_1.weights.kernel.data.slice(0, 12))).toEqual([0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30]);
    expect(Array.from(n.lstm_1.weights.recurrent_kernel.data.slice(0, 12))).toEqual([1, 1, 1, 11, 11, 11, 21, 21, 21, 31, 31, 31]);
    expect(Array.from(n.lstm_1.weights.bias.data)).toEqual([2, 2, 2, 12, 12, 12, 22, 22, 22, 32, 32, 32]);
    expect(Array.from(n.gru_1.weights.bias.data)).toEqual([2, 2, 12, 12, 22, 22]);
    expect(n.gru_1.config.reset_after).toBe(false);
    expect(params(g, 'lstm_1')).toEqual([4 * (4 * 3 + 3 * 3 + 3), 0]);
    expect(n.dense_1.config.units).toBe(1);
    expect(shapeOf(g, 'dense_1')).toEqual([null, 1]);
  });
});

describe('linter and weight errors', () => {
  it('reports every unsupported layer/option/value at once (exit 4)', () => {
    const cfg = functional(
      [['x', [null, 8, 4]]],
      [
        ['lam', 'Lambda', { function: ['...'] }, ['x']],
        ['c', 'Conv1D', { filters: 2, kernel_size: [3], activation: 'celu' }, ['x']],
        ['ln', 'LayerNormalization', { axis: [-1], rms_scaling: true }, ['c']],
        ['st', 'LSTM', { units: 2, stateful: true }, ['c']], // stateful needs a fixed batch
        ['bi', 'Bidirectional', { layer: { class_name: 'LSTM', config: { units: 2 } }, merge_mode: 'max' }, ['x']],
      ],
      ['lam', 'ln', 'st', 'bi'],
    );
    const e = userError(() => buildGraph(raw(cfg, 'keras2')));
    expect(e.exitCode).toBe(EXIT.UNSUPPORTED);
    expect(e.message).toMatch(/5 unsupported/);
    expect(e.details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^layer 'lam' \(Lambda\): this layer class is not supported$/),
        expect.stringMatching(/^supported layer classes: Dense, /),
        expect.stringMatching(/^layer 'c' \(Conv1D\) option activation="celu": not supported/),
        expect.stringMatching(/^layer 'ln' \(LayerNormalization\) option rms_scaling=true: not supported; supported: false/),
        expect.stringMatching(/^layer 'st' \(LSTM\) option stateful=true: .*fixed batch/),
        expect.stringMatching(/^layer 'bi' \(Bidirectional\) option merge_mode="max"/),
      ]),
    );
  });
  it('nested unsupported layers are named outer/inner', () => {
    const cfg = functional(
      [['x', [null, 4]]],
      [
        [
          'seq',
          'Sequential',
          {
            layers: [
              { class_name: 'InputLayer', config: { name: 'i', batch_input_shape: [null, 4] } },
              { class_name: 'Dense', config: { name: 'd', units: 2, activation: 'crelu' } },
            ],
          },
          ['x'],
        ],
      ],
      ['seq'],
    );
    cfg.config.layers[1].inbound_nodes = [[['x', 0, 0, {}]]];
    const e = userError(() => buildGraph(raw(cfg, 'keras2')));
    expect(e.details).toEqual([expect.stringMatching(/^layer 'seq\/d' \(Dense\) option activation="crelu"/)]);
  });
  it('weight shape mismatch names layer, weight, expected and found shape', () => {
    const cfg = functional([['x', [null, 4]]], [['d', 'Dense', { units: 3 }, ['x']]], ['d']);
    const e = userError(() => buildGraph(raw(cfg, 'keras2', { d: [w('kernel', [5, 3]), w('bias', [3])] })));
    expect(e.exitCode).toBe(EXIT.BAD_INPUT);
    expect(e.message).toBe("m.h5: layer 'd' (Dense): weight kernel has shape (5, 3), expected (4, 3)");
    const e2 = userError(() => buildGraph(raw(cfg, 'keras2', {})));
    expect(e2.message).toBe("m.h5: layer 'd' (Dense): weights missing (expected kernel (4, 3), bias (3,))");
    const e3 = userError(() => buildGraph(raw(cfg, 'keras2', { d: [w('kernel', [4, 3])] })));
    expect(e3.message).toMatch(/layer 'd' \(Dense\): weight bias missing \(expected \(3,\)/);
  });
  it('weights-only file with renamed layers: matched by layer order, with a note', () => {
    const cfg = functional(
      [['x', [null, 4]]],
      [
        ['a', 'Dense', { units: 3 }, ['x']],
        ['b', 'Dense', { units: 2 }, ['a']],
      ],
      ['b'],
    );
    const g = buildGraph(raw(cfg, 'keras2', { dense_7: [w('kernel', [4, 3]), w('bias', [3])], dense_8: [w('kernel', [3, 2]), w('bias', [2], () => 5)] }));
    expect(Array.from(g.nodes[1].weights.bias.data)).toEqual([5, 5]);
    expect(g.notes.join()).toMatch(/matched to layers by order/);
  });
  it('stateful RNN needs the batch fixed in the file, not just opts.batch', () => {
    const cfg = functional([['x', [null, 5, 2]]], [['r', 'SimpleRNN', { units: 2, stateful: true }, ['x']]], ['r']);
    const e = userError(() => buildGraph(raw(cfg, 'keras2'), { batch: 1 }));
    expect(e.details).toEqual([expect.stringMatching(/^layer 'r' \(SimpleRNN\) option stateful=true/)]);
    const fixed = functional([['x', [3, 5, 2]]], [['r', 'SimpleRNN', { units: 2, stateful: true }, ['x']]], ['r']);
    const g = buildGraph(raw(fixed, 'keras2', { r: [w('kernel', [2, 2]), w('recurrent_kernel', [2, 2]), w('bias', [2])] }), { batch: 1 });
    expect(g.tensors[g.outputs[0]].shape).toEqual([3, 2]); // the stateful batch wins
    expect(g.notes.join()).toMatch(/batch 3 kept/);
  });
  it('Keras 3 nested Sequential weights (layers/<inner>/vars/<i>) and a shared nested model', () => {
    const kt = (n: string, i = 0) => ({ class_name: '__keras_tensor__', config: { shape: [null, 3], dtype: 'float32', keras_history: [n, i, 0] } });
    const inner = {
      module: 'keras',
      class_name: 'Sequential',
      config: {
        name: 'enc',
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 3], name: 'ei' } },
          { module: 'keras.layers', class_name: 'Dense', config: { name: 'd1', units: 4 } },
          { module: 'keras.layers', class_name: 'Dense', config: { name: 'd2', units: 2 } },
        ],
      },
      name: 'enc',
      inbound_nodes: [
        { args: [kt('a')], kwargs: {} },
        { args: [kt('b')], kwargs: {} },
      ],
    };
    const cfg = {
      module: 'keras',
      class_name: 'Functional',
      config: {
        name: 'f',
        layers: [
          { class_name: 'InputLayer', config: { batch_shape: [null, 3], name: 'a' }, name: 'a', inbound_nodes: [] },
          { class_name: 'InputLayer', config: { batch_shape: [null, 3], name: 'b' }, name: 'b', inbound_nodes: [] },
          inner,
          { class_name: 'Concatenate', config: { name: 'cat', axis: -1 }, name: 'cat', inbound_nodes: [{ args: [[kt('enc', 0), kt('enc', 1)]], kwargs: {} }] },
        ],
        input_layers: [
          ['a', 0, 0],
          ['b', 0, 0],
        ],
        output_layers: [['cat', 0, 0]],
      },
    };
    const g = buildGraph(
      raw(cfg, 'keras3', {
        enc: [w('layers/d1/vars/0', [3, 4]), w('layers/d1/vars/1', [4]), w('layers/d2/vars/0', [4, 2]), w('layers/d2/vars/1', [2], () => 7)],
      }),
    );
    expect(g.nodes.map((n) => n.name)).toEqual(['enc/d1', 'enc/d2', 'enc@1/d1', 'enc@1/d2', 'cat']);
    expect(g.nodes[3].weights.bias).toBe(g.nodes[1].weights.bias);
    expect(Array.from(g.nodes[1].weights.bias.data)).toEqual([7, 7]);
    expect(g.nodes.reduce((a, n) => a + n.trainableParams, 0)).toBe(16 + 10);
    expect(shapeOf(g, 'cat')).toEqual([null, 4]);
    expect(g.nodes[4].inputs).toEqual([g.nodes[1].outputs[0], g.nodes[3].outputs[0]]);
  });
  it('a subclassed model (no architecture) is a clear bad-input error', () => {
    const e = userError(() => buildGraph(raw({ module: null, class_name: 'ELMModel', config: {}, registered_name: 'Custom>ELMModel' }, 'keras3')));
    expect(e.exitCode).toBe(EXIT.BAD_INPUT);
    expect(e.message).toMatch(/ELMModel/);
  });
});
