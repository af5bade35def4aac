/**
 * Dialect normalisation: Keras 1 / Keras 2 (tf.keras, incl. bare-list Sequential configs and
 * 2.13+ module/registered_name keys) / Keras 3 / tfjs configs -> ONE canonical form
 * (tf.keras 2.x `get_config()` naming, every default filled in; see ir.ts).
 *
 * Output of `normalizeModel` is a functional description of the model (Sequential models
 * become a chain); nested models stay nested here and are flattened by build.ts.
 */
import type { Dialect, RawWeight } from '../readers/types.ts';
import type { ShapeSource } from './ir.ts';
import { badFile } from '../errors.ts';
import { canonicalActivation, DROP_KEYS, dtypeName, isObj, stripWrappers, type NormalizeCtx } from './config.ts';
import { canonicalClassName, entryOf, INPUT_LAYER } from '../layers/index.ts';

/** [layer name, node index, tensor index] as in Keras 2 inbound_nodes. */
export type TensorRef = [string, number, number];

export interface NormLayer {
  className: string;
  name: string;
  /** Normalised config (see ir.ts). For nested models: the NormModel is in `model`. */
  config: Record<string, any>;
  /** One entry per call of the layer: the input tensor refs of that call. */
  inbound: TensorRef[][];
  model?: NormModel;
  /** An InputLayer's: the config option its shape came from (summary --explain). */
  shapeSource?: ShapeSource | null;
}

export interface NormModel {
  /** 'Sequential' or 'Functional'. */
  className: string;
  name: string;
  trainable: boolean;
  layers: NormLayer[];
  inputs: TensorRef[];
  outputs: TensorRef[];
}

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

// ---------------------------------------------------------------------------------------
// layer configs

/**
 * Normalise one layer's {class_name, config} to the canonical form. Unknown classes keep
 * their (wrapper-stripped) config so the linter can name them.
 */
function normalizeLayer(
  classNameIn: string,
  configIn: Record<string, any>,
  dialect: Dialect,
): { className: string; config: Record<string, any>; shapeSource: ShapeSource | null } {
  const className = canonicalClassName(classNameIn);
  const src = stripWrappers(configIn ?? {}) as Record<string, any>;
  const k1 = dialect === 'keras1';
  const c: Record<string, any> = {};
  // keep everything not dropped, then overwrite canonical keys
  for (const [k, v] of Object.entries(src)) if (!DROP_KEYS.has(k)) c[k] = v;
  c.name = src.name ?? classNameIn;
  c.trainable = src.trainable !== false;
  c.dtype = dtypeName(src.dtype ?? src.input_dtype);
  delete c.input_dtype;
  if (src.batch_shape !== undefined) {
    c.batch_input_shape = src.batch_shape;
    delete c.batch_shape;
  }
  if (src.batchInputShape !== undefined) {
    c.batch_input_shape = src.batchInputShape;
    delete c.batchInputShape;
  }
  if (k1) keras1Renames(className, src, c);
  // a non-list shape (e.g. 5) is kept as is: buildGraph refuses it naming the layer and option
  if (Array.isArray(c.batch_input_shape)) c.batch_input_shape = [...c.batch_input_shape];

  if (!k1 && className === 'Dense' && c.batch_input_shape === undefined && typeof src.input_dim === 'number') {
    // Keras 2's Dense takes input_dim=n for input_shape=(n,)
    c.batch_input_shape = [null, src.input_dim];
    delete c.input_dim;
  }
  const shapeSource = shapeSourceOf(className, src, k1);
  const entry = className === INPUT_LAYER.className ? INPUT_LAYER : entryOf(className);
  entry?.normalize(c, src, normalizeCtx(dialect));
  return { className, config: c, shapeSource: shapeSource && { ...shapeSource, layer: String(c.name) } };
}

/** The option a layer config sets its input shape with (the first the config holds, as Keras reads it). */
function shapeSourceOf(className: string, src: Record<string, any>, k1: boolean): ShapeSource | null {
  const where = className === 'InputLayer' ? 'InputLayer' : 'first layer';
  const given = (v: unknown) => v !== undefined && v !== null;
  const batchSize = className === 'InputLayer' && given(src.batch_size) ? { batchSize: Number(src.batch_size) } : {};
  // Keras 1 stores input_dim (and input_length) next to the batch_input_shape they imply:
  // input_dim is the option when it alone gives that shape
  if (className !== 'Embedding' && given(src.input_dim) && (k1 || className === 'Dense')) {
    const withLength = k1 && 'input_length' in src;
    const implied = [...(withLength ? [src.input_length ?? null] : []), src.input_dim];
    const bis = src.batch_input_shape;
    if (!Array.isArray(bis) || JSON.stringify(bis.slice(1)) === JSON.stringify(implied))
      return { option: 'input_dim', layer: '', where, value: src.input_dim, ...(withLength ? { inputLength: src.input_length ?? null } : {}) };
  }
  if (given(src.batch_shape)) return { option: 'batch_shape', layer: '', where, value: src.batch_shape };
  if (given(src.batch_input_shape)) return { option: 'batch_input_shape', layer: '', where, value: src.batch_input_shape };
  if (given(src.batchInputShape)) return { option: 'batch_input_shape', layer: '', where, value: src.batchInputShape };
  if (className === 'InputLayer' && given(src.input_shape)) return { option: 'input_shape', layer: '', where, value: src.input_shape, ...batchSize };
  return null;
}

function normalizeCtx(dialect: Dialect): NormalizeCtx {
  return {
    dialect,
    k1: dialect === 'keras1',
    act: (v) => canonicalActivation(v, dialect),
    layer: (inner) => {
      const n = normalizeLayer(inner.class_name, inner.config ?? {}, dialect);
      return { class_name: n.className, config: n.config };
    },
  };
}

/** Keras 1 spellings of keys common to many layers. */
function keras1Renames(className: string, src: Record<string, any>, c: Record<string, any>): void {
  // Keras 1 common renames
  if ('output_dim' in src && className !== 'Embedding') {
    c.units = src.output_dim;
    delete c.output_dim;
  }
  if ('bias' in src && typeof src.bias === 'boolean') {
    c.use_bias = src.bias;
    delete c.bias;
  }
  if ('inner_activation' in src) {
    c.recurrent_activation = src.inner_activation;
    delete c.inner_activation;
  }
  if ('border_mode' in src) {
    c.padding = src.border_mode;
    delete c.border_mode;
  }
  if ('dropout_W' in src) {
    c.dropout = src.dropout_W;
    delete c.dropout_W;
  }
  if ('dropout_U' in src) {
    c.recurrent_dropout = src.dropout_U;
    delete c.dropout_U;
  }
  if ('p' in src) {
    c.rate = src.p;
    delete c.p;
  }
  if ('sigma' in src) {
    c.stddev = src.sigma;
    delete c.sigma;
  }
  if ('dim_ordering' in src) {
    c.data_format = src.dim_ordering === 'th' ? 'channels_first' : 'channels_last';
  }
  delete c.consume_less;
  if (c.batch_input_shape === undefined && src.input_dim !== undefined && src.input_dim !== null) {
    const rnn = ['LSTM', 'GRU', 'SimpleRNN', 'Conv1D', 'MaxPooling1D', 'AveragePooling1D'].includes(className);
    c.batch_input_shape = rnn ? [null, src.input_length ?? null, src.input_dim] : [null, src.input_dim];
  }
  if (className !== 'Embedding') {
    delete c.input_dim;
    delete c.input_length;
  }
}

// ---------------------------------------------------------------------------------------
// model configs

/** Keras 3 inbound node {args, kwargs} -> list of tensor refs (in call order). */
function k3InboundNode(node: any): TensorRef[] {
  const refs: TensorRef[] = [];
  const visit = (v: any) => {
    if (Array.isArray(v)) {
      v.forEach(visit);
      return;
    }
    if (!isObj(v)) return;
    if (v.class_name === '__keras_tensor__') {
      const h = v.config?.keras_history;
      if (Array.isArray(h)) refs.push([String(h[0]), Number(h[1]), Number(h[2])]);
      return;
    }
    if (v.class_name === '__tuple__' && v.config?.value) {
      visit(v.config.value);
      return;
    }
    for (const x of Object.values(v)) visit(x);
  };
  visit(node.args ?? []);
  // tensors passed as kwargs (initial_state=..., mask=...) follow the positional ones
  visit(node.kwargs ?? {});
  return refs;
}

function parseInbound(inb: any): TensorRef[][] {
  if (!Array.isArray(inb)) return [];
  return inb.map((node: any) => {
    if (isObj(node) && ('args' in node || 'kwargs' in node)) return k3InboundNode(node);
    if (Array.isArray(node)) {
      // [[name, nodeIdx, tensorIdx, kwargs], ...]  (or a single flat ref)
      if (node.length > 0 && typeof node[0] === 'string') return [[node[0], Number(node[1] ?? 0), Number(node[2] ?? 0)] as TensorRef];
      return node.filter((r: any) => Array.isArray(r) && typeof r[0] === 'string').map((r: any) => [r[0], Number(r[1] ?? 0), Number(r[2] ?? 0)] as TensorRef);
    }
    return [];
  });
}

function parseRefList(v: any): TensorRef[] {
  if (!Array.isArray(v)) return [];
  if (v.length > 0 && typeof v[0] === 'string') return [[v[0], Number(v[1] ?? 0), Number(v[2] ?? 0)]];
  return v.filter((r: any) => Array.isArray(r)).map((r: any) => [String(r[0]), Number(r[1] ?? 0), Number(r[2] ?? 0)] as TensorRef);
}

/**
 * Normalise a whole model config (RawModel.config) into a NormModel.
 * Sequential models become a functional chain with an explicit InputLayer.
 */
export function normalizeModel(configIn: any, dialect: Dialect, file: string): NormModel {
  let top = configIn;
  if (isObj(top) && isObj(top.modelTopology)) top = top.modelTopology; // tfjs model.json given whole
  if (isObj(top) && isObj(top.model_config)) top = top.model_config;
  if (!isObj(top) || typeof top.class_name !== 'string') throw badFile(file, 'no Keras model architecture found (expected {class_name, config})');
  const cls = canonicalClassName(top.class_name);
  if (!MODEL_CLASSES.has(cls) && cls !== 'Functional') {
    throw badFile(
      file,
      `top-level class '${top.class_name}' is not a Sequential or Functional model (subclassed models have no stored architecture); save a Sequential/Functional model`,
    );
  }
  return normalizeModelNode(cls, top.config, dialect, file);
}

function normalizeModelNode(cls: string, cfg: any, dialect: Dialect, file: string): NormModel {
  if (cls === 'Sequential') return normalizeSequential(cfg, dialect, file);
  if (!isObj(cfg) || !Array.isArray(cfg.layers)) throw badFile(file, `model '${cfg?.name ?? '?'}' has no layers list`);
  const layers: NormLayer[] = cfg.layers.map((l: any) => normalizeLayerEntry(l, dialect, file));
  return {
    className: 'Functional',
    name: String(cfg.name ?? 'model'),
    trainable: cfg.trainable !== false,
    layers,
    inputs: parseRefList(cfg.input_layers),
    outputs: parseRefList(cfg.output_layers),
  };
}

function normalizeLayerEntry(l: any, dialect: Dialect, file: string): NormLayer {
  const cls = canonicalClassName(String(l.class_name));
  const inbound = parseInbound(l.inbound_nodes);
  if (cls === 'Sequential' || cls === 'Functional') {
    const model = normalizeModelNode(cls, l.config, dialect, file);
    const name = String(l.name ?? l.config?.name ?? model.name);
    model.name = name;
    return { className: cls, name, config: { name, trainable: model.trainable }, inbound, model };
  }
  const n = normalizeLayer(cls, l.config ?? {}, dialect);
  const name = String(l.name ?? n.config.name);
  n.config.name = name;
  const src = n.className === 'InputLayer' && n.shapeSource ? { shapeSource: { ...n.shapeSource, layer: name } } : {};
  return { className: n.className, name, config: n.config, inbound, ...src };
}

function normalizeSequential(cfg: any, dialect: Dialect, file: string): NormModel {
  const list: any[] = Array.isArray(cfg) ? cfg : Array.isArray(cfg?.layers) ? cfg.layers : (null as any);
  if (!list) throw badFile(file, 'Sequential model config has no layers list');
  const name = Array.isArray(cfg) ? 'sequential' : String(cfg.name ?? 'sequential');
  const trainable = Array.isArray(cfg) ? true : cfg.trainable !== false;
  const entries = list.map((l) => {
    const cls = canonicalClassName(String(l.class_name));
    if (cls === 'Sequential' || cls === 'Functional') {
      const model = normalizeModelNode(cls, l.config, dialect, file);
      const nm = String(l.config?.name ?? model.name);
      model.name = nm;
      return { className: cls, name: nm, config: { name: nm, trainable: model.trainable }, inbound: [], model } as NormLayer;
    }
    const n = normalizeLayer(cls, l.config ?? {}, dialect);
    return { className: n.className, name: String(n.config.name), config: n.config, inbound: [], shapeSource: n.shapeSource } as NormLayer;
  });
  const layers: NormLayer[] = [];
  let first = 0;
  if (entries.length > 0 && entries[0].className === 'InputLayer') {
    layers.push(entries[0]);
    first = 1;
  } else {
    // shape from the first layer's batch_input_shape, or Keras 3 build_config
    const f = entries[0];
    let bis = f?.config.batch_input_shape ?? null;
    let shapeSource = bis ? (f.shapeSource ?? null) : null;
    if (!bis && !Array.isArray(cfg) && Array.isArray(cfg?.build_input_shape)) {
      bis = cfg.build_input_shape;
      shapeSource = { option: 'build_input_shape', layer: name, where: 'Sequential', value: bis };
    }
    const inName = f ? `${f.name}_input` : `${name}_input`;
    layers.push({
      shapeSource,
      className: 'InputLayer',
      name: inName,
      config: {
        name: inName,
        batch_input_shape: bis,
        dtype: f?.className === 'Embedding' ? 'int32' : (f?.config.dtype ?? 'float32'),
        sparse: false,
        ragged: false,
        trainable: true,
      },
      inbound: [],
    });
  }
  let prev: TensorRef = [layers[0].name, 0, 0];
  for (let i = first; i < entries.length; i++) {
    const e = entries[i];
    delete e.config.batch_input_shape;
    delete e.shapeSource;
    e.inbound = [[prev]];
    layers.push(e);
    prev = [e.name, 0, 0];
  }
  return { className: 'Sequential', name, trainable, layers, inputs: [[layers[0].name, 0, 0]], outputs: [prev] };
}

// ---------------------------------------------------------------------------------------
// Keras 1 weights

const K1_SUFFIXES: Array<[string, string]> = [
  ['running_mean', 'moving_mean'],
  ['running_std', 'moving_variance'],
  ['gamma', 'gamma'],
  ['beta', 'beta'],
  ['alphas', 'alpha'],
  ['depthwise_kernel', 'depthwise_kernel'],
  ['pointwise_kernel', 'pointwise_kernel'],
  ['W_i', 'W_i'],
  ['U_i', 'U_i'],
  ['b_i', 'b_i'],
  ['W_f', 'W_f'],
  ['U_f', 'U_f'],
  ['b_f', 'b_f'],
  ['W_c', 'W_c'],
  ['U_c', 'U_c'],
  ['b_c', 'b_c'],
  ['W_o', 'W_o'],
  ['U_o', 'U_o'],
  ['b_o', 'b_o'],
  ['W_z', 'W_z'],
  ['U_z', 'U_z'],
  ['b_z', 'b_z'],
  ['W_r', 'W_r'],
  ['U_r', 'U_r'],
  ['b_r', 'b_r'],
  ['W_h', 'W_h'],
  ['U_h', 'U_h'],
  ['b_h', 'b_h'],
  ['W', 'W'],
  ['U', 'U'],
  ['b', 'b'],
];

function k1Suffix(name: string, layerName: string): string {
  const bare = name.replace(/:0$/, '').split('/').pop()!;
  const rest = bare.startsWith(layerName + '_') ? bare.slice(layerName.length + 1) : bare;
  for (const [s, canon] of K1_SUFFIXES) if (rest === s || rest.endsWith('_' + s)) return canon;
  return rest;
}

function concatCols(parts: RawWeight[], name: string): RawWeight {
  // parts: [rows, u_k] (or [u_k]) -> concatenated along the last axis
  const rows = parts[0].shape.length === 2 ? parts[0].shape[0] : 1;
  const cols = parts.map((p) => p.shape[p.shape.length - 1]);
  const total = cols.reduce((a, b) => a + b, 0);
  const out = new Float32Array(rows * total);
  let off = 0;
  parts.forEach((p, k) => {
    for (let r = 0; r < rows; r++) out.set(p.data.subarray(r * cols[k], (r + 1) * cols[k]), r * total + off);
    off += cols[k];
  });
  return { name, shape: parts[0].shape.length === 2 ? [rows, total] : [total], data: out };
}

/**
 * Keras 1 weight arrays -> canonical names/layouts for one layer: per-gate LSTM (i,f,c,o) and
 * GRU (z,r,h) arrays are fused; W/U/b become kernel/recurrent_kernel/bias; Conv1D kernels
 * [k,1,in,f] become [k,in,f]; BN running_std (which holds the variance) -> moving_variance.
 * Returns null when the names are not Keras 1 names (then the caller matches by order).
 */
export function keras1Weights(className: string, layerName: string, ws: RawWeight[]): RawWeight[] | null {
  const by = new Map<string, RawWeight>();
  for (const w of ws) by.set(k1Suffix(w.name, layerName), w);
  const get = (k: string) => by.get(k);
  const gates = className === 'LSTM' ? ['i', 'f', 'c', 'o'] : className === 'GRU' ? ['z', 'r', 'h'] : null;
  if (gates && gates.every((g) => get('W_' + g) && get('U_' + g))) {
    const out = [
      concatCols(
        gates.map((g) => get('W_' + g)!),
        'kernel',
      ),
      concatCols(
        gates.map((g) => get('U_' + g)!),
        'recurrent_kernel',
      ),
    ];
    if (gates.every((g) => get('b_' + g)))
      out.push(
        concatCols(
          gates.map((g) => get('b_' + g)!),
          'bias',
        ),
      );
    return out;
  }
  const map: Record<string, string> = {
    W: 'kernel',
    U: 'recurrent_kernel',
    b: 'bias',
    gamma: 'gamma',
    beta: 'beta',
    moving_mean: 'moving_mean',
    moving_variance: 'moving_variance',
    alpha: 'alpha',
    depthwise_kernel: 'depthwise_kernel',
    pointwise_kernel: 'pointwise_kernel',
  };
  if (className === 'Embedding') map.W = 'embeddings';
  const out: RawWeight[] = [];
  for (const w of ws) {
    const s = k1Suffix(w.name, layerName);
    const canon = map[s];
    if (!canon) return null;
    let shape = w.shape;
    if (className === 'Conv1D' && canon === 'kernel' && shape.length === 4 && shape[1] === 1) shape = [shape[0], shape[2], shape[3]];
    out.push({ name: canon, shape, data: w.data });
  }
  return out;
}
