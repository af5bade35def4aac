/**
 * The graph IR: one DAG for Sequential and Functional models (several inputs and outputs,
 * nested models flattened, shared layers applied several times keep one copy of their weights).
 *
 * Shapes include the batch dimension at index 0 (`null` = free batch), exactly as Keras
 * reports them in `model.summary()`.
 *
 * Layer configs are NORMALISED by the graph builder (tools/graph/normalize.ts) so later stages
 * never see dialect differences. The canonical form is tf.keras 2.x `get_config()` naming with
 * every default filled in:
 *  - tuples are arrays: kernel_size, strides, dilation_rate, pool_size, size, cropping, padding
 *    (ZeroPadding), target_shape, dims (Permute) are number arrays of the layer's rank;
 *  - padding strings lowercase ('valid' | 'same' | 'causal'); data_format is explicit
 *    ('channels_last' | 'channels_first');
 *  - activations are canonical strings (see Activation below); Keras 3 renamed options are
 *    mapped back (LeakyReLU negative_slope -> alpha, etc.); Keras 1 names (output_dim,
 *    inner_activation, init, W_regularizer, border_mode, subsample_length, ...) are mapped to
 *    Keras 2 names (units, recurrent_activation, padding, strides, ...);
 *  - dtype policy objects become their name string; regularizers/constraints/initializers
 *    are dropped (irrelevant for inference);
 *  - RNN layers carry `cell`-free configs (SimpleRNN/GRU/LSTM fields at top level), GRU has an
 *    explicit boolean `reset_after` (false when the file omits it: pre-2.3 Keras and tfjs);
 *  - Bidirectional: config.layer is the normalised inner RNN node config
 *    {class_name, config}; merge_mode is 'concat'|'sum'|'mul'|'ave'|null;
 *  - TimeDistributed: config.layer likewise.
 */
import type { LintProblem } from '../errors.ts';

export type Dim = number | null;
/** A tensor shape with the batch at index 0. */
export type Shape = Dim[];

export interface FloatTensor {
  shape: number[];
  data: Float32Array; // row-major
  /**
   * Weights read from an int8 .tflite file: the file's scale per output channel (`data` holds
   * q x scale); the lowering keeps the file's integers instead of quantizing.
   */
  fileScales?: number[];
  /** A bias read from a .tflite file: its int32 values, used as stored. */
  fileInt32?: Int32Array;
}

export interface IRTensor {
  id: number;
  /** Keras-style name: `<layer>` or `<layer>:<output index>` for multi-output layers. */
  name: string;
  shape: Shape;
  /** 'float32' for ordinary tensors; 'int32' for token ids (Embedding inputs). */
  dtype: 'float32' | 'int32';
  /** Node id that produces it, or -1 for a model input. */
  producer: number;
  /**
   * Axis 0 holds batch x batchMultiple rows (set only on the converter's internal
   * TimeDistributed views, where [B, T, ...] is seen as [B*T, ...]); absent means 1.
   */
  batchMultiple?: number;
}

export interface IRNode {
  id: number;
  /** Unique name. Layers of flattened nested models are named `<outer>/<inner>`. */
  name: string;
  /** Canonical Keras class name ('Dense', 'Conv1D', 'LSTM', 'Add', 'InputLayer' never appears). */
  className: string;
  /** Normalised config (see above). */
  config: Record<string, any>;
  inputs: number[]; // tensor ids, in call order
  outputs: number[]; // tensor ids
  /**
   * Weights by canonical name, checked against the shapes the config implies:
   *  Dense: kernel [in, units], bias [units]
   *  Conv1D: kernel [k, in/groups, filters], bias; Conv2D: kernel [kh, kw, in, filters]
   *  DepthwiseConv1D/2D: depthwise_kernel [k(,k), in, depth_multiplier], bias [in*dm]
   *  SeparableConv1D/2D: depthwise_kernel, pointwise_kernel [1(,1), in*dm, filters], bias
   *  BatchNormalization: gamma, beta, moving_mean, moving_variance (gamma/beta absent if
   *    scale/center false -> the builder fills 1/0 so consumers always see all four)
   *  SimpleRNN/GRU/LSTM: kernel [in, g*u], recurrent_kernel [u, g*u], bias [g*u] or GRU
   *    reset_after [2, 3u]; LSTM gates i,f,c,o; GRU gates z,r,h (Keras 1 per-gate arrays are
   *    fused into this layout)
   *  Bidirectional: forward/kernel, forward/recurrent_kernel, forward/bias, backward/...
   *  TimeDistributed: the inner layer's names
   *  Embedding: embeddings [input_dim, output_dim]; PReLU: alpha [shape of input sans batch
   *    with shared_axes set to 1]
   * Shared layers: nodes that apply the same layer share the same FloatTensor objects.
   */
  weights: Record<string, FloatTensor>;
  /** Keras parameter counts for this node's layer (0 for the 2nd+ application of a shared layer). */
  trainableParams: number;
  nonTrainableParams: number;
  /** Multiply-accumulates for one inference at batch 1 (the MAC convention is in tools/graph/shapes.ts; each layer entry counts its own). */
  macs: number;
}

export interface Graph {
  name: string;
  /** The top-level model's class: 'Sequential' or 'Functional' (Keras prints InputLayer rows for the latter). */
  modelClass?: string;
  /** Model input tensor ids, in Keras order. */
  inputs: number[];
  /** Model output tensor ids, in Keras order. */
  outputs: number[];
  tensors: IRTensor[];
  /** Topologically sorted. */
  nodes: IRNode[];
  /** Where it came from (for messages and reports). */
  source: { file: string; format: string; dialect: string; kerasVersion: string | null };
  notes: string[];
  /**
   * Lint problems kept in the graph instead of thrown (buildGraph `keepProblems`, for the
   * summary); their layers have no weights and may have unknown shapes. A graph with problems
   * cannot be converted.
   */
  problems?: LintProblem[];
  /**
   * The calls of nested Sequential/Functional models whose layers were flattened into `nodes`
   * (absent when there are none). Only the summary reads it, to show them as Keras does.
   */
  nested?: NestedCall[];
  /**
   * Models read from an int8 .tflite file: the file's scale and zero point of every tensor, used
   * in place of calibration (nothing is re-quantized).
   */
  fileQuant?: Map<number, { scale: number; zeroPoint: number }>;
  /** For each model input (same order as `inputs`): the config option that set its shape. */
  inputSources?: (ShapeSource | null)[];
}

/**
 * Which Keras option set a model input's shape, as the file spells it: `input_shape` (no
 * batch), `batch_input_shape` (Keras 2, tfjs) or `batch_shape` (Keras 3) with the batch,
 * `input_dim` (n means input_shape (n,)), or a Keras 3 Sequential's `build_input_shape`.
 */
export interface ShapeSource {
  option: 'input_shape' | 'batch_input_shape' | 'batch_shape' | 'input_dim' | 'build_input_shape';
  /** The layer whose config holds it: the InputLayer, or a Sequential's first layer or the Sequential itself. */
  layer: string;
  where: 'InputLayer' | 'first layer' | 'Sequential';
  value: unknown;
  /** Keras 1 recurrent and 1-D layers: input_length, the steps next to input_dim's features. */
  inputLength?: number | null;
  /** An InputLayer's batch_size, when it fixed the batch of an input_shape. */
  batchSize?: number;
}

/** One call of a nested model: its layers are the nodes firstNode .. endNode-1. */
export interface NestedCall {
  /** Its name as a node prefix: `inner`, `outer/inner`, or `inner@1` for a second call. */
  name: string;
  /** 'Sequential' or 'Functional'. */
  className: string;
  /** Index in Graph.nested of the nested model it sits in, -1 for the top-level model. */
  parent: number;
  inputs: number[];
  outputs: number[];
  firstNode: number;
  endNode: number;
}
