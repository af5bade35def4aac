/**
 * Helpers for end-to-end converter tests and the bundled example: seeded data, saving a tfjs
 * layers model as real files (model.json + weights.bin), predict, metrics.
 */
import * as tf from '@tensorflow/tfjs';
import { initTf, saveTfjsFiles } from './tfjs.ts';

export { tf, initTf, saveTfjsFiles };

/** mulberry32, the converter's own deterministic PRNG. */
import { rng } from '../../tools/quantize/calibrate.ts';
export { rng };

export function gauss(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export interface Arr {
  data: Float32Array;
  shape: number[];
  dtype?: 'float32' | 'int32';
}

/** model.predict on [N, ...] arrays; flat float outputs. */
export function predict(model: tf.LayersModel, inputs: Arr[]): Float32Array[] {
  return tf.tidy(() => {
    const xs = inputs.map((x) => tf.tensor(x.dtype === 'int32' ? Int32Array.from(x.data) : x.data, x.shape, x.dtype ?? 'float32'));
    const y = model.predict(xs.length === 1 ? xs[0] : xs);
    const ys = Array.isArray(y) ? y : [y];
    return ys.map((t) => Float32Array.from(t.dataSync() as Float32Array));
  });
}

export async function fit(model: tf.LayersModel, x: Arr | Arr[], y: Arr, opts: { epochs: number; batchSize?: number; lr?: number; loss: string }) {
  model.compile({ optimizer: tf.train.adam(opts.lr ?? 0.01), loss: opts.loss });
  const xs = (Array.isArray(x) ? x : [x]).map((a) => tf.tensor(a.dtype === 'int32' ? Int32Array.from(a.data) : a.data, a.shape, a.dtype ?? 'float32'));
  const ys = tf.tensor(y.data, y.shape);
  await model.fit(xs.length === 1 ? xs[0] : xs, ys, { epochs: opts.epochs, batchSize: opts.batchSize ?? 32, shuffle: false, verbose: 0 });
  xs.forEach((t) => t.dispose());
  ys.dispose();
}

export function oneHot(labels: ArrayLike<number>, k: number): Arr {
  const d = new Float32Array(labels.length * k);
  for (let i = 0; i < labels.length; i++) d[i * k + labels[i]] = 1;
  return { data: d, shape: [labels.length, k] };
}

export function argmaxRows(d: ArrayLike<number>, classes: number): Int32Array {
  const n = d.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let k = 1; k < classes; k++) if (d[i * classes + k] > d[i * classes + b]) b = k;
    out[i] = b;
  }
  return out;
}

export function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) s++;
  return s / a.length;
}

/** Signal-to-quantisation-noise ratio in dB. */
export function sqnr(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i] * ref[i];
    e += (ref[i] - got[i]) ** 2;
  }
  return 10 * Math.log10(s / Math.max(e, 1e-30));
}

/**
 * Synthetic 3-axis accelerometer windows [N, T, 3] in 4 classes (seeded): 0 still (gravity +
 * noise), 1 walk (~2 Hz sway), 2 run (~3.5 Hz, larger, all axes), 3 shake (bursts). Sample
 * rate 25 Hz.
 */
export function accelData(n: number, T: number, seed: number): { x: Arr; labels: Int32Array } {
  const r = rng(seed);
  const data = new Float32Array(n * T * 3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    labels[i] = c;
    const ph = r() * 2 * Math.PI;
    const tilt = (r() - 0.5) * 0.4;
    const f = c === 1 ? 1.6 + r() * 0.8 : 3 + r() * 1.2;
    const amp = c === 1 ? 0.35 + r() * 0.2 : 0.9 + r() * 0.4;
    const burst = Math.floor(r() * (T - 6));
    for (let t = 0; t < T; t++) {
      const w = (2 * Math.PI * f * t) / 25 + ph;
      let ax = tilt,
        ay = 0,
        az = 1;
      if (c === 1) {
        az += amp * Math.sin(w);
        ax += 0.3 * amp * Math.sin(w / 2);
      }
      if (c === 2) {
        az += amp * Math.sin(w);
        ax += 0.6 * amp * Math.cos(w);
        ay += 0.4 * amp * Math.sin(2 * w);
      }
      if (c === 3 && t >= burst && t < burst + 6) {
        ax += 1.5 * Math.sign(Math.sin(3 * t + ph));
        ay -= 1.2 * Math.sign(Math.cos(2 * t + ph));
      }
      const o = (i * T + t) * 3;
      data[o] = ax + 0.08 * gauss(r);
      data[o + 1] = ay + 0.08 * gauss(r);
      data[o + 2] = az + 0.08 * gauss(r);
    }
  }
  return { x: { data, shape: [n, T, 3] }, labels };
}
