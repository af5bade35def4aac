/**
 * Test helpers: write ONE tfjs LayersModel in the on-disk formats real Keras/tfjs produce,
 * so readers can be checked for identical weights across formats.
 *
 *  writeTfjs      model.json + weights.bin (optionally split into several shards)
 *  writeKeras2H5  legacy Keras 2 full-model .h5 (model_config + model_weights) or a weights-only
 *                 .h5 (layer_names at root) + the architecture JSON (model.to_json())
 *  writeKeras3    Keras 3 .keras zip: config.json (Keras 3 dialect), metadata.json, model.weights.h5
 *
 * Layouts follow the real files in ../shared/fixtures/keras and Keras's saving code:
 *  - h5py string attributes: names as fixed-length byte-string arrays ('S<n>'), JSON as a
 *    variable-length string, empty name lists as an empty float64 array; Keras chunks attributes
 *    over 64 KB into name0, name1, ... (forced here with `chunkAttrs`).
 *  - Keras 3 model.weights.h5: layers/<snake_case(class)>[_n]/vars/<i> (container order, per-class
 *    counter), RNN weights under .../cell/vars/<i>, Bidirectional under forward_layer/ and
 *    backward_layer/, every `vars` group carrying a `name` attribute, plus root `vars`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import type * as tfT from '@tensorflow/tfjs';

type LayersModel = tfT.LayersModel;

let h5lib: any = null;
async function h5(): Promise<any> {
  if (!h5lib) {
    const m = await import('h5wasm/node');
    await m.default.ready;
    h5lib = m.default;
  }
  return h5lib;
}

const KERAS2_VERSION = '2.15.0';
const KERAS3_VERSION = '3.9.2';

interface Artifacts {
  modelTopology: any;
  weightSpecs: { name: string; shape: number[]; dtype: string }[];
  weightData: ArrayBuffer;
}

async function artifactsOf(model: LayersModel): Promise<Artifacts> {
  const tf = await import('@tensorflow/tfjs');
  let art: any;
  await model.save(
    tf.io.withSaveHandler(async (a: any) => {
      art = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } } as any;
    }),
  );
  return { modelTopology: art.modelTopology, weightSpecs: art.weightSpecs, weightData: art.weightData };
}

/** (a) TensorFlow.js layers model: `<dir>/model.json` + shards. Returns the model.json path. */
export async function writeTfjs(model: LayersModel, dir: string, opts: { shards?: number } = {}): Promise<string> {
  const art = await artifactsOf(model);
  mkdirSync(dir, { recursive: true });
  const data = new Uint8Array(art.weightData);
  const n = Math.max(1, opts.shards ?? 1);
  const paths: string[] = [];
  const per = Math.ceil(data.length / n);
  for (let i = 0; i < n; i++) {
    const p = n === 1 ? 'weights.bin' : `group1-shard${i + 1}of${n}.bin`;
    writeFileSync(join(dir, p), data.subarray(i * per, Math.min(data.length, (i + 1) * per)));
    paths.push(p);
  }
  const json = {
    modelTopology: art.modelTopology,
    weightsManifest: [{ paths, weights: art.weightSpecs }],
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    convertedBy: null,
  };
  const file = join(dir, 'model.json');
  writeFileSync(file, JSON.stringify(json));
  return file;
}

/** Per-layer weights (Keras order) with names relative to nothing (e.g. 'dense/kernel'). */
function layerWeights(model: LayersModel): { layer: string; className: string; names: string[]; values: { shape: number[]; data: Float32Array }[] }[] {
  return model.layers.map((l: any) => ({
    layer: l.name,
    className: l.getClassName(),
    names: l.weights.map((w: any) => String(w.originalName ?? w.name)),
    values: l.getWeights().map((t: any) => ({ shape: [...t.shape], data: Float32Array.from(t.dataSync()) })),
  }));
}

/** Keras 2 (tf.keras) architecture JSON of the model, as model.to_json() writes it. */
function keras2Topology(model: LayersModel): any {
  const topo: any = JSON.parse(JSON.stringify(model.toJSON(null, false)));
  if (topo.class_name === 'Model') topo.class_name = 'Functional';
  topo.keras_version = KERAS2_VERSION;
  topo.backend = 'tensorflow';
  return topo;
}

function utf8len(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Store a list of names like h5py/Keras: fixed-length byte strings; empty -> float64[0]; optional chunking. */
function writeNames(g: any, name: string, names: string[], chunk: number | null): void {
  if (names.length === 0) {
    g.create_attribute(name, new Float64Array(0), [0], '<d');
    return;
  }
  const put = (attr: string, list: string[]) => {
    const len = Math.max(1, ...list.map(utf8len));
    g.create_attribute(attr, list, [list.length], `S${len}`);
  };
  if (chunk && names.length > 1) {
    for (let i = 0, k = 0; i < names.length; i += chunk, k++) put(`${name}${k}`, names.slice(i, i + chunk));
  } else put(name, names);
}

function ensureGroup(parent: any, path: string): any {
  let g = parent;
  for (const part of path.split('/').filter(Boolean)) {
    g = g.keys().includes(part) ? g.get(part) : g.create_group(part);
  }
  return g;
}

function putDataset(parent: any, path: string, v: { shape: number[]; data: Float32Array }): void {
  const parts = path.split('/');
  const g = ensureGroup(parent, parts.slice(0, -1).join('/'));
  g.create_dataset({ name: parts[parts.length - 1], data: v.data, shape: v.shape, dtype: '<f4' });
}

export interface Keras2H5Options {
  /** Write a weights-only file (layer_names at root) plus the architecture JSON at `configFile`. */
  weightsOnly?: boolean;
  configFile?: string;
  /** Split layer_names/weight_names into chunked attributes of this many names (Keras does this over 64 KB). */
  chunkAttrs?: number;
  /** Add an optimizer_weights group (as model.save with an optimizer does). */
  optimizer?: boolean;
}

/** (b) Legacy Keras 2 HDF5. */
export async function writeKeras2H5(model: LayersModel, file: string, opts: Keras2H5Options = {}): Promise<string> {
  const lib = await h5();
  const topo = keras2Topology(model);
  const layers = layerWeights(model);
  rmSync(file, { force: true });
  const f = new lib.File(file, 'w');
  try {
    f.create_attribute('backend', 'tensorflow', null, 'S10');
    f.create_attribute('keras_version', KERAS2_VERSION, null, `S${KERAS2_VERSION.length}`);
    let wg = f;
    if (!opts.weightsOnly) {
      f.create_attribute('model_config', JSON.stringify(topo));
      f.create_attribute('training_config', JSON.stringify({ loss: 'mse', metrics: null, optimizer_config: { class_name: 'Adam', config: {} } }));
      wg = f.create_group('model_weights');
      wg.create_attribute('backend', 'tensorflow', null, 'S10');
      wg.create_attribute('keras_version', KERAS2_VERSION, null, `S${KERAS2_VERSION.length}`);
    }
    writeNames(
      wg,
      'layer_names',
      layers.map((l) => l.layer),
      opts.chunkAttrs ?? null,
    );
    for (const l of layers) {
      const g = wg.create_group(l.layer);
      const wnames = l.names.map((n) => `${n}:0`);
      writeNames(g, 'weight_names', wnames, opts.chunkAttrs ?? null);
      wnames.forEach((wn, i) => putDataset(g, wn, l.values[i]));
    }
    if (opts.optimizer && !opts.weightsOnly) {
      const og = f.create_group('optimizer_weights');
      writeNames(og, 'weight_names', ['Adam/iter:0'], null);
      og.create_group('Adam').create_dataset({ name: 'iter:0', data: new Float32Array([3]), shape: [], dtype: '<f4' });
    }
  } finally {
    f.close();
  }
  if (opts.weightsOnly && opts.configFile) writeFileSync(opts.configFile, JSON.stringify(topo));
  return file;
}

// ---------------------------------------------------------------- Keras 3

const RNN_CLASSES = new Set(['SimpleRNN', 'LSTM', 'GRU']);

function snake(name: string): string {
  let s = name.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  return s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

const dtypePolicy = (name = 'float32') => ({ module: 'keras', class_name: 'DTypePolicy', config: { name }, registered_name: null });

function moduleFor(key: string): string {
  if (key.endsWith('initializer')) return 'keras.initializers';
  if (key.endsWith('regularizer')) return 'keras.regularizers';
  if (key.endsWith('constraint')) return 'keras.constraints';
  return 'keras.layers';
}

/** Keras 3 form of nested objects inside a layer config. */
function k3Value(key: string, v: any): any {
  if (Array.isArray(v)) return v.map((x) => k3Value(key, x));
  if (v && typeof v === 'object' && typeof v.class_name === 'string' && 'config' in v) {
    return { module: moduleFor(key), class_name: v.class_name, config: k3Plain(v.config), registered_name: null };
  }
  if (v && typeof v === 'object') return k3Plain(v);
  return v;
}
function k3Plain(o: any): any {
  const out: any = {};
  for (const [k, v] of Object.entries(o ?? {})) out[k] = k3Value(k, v);
  return out;
}

function k3LayerConfig(cls: string, cfg: any): any {
  const c: any = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (k === 'batch_input_shape' || k === 'input_dtype') continue;
    if (k === 'dtype') continue;
    if (k === 'layer') continue;
    c[k] = k3Value(k, v);
  }
  c.dtype = dtypePolicy(typeof cfg.dtype === 'string' ? cfg.dtype : 'float32');
  if (cls === 'GRU' && !('reset_after' in c)) c.reset_after = false; // tfjs GRU semantics
  if (cls === 'Bidirectional' && cfg.layer) {
    const inner = cfg.layer;
    const fwd = k3Layer(inner.class_name, { ...inner.config, name: `forward_${inner.config.name}` }, null);
    const bwd = k3Layer(inner.class_name, { ...inner.config, name: `backward_${inner.config.name}`, go_backwards: !inner.config.go_backwards }, null);
    c.layer = fwd;
    c.backward_layer = bwd;
  }
  return c;
}

function k3Layer(cls: string, cfg: any, inputShape: any): any {
  const o: any = { module: 'keras.layers', class_name: cls, config: k3LayerConfig(cls, cfg), registered_name: null };
  if (inputShape) o.build_config = { input_shape: inputShape };
  return o;
}

function inputLayer(name: string, batchShape: any[]): any {
  return {
    module: 'keras.layers',
    class_name: 'InputLayer',
    config: { batch_shape: batchShape, dtype: 'float32', sparse: false, ragged: false, name },
    registered_name: null,
  };
}

/** Convert the model's tfjs/Keras 2 topology to the Keras 3 config.json dialect. */
function keras3Config(model: LayersModel): any {
  const topo: any = model.toJSON(null, false);
  const byName = new Map<string, any>(model.layers.map((l: any) => [l.name, l]));
  const inShape = (name: string) => {
    const l = byName.get(name);
    if (!l) return null;
    try {
      const s = l.inputShape;
      return s === undefined ? null : s;
    } catch {
      return null;
    }
  };
  if (topo.class_name === 'Sequential') {
    const src = topo.config.layers as any[];
    const layers: any[] = [];
    const first = src[0]?.config;
    if (first?.batch_input_shape) layers.push(inputLayer('input_layer', first.batch_input_shape));
    for (const l of src) {
      if (l.class_name === 'InputLayer') {
        layers.push(inputLayer(l.config.name, l.config.batch_input_shape));
        continue;
      }
      layers.push(k3Layer(l.class_name, l.config, inShape(l.config.name)));
    }
    return {
      module: 'keras',
      class_name: 'Sequential',
      config: { name: topo.config.name, trainable: true, dtype: dtypePolicy(), layers },
      registered_name: null,
      build_config: { input_shape: first?.batch_input_shape ?? null },
      compile_config: null,
    };
  }
  // Functional
  const tensor = (ref: any[]) => {
    const [name, nodeIndex, tensorIndex] = ref;
    const l: any = byName.get(name);
    let shape: any = null;
    try {
      const node = l?.inboundNodes?.[nodeIndex];
      shape = node ? (node.outputShapes[tensorIndex] ?? node.outputShapes) : l?.outputShape;
      if (Array.isArray(shape) && Array.isArray(shape[0])) shape = shape[tensorIndex];
    } catch {
      shape = null;
    }
    return { class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [name, nodeIndex, tensorIndex] } };
  };
  const layers = (topo.config.layers as any[]).map((l) => {
    let o: any;
    if (l.class_name === 'InputLayer') o = inputLayer(l.config.name, l.config.batch_input_shape);
    else o = k3Layer(l.class_name, l.config, inShape(l.config.name));
    o.name = l.config.name;
    o.inbound_nodes = (l.inbound_nodes ?? []).map((node: any[]) => {
      const ts = node.map(tensor);
      return { args: ts.length === 1 ? [ts[0]] : [ts], kwargs: {} };
    });
    return o;
  });
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: topo.config.name,
      trainable: true,
      layers,
      input_layers: topo.config.input_layers,
      output_layers: topo.config.output_layers,
    },
    registered_name: 'Functional',
    build_config: { input_shape: null },
    compile_config: null,
  };
}

export interface Keras3Options {
  /** Add an optimizer/vars group (as model.save after compile/fit does). */
  optimizer?: boolean;
}

/** (c) Keras 3 `.keras` zip. */
export async function writeKeras3(model: LayersModel, file: string, opts: Keras3Options = {}): Promise<string> {
  const lib = await h5();
  const config = keras3Config(model);
  const isSeq = config.class_name === 'Sequential';
  const tmp = join(tmpdir(), `kw-k3-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}.h5`);
  const f = new lib.File(tmp, 'w');
  try {
    const root = f.create_group('layers');
    const used = new Map<string, number>();
    const withName = (g: any, name: string) => g.create_group('vars').create_attribute('name', name, null, `S${Math.max(1, utf8len(name))}`);
    const vars = (g: any, name: string, values: { shape: number[]; data: Float32Array }[]) => {
      const vg = g.create_group('vars');
      vg.create_attribute('name', name, null, `S${Math.max(1, utf8len(name))}`);
      values.forEach((v, i) => vg.create_dataset({ name: String(i), data: v.data, shape: v.shape, dtype: '<f4' }));
    };
    for (const l of model.layers as any[]) {
      const cls = l.getClassName();
      if (isSeq && cls === 'InputLayer') continue;
      let key = snake(cls);
      if (used.has(key)) {
        const n = used.get(key)! + 1;
        used.set(key, n);
        key = `${key}_${n}`;
      } else used.set(key, 0);
      const g = root.create_group(key);
      const values = l.getWeights().map((t: any) => ({ shape: [...t.shape], data: Float32Array.from(t.dataSync()) }));
      if (RNN_CLASSES.has(cls)) {
        withName(g, l.name);
        vars(g.create_group('cell'), `${snake(cls)}_cell`, values);
      } else if (cls === 'Bidirectional') {
        withName(g, l.name);
        const inner = snake(l.forwardLayer.getClassName());
        const half = values.length / 2;
        // Keras saves attributes in sorted order: backward_layer before forward_layer
        for (const [side, vals] of [
          ['backward_layer', values.slice(half)],
          ['forward_layer', values.slice(0, half)],
        ] as const) {
          const sg = g.create_group(side);
          withName(sg, `${side === 'forward_layer' ? 'forward' : 'backward'}_${l.forwardLayer.name}`);
          vars(sg.create_group('cell'), `${inner}_cell`, vals as any);
        }
      } else {
        vars(g, l.name, values);
      }
    }
    withName(f, config.config.name);
    if (opts.optimizer) {
      const og = f.create_group('optimizer');
      const vg = og.create_group('vars');
      vg.create_attribute('name', 'adam', null, 'S4');
      vg.create_dataset({ name: '0', data: new Float32Array([7]), shape: [], dtype: '<f4' });
    }
  } finally {
    f.close();
  }
  let weights: Uint8Array;
  try {
    weights = new Uint8Array(readFileSync(tmp));
  } finally {
    rmSync(tmp, { force: true });
  }
  const meta = { keras_version: KERAS3_VERSION, date_saved: '2025-01-01@00:00:00' };
  const zip = zipSync(
    {
      'metadata.json': strToU8(JSON.stringify(meta)),
      'config.json': strToU8(JSON.stringify(config)),
      'model.weights.h5': [weights, { level: 0 }],
    },
    { level: 6 },
  );
  writeFileSync(file, zip);
  return file;
}

/** Weights of a tfjs model per layer (Keras getWeights order), for comparisons in tests. */
export function tfjsLayerWeights(model: LayersModel): Map<string, { shape: number[]; data: Float32Array }[]> {
  const m = new Map<string, { shape: number[]; data: Float32Array }[]>();
  for (const l of layerWeights(model)) if (l.values.length) m.set(l.layer, l.values);
  return m;
}
