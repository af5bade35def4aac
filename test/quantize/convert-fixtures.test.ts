/**
 * Real Keras files with recorded test vectors (shared fixtures): convert to int8, run in the
 * wasm runtime, and match the recorded Keras outputs within the quantisation tolerance.
 *
 * Tolerance: these fixtures ship only 2-5 samples, which are also the calibration data. The
 * bound is a few output LSBs: |y - y_keras| <= 4 * s_out (s_out = output scale) for the
 * single-layer models, 8 * s_out for the 3-layer conv2d_batchnorm chain.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import h5wasm from 'h5wasm/node';
import { haveFixtures, fixture, fixturesSkipReason, h5Arrays } from '../helpers/fixtures.ts';
import { readArray } from '../../tools/readers/index.ts';
import { convertAndRun, graphFromFile } from '../helpers/convert-harness.ts';

beforeAll(async () => {
  await h5wasm.ready;
});

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.skipIf(!haveFixtures)('shared fixtures: int8 blob in the runtime vs recorded Keras outputs', () => {
  if (!haveFixtures) console.warn(fixturesSkipReason);

  const cases = [
    {
      dir: 'dl4j_dense_leakyrelu',
      model: 'LeakyReLU_0_model.h5',
      io: 'LeakyReLU_0_inputs_and_outputs.h5',
      x: 'inputs/dense_input',
      y: 'predictions/leaky_re_lu_1',
      ops: ['DENSE'],
    },
    {
      dir: 'dl4j_conv1d_k3_s2_valid',
      model: 'conv1d_k3_s2_d1_cl_valid_model.h5',
      io: 'conv1d_k3_s2_d1_cl_valid_inputs_and_outputs.h5',
      x: 'inputs/conv0_input',
      y: 'predictions/conv0',
      ops: ['CONV2D'],
    },
    {
      dir: 'dl4j_causal_conv1d',
      model: 'causal_conv1d_k3_s1_d2_cl_model.h5',
      io: 'causal_conv1d_k3_s1_d2_cl_inputs_and_outputs.h5',
      x: 'inputs/conv0_input',
      y: 'predictions/conv0',
      ops: ['CONV2D'],
    },
  ];
  for (const c of cases) {
    it(`${c.dir}: ${c.y} within 4 output LSBs`, async () => {
      const g = await graphFromFile(fixture(c.dir, c.model));
      const [x, y] = await h5Arrays(fixture(c.dir, c.io), [c.x, c.y]);
      const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [x], [x]);
      expect(selfTest).toBe(0);
      expect(bitExact).toBe(true);
      expect(result.lowered.ops.map((o) => o.name)).toEqual(c.ops);
      expect(outputs[0].shape).toEqual(y.shape);
      const sOut = result.lowered.tensors[result.lowered.outputs[0]].q.scale;
      const err = maxAbs(outputs[0].data, y.data);
      expect(err).toBeLessThanOrEqual(4 * sOut);
      if (c.dir === 'dl4j_causal_conv1d') {
        const conv = result.lowered.ops[0].params;
        expect([conv.padLeft, conv.dilW, conv.kW, conv.outW]).toEqual([4, 2, 3, 16]);
      }
      if (c.dir === 'dl4j_conv1d_k3_s2_valid') {
        const conv = result.lowered.ops[0].params;
        expect([conv.padLeft, conv.strideW, conv.outW]).toEqual([0, 2, 7]);
        expect(conv.lut).not.toBe(-1); // sigmoid fused as a LUT
      }
    });
  }

  it('dl4j_conv2d_batchnorm: BN folded into Conv2D, relu fused, predictions.npy within tolerance', async () => {
    const g = await graphFromFile(fixture('dl4j_conv2d_batchnorm', 'cnn_batch_norm.h5'));
    const xi = readArray(fixture('dl4j_conv2d_batchnorm', 'input.npy'));
    const yi = readArray(fixture('dl4j_conv2d_batchnorm', 'predictions.npy'));
    const x = { shape: xi.shape, data: Float32Array.from(xi.data) };
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [x], [x], 5);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.notes.some((n) => n.includes("'batch_normalization_1' folded into 'conv2d_1'"))).toBe(true);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['CONV2D', 'CONV2D', 'DENSE']);
    expect(outputs[0].shape).toEqual([5, 1]);
    // three quantised layers in a chain (conv -> conv -> dense over 36 values): 8 output LSBs
    const sOut = result.lowered.tensors[result.lowered.outputs[0]].q.scale;
    expect(maxAbs(outputs[0].data, yi.data)).toBeLessThanOrEqual(8 * sOut);
  });
});
