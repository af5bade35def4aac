/**
 * Float reference on the real shared fixtures that carry test vectors recorded by Keras/tfjs
 * (model.predict outputs): readModel -> buildGraph -> runFloat must reproduce them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import h5wasm from 'h5wasm/node';
import { haveFixtures, fixture, fixturesSkipReason, h5Arrays } from '../helpers/fixtures.ts';
import { readModel, readArray } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import { runFloat } from '../../tools/float/forward.ts';
import type { FloatTensor, Graph } from '../../tools/graph/ir.ts';
import { maxErr } from '../helpers/random.ts';

const TOL = 1e-5;

beforeAll(async () => {
  await h5wasm.ready;
});

async function graphOf(...parts: string[]): Promise<Graph> {
  return buildGraph(await readModel(fixture(...parts)));
}

function tensorIdByName(g: Graph, layer: string): number {
  const t = g.tensors.find((t) => t.name === layer);
  if (!t) throw new Error(`no tensor ${layer}`);
  return t.id;
}

describe.skipIf(!haveFixtures)('float reference reproduces recorded Keras/tfjs predictions', () => {
  if (!haveFixtures) console.warn(fixturesSkipReason);

  const h5cases = [
    {
      dir: 'dl4j_simple_rnn',
      model: 'simple_rnn_tf_keras_2_model.h5',
      io: 'simple_rnn_tf_keras_2_inputs_and_outputs.h5',
      x: 'inputs/simple_rnn_1_input',
      y: 'predictions/dense_1',
      mid: ['simple_rnn_1', 'activations/simple_rnn_1'],
    },
    {
      dir: 'dl4j_conv1d_k3_s2_valid',
      model: 'conv1d_k3_s2_d1_cl_valid_model.h5',
      io: 'conv1d_k3_s2_d1_cl_valid_inputs_and_outputs.h5',
      x: 'inputs/conv0_input',
      y: 'predictions/conv0',
    },
    {
      dir: 'dl4j_causal_conv1d',
      model: 'causal_conv1d_k3_s1_d2_cl_model.h5',
      io: 'causal_conv1d_k3_s1_d2_cl_inputs_and_outputs.h5',
      x: 'inputs/conv0_input',
      y: 'predictions/conv0',
    },
    {
      dir: 'dl4j_dense_leakyrelu',
      model: 'LeakyReLU_0_model.h5',
      io: 'LeakyReLU_0_inputs_and_outputs.h5',
      x: 'inputs/dense_input',
      y: 'predictions/leaky_re_lu_1',
      mid: ['dense', 'activations/dense'],
    },
  ];
  for (const c of h5cases) {
    it(`${c.dir}: ${c.y}`, async () => {
      const g = await graphOf(c.dir, c.model);
      const names = [c.x, c.y, ...(c.mid ? [c.mid[1]] : [])];
      const [x, y, mid] = await h5Arrays(fixture(c.dir, c.io), names);
      const seen = new Map<number, FloatTensor>();
      const [out] = runFloat(g, [x], { onTensor: (id, t) => seen.set(id, t) });
      expect(out.shape).toEqual(y.shape);
      expect(maxErr(out.data, y.data)).toBeLessThanOrEqual(TOL);
      if (c.mid && mid) {
        const t = seen.get(tensorIdByName(g, c.mid[0]))!;
        expect(t.shape).toEqual(mid.shape);
        expect(maxErr(t.data, mid.data)).toBeLessThanOrEqual(TOL);
      }
    });
  }

  it('dl4j_conv2d_batchnorm: input.npy -> predictions.npy', async () => {
    const g = await graphOf('dl4j_conv2d_batchnorm', 'cnn_batch_norm.h5');
    const xi = readArray(fixture('dl4j_conv2d_batchnorm', 'input.npy'));
    const yi = readArray(fixture('dl4j_conv2d_batchnorm', 'predictions.npy'));
    const [out] = runFloat(g, [{ shape: xi.shape, data: Float32Array.from(xi.data) }]);
    expect(out.shape).toEqual([5, 1]);
    expect(maxErr(out.data, yi.data)).toBeLessThanOrEqual(TOL);
    expect(Array.from(yi.data).map((v) => +v.toFixed(5))).toEqual([-0.05206, 0.04986, 0.16298, 0.1539, 0.15537]);
  });

  it('tfjs_embedding_gru: test_vectors.json (GRU go_backwards, hard_sigmoid, reset before matmul)', async () => {
    const g = await graphOf('tfjs_embedding_gru', 'model.json');
    const tv = JSON.parse(readFileSync(fixture('tfjs_embedding_gru', 'test_vectors.json'), 'utf8'));
    const [out] = runFloat(g, [{ shape: tv.input_shape, data: Float32Array.from(tv.input.flat()) }]);
    expect(out.shape).toEqual([1, 4]);
    expect(maxErr(out.data, tv.expected_output.flat())).toBeLessThanOrEqual(TOL);
  });
});
