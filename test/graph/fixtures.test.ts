/**
 * Every real shared fixture through the real readers and the graph builder: input/output
 * shapes as in the manifest, known parameter counts, the Attention fixture rejected by the
 * linter, the Keras 1 LSTM converted.
 */
import { describe, it, expect } from 'vitest';
import { haveFixtures, fixture, fixtureManifest } from '../helpers/fixtures.ts';
import { readModel } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import { UserError, EXIT } from '../../tools/errors.ts';

const manifest = haveFixtures ? fixtureManifest() : { fixtures: [] };
// models that must build (not the negative cases)
const buildable = (manifest.fixtures as any[]).filter((f) => f.structure?.input_shape && !/negative|attention/.test(f.id));

/** Keras's own model.count_params() for these files (from the layer tables in MANIFEST.md). */
const PARAMS: Record<string, number> = {
  dl4j_simple_rnn: 50 * (1 + 50 + 1) + 51,
  dl4j_conv1d_k3_s2_valid: 3 * 3 * 4 + 4,
  dl4j_causal_conv1d: 40,
  dl4j_dense_leakyrelu: 16 * 32 + 32,
  dl4j_bidirectional_lstm: 2 * 4 * (10 * 10 + 10 * 10 + 10),
  dl4j_conv2d_batchnorm: 28 + 4 + 10 + 37,
  dl4j_keras1_lstm: 4 * (1 * 6 + 6 * 6 + 6),
  tfjs_embedding_gru: 100 * 20 + 3 * (20 * 4 + 4 * 4 + 4),
  tfjs_node_abalone_mlp: 8 * 50 + 50 + 50 * 50 + 50 + 51,
  hls4ml_gru_keras213: 3 * (6 * 20 + 20 * 20 + 20) + 420 + 105,
  mlperf_tiny_resnet_add: 78666,
  mltk_autoencoder_nested_sequential: 140 * 32 + 32 + 32 * 16 + 16 + 16 * 8 + 8 + 8 * 16 + 16 + 16 * 32 + 32 + 32 * 140 + 140,
  cdt406_keras3_gru_stack: 3 * (1 * 32 + 32 * 32 + 2 * 32) + 3 * (32 * 16 + 16 * 16 + 2 * 16) + 16 * 3 + 3,
  cdt406_keras3_lstm_unroll: 4 * (4 * 15 + 15 * 15 + 15) + 15 * 6 + 6 + 6 * 2 + 2,
};

function modelFile(f: any): string {
  return fixture(f.files.find((x: any) => x.role === 'model').file);
}

describe.skipIf(!haveFixtures)('shared fixtures through readModel + buildGraph', () => {
  for (const f of buildable) {
    it(`${f.id}: shapes ${JSON.stringify(f.structure.input_shape)} -> ${JSON.stringify(f.structure.output_shape)}`, async () => {
      const g = buildGraph(await readModel(modelFile(f)));
      expect(g.tensors[g.inputs[0]].shape).toEqual(f.structure.input_shape);
      expect(g.tensors[g.outputs[0]].shape).toEqual(f.structure.output_shape);
      const total = g.nodes.reduce((a, n) => a + n.trainableParams + n.nonTrainableParams, 0);
      if (PARAMS[f.id] !== undefined) expect(total).toBe(PARAMS[f.id]);
      for (const n of g.nodes) for (const [k, t] of Object.entries(n.weights)) expect(t.data.length, `${n.name}/${k}`).toBe(t.shape.reduce((a, b) => a * b, 1));
    });
  }

  it('the resnet has 3 Add merges, BN with non-trainable moving stats', async () => {
    const g = buildGraph(await readModel(fixture('mlperf_tiny_resnet_add/pretrainedResnet.h5')));
    expect(g.nodes.filter((n) => n.className === 'Add').length).toBe(3);
    const nt = g.nodes.reduce((a, n) => a + n.nonTrainableParams, 0);
    expect(nt).toBe(2 * (16 * 3 + 32 * 2 + 64 * 2));
  });

  it('nested Sequential autoencoder is flattened outer/inner with its weights', async () => {
    const g = buildGraph(await readModel(fixture('mltk_autoencoder_nested_sequential/autoencoder_example.h5')));
    expect(g.nodes.map((n) => n.name)).toEqual([
      'sequential/dense',
      'sequential/dense_1',
      'sequential/dense_2',
      'sequential_1/dense_3',
      'sequential_1/dense_4',
      'sequential_1/dense_5',
    ]);
    expect(g.nodes[5].weights.kernel.shape).toEqual([32, 140]);
  });

  it('Bidirectional LSTM (h5 forward_/backward_ names)', async () => {
    const g = buildGraph(await readModel(fixture('dl4j_bidirectional_lstm/bidirectional_lstm_tensorflow_2.h5')));
    expect(Object.keys(g.nodes[0].weights).sort()).toEqual([
      'backward/bias',
      'backward/kernel',
      'backward/recurrent_kernel',
      'forward/bias',
      'forward/kernel',
      'forward/recurrent_kernel',
    ]);
    expect(g.nodes[0].config.layer.config.recurrent_activation).toBe('hard_sigmoid');
  });

  it('Keras 1 LSTM is converted: Keras 2 names, fused i,f,c,o weights', async () => {
    const raw = await readModel(fixture('dl4j_keras1_lstm/lstm_tensorflow_1.h5'));
    const g = buildGraph(raw);
    const n = g.nodes[0];
    expect(n.className).toBe('LSTM');
    expect(n.config).toMatchObject({ units: 6, recurrent_activation: 'hard_sigmoid', activation: 'tanh' });
    expect(n.weights.kernel.shape).toEqual([1, 24]);
    expect(n.weights.recurrent_kernel.shape).toEqual([6, 24]);
    expect(n.weights.bias.shape).toEqual([24]);
    // the forget-gate block (units 6..11) of the fused bias is the file's b_f
    const bf = raw.weights.get('lstm_1')!.find((w) => /b_f$/.test(w.name))!;
    expect(Array.from(n.weights.bias.data.slice(6, 12))).toEqual(Array.from(bf.data));
    const wc = raw.weights.get('lstm_1')!.find((w) => /W_c$/.test(w.name))!;
    expect(Array.from(n.weights.kernel.data.slice(12, 18))).toEqual(Array.from(wc.data));
  });

  it('Keras 3 GRU stack: reset_after bias [2, 3u] from cell/vars', async () => {
    const g = buildGraph(await readModel(fixture('cdt406_keras3_gru_stack/gru_model.keras')));
    expect(g.nodes[0].weights.bias.shape).toEqual([2, 96]);
    expect(g.nodes[0].config.reset_after).toBe(true);
  });

  it('tfjs GRU: no reset_after key -> false, hard_sigmoid, go_backwards', async () => {
    const g = buildGraph(await readModel(fixture('tfjs_embedding_gru/model.json')));
    expect(g.nodes[1].config).toMatchObject({ reset_after: false, recurrent_activation: 'hard_sigmoid', go_backwards: true });
    expect(g.tensors[g.inputs[0]].dtype).toBe('int32');
  });

  it('weights-only h5 + --config JSON', async () => {
    const g = buildGraph(
      await readModel(fixture('dl4j_dense_leakyrelu/LeakyReLU_0_weights.h5'), { config: fixture('dl4j_dense_leakyrelu/LeakyReLU_0_config.json') }),
    );
    expect(g.nodes.map((n) => n.className)).toEqual(['Dense', 'LeakyReLU']);
    expect(g.nodes[1].config.alpha).toBe(0.5);
    expect(g.nodes[0].weights.kernel.shape).toEqual([16, 32]);
  });

  it('Attention fixture: the linter lists Attention (exit 4)', async () => {
    let err: unknown;
    try {
      buildGraph(await readModel(fixture('dl4j_concat_attention/keras-attention.h5')));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(EXIT.UNSUPPORTED);
    expect((err as UserError).details).toEqual([
      expect.stringMatching(/^layer 'attention' \(Attention\): this layer class is not supported$/),
      expect.stringMatching(/^supported layer classes: Dense, .*TimeDistributed$/),
    ]);
  });

  it('subclassed Keras 3 model: refused with a clear message', async () => {
    let err: unknown;
    try {
      buildGraph(await readModel(fixture('cdt406_keras3_custom_model_negative/elm_model.keras')));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/ELMModel|subclass|architecture/);
  });
});
