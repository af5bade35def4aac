/**
 * A harder activity classifier for the accuracy report: the shape (128 x 3 accelerometer
 * windows; three Conv1D layers with pooling, then a Dense softmax) on classes that overlap, so
 * the float model stays near 90% and held-out samples near the decision boundaries show what
 * quantisation flips. The bench CNN (bench/models.ts) learns its well-separated classes to 100%,
 * where no method can lose a point.
 *
 * Classes (label i % 4), 25 Hz, gravity on y, per-window gain and tilt, 0.25 g sensor noise:
 * 0 stand (0.1-0.3 g sway under 1 Hz), 1 walk (1.4-2.4 Hz), 2 brisk walk (2.0-3.0 Hz), 3 run
 * (2.6-3.6 Hz, more x/z); neighbouring bands overlap. Trained once (seeded, tfjs cpu) and cached
 * in build/accuracy/har/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fitShuffled, withFastConvFilterGrad, ROOT } from './models.ts';
import { gauss, initTf, oneHot, rng, saveTfjsFiles, tf, type Arr } from '../test/helpers/tfjs-train.ts';
import { writeNpy } from '../tools/readers/npy.ts';

const DIR = join(ROOT, 'build/accuracy/har');
const VERSION = 1;

export function overlappingActivity(n: number, seed: number, T = 128): { x: Arr; labels: Int32Array } {
  const r = rng(seed);
  const data = new Float32Array(n * T * 3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    labels[i] = c;
    const f = [0.3 + 0.6 * r(), 1.4 + r(), 2.0 + r(), 2.6 + r()][c];
    const amp = [0.1 + 0.2 * r(), 0.4 + 0.3 * r(), 0.6 + 0.3 * r(), 0.8 + 0.4 * r()][c];
    const side = c === 3 ? 0.6 : 0.3;
    const ph = r() * 2 * Math.PI;
    const gain = 0.8 + 0.4 * r();
    const tilt = (r() - 0.5) * 0.6;
    for (let t = 0; t < T; t++) {
      const w = (2 * Math.PI * f * t) / 25 + ph;
      const o = (i * T + t) * 3;
      data[o] = gain * (tilt + side * amp * Math.cos(w)) + 0.25 * gauss(r);
      data[o + 1] = gain * (1 + amp * Math.sin(w)) + 0.25 * gauss(r);
      data[o + 2] = gain * (0.5 * side * amp * Math.sin(2 * w)) + 0.25 * gauss(r);
    }
  }
  return { x: { data, shape: [n, T, 3] }, labels };
}

function build(): tf.LayersModel {
  const g = (s: number) => tf.initializers.glorotUniform({ seed: s });
  const m = tf.sequential({ name: 'har_cnn3' });
  m.add(tf.layers.conv1d({ inputShape: [128, 3], filters: 16, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: g(101), name: 'conv1' }));
  m.add(tf.layers.maxPooling1d({ poolSize: 2, name: 'pool1' }));
  m.add(tf.layers.conv1d({ filters: 32, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: g(102), name: 'conv2' }));
  m.add(tf.layers.maxPooling1d({ poolSize: 2, name: 'pool2' }));
  m.add(tf.layers.conv1d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: g(103), name: 'conv3' }));
  m.add(tf.layers.globalAveragePooling1d({ name: 'gap' }));
  m.add(tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: g(104), name: 'classes' }));
  return m;
}

export interface HarFiles {
  modelJson: string;
  calibration: string;
  test: string;
  labels: string;
}

/** Train (or load from the cache) the model; 256 calibration windows, 1024 held-out windows. */
export async function ensureHar(log: (m: string) => void = () => {}): Promise<HarFiles> {
  const f = {
    modelJson: join(DIR, 'model.json'),
    calibration: join(DIR, 'calibration.npy'),
    test: join(DIR, 'test.npy'),
    labels: join(DIR, 'test_labels.npy'),
  };
  const stamp = join(DIR, 'meta.json');
  if (existsSync(stamp) && JSON.parse(readFileSync(stamp, 'utf8')).version === VERSION) return f;
  await initTf();
  const t0 = Date.now();
  const tr = overlappingActivity(1024, 201);
  const te = overlappingActivity(1024, 202);
  const m = build();
  await withFastConvFilterGrad(() =>
    fitShuffled(m, tr.x, oneHot(tr.labels, 4), { epochs: 8, lr: 0.005, decay: 0.85, seed: 3, loss: 'categoricalCrossentropy' }),
  );
  mkdirSync(DIR, { recursive: true });
  await saveTfjsFiles(m, DIR);
  writeNpy(f.calibration, tr.x.data.slice(0, 256 * 128 * 3), [256, 128, 3]);
  writeNpy(f.test, te.x.data, te.x.shape);
  writeNpy(f.labels, te.labels, [te.labels.length]);
  writeFileSync(stamp, JSON.stringify({ version: VERSION, trainSeconds: (Date.now() - t0) / 1000 }) + '\n');
  log(`trained har in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return f;
}
