/**
 * Layers that only the table's entries made reachable (LayerNormalization, Masking,
 * SpatialDropout2D, Identity) go through convert and the runtime, against tfjs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertAndRun, graphFromFile } from '../helpers/convert-harness.ts';
import { initTf, predict, rng, saveTfjsFiles, sqnr, tf } from '../helpers/tfjs-train.ts';
import { writeKeras2H5 } from '../helpers/keras-writers.ts';

/** Seeded weights: the figures these tests print repeat from run to run. */
const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

describe('layers reachable end to end vs tfjs', () => {
  beforeAll(async () => {
    await initTf();
  });

  it('Masking (no recurrent layer behind it), Dense(mish), SpatialDropout2D and Identity convert and run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-supported-'));
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 4, kernelSize: 3, kernelInitializer: seeded(1), name: 'conv' }));
    m.add(tf.layers.dropout({ rate: 0.3, name: 'sdrop' }));
    m.add(tf.layers.flatten({ name: 'flat' }));
    m.add(tf.layers.masking({ maskValue: 0, name: 'mask' }));
    m.add(tf.layers.dense({ units: 8, activation: 'mish' as any, kernelInitializer: seeded(2), name: 'd1' }));
    m.add(tf.layers.activation({ activation: 'linear', name: 'ident' }));
    m.add(tf.layers.dense({ units: 3, kernelInitializer: seeded(3), name: 'd2' }));
    const file = await saveTfjsFiles(m, dir);
    // tfjs has no SpatialDropout2D or Identity layer: rename the stand-ins in the saved config
    const json = JSON.parse(readFileSync(file, 'utf8'));
    for (const l of json.modelTopology.config.layers) {
      if (l.config.name === 'sdrop') l.class_name = 'SpatialDropout2D';
      if (l.config.name === 'ident') {
        l.class_name = 'Identity';
        delete l.config.activation;
      }
    }
    writeFileSync(file, JSON.stringify(json));
    const g = await graphFromFile(file);
    expect(g.nodes.map((n) => n.className)).toEqual(['Conv2D', 'SpatialDropout2D', 'Flatten', 'Masking', 'Dense', 'Identity', 'Dense']);
    const rand = rng(7);
    const r = () => rand() * 2 - 1;
    const x = { shape: [32, 6, 6, 2], data: Float32Array.from({ length: 32 * 72 }, r) };
    const { outputs, selfTest, bitExact } = await convertAndRun(g, [x], [x]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    const want = predict(m, [x])[0];
    expect(sqnr(want, outputs[0].data)).toBeGreaterThan(25);
  });

  it('LSTM implementation 0, 1 and 2 (how Keras computes it, not what) give the same blob, which follows tfjs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-lstm-impl-'));
    const m = tf.sequential();
    m.add(
      tf.layers.lstm({
        inputShape: [7, 3],
        units: 5,
        recurrentActivation: 'sigmoid',
        kernelInitializer: seeded(4),
        recurrentInitializer: seeded(5),
        name: 'lstm',
      }),
    );
    m.add(tf.layers.dense({ units: 2, kernelInitializer: seeded(6), name: 'out' }));
    const file = await saveTfjsFiles(m, dir);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    const rand = rng(11);
    const x = { shape: [16, 7, 3], data: Float32Array.from({ length: 16 * 21 }, () => rand() * 2 - 1) };
    const want = predict(m, [x])[0];
    const blobs: string[] = [];
    for (const implementation of [0, 1, 2]) {
      json.modelTopology.config.layers[0].config.implementation = implementation;
      writeFileSync(file, JSON.stringify(json));
      const { result, bitExact, selfTest, outputs } = await convertAndRun(await graphFromFile(file), [x], [x]);
      expect(selfTest).toBe(0);
      expect(bitExact).toBe(true);
      const db = sqnr(want, outputs[0].data);
      console.log(`LSTM implementation ${implementation}: SQNR ${db.toFixed(1)} dB vs tfjs (16 sequences of 7 steps)`);
      expect(db).toBeGreaterThan(30);
      blobs.push(Buffer.from(result.blob).toString('hex'));
    }
    expect(blobs[0]).toBe(blobs[2]);
    expect(blobs[1]).toBe(blobs[2]);
    // the same model as a Keras 2 weights-only .h5 whose architecture JSON says implementation 0
    const h5 = join(dir, 'lstm.h5');
    const arch = join(dir, 'arch.json');
    await writeKeras2H5(m, h5, { weightsOnly: true, configFile: arch });
    const cfg = JSON.parse(readFileSync(arch, 'utf8'));
    const lstm = cfg.config.layers.find((l: any) => l.class_name === 'LSTM');
    lstm.config.implementation = 0;
    writeFileSync(arch, JSON.stringify(cfg));
    const { outputs, bitExact } = await convertAndRun(await graphFromFile(h5, { config: arch }), [x], [x]);
    expect(bitExact).toBe(true);
    expect(sqnr(want, outputs[0].data)).toBeGreaterThan(30);
  });

  it('LayerNormalization through LAYER_NORM: SQNR >= 30 dB against tfjs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-layernorm-'));
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [5, 12], units: 24, kernelInitializer: seeded(7), name: 'd1' }));
    m.add(
      tf.layers.layerNormalization({
        epsilon: 1e-3,
        name: 'ln',
        gammaInitializer: tf.initializers.randomNormal({ mean: 1, stddev: 0.5, seed: 8 }),
        betaInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.5, seed: 9 }),
      }),
    );
    m.add(tf.layers.dense({ units: 6, kernelInitializer: seeded(10), name: 'd2' }));
    const file = await saveTfjsFiles(m, dir);
    const g = await graphFromFile(file);
    const rand = rng(21);
    const x = { shape: [64, 5, 12], data: Float32Array.from({ length: 64 * 60 }, () => rand() * 2 - 1) };
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [x], [x]);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['DENSE', 'LAYER_NORM', 'DENSE']);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    const db = sqnr(predict(m, [x])[0], outputs[0].data);
    console.log(`LayerNormalization (Dense -> LN -> Dense, 64 samples): SQNR ${db.toFixed(1)} dB vs tfjs`);
    expect(db).toBeGreaterThan(30);
  });
});
