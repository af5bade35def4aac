/**
 * TensorFlow.js as an independent Keras implementation for tests: build a model in tfjs,
 * save it with tfjs's own `model.save()`, and read it back with the project's reader.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readModel } from '../../tools/readers/index.ts';
import type { RawModel } from '../../tools/readers/types.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import type { FloatTensor, Graph } from '../../tools/graph/ir.ts';
import { rng } from './random.ts';

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

interface TfjsArtifacts {
  modelTopology: any;
  weightSpecs: Array<{ name: string; shape: number[]; dtype: string }>;
  weightData: ArrayBuffer;
}

/** What `model.save()` writes (model.json topology + weight manifest + weights.bin bytes). */
async function tfjsArtifacts(model: tf.LayersModel): Promise<TfjsArtifacts> {
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

/** Save `model` as dir/model.json + dir/weights.bin (the tfjs layers-model format); returns the model.json path. */
export async function saveTfjsFiles(model: tf.LayersModel, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const a = await tfjsArtifacts(model);
  const json = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(a.weightData));
  return join(dir, 'model.json');
}

/** The RawModel the project's own tfjs reader produces for this model, saved by tfjs itself. */
export async function rawFromTfjs(model: tf.LayersModel): Promise<RawModel> {
  const file = await saveTfjsFiles(model, mkdtempSync(join(tmpdir(), 'kw-tfjs-')));
  try {
    return await readModel(file);
  } finally {
    rmSync(dirname(file), { recursive: true, force: true });
  }
}

/** The graph the project builds from this model's saved files (real reader, real builder). */
export async function graphFromTfjs(model: tf.LayersModel): Promise<Graph> {
  const raw = await rawFromTfjs(model);
  try {
    return buildGraph(raw);
  } catch (e) {
    // a refusal lists its problems in details: show them in the test failure
    const details = (e as { details?: unknown }).details;
    if (details) throw new Error(`${(e as Error).message}\n${JSON.stringify(details, null, 1)}`);
    throw e;
  }
}

/** Give every weight of every layer seeded random values (variances positive) so biases are non-zero. */
export function randomizeWeights(model: tf.LayersModel, seed: number, scale = 0.5): void {
  const r = rng(seed);
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (!ws.length) continue;
    const values = ws.map((w) => {
      const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
      const positive = /variance/.test(w.originalName ?? w.name);
      return tf.tensor(
        Float32Array.from({ length: n }, () => (positive ? r(0.2, 1.5) : r(-scale, scale))),
        w.shape as number[],
      );
    });
    layer.setWeights(values);
  }
}

export function toTf(t: FloatTensor): tf.Tensor {
  return tf.tensor(t.data, t.shape);
}
