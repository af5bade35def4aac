import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { strToU8, zipSync } from 'fflate';
import { UserError, EXIT } from '../../tools/errors.ts';
import { readModel, sniff } from '../../tools/readers/index.ts';
import { legacyWeightName } from '../../tools/readers/keras-h5.ts';
import { keras3LayerKeys } from '../../tools/readers/keras3.ts';
import { toSnakeCase } from '../../tools/readers/config.ts';
import type { RawModel, RawWeight } from '../../tools/readers/types.ts';
import { fixture, fixtureManifest, fixturesSkipReason, haveFixtures } from '../helpers/fixtures.ts';
import { tfjsLayerWeights, writeKeras2H5, writeKeras3, writeTfjs } from '../helpers/keras-writers.ts';

let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'kw-readers-'));
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function expectUserError(p: Promise<unknown>, re?: RegExp): Promise<UserError> {
  let err: unknown = null;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a UserError').toBeInstanceOf(UserError);
  const u = err as UserError;
  expect(u.message).not.toContain('\n');
  expect(u.message.length).toBeLessThan(400);
  if (re) expect(u.message).toMatch(re);
  return u;
}

function shapes(m: RawModel): Record<string, string[]> {
  const o: Record<string, string[]> = {};
  for (const [k, ws] of m.weights) o[k] = ws.map((w) => `${w.name}[${w.shape.join(',')}]`);
  return o;
}

describe('unit helpers', () => {
  it('legacy weight names drop the layer prefix (incl. uniquified inner names) and :0', () => {
    expect(legacyWeightName('dense_1', 'dense_1/kernel:0')).toBe('kernel');
    expect(legacyWeightName('conv0', 'conv0_5/kernel:0')).toBe('kernel');
    expect(legacyWeightName('bidirectional_1', 'bidirectional_1/forward_lstm_1/kernel:0')).toBe('forward_lstm_1/kernel');
    expect(legacyWeightName('sequential', 'dense/kernel:0')).toBe('dense/kernel');
    expect(legacyWeightName('lstm_1', 'lstm_1_W_i:0')).toBe('lstm_1_W_i');
  });
  it('Keras 3 snake_case and container keys', () => {
    expect(['Dense', 'Conv1D', 'BatchNormalization', 'LSTM', 'GRU', 'Bidirectional', 'InputLayer', 'SimpleRNN', 'MaxPooling1D'].map(toSnakeCase)).toEqual([
      'dense',
      'conv1d',
      'batch_normalization',
      'lstm',
      'gru',
      'bidirectional',
      'input_layer',
      'simple_rnn',
      'max_pooling1d',
    ]);
    const cfg = {
      class_name: 'Sequential',
      config: {
        layers: [
          { class_name: 'InputLayer', config: { name: 'in' } },
          { class_name: 'Dense', config: { name: 'enc' } },
          { class_name: 'Dropout', config: { name: 'dr' } },
          { class_name: 'Dense', config: { name: 'dec' } },
        ],
      },
    };
    expect(keras3LayerKeys(cfg).map((k) => `${k.key}=${k.name}`)).toEqual(['dense=enc', 'dropout=dr', 'dense_1=dec']);
  });
  it('sniffs content', () => {
    expect(sniff(new Uint8Array([0x50, 0x4b, 3, 4]))).toBe('zip');
    expect(sniff(new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('hdf5');
    expect(sniff(strToU8('  \n{"a":1}'))).toBe('json');
    expect(sniff(strToU8('hello'))).toBe('unknown');
  });
});

describe.skipIf(!haveFixtures)('shared fixtures (real Keras/tfjs files)', () => {
  if (!haveFixtures) console.warn(fixturesSkipReason);
  const man = haveFixtures ? fixtureManifest() : { fixtures: [] };
  const expected: Record<string, { format: string; dialect: string; kerasVersion: string | null } | { refused: RegExp; code: number }> = {
    dl4j_simple_rnn: { format: 'h5', dialect: 'keras2', kerasVersion: '2.1.3' },
    dl4j_conv1d_k3_s2_valid: { format: 'h5', dialect: 'keras2', kerasVersion: '2.3.1' },
    dl4j_causal_conv1d: { format: 'h5', dialect: 'keras2', kerasVersion: '2.3.1' },
    dl4j_dense_leakyrelu: { format: 'h5', dialect: 'keras2', kerasVersion: '2.3.1' },
    dl4j_bidirectional_lstm: { format: 'h5', dialect: 'keras2', kerasVersion: '2.1.3' },
    dl4j_conv1d_pool1d_stack: { format: 'h5', dialect: 'keras2', kerasVersion: '2.5.0' },
    dl4j_conv2d_batchnorm: { format: 'h5', dialect: 'keras2', kerasVersion: '2.1.3' },
    dl4j_concat_attention: { format: 'h5', dialect: 'keras2', kerasVersion: '2.11.0' },
    dl4j_keras1_lstm: { format: 'h5', dialect: 'keras1', kerasVersion: '1.2.2' },
    tfjs_embedding_gru: { format: 'tfjs', dialect: 'tfjs', kerasVersion: 'tfjs-layers 0.0.0' },
    tfjs_node_abalone_mlp: { format: 'tfjs', dialect: 'tfjs', kerasVersion: 'tfjs-layers 1.3.2' },
    tfjs_graph_model_negative: { refused: /TensorFlow\.js graph model \(a TF graph, not a Keras layers model\)/, code: EXIT.UNSUPPORTED },
    hls4ml_gru_keras213: { format: 'h5', dialect: 'keras2', kerasVersion: '2.1.3' },
    mlperf_tiny_resnet_add: { format: 'h5', dialect: 'keras2', kerasVersion: '2.4.0' },
    mltk_autoencoder_nested_sequential: { format: 'h5', dialect: 'keras2', kerasVersion: '2.8.0' },
    cdt406_keras3_gru_stack: { format: 'keras3', dialect: 'keras3', kerasVersion: '3.9.2' },
    cdt406_keras3_lstm_unroll: { format: 'keras3', dialect: 'keras3', kerasVersion: '3.9.2' },
    cdt406_keras3_custom_model_negative: {
      refused: /subclassed model 'ELMModel' has no layer graph in its config; save a Sequential or Functional model/,
      code: EXIT.UNSUPPORTED,
    },
  };

  it('covers every fixture in the manifest', () => {
    expect(man.fixtures.map((f: any) => f.id).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const fx of man.fixtures as any[]) {
    const modelFile = fx.files.find((f: any) => f.role === 'model').file;
    it(`${fx.id}: ${modelFile}`, async () => {
      const exp = expected[fx.id];
      const path = fixture(modelFile);
      if ('refused' in exp) {
        const e = await expectUserError(readModel(path), exp.refused);
        expect(e.exitCode).toBe(exp.code);
        expect(e.message.startsWith(path)).toBe(true);
        return;
      }
      const m = await readModel(path);
      expect(m.format).toBe(exp.format);
      expect(m.dialect).toBe(exp.dialect);
      expect(m.kerasVersion).toBe(exp.kerasVersion);
      expect(m.file).toBe(path);
      // every weight dataset the manifest lists, with its shape, under the right layer and name
      const got = new Map<string, number[]>();
      for (const [layer, ws] of m.weights)
        for (const w of ws) {
          got.set(`${layer}::${w.name}`, w.shape);
          expect(w.data.length).toBe(w.shape.reduce((a, b) => a * b, 1));
        }
      const want = new Map<string, number[]>();
      for (const w of fx.structure.weights) {
        let layer: string;
        let name: string;
        if (m.format === 'tfjs') {
          const i = w.path.indexOf('/');
          layer = w.path.slice(0, i);
          name = w.path.slice(i + 1);
        } else if (m.format === 'keras3') {
          const parts = w.path.split('/'); // layers/<key>/...
          layer = parts[1]; // fixtures' keys equal their layer names
          name = parts.slice(2).join('/');
        } else {
          const parts = w.path.split('/'); // model_weights/<layer>/<inner...>
          layer = parts[1];
          name = legacyWeightName(layer, parts.slice(2).join('/'));
        }
        want.set(`${layer}::${name}`, w.shape);
      }
      expect(new Set(got.keys())).toEqual(new Set(want.keys()));
      for (const [k, s] of want) expect(got.get(k), k).toEqual(s);
    });
  }

  it('keras1 LSTM keeps per-gate weights in weight_names order', async () => {
    const m = await readModel(fixture('dl4j_keras1_lstm/lstm_tensorflow_1.h5'));
    expect(m.weights.get('lstm_1')!.map((w) => w.name)).toEqual([
      'lstm_1_W_i',
      'lstm_1_U_i',
      'lstm_1_b_i',
      'lstm_1_W_c',
      'lstm_1_U_c',
      'lstm_1_b_c',
      'lstm_1_W_f',
      'lstm_1_U_f',
      'lstm_1_b_f',
      'lstm_1_W_o',
      'lstm_1_U_o',
      'lstm_1_b_o',
    ]);
    expect(Array.isArray(m.config.config)).toBe(true);
    expect(m.config.config[0].config.output_dim).toBe(6);
  });

  it('weights come in file order (weight_names / vars index / manifest)', async () => {
    const a = await readModel(fixture('dl4j_causal_conv1d/causal_conv1d_k3_s1_d2_cl_model.h5'));
    expect(shapes(a)).toEqual({ conv0: ['kernel[3,3,4]', 'bias[4]'] });
    const b = await readModel(fixture('cdt406_keras3_gru_stack/gru_model.keras'));
    expect([...b.weights.keys()]).toEqual(['gru', 'gru_1', 'dense']);
    expect(shapes(b).gru).toEqual(['cell/vars/0[1,96]', 'cell/vars/1[32,96]', 'cell/vars/2[2,96]']);
    expect(b.config.config.layers[0].config.batch_shape).toEqual([null, 4, 1]);
    expect(b.notes).toContain('optimizer weights ignored');
    const c = await readModel(fixture('mltk_autoencoder_nested_sequential/autoencoder_example.h5'));
    expect(shapes(c).sequential_1[0]).toBe('dense_3/kernel[8,16]');
  });

  it('tfjs fixture values: first weights match the raw shard bytes', async () => {
    const m = await readModel(fixture('tfjs_node_abalone_mlp/model.json'));
    const raw = readFileSync(fixture('tfjs_node_abalone_mlp/weights.bin'));
    const k = m.weights.get('dense_Dense1')![0];
    expect(k.data[0]).toBe(raw.readFloatLE(0));
    expect(k.data[399]).toBe(raw.readFloatLE(399 * 4));
    const b = m.weights.get('dense_Dense3')!;
    expect(b[1].data[0]).toBe(raw.readFloatLE(raw.length - 4));
  });

  it('dense_leakyrelu read as full h5 and as weights-only h5 + --config gives identical weights', async () => {
    const full = await readModel(fixture('dl4j_dense_leakyrelu/LeakyReLU_0_model.h5'));
    const wo = await readModel(fixture('dl4j_dense_leakyrelu/LeakyReLU_0_weights.h5'), { config: fixture('dl4j_dense_leakyrelu/LeakyReLU_0_config.json') });
    expect(wo.format).toBe('h5-weights');
    expect(wo.dialect).toBe('keras2');
    expect(wo.kerasVersion).toBe('2.3.1');
    expect(wo.config.config.layers.map((l: any) => l.config.name)).toEqual(full.config.config.layers.map((l: any) => l.config.name));
    expect(shapes(wo)).toEqual(shapes(full));
    for (const [layer, ws] of full.weights) ws.forEach((w, i) => expect(wo.weights.get(layer)![i].data).toEqual(w.data));
    // a third way: the same config JSON used with the full file overrides its own config
    const third = await readModel(fixture('dl4j_dense_leakyrelu/LeakyReLU_0_model.h5'), { config: fixture('dl4j_dense_leakyrelu/LeakyReLU_0_config.json') });
    for (const [layer, ws] of full.weights) ws.forEach((w, i) => expect(third.weights.get(layer)![i].data).toEqual(w.data));
    expect(third.notes.join(' ')).toMatch(/--config/);
  });

  it('Keras 3 .weights.h5 + config.json (--config) reads like the .keras archive', async () => {
    const { unzipSync } = await import('fflate');
    const z = unzipSync(new Uint8Array(readFileSync(fixture('cdt406_keras3_gru_stack/gru_model.keras'))));
    const dir = mkdtempSync(join(tmp, 'k3w-'));
    writeFileSync(join(dir, 'model.weights.h5'), z['model.weights.h5']);
    writeFileSync(join(dir, 'config.json'), z['config.json']);
    const a = await readModel(fixture('cdt406_keras3_gru_stack/gru_model.keras'));
    const b = await readModel(join(dir, 'model.weights.h5'), { config: join(dir, 'config.json') });
    expect(b.format).toBe('h5-weights');
    expect(b.dialect).toBe('keras3');
    expect(shapes(b)).toEqual(shapes(a));
    for (const [layer, ws] of a.weights) ws.forEach((w, i) => expect(b.weights.get(layer)![i].data).toEqual(w.data));
    await expectUserError(readModel(join(dir, 'model.weights.h5')), /--config/);
  });

  it('weights-only h5 without --config: one line naming --config', async () => {
    const e = await expectUserError(readModel(fixture('dl4j_dense_leakyrelu/LeakyReLU_0_weights.h5')), /--config/);
    expect(e.exitCode).toBe(EXIT.USAGE);
  });

  it('a bare architecture JSON is refused as the model', async () => {
    await expectUserError(readModel(fixture('hls4ml_gru_keras213/KERAS_gru_model.json')), /architecture JSON without weights.*--config/);
  });

  it('hls4ml config JSON works as --config for its h5', async () => {
    const m = await readModel(fixture('hls4ml_gru_keras213/KERAS_gru_model_weights.h5'), { config: fixture('hls4ml_gru_keras213/KERAS_gru_model.json') });
    expect(m.config.class_name).toBe('Model');
    expect(shapes(m).gru_selu).toEqual(['kernel[6,60]', 'recurrent_kernel[20,60]', 'bias[60]']);
  });

  describe('corrupted copies (in os.tmpdir) give one-line UserErrors', () => {
    const cases: [string, string][] = [
      ['h5', 'dl4j_dense_leakyrelu/LeakyReLU_0_model.h5'],
      ['keras', 'cdt406_keras3_lstm_unroll/model.keras'],
      ['json', 'tfjs_node_abalone_mlp/model.json'],
    ];
    for (const [kind, rel] of cases) {
      it(`${kind}: truncations and byte flips`, async () => {
        const src = readFileSync(fixture(rel));
        const dir = mkdtempSync(join(tmp, `corrupt-${kind}-`));
        if (kind === 'json') copyFileSync(fixture('tfjs_node_abalone_mlp/weights.bin'), join(dir, 'weights.bin'));
        const variants: [string, Buffer][] = [];
        for (const frac of [0.02, 0.3, 0.6, 0.97]) variants.push([`trunc${frac}`, src.subarray(0, Math.floor(src.length * frac))]);
        for (const at of [0, 0.1, 0.5, 0.9]) {
          const b = Buffer.from(src);
          const i = Math.floor(b.length * at);
          for (let k = i; k < Math.min(b.length, i + 64); k++) b[k] ^= 0x5a;
          variants.push([`flip${at}`, b]);
        }
        let refused = 0;
        for (const [name, bytes] of variants) {
          const p = join(dir, kind === 'json' ? 'model.json' : `${name}.${kind}`);
          writeFileSync(p, bytes);
          try {
            const m = await readModel(p);
            // a flip inside float data can still be a valid file: then it must be well formed
            for (const ws of m.weights.values()) for (const w of ws) expect(w.data.length).toBe(w.shape.reduce((a, b) => a * b, 1));
          } catch (e) {
            expect(e, `${name}: ${(e as Error).message}`).toBeInstanceOf(UserError);
            const msg = (e as UserError).message;
            expect(msg).not.toContain('\n');
            expect(msg.length).toBeLessThan(400);
            expect(msg.startsWith(p)).toBe(true);
            refused++;
          }
        }
        expect(refused).toBeGreaterThanOrEqual(4); // every truncation at least
      });
    }
  });

  it('a tfjs shard that is too short or missing is refused', async () => {
    const dir = mkdtempSync(join(tmp, 'shard-'));
    writeFileSync(join(dir, 'model.json'), readFileSync(fixture('tfjs_node_abalone_mlp/model.json')));
    await expectUserError(readModel(join(dir, 'model.json')), /weight shard 'weights\.bin' is missing/);
    writeFileSync(join(dir, 'weights.bin'), readFileSync(fixture('tfjs_node_abalone_mlp/weights.bin')).subarray(0, 1000));
    await expectUserError(readModel(join(dir, 'model.json')), /manifest and shards disagree/);
    const longer = Buffer.concat([readFileSync(fixture('tfjs_node_abalone_mlp/weights.bin')), Buffer.alloc(8)]);
    writeFileSync(join(dir, 'weights.bin'), longer);
    await expectUserError(readModel(join(dir, 'model.json')), /declares 12204 bytes but its shards hold 12212/);
  });
});

// --------------------------------------------------------------- models written by our writers

function denseModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 5, inputShape: [4], activation: 'relu', name: 'hidden' }));
  m.add(tf.layers.dense({ units: 3, name: 'out' }));
  return m;
}
function conv1dModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv1d({ filters: 4, kernelSize: 3, inputShape: [10, 2], name: 'conv' }));
  m.add(tf.layers.batchNormalization({ name: 'bn' }));
  m.add(tf.layers.maxPooling1d({ poolSize: 2, name: 'pool' }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ units: 2, name: 'head' }));
  return m;
}
function lstmModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.lstm({ units: 6, inputShape: [5, 3], returnSequences: true, recurrentActivation: 'sigmoid', name: 'lstm_a' }));
  m.add(tf.layers.lstm({ units: 4, recurrentActivation: 'sigmoid', name: 'lstm_b' }));
  m.add(tf.layers.dense({ units: 2, name: 'dense' }));
  return m;
}
function bidiGruModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid', name: 'gru' }) as any, inputShape: [4, 2], name: 'bi' }));
  m.add(tf.layers.dense({ units: 1, name: 'dense' }));
  return m;
}
function twoInputModel(): tf.LayersModel {
  const a = tf.input({ shape: [3], name: 'in_a' });
  const b = tf.input({ shape: [2], name: 'in_b' });
  const da = tf.layers.dense({ units: 4, name: 'da' }).apply(a) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([da, b]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, name: 'out' }).apply(cat) as tf.SymbolicTensor;
  return tf.model({ inputs: [a, b], outputs: out, name: 'two_in' });
}

/** Put Bidirectional halves in Keras getWeights order (forward first) for comparison. */
function kerasOrder(ws: RawWeight[]): RawWeight[] {
  const f = ws.filter((w) => !/(^|\/)backward_/.test(w.name));
  const b = ws.filter((w) => /(^|\/)backward_/.test(w.name));
  return [...f, ...b];
}

const models: [string, () => tf.LayersModel][] = [
  ['dense', denseModel],
  ['conv1d', conv1dModel],
  ['lstm', lstmModel],
  ['bidirectional_gru', bidiGruModel],
  ['two_inputs_concat', twoInputModel],
];

describe('tfjs-built models written in every format read back identically', () => {
  for (const [name, build] of models) {
    it(name, async () => {
      const model = build();
      // non-trivial, distinct weights
      model.setWeights(model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 1, 'float32', 1234 + i)));
      const truth = tfjsLayerWeights(model);
      const dir = mkdtempSync(join(tmp, `${name}-`));
      const tfjsFile = await writeTfjs(model, join(dir, 'tfjs'), { shards: name === 'conv1d' ? 3 : 1 });
      const h5File = await writeKeras2H5(model, join(dir, 'model.h5'), { optimizer: true, chunkAttrs: name === 'dense' ? 1 : undefined });
      const woFile = await writeKeras2H5(model, join(dir, 'weights.h5'), { weightsOnly: true, configFile: join(dir, 'arch.json') });
      const k3File = await writeKeras3(model, join(dir, 'model.keras'), { optimizer: true });
      const reads = {
        tfjs: await readModel(tfjsFile),
        h5: await readModel(h5File),
        'h5-weights': await readModel(woFile, { config: join(dir, 'arch.json') }),
        keras3: await readModel(k3File),
      };
      expect(reads.tfjs.dialect).toBe('tfjs');
      expect(reads.h5.dialect).toBe('keras2');
      expect(reads['h5-weights'].dialect).toBe('keras2');
      expect(reads.keras3.dialect).toBe('keras3');
      expect(reads.keras3.kerasVersion).toBe('3.9.2');
      for (const [fmt, m] of Object.entries(reads)) {
        expect(m.format).toBe(fmt);
        expect([...m.weights.keys()], fmt).toEqual([...truth.keys()]);
        for (const [layer, tw] of truth) {
          const got = kerasOrder(m.weights.get(layer)!);
          expect(got.length, `${fmt} ${layer}`).toBe(tw.length);
          got.forEach((w, i) => {
            expect(w.shape, `${fmt} ${layer} ${w.name}`).toEqual(tw[i].shape);
            expect(w.data, `${fmt} ${layer} ${w.name}`).toEqual(tw[i].data);
          });
        }
      }
      // names follow the contract per format
      if (name === 'dense') {
        expect(reads.h5.weights.get('hidden')!.map((w) => w.name)).toEqual(['kernel', 'bias']);
        expect(reads.tfjs.weights.get('hidden')!.map((w) => w.name)).toEqual(['kernel', 'bias']);
        expect(reads.keras3.weights.get('hidden')!.map((w) => w.name)).toEqual(['vars/0', 'vars/1']);
      }
      if (name === 'lstm') expect(reads.keras3.weights.get('lstm_b')!.map((w) => w.name)).toEqual(['cell/vars/0', 'cell/vars/1', 'cell/vars/2']);
      if (name === 'bidirectional_gru') {
        expect(reads.keras3.weights.get('bi')!.map((w) => w.name)).toEqual([
          'backward_layer/cell/vars/0',
          'backward_layer/cell/vars/1',
          'backward_layer/cell/vars/2',
          'forward_layer/cell/vars/0',
          'forward_layer/cell/vars/1',
          'forward_layer/cell/vars/2',
        ]);
        expect(reads.h5.weights.get('bi')![0].name).toMatch(/^forward_.*\/kernel$/);
        expect(reads.keras3.config.config.layers[1].config.backward_layer.config.go_backwards).toBe(true);
      }
      if (name === 'two_inputs_concat') {
        const cat = reads.keras3.config.config.layers.find((l: any) => l.name === 'cat');
        expect(cat.inbound_nodes[0].args[0].map((t: any) => t.config.keras_history[0])).toEqual(['da', 'in_b']);
        expect(cat.inbound_nodes[0].args[0][0].config.shape).toEqual([null, 4]);
        expect(reads.h5.config.class_name).toBe('Functional');
      }
      // the architecture JSON round-trips through tfjs (Keras 2 dialect)
      const again = await tf.models.modelFromJSON(JSON.parse(readFileSync(join(dir, 'arch.json'), 'utf8')));
      expect(again.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    });
  }

  it('Keras 3 file whose layer names differ from their weight-group keys is mapped by save order', async () => {
    const model = denseModel(); // layers 'hidden' and 'out' are stored as layers/dense and layers/dense_1
    const f = await writeKeras3(model, join(tmp, 'renamed.keras'));
    const m = await readModel(f);
    expect([...m.weights.keys()]).toEqual(['hidden', 'out']);
    expect(m.weights.get('out')![0].shape).toEqual([5, 3]);
  });
});

describe('robustness on crafted inputs', () => {
  it('missing, empty, directory without model.json, and non-model files', async () => {
    await expectUserError(readModel(join(tmp, 'nope.h5')), /no such file/);
    writeFileSync(join(tmp, 'empty.h5'), '');
    await expectUserError(readModel(join(tmp, 'empty.h5')), /file is empty/);
    await expectUserError(readModel(tmp), /directory without model\.json/);
    writeFileSync(join(tmp, 'text.h5'), 'hello world');
    await expectUserError(readModel(join(tmp, 'text.h5')), /not a Keras model/);
    writeFileSync(join(tmp, 'bad.json'), '{"modelTopology": ');
    await expectUserError(readModel(join(tmp, 'bad.json')), /invalid JSON/);
  });

  it('zip bombs and path traversal are handled before inflating', async () => {
    // declared size lie: patch the central directory's uncompressed size of config.json
    const zip = zipSync({ 'config.json': strToU8('{"class_name":"Sequential","config":{"layers":[]}}') });
    const b = Buffer.from(zip);
    const cd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    b.writeUInt32LE(0x7fff0000, cd + 24);
    writeFileSync(join(tmp, 'bomb.keras'), b);
    await expectUserError(readModel(join(tmp, 'bomb.keras')), /declares \d+ uncompressed bytes; refusing/);
    // ratio: 50 MB of zeros deflates to ~50 KB (ratio ~1000) -> allowed; fake a 2 GB/1 KB ratio instead
    const z2 = Buffer.from(zipSync({ 'model.weights.h5': new Uint8Array(4096), 'config.json': strToU8('{}') }));
    const cd2 = z2.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    z2.writeUInt32LE(300 * 1024 * 1024, cd2 + 24);
    writeFileSync(join(tmp, 'ratio.keras'), z2);
    await expectUserError(readModel(join(tmp, 'ratio.keras')), /compression ratio|zip bomb/);
    // traversal names are ignored: archive with only ../config.json has no config.json
    writeFileSync(join(tmp, 'trav.keras'), zipSync({ '../config.json': strToU8('{}'), '/abs/metadata.json': strToU8('{}') }));
    await expectUserError(readModel(join(tmp, 'trav.keras')), /no config\.json/);
  });

  it('Keras 3 archive problems: subclassed config, missing weights, npz weights', async () => {
    const sub = { module: null, class_name: 'MyNet', config: { trainable: true }, registered_name: 'Custom>MyNet' };
    writeFileSync(join(tmp, 'sub.keras'), zipSync({ 'config.json': strToU8(JSON.stringify(sub)), 'metadata.json': strToU8('{"keras_version":"3.1.0"}') }));
    await expectUserError(readModel(join(tmp, 'sub.keras')), /subclassed model 'MyNet' has no layer graph/);
    const seq = { module: 'keras', class_name: 'Sequential', config: { name: 's', layers: [] } };
    writeFileSync(join(tmp, 'now.keras'), zipSync({ 'config.json': strToU8(JSON.stringify(seq)) }));
    await expectUserError(readModel(join(tmp, 'now.keras')), /no model\.weights\.h5/);
    writeFileSync(join(tmp, 'npz.keras'), zipSync({ 'config.json': strToU8(JSON.stringify(seq)), 'model.weights.npz': new Uint8Array(10) }));
    await expectUserError(readModel(join(tmp, 'npz.keras')), /model\.weights\.npz/);
  });

  it('NaN/Inf weights name the layer and weight; int weights and shape disagreements are refused', async () => {
    const model = denseModel();
    const ws = model.getWeights().map((w) => w.clone());
    const k = ws[2].dataSync().slice();
    k[4] = NaN;
    ws[2] = tf.tensor(k, ws[2].shape);
    model.setWeights(ws);
    const dir = mkdtempSync(join(tmp, 'nan-'));
    const file = await writeTfjs(model, dir);
    await expectUserError(readModel(file), /layer 'out' weight 'kernel' has 1 NaN\/Inf value \(first at flat index 4\)/);
    await expectUserError(readModel(await writeKeras2H5(model, join(dir, 'm.h5'))), /layer 'out' weight 'kernel' has 1 NaN/);
    await expectUserError(readModel(await writeKeras3(model, join(dir, 'm.keras'))), /layer 'out' weight 'vars\/0' has 1 NaN/);

    // tfjs int32 weight and uint8 quantisation
    const mj = JSON.parse(readFileSync(file, 'utf8'));
    const bin = readFileSync(join(dir, 'weights.bin'));
    mj.weightsManifest[0].weights[0].dtype = 'int32';
    writeFileSync(join(dir, 'model.json'), JSON.stringify(mj));
    await expectUserError(readModel(file), /weight 'hidden\/kernel' has dtype int32; only float32/);
    // quantised uint8: hidden/kernel [4,5] as bytes 0..19 with scale 0.5, min -1
    const q = JSON.parse(readFileSync(file, 'utf8'));
    q.weightsManifest[0].weights[0] = { name: 'hidden/kernel', shape: [4, 5], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } };
    const qbytes = Buffer.concat([Buffer.from(Array.from({ length: 20 }, (_, i) => i)), bin.subarray(80)]);
    writeFileSync(join(dir, 'weights.bin'), qbytes);
    // keep the NaN-free part only: replace out/kernel values
    const fixed = Buffer.from(qbytes);
    for (let i = 0; i < 15; i++) fixed.writeFloatLE(i / 10, 20 + 20 + i * 4);
    writeFileSync(join(dir, 'weights.bin'), fixed);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(q));
    const qm = await readModel(file);
    expect(Array.from(qm.weights.get('hidden')![0].data.slice(0, 4))).toEqual([-1, -0.5, 0, 0.5]);
  });

  it('HDF5 int datasets, missing datasets and huge declared shapes are refused before reading', async () => {
    const h5 = (await import('h5wasm/node')).default;
    await h5.ready;
    const mk = (name: string, fn: (mw: any) => void) => {
      const p = join(tmp, name);
      const f = new h5.File(p, 'w');
      f.create_attribute('keras_version', '2.3.1', null, 'S5');
      f.create_attribute(
        'model_config',
        JSON.stringify({ class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'Dense', config: { name: 'd', units: 2 } }] } }),
      );
      const mw = f.create_group('model_weights');
      mw.create_attribute('layer_names', ['d'], [1], 'S1');
      fn(mw);
      f.close();
      return p;
    };
    const intFile = mk('int.h5', (mw) => {
      const g = mw.create_group('d');
      g.create_attribute('weight_names', ['d/kernel:0'], [1], 'S10');
      g.create_group('d').create_dataset({ name: 'kernel:0', data: new Int32Array([1, 2]), shape: [2], dtype: '<i4' });
    });
    await expectUserError(readModel(intFile), /layer 'd' weight 'kernel' has dtype int32; only float32\/float64/);
    const missing = mk('missing.h5', (mw) => {
      const g = mw.create_group('d');
      g.create_attribute('weight_names', ['d/kernel:0', 'd/bias:0'], [2], 'S10');
      g.create_group('d').create_dataset({ name: 'kernel:0', data: new Float32Array([1, 2]), shape: [1, 2], dtype: '<f4' });
    });
    await expectUserError(readModel(missing), /weight 'bias' is listed in weight_names but its dataset 'd\/bias:0' is missing/);
    const nogroup = mk('nogroup.h5', () => {});
    await expectUserError(readModel(nogroup), /layer 'd' is listed in layer_names but has no weight group/);
    const f64 = mk('f64.h5', (mw) => {
      const g = mw.create_group('d');
      g.create_attribute('weight_names', ['d/kernel:0'], [1], 'S10');
      g.create_group('d').create_dataset({ name: 'kernel:0', data: new Float64Array([1.5, 2.5]), shape: [1, 2], dtype: '<d' });
    });
    const m64 = await readModel(f64);
    expect(Array.from(m64.weights.get('d')![0].data)).toEqual([1.5, 2.5]);
    // a chunked (never-written) dataset of 2^30 elements: refused from its metadata alone
    const huge = mk('huge.h5', (mw) => {
      const g = mw.create_group('d');
      g.create_attribute('weight_names', ['d/kernel:0'], [1], 'S10');
      g.create_group('d').create_dataset({ name: 'kernel:0', data: new Float32Array(16), shape: [4, 4], maxshape: [null, null], chunks: [4, 4], dtype: '<f4' });
    });
    {
      const f = new h5.File(huge, 'a');
      (f.get('model_weights/d/d/kernel:0') as any).resize([32768, 32768]);
      f.close();
    }
    await expectUserError(readModel(huge), /has 1073741824 elements .*refusing more than 16777216 \(MAX_DATASET_ELEMENTS\)/);
    const notModel = join(tmp, 'plain.h5');
    const pf = new h5.File(notModel, 'w');
    pf.create_group('data');
    pf.close();
    await expectUserError(readModel(notModel), /not a Keras model/);
  });

  it('leaves no temp files behind for .keras reads', async () => {
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('kerawasm-keras3-')).length;
    const f = await writeKeras3(denseModel(), join(tmp, 'tmpcheck.keras'));
    await readModel(f);
    writeFileSync(join(tmp, 'broken.keras'), Buffer.concat([readFileSync(f).subarray(0, 200)]));
    await expectUserError(readModel(join(tmp, 'broken.keras')));
    const after = readdirSync(tmpdir()).filter((n) => n.startsWith('kerawasm-keras3-')).length;
    expect(after).toBe(before);
    expect(existsSync(f)).toBe(true);
  });
});
