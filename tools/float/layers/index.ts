/** The float reference layer registry, keyed by canonical Keras class name. */
import { UserError, EXIT } from '../../errors.ts';
import type { IRNode } from '../../graph/ir.ts';
import type { LayerFn } from '../types.ts';
import * as core from './core.ts';
import * as conv from './conv.ts';
import * as pool from './pooling.ts';
import * as rs from './reshape.ts';
import * as merge from './merge.ts';
import * as rnn from './recurrent.ts';
import * as misc from './misc.ts';

export const LAYERS: Record<string, LayerFn> = {
  Dense: core.dense,
  Activation: core.activation,
  ReLU: core.reluLayer,
  LeakyReLU: core.leakyRelu,
  PReLU: core.prelu,
  ELU: core.eluLayer,
  ThresholdedReLU: core.thresholdedRelu,
  Softmax: core.softmaxLayer,
  BatchNormalization: core.batchNorm,
  LayerNormalization: core.layerNorm,
  Dropout: core.identity,
  SpatialDropout1D: core.identity,
  SpatialDropout2D: core.identity,
  Identity: core.identity,
  GaussianNoise: core.identity,
  GaussianDropout: core.identity,
  AlphaDropout: core.identity,
  ActivityRegularization: core.identity,
  Conv1D: conv.conv1d,
  Conv2D: conv.conv2d,
  DepthwiseConv1D: conv.depthwiseConv1d,
  DepthwiseConv2D: conv.depthwiseConv2d,
  SeparableConv1D: conv.separableConv1d,
  SeparableConv2D: conv.separableConv2d,
  MaxPooling1D: pool.maxPool1d,
  MaxPooling2D: pool.maxPool2d,
  AveragePooling1D: pool.avgPool1d,
  AveragePooling2D: pool.avgPool2d,
  GlobalMaxPooling1D: pool.globalMaxPool,
  GlobalMaxPooling2D: pool.globalMaxPool,
  GlobalAveragePooling1D: pool.globalAvgPool,
  GlobalAveragePooling2D: pool.globalAvgPool,
  Flatten: rs.flatten,
  Reshape: rs.reshapeLayer,
  Permute: rs.permute,
  RepeatVector: rs.repeatVector,
  ZeroPadding1D: rs.zeroPad1d,
  ZeroPadding2D: rs.zeroPad2d,
  Cropping1D: rs.crop1d,
  Cropping2D: rs.crop2d,
  UpSampling1D: rs.upsample1d,
  UpSampling2D: rs.upsample2d,
  Add: merge.add,
  Subtract: merge.subtract,
  Multiply: merge.multiply,
  Average: merge.average,
  Maximum: merge.maximum,
  Minimum: merge.minimum,
  Concatenate: merge.concatenate,
  SimpleRNN: rnn.simpleRnn,
  GRU: rnn.gru,
  LSTM: rnn.lstm,
  Bidirectional: rnn.bidirectional,
  Embedding: misc.embedding,
  Masking: misc.masking,
  TimeDistributed: (node, inputs, ctx) => timeDistributed(node, inputs, ctx),
  _MergeTime: misc.mergeTime,
  _SplitTime: misc.splitTime,
};

/**
 * Layers that pass their input mask through unchanged (Keras supports_masking without a
 * compute_mask of their own). Other layers drop the mask unless they set ctx.outMasks.
 */
export const MASK_PASSTHROUGH = new Set([
  'Dense',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'PReLU',
  'ELU',
  'ThresholdedReLU',
  'Softmax',
  'BatchNormalization',
  'LayerNormalization',
  'Dropout',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ActivityRegularization',
]);

export function getLayerFn(className: string, where: string): LayerFn {
  const f = LAYERS[className];
  if (!f) {
    throw new UserError(
      `${where}: layer class ${className} has no float reference implementation; supported: ${Object.keys(LAYERS).join(', ')}`,
      EXIT.UNSUPPORTED,
    );
  }
  return f;
}

/** TimeDistributed(inner): the inner layer on [B*T, ...] then reshaped back to [B, T, ...]. */
const timeDistributed: LayerFn = (node, [x], ctx) => {
  const inner = node.config.layer;
  const fn = getLayerFn(inner.class_name, `${node.name} (TimeDistributed)`);
  const [B, T] = x.shape;
  const innerNode: IRNode = { ...node, className: inner.class_name, config: inner.config };
  const [y] = fn(innerNode, [{ shape: [B * T, ...x.shape.slice(2)], data: x.data }], { inMasks: [null], state: ctx.state });
  ctx.outMasks = [ctx.inMasks[0] ?? null];
  return [{ shape: [B, T, ...y.shape.slice(1)], data: y.data }];
};
