/** The activation table vs tfjs ops on a dense grid, plus erf against published values. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ACTIVATIONS, applyActivation, erf } from '../../tools/float/activations.ts';
import { maxErr } from '../helpers/random.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const grid = Float32Array.from({ length: 1601 }, (_, i) => -8 + i * 0.01);

describe('activations', () => {
  it('match tfjs ops on [-8, 8]', () => {
    const x = tf.tensor1d(grid);
    const six = tf.scalar(6);
    const oracle: Record<string, tf.Tensor> = {
      linear: x,
      relu: tf.relu(x),
      relu6: tf.relu6(x),
      leaky_relu: tf.leakyRelu(x, 0.2),
      elu: tf.elu(x),
      selu: tf.selu(x),
      sigmoid: tf.sigmoid(x),
      hard_sigmoid: tf.clipByValue(x.mul(0.2).add(0.5), 0, 1),
      hard_sigmoid_k3: tf.relu6(x.add(3)).div(six),
      tanh: tf.tanh(x),
      swish: x.mul(tf.sigmoid(x)),
      silu: x.mul(tf.sigmoid(x)),
      softplus: tf.softplus(x),
      softsign: x.div(tf.abs(x).add(1)),
      gelu: x.mul(0.5).mul(tf.erf(x.div(Math.SQRT2)).add(1)),
      gelu_tanh: x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1)),
      exponential: tf.exp(x),
      hard_swish: x.mul(tf.relu6(x.add(3))).div(six),
      hard_silu: x.mul(tf.relu6(x.add(3))).div(six),
      mish: x.mul(tf.tanh(tf.softplus(x))),
    };
    expect(Object.keys(oracle).sort()).toEqual(Object.keys(ACTIVATIONS).sort());
    for (const [name, want] of Object.entries(oracle)) {
      const got = applyActivation(name, { shape: [grid.length], data: grid });
      const e = maxErr(got.data, want.dataSync());
      expect(e, name).toBeLessThanOrEqual(name.startsWith('gelu') ? 2e-6 : 1e-6);
    }
  });

  it('softmax / log_softmax along the last and a middle axis', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.7) * 5);
    const t = { shape: [2, 3, 4], data };
    const x = tf.tensor(data, [2, 3, 4]);
    expect(maxErr(applyActivation('softmax', t).data, tf.softmax(x).dataSync())).toBeLessThanOrEqual(1e-6);
    expect(maxErr(applyActivation('log_softmax', t).data, tf.logSoftmax(x).dataSync())).toBeLessThanOrEqual(1e-6);
    const mid = tf
      .softmax(x.transpose([0, 2, 1]))
      .transpose([0, 2, 1])
      .dataSync();
    expect(maxErr(applyActivation('softmax', t, 1).data, mid)).toBeLessThanOrEqual(1e-6);
  });

  it('erf is accurate to double precision at reference points', () => {
    const ref: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [-1.5, -0.9661051464753108],
      [0.01, 0.011283415555849618],
    ];
    for (const [x, v] of ref) expect(Math.abs(erf(x) - v)).toBeLessThan(1e-14);
  });
});
