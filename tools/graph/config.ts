/**
 * The config-normalisation kit every layer entry (tools/layers/) uses: activation spellings,
 * Keras 3 wrapper objects, tuples and data formats of Keras 1/2/3 and tfjs, all brought to the
 * canonical form (tf.keras 2.x `get_config()` naming, every default filled in; see ir.ts).
 */
import type { Dialect } from '../readers/types.ts';

/**
 * What an entry's `normalize` gets besides the raw config `src` and the canonical config `c`
 * (which starts as `src` minus the keys every layer drops, with name/trainable/dtype set).
 */
export interface NormalizeCtx {
  dialect: Dialect;
  /** Keras 1 file: its spellings (nb_filter, border_mode, ...) are still in `src`. */
  k1: boolean;
  /** The canonical activation name of a stored activation value. */
  act(v: unknown): string;
  /** A nested layer ({class_name, config}) normalised as a layer of its own (wrappers). */
  layer(inner: Record<string, any>): { class_name: string; config: Record<string, any> };
}

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
export function canonicalActivation(v: unknown, dialect: Dialect): string {
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

export function isObj(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Keras 3 nested objects: DTypePolicy -> name; strip module/registered_name etc. */
export function dtypeName(v: unknown): string {
  if (v === null || v === undefined) return 'float32';
  if (typeof v === 'string') return v;
  if (isObj(v)) {
    if (isObj(v.config) && typeof v.config.name === 'string') return v.config.name;
    if (typeof v.name === 'string') return v.name;
  }
  return String(v);
}

export function tuple(v: unknown, rank: number, dflt: number[] | null): number[] | null {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return new Array(rank).fill(v);
  if (Array.isArray(v)) {
    if (v.length === 1 && rank > 1) return new Array(rank).fill(Number(v[0]));
    return v.map((x) => (x === null ? null : Number(x))) as number[]; // null kept: linted as not a positive integer
  }
  return dflt;
}

export function pair(v: unknown, dflt: [number, number]): [number, number] {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v)) {
    if (v.length === 1) return [Number(v[0]), Number(v[0])];
    return [Number(v[0]), Number(v[1])];
  }
  return dflt;
}

export function dataFormat(c: Record<string, any>): string {
  const d = c.data_format ?? c.dataFormat;
  if (d === 'channels_first' || d === 'channelsFirst') return 'channels_first';
  if (c.dim_ordering === 'th') return 'channels_first';
  return 'channels_last';
}

export function lowerCase(v: unknown, dflt: string): string {
  return typeof v === 'string' ? v.toLowerCase() : dflt;
}

export const DROP_KEYS = new Set([
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
export function stripWrappers(v: any): any {
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
