/**
 * Every recurrent layer of the real shared fixtures (Keras 1/2/3, tfjs, DL4J-era files:
 * SimpleRNN, LSTM with Keras-1 inner_activation, Bidirectional(LSTM), GRU reset_after both ways,
 * stacked GRU) read -> graph -> lowerRecurrent -> blob -> build/runtime.wasm, compared with the
 * float forward of the same layer on random input (these fixtures have random or
 * little-trained weights). The whole-model conversion goes through the converter (lower.ts).
 */
import { describe, expect, it } from 'vitest';
import { haveFixtures, fixture, fixturesSkipReason } from '../helpers/fixtures.ts';
import { readModel } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import type { FloatTensor } from '../../tools/graph/ir.ts';
import { lowerAndRun } from '../helpers/rnn-lower-ctx.ts';
import { gauss, rng, sqnr } from '../helpers/tfjs-train.ts';

const FILES: [string, string, string?][] = [
  ['dl4j_simple_rnn', 'simple_rnn_tf_keras_2_model.h5'],
  ['dl4j_bidirectional_lstm', 'bidirectional_lstm_tensorflow_2.h5'],
  ['dl4j_keras1_lstm', 'lstm_tensorflow_1.h5'],
  ['hls4ml_gru_keras213', 'KERAS_gru_model_weights.h5', 'KERAS_gru_model.json'],
  ['cdt406_keras3_gru_stack', ''],
  ['cdt406_keras3_lstm_unroll', ''],
  ['tfjs_embedding_gru', ''],
];

const RNN = new Set(['SimpleRNN', 'GRU', 'LSTM', 'Bidirectional']);

describe.skipIf(!haveFixtures)(`recurrent layers of the shared fixtures${haveFixtures ? '' : ` (${fixturesSkipReason})`}`, () => {
  it.each(FILES)('%s', async (dir, file, config) => {
    const { readdirSync } = await import('node:fs');
    const name = file || readdirSync(fixture(dir)).find((f) => /\.(h5|keras|json)$/.test(f) && !/input|output|weights\.|test/i.test(f))!;
    const g = buildGraph(await readModel(fixture(dir, name), config ? { config: fixture(dir, config) } : {}));
    const nodes = g.nodes.filter((n) => RNN.has(n.className));
    expect(nodes.length).toBeGreaterThan(0);
    for (const n of nodes) {
      const shape = g.tensors[n.inputs[0]].shape;
      const T = typeof shape[1] === 'number' ? shape[1] : 20;
      const D = shape[2] as number;
      const r = rng(n.id + 1);
      const x: FloatTensor = { shape: [2, T, D], data: Float32Array.from({ length: 2 * T * D }, () => gauss(r)) };
      const { fouts, run, xq } = await lowerAndRun({ ...n, inputs: [0], outputs: n.outputs.map((_, i) => i + 1) }, x);
      const outs = run(xq);
      outs.forEach((o, i) => {
        const s = sqnr(fouts[i].data, o);
        console.log(
          `${dir} ${n.name} (${n.className}${n.className === 'GRU' ? ` reset_after=${n.config.reset_after}` : ''}) output ${i}: SQNR ${s.toFixed(1)} dB`,
        );
        expect(s).toBeGreaterThanOrEqual(30);
      });
    }
  });
});
