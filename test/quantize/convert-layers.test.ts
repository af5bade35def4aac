/**
 * Layer coverage of the lowering (untrained tfjs models, seeded weights, synthetic
 * calibration on the same input distribution): depthwise/separable conv, BN folding into a
 * separable conv, PReLU, Permute/RepeatVector/ZeroPadding1D/UpSampling1D/Cropping1D (LAYOUT), pooling
 * (same/valid), merges (Multiply, Maximum, Minimum, Average). Compared with tfjs predict.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { runFloat } from '../../tools/float/forward.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTf, predict, rng, saveTfjsFiles, sqnr, tf } from '../helpers/tfjs-train.ts';
import { convertAndRun, graphFromFile } from '../helpers/convert-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-layers-'));
const seed = (s: number) => tf.initializers.glorotUniform({ seed: s });

beforeAll(async () => {
  await initTf();
});

function uniform(n: number, shape: number[], s: number) {
  const r = rng(s);
  const size = n * shape.reduce((a, b) => a * b, 1);
  return { data: new Float32Array(size).map(() => r() * 2 - 1), shape: [n, ...shape] };
}

/** Give BN non-trivial statistics so folding is really exercised. */
function randomizeBn(layer: tf.layers.Layer, s: number) {
  const r = rng(s);
  const ws = layer.getWeights();
  const c = ws[0].shape[0];
  const v = (f: () => number) => tf.tensor1d(Array.from({ length: c }, f));
  layer.setWeights([v(() => 0.5 + r()), v(() => r() - 0.5), v(() => (r() - 0.5) * 0.4), v(() => 0.3 + r())]);
}

describe('lowering coverage vs tfjs predict (synthetic calibration)', () => {
  it('depthwise + separable(+BN fold) + PReLU + permute/pooling/repeat', async () => {
    const m = tf.sequential();
    m.add(
      tf.layers.depthwiseConv2d({
        inputShape: [8, 8, 3],
        kernelSize: 3,
        depthMultiplier: 2,
        padding: 'same',
        activation: 'relu6',
        depthwiseInitializer: seed(1),
        name: 'dw',
      }),
    );
    m.add(
      tf.layers.separableConv2d({ filters: 6, kernelSize: 3, padding: 'valid', depthwiseInitializer: seed(2), pointwiseInitializer: seed(3), name: 'sep' }),
    );
    m.add(tf.layers.batchNormalization({ name: 'bn' }));
    m.add(tf.layers.prelu({ alphaInitializer: tf.initializers.constant({ value: 0.2 }), sharedAxes: [1, 2], name: 'prelu' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'mp' }));
    m.add(tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'ap' }));
    m.add(tf.layers.permute({ dims: [2, 1, 3], name: 'perm' }));
    m.add(tf.layers.flatten({ name: 'flat' }));
    m.add(tf.layers.repeatVector({ n: 2, name: 'rep' }));
    m.add(tf.layers.globalAveragePooling1d({ name: 'gap' }));
    m.add(tf.layers.dense({ units: 5, kernelInitializer: seed(4), name: 'out' }));
    randomizeBn(m.getLayer('bn'), 5);
    // PReLU alphas vary per channel
    m.getLayer('prelu').setWeights([
      tf.tensor3d(
        Array.from({ length: 6 }, (_, i) => 0.1 * i - 0.2),
        [1, 1, 6],
      ),
    ]);
    const file = await saveTfjsFiles(m, join(dir, 'seq'));
    const g = await graphFromFile(file);
    const cal = [uniform(64, [8, 8, 3], 1)];
    const test = uniform(40, [8, 8, 3], 2);
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, cal, [test], 2);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.notes.some((n) => n.includes("'bn' folded into 'sep/pointwise'"))).toBe(true);
    expect(result.lowered.ops.map((o) => o.name)).toEqual([
      'DEPTHWISE_CONV2D',
      'DEPTHWISE_CONV2D',
      'CONV2D',
      'PRELU',
      'MAX_POOL2D',
      'AVG_POOL2D',
      'LAYOUT',
      'LAYOUT',
      'AVG_POOL2D',
      'DENSE',
    ]);
    const ref = predict(m, [test])[0];
    expect(sqnr(ref, outputs[0].data)).toBeGreaterThanOrEqual(25);
  });

  it('merges: Multiply, Maximum, Minimum, Average + Concatenate', async () => {
    const x = tf.input({ shape: [10], name: 'x' });
    const a = tf.layers.dense({ units: 8, kernelInitializer: seed(11), name: 'a' }).apply(x) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: seed(12), name: 'b' }).apply(x) as tf.SymbolicTensor;
    const c = tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: seed(13), name: 'c' }).apply(x) as tf.SymbolicTensor;
    const mul = tf.layers.multiply({ name: 'mul' }).apply([a, b]) as tf.SymbolicTensor;
    const mx = tf.layers.maximum({ name: 'mx' }).apply([a, c]) as tf.SymbolicTensor;
    const mn = tf.layers.minimum({ name: 'mn' }).apply([b, c, a]) as tf.SymbolicTensor;
    const av = tf.layers.average({ name: 'av' }).apply([a, b, c]) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate({ name: 'cat' }).apply([mul, mx, mn, av]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, kernelInitializer: seed(14), name: 'out' }).apply(cat) as tf.SymbolicTensor;
    const m = tf.model({ inputs: x, outputs: out });
    const file = await saveTfjsFiles(m, join(dir, 'merge'));
    const g = await graphFromFile(file);
    const test = uniform(60, [10], 4);
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [uniform(64, [10], 3)], [test]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    const names = result.lowered.ops.map((o) => o.name);
    for (const op of ['MUL', 'MAXMIN', 'ADD_N', 'CONCAT']) expect(names).toContain(op);
    const ref = predict(m, [test])[0];
    expect(sqnr(ref, outputs[0].data)).toBeGreaterThanOrEqual(25);
  });

  it('broadcasting Multiply: squeeze-and-excitation ([1, H, W, C] x [1, 1, 1, C]) is one MUL repeating the C scales; batch 2 expands them by a LAYOUT', async () => {
    const x = tf.input({ shape: [6, 6, 3], name: 'x' });
    const conv = tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: seed(41), name: 'conv' }).apply(x) as tf.SymbolicTensor;
    const sq = tf.layers.globalAveragePooling2d({ name: 'squeeze' }).apply(conv) as tf.SymbolicTensor;
    const ex1 = tf.layers.dense({ units: 4, activation: 'relu', kernelInitializer: seed(42), name: 'ex1' }).apply(sq) as tf.SymbolicTensor;
    const ex2 = tf.layers.dense({ units: 8, activation: 'sigmoid', kernelInitializer: seed(43), name: 'ex2' }).apply(ex1) as tf.SymbolicTensor;
    const scale = tf.layers.reshape({ targetShape: [1, 1, 8], name: 'scale' }).apply(ex2) as tf.SymbolicTensor;
    const se = tf.layers.multiply({ name: 'se' }).apply([conv, scale]) as tf.SymbolicTensor;
    const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(se) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, kernelInitializer: seed(44), name: 'out' }).apply(gap) as tf.SymbolicTensor;
    const m = tf.model({ inputs: x, outputs: out });
    const file = await saveTfjsFiles(m, join(dir, 'se'));
    const g = await graphFromFile(file);
    const test = uniform(48, [6, 6, 3], 46);
    const ref = predict(m, [test])[0];
    for (const batch of [1, 2]) {
      const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [uniform(64, [6, 6, 3], 45)], [test], batch);
      expect(selfTest).toBe(0);
      expect(bitExact).toBe(true);
      const low = result.lowered;
      const mul = low.ops.find((o) => o.name === 'MUL')!;
      expect(low.tensors[mul.inputs[0]].shape).toEqual([batch, 4, 4, 8]);
      // batch 1: b is the 8 scales themselves; batch 2: [2, 1, 1, 8] does not repeat whole, so a LAYOUT expands it
      expect(low.tensors[mul.inputs[1]].shape).toEqual(batch === 1 ? [1, 1, 1, 8] : [2, 4, 4, 8]);
      expect(low.ops.filter((o) => o.name === 'LAYOUT').length).toBe(batch === 1 ? 0 : 1);
      const db = sqnr(ref, outputs[0].data);
      console.log(`squeeze-and-excitation, batch ${batch}: SQNR ${db.toFixed(1)} dB vs tfjs (48 samples)`);
      expect(db).toBeGreaterThanOrEqual(30);
    }
  });

  it('broadcasting Add, Subtract, Maximum and a spatial Multiply ([1, H, W, C] x [1, H, W, 1]) expand the small input by a LAYOUT', async () => {
    const x = tf.input({ shape: [5, 4, 3], name: 'x' });
    const conv = tf.layers.conv2d({ filters: 6, kernelSize: 1, kernelInitializer: seed(51), name: 'conv' }).apply(x) as tf.SymbolicTensor;
    const perChannel = (k: number) =>
      tf.layers
        .reshape({ targetShape: [1, 1, 6], name: `chan${k}` })
        .apply(
          tf.layers.dense({ units: 6, kernelInitializer: seed(51 + k), name: `cd${k}` }).apply(tf.layers.globalAveragePooling2d({ name: `g${k}` }).apply(conv)),
        ) as tf.SymbolicTensor;
    const chan1 = perChannel(1);
    const chan2 = perChannel(2);
    const spatial = tf.layers
      .conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid', kernelInitializer: seed(53), name: 'spatial' })
      .apply(conv) as tf.SymbolicTensor;
    const add = tf.layers.add({ name: 'add' }).apply([conv, chan1]) as tf.SymbolicTensor;
    // tfjs has no Subtract layer: 'sub' is add + chan2 in tfjs; the converted file says
    // Subtract(add, -chan2) (cd2's weights negated, the class renamed), the same function
    const sub = tf.layers.add({ name: 'sub' }).apply([add, chan2]) as tf.SymbolicTensor;
    const mx = tf.layers.maximum({ name: 'mx' }).apply([sub, chan1]) as tf.SymbolicTensor;
    const att = tf.layers.multiply({ name: 'att' }).apply([spatial, mx]) as tf.SymbolicTensor;
    const m = tf.model({ inputs: x, outputs: att });
    const test = uniform(48, [5, 4, 3], 56);
    const want = predict(m, [test])[0];
    const cd2 = m.getLayer('cd2');
    cd2.setWeights(cd2.getWeights().map((w) => tf.neg(w)));
    const file = await saveTfjsFiles(m, join(dir, 'bcast'));
    const mj = JSON.parse(readFileSync(file, 'utf8'));
    mj.modelTopology.config.layers.find((l: any) => l.name === 'sub').class_name = 'Subtract';
    writeFileSync(file, JSON.stringify(mj));
    const g = await graphFromFile(file);
    expect(g.nodes.find((n) => n.name === 'sub')!.className).toBe('Subtract');
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [uniform(64, [5, 4, 3], 55)], [test]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    const layouts = result.lowered.ops.filter((o) => o.name === 'LAYOUT').map((o) => o.layer);
    // add, sub and mx each expand their [1, 1, 1, 6] input; att expands spatial's [1, 5, 4, 1]
    expect(layouts).toEqual(['add', 'sub', 'mx', 'att']);
    const db = sqnr(want, outputs[0].data);
    console.log(`broadcasting Add/Subtract/Maximum/spatial Multiply: SQNR ${db.toFixed(1)} dB vs tfjs (48 samples)`);
    expect(db).toBeGreaterThanOrEqual(28);
  });

  it('ZeroPadding1D, UpSampling1D, Cropping1D (absent from tfjs: inserted into the saved topology; oracle = our float reference)', async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv1d({ inputShape: [10, 3], filters: 4, kernelSize: 3, kernelInitializer: seed(21), name: 'conv' }));
    m.add(tf.layers.flatten({ name: 'flat' }));
    m.add(tf.layers.dense({ units: 2, kernelInitializer: seed(22), name: 'out' }));
    const file = await saveTfjsFiles(m, join(dir, 'pad'));
    const mj = JSON.parse(readFileSync(file, 'utf8'));
    const layers = mj.modelTopology.config.layers;
    const at = layers.findIndex((l: any) => l.config.name === 'flat');
    layers.splice(
      at,
      0,
      { class_name: 'ZeroPadding1D', config: { name: 'zp', trainable: true, padding: [1, 2] } },
      { class_name: 'UpSampling1D', config: { name: 'ups', trainable: true, size: 2 } },
      { class_name: 'Cropping1D', config: { name: 'crop', trainable: true, cropping: [1, 3] } },
    );
    // Dense now sees (8+3)*2-4 = 18 steps x 4 channels = 72 inputs
    writeFileSync(file, JSON.stringify(mj));
    const d = tf.sequential();
    d.add(tf.layers.dense({ inputShape: [72], units: 2, kernelInitializer: seed(23), name: 'out' }));
    const art = d.getLayer('out').getWeights();
    const wbin = new Uint8Array(readFileSync(join(dir, 'pad', 'weights.bin')));
    const convBytes = (3 * 3 * 4 + 4) * 4;
    const newBin = new Uint8Array(convBytes + (72 * 2 + 2) * 4);
    newBin.set(wbin.subarray(0, convBytes));
    newBin.set(new Uint8Array((art[0].dataSync() as Float32Array).buffer), convBytes);
    newBin.set(new Uint8Array((art[1].dataSync() as Float32Array).buffer), convBytes + 72 * 2 * 4);
    writeFileSync(join(dir, 'pad', 'weights.bin'), newBin);
    const spec = mj.weightsManifest[0].weights.find((w: any) => w.name.startsWith('out/kernel'));
    spec.shape = [72, 2];
    writeFileSync(file, JSON.stringify(mj));
    const g = await graphFromFile(file);
    const test = uniform(30, [10, 3], 6);
    const { result, outputs, selfTest, bitExact } = await convertAndRun(g, [uniform(64, [10, 3], 5)], [test]);
    expect(selfTest).toBe(0);
    expect(bitExact).toBe(true);
    expect(result.lowered.ops.map((o) => o.name)).toEqual(['CONV2D', 'LAYOUT', 'LAYOUT', 'LAYOUT', 'DENSE']);
    const ref = runFloat(g, [test])[0].data;
    expect(sqnr(ref, outputs[0].data)).toBeGreaterThanOrEqual(25);
  });
});
