/**
 * What every reader produces: the model's architecture JSON and its float weights, grouped
 * by top-level layer, with nothing interpreted yet. The graph builder (tools/graph) turns
 * this into the IR; readers know nothing of shapes or layers beyond what they must parse.
 */
import type { TfliteModel } from './tflite/read.ts';

type ModelFormat =
  | 'keras3' // .keras zip: config.json + metadata.json + model.weights.h5
  | 'h5' // legacy Keras full model HDF5 (model_config attr + model_weights group)
  | 'h5-weights' // weights-only HDF5 + separate architecture JSON (--config)
  | 'tfjs' // TensorFlow.js layers-model model.json + weight shards
  | 'tflite'; // int8 TensorFlow Lite flatbuffer (the operators are in `tflite`, not in `config`)

/** Which Keras wrote the config; decides dialect normalisation and changed semantics. */
export type Dialect = 'keras1' | 'keras2' | 'keras3' | 'tfjs' | 'tflite';

export interface RawWeight {
  /**
   * The weight's name inside its top-level layer, as the file spells it, without the layer
   * prefix and without ':0'. Examples:
   *  h5 'dense_1/kernel:0' in group 'dense_1'            -> 'kernel'
   *  h5 conv0 group with 'conv0_5/kernel:0'               -> 'kernel'   (inner name differs)
   *  h5 Bidirectional 'bidirectional_1/forward_lstm_1/kernel:0' -> 'forward_lstm_1/kernel'
   *  h5 nested Sequential group 'sequential', 'dense/kernel:0'   -> 'dense/kernel'
   *  keras3 'layers/gru/cell/vars/1'                     -> 'cell/vars/1'
   *  keras3 'layers/sequential/layers/dense/vars/0'      -> 'layers/dense/vars/0'
   *  keras3 bidirectional 'layers/bi/forward_layer/cell/vars/0' -> 'forward_layer/cell/vars/0'
   *  tfjs 'dense_Dense1/kernel'                           -> 'kernel'
   *  keras1 'lstm_1_W_i:0'                                -> 'lstm_1_W_i'
   */
  name: string;
  shape: number[];
  /** Row-major (C order) float32 values. Other float dtypes are converted; ints are refused. */
  data: Float32Array;
}

export interface RawModel {
  /** The path the user gave (for messages). */
  file: string;
  format: ModelFormat;
  dialect: Dialect;
  /** e.g. '2.3.1', '3.9.2', 'tfjs-layers 4.22.0'; null when the file does not say. */
  kerasVersion: string | null;
  /**
   * The architecture exactly as stored: `{class_name, config, ...}` (Keras 2/tfjs/Keras 1)
   * or `{module, class_name, config, registered_name, build_config, ...}` (Keras 3).
   */
  config: any;
  /**
   * Weights per top-level layer name, in the order the file lists them (h5 `weight_names`,
   * keras3 vars index order with nested groups in Keras's save order, tfjs manifest order).
   * Layers without weights may be absent.
   */
  weights: Map<string, RawWeight[]>;
  /** Non-fatal remarks for the user (e.g. 'optimizer weights ignored'). */
  notes: string[];
  /** A .tflite file: its tensors and operators (then `config` is null and `weights` empty). */
  tflite?: TfliteModel;
}
