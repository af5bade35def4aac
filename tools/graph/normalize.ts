/**
 * Dialect normalisation: Keras 1 / Keras 2 (tf.keras, incl. bare-list Sequential configs and
 * 2.13+ module/registered_name keys) / Keras 3 / tfjs configs -> ONE canonical form
 * (tf.keras 2.x `get_config()` naming, every default filled in; see ir.ts).
 *
 * Output of `normalizeModel` is a functional description of the model (Sequential models
 * become a chain); nested models stay nested here and are flattened by build.ts.
 */
import type { Dialect, RawWeight } from '../readers/types.ts';
import { badFile } from '../errors.ts';

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

/** Keras class-name aliases (Keras 1 names and short aliases) -> canonical class name. */
const CLASS_ALIASES: Record<string, string> = {
  Convolution1D: 'Conv1D',
  Convolution2D: 'Conv2D',
  AtrousConvolution1D: 'Conv1D',
  AtrousConvolution2D: 'Conv2D',
  SeparableConvolution1D: 'SeparableConv1D',
  SeparableConvolution2D: 'SeparableConv2D',
  DepthwiseConvolution2D: 'DepthwiseConv2D',
  MaxPool1D: 'MaxPooling1D',
  MaxPool2D: 'MaxPooling2D',
  AvgPool1D: 'AveragePooling1D',
  AvgPool2D: 'AveragePooling2D',
  AveragePool1D: 'AveragePooling1D',
  GlobalAvgPool1D: 'GlobalAveragePooling1D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
  GlobalMaxPool1D: 'GlobalMaxPooling1D',
  GlobalMaxPool2D: 'GlobalMaxPooling2D',
  Model: 'Functional',
};

/** Activation spellings -> canonical names (ir.ts). Unknown names pass through (linted). */
const ACT_ALIASES: Record<string, string> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  selu: 'selu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  log_softmax: 'log_softmax',
  swish: 'swish',
  silu: 'swish',
  softplus: 'softplus',
  softsign: 'softsign',
  gelu: 'gelu',
  exponential: 'exponential',
  hard_swish: 'hard_swish',
  hard_silu: 'hard_swish',
  hardswish: 'hard_swish',
  leaky_relu: 'leaky_relu',
  hard_sigmoid: 'hard_sigmoid',
  hard_sigmoid_k3: 'hard_sigmoid_k3',
  mish: 'mish',
  // tfjs camelCase identifiers
  hardSigmoid: 'hard_sigmoid',
  logSoftmax: 'log_softmax',
  gelu_new: 'gelu_tanh',
  gelu_tanh: 'gelu_tanh',
};

/** The activation names consumers must implement (ir.ts). */
export const SUPPORTED_ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'leaky_relu',
  'elu',
  'selu',
  'sigmoid',
  'hard_sigmoid',
  'hard_sigmoid_k3',
  'tanh',
  'softmax',
  'log_softmax',
  'swish',
  'softplus',
  'softsign',
  'gelu',
  'gelu_tanh',
  'exponential',
  'hard_swish',
  'mish',
];

/** How Keras spells the canonical activations whose names are the converter's own. */
export const ACTIVATION_KERAS_NAMES: Record<string, string> = {
  hard_sigmoid_k3: 'hard_sigmoid (Keras 3)',
  gelu_tanh: 'gelu (approximate=True)',
};

/** Canonical activation string (null/undefined -> 'linear'; objects -> their name). */
function canonicalActivation(v: unknown, dialect: Dialect): string {
  if (v === null || v === undefined || v === '') return 'linear';
  let name: string;
  if (typeof v === 'string') name = v;
  else if (typeof v === 'object') {
    const o = v as any;
    if (typeof o.config === 'string')
      name = o.config; // Keras 3 {class_name:'function', config:'relu'}
    else if (o.class_name === 'function' && o.config?.name) name = o.config.name;
    else if (typeof o.class_name === 'string') {
      // An activation given as a layer/object, e.g. {class_name:'LeakyReLU', config:{...}}
      const cn = o.class_name as string;
      if (cn === 'ReLU' && !o.config?.max_value && !o.config?.negative_slope && !o.config?.threshold) name = 'relu';
      else if (cn === 'Activation' && o.config?.activation) return canonicalActivation(o.config.activation, dialect);
      else name = `${cn}(${JSON.stringify(o.config ?? {})})`;
    } else name = JSON.stringify(v);
  } else name = String(v);
  let c = ACT_ALIASES[name] ?? name;
  if (c === 'gelu' && typeof v === 'object' && (v as any)?.config?.approximate === true) c = 'gelu_tanh';
  if (c === 'hard_sigmoid' && dialect === 'keras3') c = 'hard_sigmoid_k3';
  return c;
}

// ---------------------------------------------------------------------------------------
// small helpers

function isObj(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Keras 3 nested objects: DTypePolicy -> name; strip module/registered_name etc. */
function dtypeName(v: unknown): string {
  if (v === null || v === undefined) return 'float32';
  if (typeof v === 'string') return v;
  if (isObj(v)) {
    if (isObj(v.config) && typeof v.config.name === 'string') return v.config.name;
    if (typeof v.name === 'string') return v.name;
  }
  return String(v);
}

function tuple(v: unknown, rank: number, dflt: number[] | null): number[] | null {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return new Array(rank).fill(v);
  if (Array.isArray(v)) {
    if (v.length === 1 && rank > 1) return new Array(rank).fill(Number(v[0]));
    return v.map((x) => (x === null ? null : Number(x))) as number[]; // null kept: linted as not a positive integer
  }
  return dflt;
}

function pair(v: unknown, dflt: [number, number]): [number, number] {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v)) {
    if (v.length === 1) return [Number(v[0]), Number(v[0])];
    return [Number(v[0]), Number(v[1])];
  }
  return dflt;
}

function dataFormat(c: Record<string, any>): string {
  const d = c.data_format ?? c.dataFormat;
  if (d === 'channels_first' || d === 'channelsFirst') return 'channels_first';
  if (c.dim_ordering === 'th') return 'channels_first';
  return 'channels_last';
}

function lower(v: unknown, dflt: string): string {
  return typeof v === 'string' ? v.toLowerCase() : dflt;
}

const DROP_KEYS = new Set([
  'module',
  'registered_name',
  'build_config',
  'compile_config',
  'shared_object_id',
  'kernel_initializer',
  'bias_initializer',
  'recurrent_initializer',
  'depthwise_initializer',
  'pointwise_initializer',
  'embeddings_initializer',
  'gamma_initializer',
  'beta_initializer',
  'moving_mean_initializer',
  'moving_variance_initializer',
  'alpha_initializer',
  'kernel_regularizer',
  'bias_regularizer',
  'recurrent_regularizer',
  'activity_regularizer',
  'depthwise_regularizer',
  'pointwise_regularizer',
  'embeddings_regularizer',
  'gamma_regularizer',
  'beta_regularizer',
  'alpha_regularizer',
  'kernel_constraint',
  'bias_constraint',
  'recurrent_constraint',
  'depthwise_constraint',
  'pointwise_constraint',
  'embeddings_constraint',
  'gamma_constraint',
  'beta_constraint',
  'alpha_constraint',
  // Keras 1
  'init',
  'inner_init',
  'forget_bias_init',
  'W_regularizer',
  'U_regularizer',
  'b_regularizer',
  'W_constraint',
  'U_constraint',
  'b_constraint',
  'beta_init',
  'gamma_init',
  'depthwise_initializer',
  'depthwise_regularizer',
  'depthwise_constraint',
  'pointwise_regularizer',
  'pointwise_constraint',
  'gamma_regularizer',
  'beta_regularizer',
]);

/** Recursively strip Keras 3 wrapper keys from values we keep (e.g. nested layer configs). */
function stripWrappers(v: any): any {
  if (Array.isArray(v)) return v.map(stripWrappers);
  if (!isObj(v)) return v;
  if (v.class_name === 'DTypePolicy' || v.class_name === 'FloatDTypePolicy') return dtypeName(v);
  if (v.class_name === '__tuple__' && Array.isArray(v.config?.value)) return v.config.value.map(stripWrappers);
  const o: Record<string, any> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'module' || k === 'registered_name' || k === 'shared_object_id') continue;
    o[k] = stripWrappers(x);
  }
  return o;
}

// ---------------------------------------------------------------------------------------
// layer configs

/** Canonical class name for a stored class name. */
function canonicalClassName(className: string): string {
  return CLASS_ALIASES[className] ?? className;
}

/**
 * Normalise one layer's {class_name, config} to the canonical form. Unknown classes keep
 * their (wrapper-stripped) config so the linter can name them.
 */
function normalizeLayer(classNameIn: string, configIn: Record<string, any>, dialect: Dialect): { className: string; config: Record<string, any> } {
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

  normalizeShapingConfig(className, src, c, dialect);
  return { className, config: c };
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

/** Class-specific keys: convolution and pooling layers. */
function normalizeShapingConfig(className: string, src: Record<string, any>, c: Record<string, any>, dialect: Dialect): void {
  const k1 = dialect === 'keras1';
  const act = (v: unknown) => canonicalActivation(v, dialect);
  switch (className) {
    case 'InputLayer': {
      let bis = c.batch_input_shape ?? (Array.isArray(src.input_shape) ? [null, ...src.input_shape] : (src.input_shape ?? null));
      if (src.batch_size !== undefined && src.batch_size !== null && Array.isArray(bis) && !src.batch_input_shape && !src.batch_shape)
        bis = [src.batch_size, ...bis.slice(1)];
      c.batch_input_shape = bis;
      c.sparse = !!src.sparse;
      c.ragged = !!src.ragged;
      delete c.batch_shape;
      delete c.input_shape;
      delete c.optional;
      break;
    }
    case 'Dense':
      c.units = Number(c.units);
      c.activation = act(src.activation);
      c.use_bias = c.use_bias !== false;
      break;
    case 'Conv1D':
    case 'Conv2D': {
      const r = className === 'Conv1D' ? 1 : 2;
      if (k1) {
        if ('nb_filter' in src) c.filters = src.nb_filter;
        if (r === 1) {
          if ('filter_length' in src) c.kernel_size = [src.filter_length];
          if ('subsample_length' in src) c.strides = [src.subsample_length];
        } else {
          if ('nb_row' in src) c.kernel_size = [src.nb_row, src.nb_col];
          if ('subsample' in src) c.strides = src.subsample;
        }
        if ('atrous_rate' in src) c.dilation_rate = src.atrous_rate;
        for (const k of ['nb_filter', 'filter_length', 'subsample_length', 'nb_row', 'nb_col', 'subsample', 'atrous_rate', 'dim_ordering']) delete c[k];
      }
      c.filters = Number(c.filters);
      c.kernel_size = tuple(c.kernel_size, r, null);
      c.strides = tuple(c.strides, r, new Array(r).fill(1));
      c.padding = lower(c.padding, 'valid');
      c.data_format = dataFormat(c);
      c.dilation_rate = tuple(c.dilation_rate, r, new Array(r).fill(1));
      c.groups = c.groups ?? 1;
      c.activation = act(src.activation);
      c.use_bias = c.use_bias !== false;
      break;
    }
    case 'DepthwiseConv1D':
    case 'DepthwiseConv2D':
    case 'SeparableConv1D':
    case 'SeparableConv2D': {
      const r = className.endsWith('1D') ? 1 : 2;
      if (k1) {
        if ('nb_filter' in src) c.filters = src.nb_filter;
        if ('nb_row' in src) c.kernel_size = [src.nb_row, src.nb_col];
        if ('subsample' in src) c.strides = src.subsample;
        for (const k of ['nb_filter', 'nb_row', 'nb_col', 'subsample', 'dim_ordering']) delete c[k];
      }
      if (className.startsWith('Separable')) c.filters = Number(c.filters);
      c.kernel_size = tuple(c.kernel_size, r, null);
      c.strides = tuple(c.strides, r, new Array(r).fill(1));
      c.padding = lower(c.padding, 'valid');
      c.data_format = dataFormat(c);
      c.dilation_rate = tuple(c.dilation_rate, r, new Array(r).fill(1));
      c.depth_multiplier = c.depth_multiplier ?? 1;
      c.activation = act(src.activation);
      c.use_bias = c.use_bias !== false;
      break;
    }
    case 'MaxPooling1D':
    case 'AveragePooling1D':
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const r = className.endsWith('1D') ? 1 : 2;
      if (k1 && r === 1) {
        if ('pool_length' in src) c.pool_size = src.pool_length;
        if ('stride' in src) c.strides = src.stride;
        delete c.pool_length;
        delete c.stride;
      }
      delete c.dim_ordering;
      c.pool_size = tuple(c.pool_size, r, new Array(r).fill(2));
      c.strides = tuple(c.strides, r, c.pool_size);
      c.padding = lower(c.padding, 'valid');
      c.data_format = dataFormat(c);
      break;
    }
    case 'GlobalMaxPooling1D':
    case 'GlobalAveragePooling1D':
    case 'GlobalMaxPooling2D':
    case 'GlobalAveragePooling2D':
      delete c.dim_ordering;
      c.data_format = dataFormat(c);
      c.keepdims = !!c.keepdims;
      break;
    default:
      normalizeReshapeConfig(className, src, c, dialect);
  }
}

/** Class-specific keys: reshaping, padding and cropping layers. */
function normalizeReshapeConfig(className: string, src: Record<string, any>, c: Record<string, any>, dialect: Dialect): void {
  const k1 = dialect === 'keras1';
  switch (className) {
    case 'Flatten':
      delete c.dim_ordering;
      c.data_format = dataFormat(c);
      break;
    case 'Reshape':
      if (Array.isArray(c.target_shape ?? [])) c.target_shape = (c.target_shape ?? []).map((d: any) => (d === null || d === undefined ? -1 : Number(d))); // tfjs writes -1 as null
      break;
    case 'Permute':
      if (Array.isArray(c.dims ?? [])) c.dims = (c.dims ?? []).map(Number);
      break;
    case 'RepeatVector':
      c.n = Number(c.n);
      break;
    case 'ZeroPadding1D':
      c.padding = pair(c.padding, [1, 1]);
      break;
    case 'Cropping1D':
      c.cropping = pair(c.cropping, [1, 1]);
      break;
    case 'UpSampling1D':
      if (k1 && 'length' in src) {
        c.size = src.length;
        delete c.length;
      }
      c.size = tuple(c.size, 1, [2]);
      break;
    case 'ZeroPadding2D':
    case 'Cropping2D': {
      const key = className === 'ZeroPadding2D' ? 'padding' : 'cropping';
      const v = c[key] ?? 1;
      const two = (p: any): [number, number] =>
        Array.isArray(p) ? (p.length === 1 ? [Number(p[0]), Number(p[0])] : [Number(p[0]), Number(p[1])]) : [Number(p), Number(p)];
      c[key] =
        typeof v === 'number'
          ? [
              [v, v],
              [v, v],
            ]
          : Array.isArray(v) && v.length === 2
            ? [two(v[0]), two(v[1])]
            : v;
      c.data_format = dataFormat(c);
      break;
    }
    case 'UpSampling2D':
      c.size = tuple(c.size, 2, [2, 2]);
      c.interpolation = c.interpolation ?? 'nearest';
      c.data_format = dataFormat(c);
      break;
    default:
      normalizeOtherConfig(className, src, c, dialect);
  }
}

/** Class-specific keys: regularisation, normalisation, activation, merge, recurrent and wrapper layers. */
function normalizeOtherConfig(className: string, src: Record<string, any>, c: Record<string, any>, dialect: Dialect): void {
  const k1 = dialect === 'keras1';
  const act = (v: unknown) => canonicalActivation(v, dialect);
  switch (className) {
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'GaussianDropout':
    case 'AlphaDropout':
      c.rate = Number(c.rate ?? 0);
      break;
    case 'GaussianNoise':
      c.stddev = Number(c.stddev ?? 0);
      break;
    case 'ActivityRegularization':
      c.l1 = Number(c.l1 ?? 0);
      c.l2 = Number(c.l2 ?? 0);
      break;
    case 'BatchNormalization': {
      let ax = c.axis ?? -1;
      if (Array.isArray(ax) && ax.length === 1) ax = ax[0];
      c.axis = ax;
      c.momentum = Number(c.momentum ?? 0.99);
      c.epsilon = Number(c.epsilon ?? 1e-3);
      c.center = c.center !== false;
      c.scale = c.scale !== false;
      if (k1) c.mode = src.mode ?? 0;
      break;
    }
    case 'Activation':
      c.activation = act(src.activation);
      break;
    case 'ReLU':
      c.max_value = c.max_value === undefined || c.max_value === null ? null : Number(c.max_value);
      c.negative_slope = Number(c.negative_slope ?? 0);
      c.threshold = Number(c.threshold ?? 0);
      break;
    case 'LeakyReLU':
      c.alpha = Number(src.alpha ?? src.negative_slope ?? 0.3);
      delete c.negative_slope;
      break;
    case 'ELU':
      c.alpha = Number(c.alpha ?? 1.0);
      break;
    case 'ThresholdedReLU':
      c.theta = Number(c.theta ?? 1.0);
      break;
    case 'PReLU': {
      const sa = c.shared_axes;
      c.shared_axes = sa === undefined || sa === null ? null : (Array.isArray(sa) ? sa : [sa]).map(Number);
      break;
    }
    case 'Softmax':
      c.axis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : (c.axis ?? -1);
      break;
    case 'Concatenate':
      c.axis = Number(c.axis ?? -1);
      break;
    case 'SimpleRNN':
    case 'GRU':
    case 'LSTM': {
      // Keras 3 / RNN(cell) forms: fields might be inside `cell`
      if (isObj(src.cell) && isObj(src.cell.config)) {
        for (const [k, v] of Object.entries(stripWrappers(src.cell.config) as Record<string, any>)) if (!(k in c) && !DROP_KEYS.has(k)) c[k] = v;
        delete c.cell;
      }
      c.units = Number(c.units);
      c.activation = act(c.activation ?? 'tanh');
      if (className !== 'SimpleRNN') {
        const dfltRec = dialect === 'keras1' || dialect === 'tfjs' ? 'hard_sigmoid' : 'sigmoid';
        c.recurrent_activation = act(c.recurrent_activation ?? dfltRec);
      }
      c.use_bias = c.use_bias !== false;
      c.return_sequences = !!c.return_sequences;
      c.return_state = !!c.return_state;
      c.go_backwards = !!c.go_backwards;
      c.stateful = !!c.stateful;
      c.unroll = !!c.unroll;
      if (className === 'GRU') c.reset_after = c.reset_after === true;
      if (className === 'LSTM') c.unit_forget_bias = c.unit_forget_bias !== false;
      c.dropout = Number(c.dropout ?? 0);
      c.recurrent_dropout = Number(c.recurrent_dropout ?? 0);
      break;
    }
    case 'Bidirectional':
    case 'TimeDistributed': {
      const inner = src.layer;
      if (isObj(inner)) {
        const n = normalizeLayer(inner.class_name, inner.config ?? {}, dialect);
        c.layer = { class_name: n.className, config: n.config };
      }
      if (className === 'Bidirectional') {
        c.merge_mode = src.merge_mode === undefined ? 'concat' : src.merge_mode;
        if (isObj(src.backward_layer)) {
          const n = normalizeLayer(src.backward_layer.class_name, src.backward_layer.config ?? {}, dialect);
          c.backward_layer = { class_name: n.className, config: n.config };
        }
      }
      break;
    }
    case 'Embedding':
      c.input_dim = Number(c.input_dim);
      c.output_dim = Number(c.output_dim);
      c.mask_zero = !!c.mask_zero;
      c.input_length = c.input_length ?? null;
      if (c.dtype === 'float32' && !src.dtype) c.dtype = 'float32';
      break;
    default:
      break;
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
  return { className: n.className, name, config: n.config, inbound };
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
    return { className: n.className, name: String(n.config.name), config: n.config, inbound: [] } as NormLayer;
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
    if (!bis && !Array.isArray(cfg) && Array.isArray(cfg?.build_input_shape)) bis = cfg.build_input_shape;
    const inName = f ? `${f.name}_input` : `${name}_input`;
    layers.push({
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
