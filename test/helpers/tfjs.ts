/**
 * TensorFlow.js as an independent Keras implementation for tests: build a model in tfjs,
 * export its topology + weights exactly as `model.save()` would, and turn that into the
 * RawModel our readers produce (in memory, no files).
 */
import * as tf from '@tensorflow/tfjs';
import type { RawModel, RawWeight } from '../../tools/readers/types.ts';

let ready = false;
/** cpu backend, banner silenced. */
export async function initTf(): Promise<typeof tf> {
  if (!ready) {
    const warn = console.warn;
    const log = console.log;
    const quiet =
      (orig: typeof console.log) =>
      (...a: unknown[]) => {
        if (typeof a[0] === 'string' && /tfjs-node|TensorFlow\.js in Node|speed things up|backend was already registered/i.test(a[0])) return;
        orig(...a);
      };
    console.warn = quiet(warn);
    console.log = quiet(log);
    await tf.setBackend('cpu');
    await tf.ready();
    ready = true;
  }
  return tf;
}

export interface TfjsArtifacts {
  modelTopology: any;
  weightSpecs: Array<{ name: string; shape: number[]; dtype: string }>;
  weightData: ArrayBuffer;
}

/** What `model.save()` writes (model.json topology + weight manifest + weights.bin bytes). */
export async function tfjsArtifacts(model: tf.LayersModel): Promise<TfjsArtifacts> {
  let art: any;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      art = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const wd = art.weightData;
  const weightData: ArrayBuffer = Array.isArray(wd) ? concatBuffers(wd) : wd;
  return { modelTopology: art.modelTopology, weightSpecs: art.weightSpecs, weightData };
}

function concatBuffers(bs: ArrayBuffer[]): ArrayBuffer {
  const n = bs.reduce((a, b) => a + b.byteLength, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const b of bs) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out.buffer;
}

/**
 * The RawModel a tfjs reader would produce: weights grouped per top-level layer in manifest
 * order, names relative to the layer ('dense_1/kernel' -> 'kernel').
 */
export async function rawFromTfjs(model: tf.LayersModel, file = 'tfjs-model.json'): Promise<RawModel> {
  const art = await tfjsArtifacts(model);
  const owner = new Map<string, string>();
  for (const l of model.layers) for (const w of l.weights) owner.set(w.name, l.name);
  const weights = new Map<string, RawWeight[]>();
  let off = 0;
  for (const s of art.weightSpecs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (s.dtype !== 'float32') throw new Error(`unexpected dtype ${s.dtype}`);
    const data = new Float32Array(art.weightData.slice(off, off + 4 * n));
    off += 4 * n;
    const layer = owner.get(s.name) ?? s.name.split('/')[0];
    const rel = s.name.startsWith(layer + '/') ? s.name.slice(layer.length + 1) : s.name;
    if (!weights.has(layer)) weights.set(layer, []);
    weights.get(layer)!.push({ name: rel, shape: s.shape.slice(), data });
  }
  return {
    file,
    format: 'tfjs',
    dialect: 'tfjs',
    kerasVersion: art.modelTopology.keras_version ?? null,
    config: art.modelTopology,
    weights,
    notes: [],
  };
}
