/**
 * The TFLite side of the layer table: each TFLite builtin operator the converter serves, the op
 * versions it implements, and how it becomes nodes of the Keras classes of this table (whose
 * lowerings then emit the runtime ops). The weights stay the file's integers (FloatTensor
 * `fileScales` / `fileInt32`) and every tensor keeps the file's scale and zero point, so nothing is
 * re-quantized. A fused activation becomes its own Activation node, which the lowering fuses back
 * as a clamp in the output's quantized domain (TFLite's CalculateActivationRangeQuantized).
 */
import type { FloatTensor } from '../graph/ir.ts';
import type { TfliteOp, TfliteTensor } from '../readers/tflite/read.ts';

/** What an op's mapping uses to add nodes (tools/graph/build-tflite.ts provides it). */
export interface TfliteBuildCtx {
  /** The IR tensor of TFLite tensor `i` (an activation tensor). */
  tensor(i: number): number;
  /** A new IR tensor with TFLite tensor `like`'s shape and quantization. */
  internal(name: string, like: number): number;
  /** TFLite tensor `i` (for constant inputs and shapes). */
  raw(i: number): TfliteTensor;
  node(className: string, config: Record<string, any>, inputs: number[], outputs: number[], weights?: Record<string, FloatTensor>): void;
  /** A lint problem about this op (listed with every other at once). */
  problem(option: string | undefined, value: unknown, supported: string): void;
}

export interface TfliteOpEntry {
  /** The op versions whose semantics the mapping implements. */
  versions: readonly number[];
  /** The Keras classes (table keys) it becomes. */
  classes: readonly string[];
  build(op: TfliteOp, c: TfliteBuildCtx): void;
}

const ACTS: Record<string, string> = { NONE: 'linear', RELU: 'relu', RELU6: 'relu6' };

/** The op's output through its fused activation: `emit(out)` writes the op's own result into `out`. */
function withActivation(op: TfliteOp, c: TfliteBuildCtx, emit: (out: number) => void): void {
  const a = String(op.options?.fused_activation_function ?? 'NONE');
  const act = ACTS[a];
  if (!act) c.problem('fused_activation_function', a, 'NONE, RELU, RELU6');
  const outT = op.outputs[0];
  if (!act || act === 'linear') return emit(c.tensor(outT));
  const pre = c.internal(`${c.raw(outT).name}/pre_activation`, outT);
  emit(pre);
  c.node('Activation', { activation: act }, [pre], [c.tensor(outT)]);
}

/** Dequantized values of an int8 constant (q - zp)·scale in `shape` order, channels along `axis`. */
function dequant(t: TfliteTensor, axis: number): { data: Float32Array; scales: number[] } {
  const q = new Int8Array(t.data!.buffer, t.data!.byteOffset, t.data!.length);
  const n = t.shape[axis];
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scales = t.quant!.scale.length === 1 ? new Array(n).fill(t.quant!.scale[0]) : t.quant!.scale;
  const data = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) data[i] = q[i] * scales[Math.floor(i / inner) % n];
  return { data, scales };
}

function int32Of(t: TfliteTensor): Int32Array {
  const dv = new DataView(t.data!.buffer, t.data!.byteOffset, t.data!.length);
  return Int32Array.from({ length: t.data!.length / 4 }, (_, i) => dv.getInt32(i * 4, true));
}

/** The bias of a FULLY_CONNECTED/CONV op as its int32 values (float data = value·scale, for reports). */
function biasOf(c: TfliteBuildCtx, i: number | undefined): FloatTensor | null {
  if (i === undefined || i < 0) return null;
  const t = c.raw(i);
  if (t.type !== 'int32' || !t.data || !t.quant) {
    c.problem('bias', `${t.type}${t.data ? '' : ' (not constant)'}`, 'a constant int32 bias quantized at input scale x weight scale');
    return null;
  }
  const ints = int32Of(t);
  const s = t.quant.scale;
  return { shape: [ints.length], data: Float32Array.from(ints, (v, k) => v * s[s.length === 1 ? 0 : k]), fileInt32: ints };
}

/** A constant int8 weight with zero point 0 (symmetric, as TFLite requires for int8 weights), or null after a problem. */
function weightOf(c: TfliteBuildCtx, i: number, axis: number): { t: TfliteTensor; data: Float32Array; scales: number[] } | null {
  const t = c.raw(i);
  if (t.type !== 'int8' || !t.data || !t.quant) {
    c.problem('weights', `${t.type}${t.data ? '' : ' (not constant)'}`, 'constant int8 weights (a full-integer model)');
    return null;
  }
  if (t.quant.zeroPoint.some((z) => z !== 0))
    c.problem(
      'weights zero point',
      t.quant.zeroPoint.find((z) => z !== 0),
      '0 (symmetric int8 weights)',
    );
  if (t.quant.scale.length > 1 && t.quant.axis !== axis) c.problem('weights quantized_dimension', t.quant.axis, `${axis} (per output channel)`);
  return { t, ...dequant(t, axis) };
}

const padding = (op: TfliteOp) => String(op.options?.padding ?? 'VALID').toLowerCase();

function fullyConnected(op: TfliteOp, c: TfliteBuildCtx): void {
  const o = op.options ?? {};
  if (o.weights_format) c.problem('weights_format', o.weights_format, 'DEFAULT (0)');
  if (o.keep_num_dims) c.problem('keep_num_dims', true, 'false');
  const w = weightOf(c, op.inputs[1], 0);
  if (!w) return;
  const [units, inDim] = w.t.shape;
  // TFLite [units, in] -> Keras kernel [in, units]
  const kernel = new Float32Array(w.data.length);
  for (let u = 0; u < units; u++) for (let i = 0; i < inDim; i++) kernel[i * units + u] = w.data[u * inDim + i];
  const bias = biasOf(c, op.inputs[2]);
  const weights: Record<string, FloatTensor> = { kernel: { shape: [inDim, units], data: kernel, fileScales: w.scales } };
  if (bias) weights.bias = bias;
  const x = c.tensor(op.inputs[0]);
  withActivation(op, c, (out) => c.node('Dense', { units, activation: 'linear', use_bias: !!bias }, [x], [out], weights));
}

function convWindow(op: TfliteOp) {
  const o = op.options ?? {};
  return {
    strides: [o.stride_h, o.stride_w],
    padding: padding(op),
    data_format: 'channels_last',
    dilation_rate: [o.dilation_h_factor ?? 1, o.dilation_w_factor ?? 1],
    activation: 'linear',
  };
}

function conv2d(op: TfliteOp, c: TfliteBuildCtx): void {
  const w = weightOf(c, op.inputs[1], 0);
  if (!w) return;
  const [F, kh, kw, cin] = w.t.shape;
  if (c.raw(op.inputs[0]).shape[3] !== cin) c.problem('groups', `${c.raw(op.inputs[0]).shape[3] / cin}`, '1 (no grouped convolution)');
  // TFLite [F, kh, kw, cin] -> Keras kernel [kh, kw, cin, F]
  const per = kh * kw * cin;
  const kernel = new Float32Array(w.data.length);
  for (let f = 0; f < F; f++) for (let i = 0; i < per; i++) kernel[i * F + f] = w.data[f * per + i];
  const bias = biasOf(c, op.inputs[2]);
  const weights: Record<string, FloatTensor> = { kernel: { shape: [kh, kw, cin, F], data: kernel, fileScales: w.scales } };
  if (bias) weights.bias = bias;
  const x = c.tensor(op.inputs[0]);
  const cfg = { filters: F, kernel_size: [kh, kw], groups: 1, use_bias: !!bias, ...convWindow(op) };
  withActivation(op, c, (out) => c.node('Conv2D', cfg, [x], [out], weights));
}

function depthwiseConv2d(op: TfliteOp, c: TfliteBuildCtx): void {
  const w = weightOf(c, op.inputs[1], 3);
  if (!w) return;
  const [, kh, kw, oc] = w.t.shape;
  const cin = c.raw(op.inputs[0]).shape[3];
  const dm = oc / cin;
  if (!Number.isInteger(dm)) c.problem('depth_multiplier', `${oc}/${cin}`, 'output channels a multiple of the input channels');
  // TFLite [1, kh, kw, cin*dm] is Keras's depthwise_kernel [kh, kw, cin, dm] with the same bytes
  const bias = biasOf(c, op.inputs[2]);
  const weights: Record<string, FloatTensor> = { depthwise_kernel: { shape: [kh, kw, cin, dm], data: w.data, fileScales: w.scales } };
  if (bias) weights.bias = bias;
  const x = c.tensor(op.inputs[0]);
  const cfg = { kernel_size: [kh, kw], depth_multiplier: dm, use_bias: !!bias, ...convWindow(op) };
  withActivation(op, c, (out) => c.node('DepthwiseConv2D', cfg, [x], [out], weights));
}

/** Ops whose output must keep the input's quantization (TFLite requires it; the lowering shares it). */
function sameQuant(op: TfliteOp, c: TfliteBuildCtx): boolean {
  const a = c.raw(op.inputs[0]).quant;
  const b = c.raw(op.outputs[0]).quant;
  const same = !!a && !!b && a.scale[0] === b.scale[0] && a.zeroPoint[0] === b.zeroPoint[0];
  if (!same) c.problem('output quantization', b ? `${b.scale[0]}, ${b.zeroPoint[0]}` : null, "the input's scale and zero point");
  return same;
}

function pool(className: string) {
  return (op: TfliteOp, c: TfliteBuildCtx) => {
    sameQuant(op, c);
    const o = op.options ?? {};
    const cfg = { pool_size: [o.filter_height, o.filter_width], strides: [o.stride_h, o.stride_w], padding: padding(op), data_format: 'channels_last' };
    const x = c.tensor(op.inputs[0]);
    withActivation(op, c, (out) => c.node(className, cfg, [x], [out]));
  };
}

/** RESHAPE and SQUEEZE: the output's shape without the batch; no op, the bytes are shared. */
function reshape(op: TfliteOp, c: TfliteBuildCtx): void {
  sameQuant(op, c);
  const target = c.raw(op.outputs[0]).shape.slice(1);
  c.node('Reshape', { target_shape: target }, [c.tensor(op.inputs[0])], [c.tensor(op.outputs[0])]);
}

function softmax(op: TfliteOp, c: TfliteBuildCtx): void {
  const beta = op.options?.beta ?? 1;
  if (beta !== 1) c.problem('beta', beta, '1');
  const q = c.raw(op.outputs[0]).quant;
  if (!q || q.scale[0] !== 1 / 256 || q.zeroPoint[0] !== -128)
    c.problem('output quantization', q ? `${q.scale[0]}, ${q.zeroPoint[0]}` : null, '1/256, -128 (TFLite int8 softmax)');
  // kernel 'tflite': TFLite's int8 softmax kernel (op SOFTMAX_TFLITE), not the Keras Softmax's
  c.node('Softmax', { axis: -1, beta, kernel: 'tflite' }, [c.tensor(op.inputs[0])], [c.tensor(op.outputs[0])]);
}

function activation(name: string, scale: number, zp: number) {
  return (op: TfliteOp, c: TfliteBuildCtx) => {
    const q = c.raw(op.outputs[0]).quant;
    if (!q || q.scale[0] !== scale || q.zeroPoint[0] !== zp)
      c.problem('output quantization', q ? `${q.scale[0]}, ${q.zeroPoint[0]}` : null, `${scale}, ${zp} (TFLite int8 ${name})`);
    // kernel 'tflite': the table of TFLite's own kernel for the blob's rounding mode (quantize/lut-tflite.ts)
    c.node('Activation', { activation: name, kernel: 'tflite' }, [c.tensor(op.inputs[0])], [c.tensor(op.outputs[0])]);
  };
}

function merge(className: string) {
  return (op: TfliteOp, c: TfliteBuildCtx) => {
    const ins = op.inputs.map((i) => {
      if (c.raw(i).data) c.problem('constant input', c.raw(i).name, 'activation inputs only');
      return c.tensor(i);
    });
    withActivation(op, c, (out) => c.node(className, {}, ins, [out]));
  };
}

function concatenation(op: TfliteOp, c: TfliteBuildCtx): void {
  const rank = c.raw(op.outputs[0]).shape.length;
  const axis = op.options?.axis ?? 0;
  if ((axis < 0 ? axis + rank : axis) === 0) c.problem('axis', axis, 'a non-batch axis');
  const ins = op.inputs.map((i) => c.tensor(i));
  withActivation(op, c, (out) => c.node('Concatenate', { axis }, ins, [out]));
}

/** PAD with a constant [rank, 2] paddings tensor on the two spatial axes of an NHWC tensor: ZeroPadding2D (pads with the zero point). */
function pad(op: TfliteOp, c: TfliteBuildCtx): void {
  sameQuant(op, c);
  const p = c.raw(op.inputs[1]);
  if (!p.data || p.type !== 'int32' || p.shape.length !== 2 || p.shape[0] !== 4) {
    c.problem('paddings', p.name, 'a constant int32 [4, 2] paddings tensor of an NHWC tensor');
    return;
  }
  const v = int32Of(p);
  if (v[0] || v[1] || v[6] || v[7]) c.problem('paddings', Array.from(v), 'padding on the height and width axes only');
  const cfg = {
    padding: [
      [v[2], v[3]],
      [v[4], v[5]],
    ],
    data_format: 'channels_last',
  };
  c.node('ZeroPadding2D', cfg, [c.tensor(op.inputs[0])], [c.tensor(op.outputs[0])]);
}

/**
 * MEAN over the two spatial axes of an NHWC tensor (a constant int32 axis tensor holding 1 and 2,
 * in either order, negative forms included): GlobalAveragePooling2D with kernel 'tflite', which
 * lowers to op MEAN with TFLite's own requantization (the output may have its own quantization).
 */
function mean(op: TfliteOp, c: TfliteBuildCtx): void {
  const x = c.raw(op.inputs[0]);
  const a = c.raw(op.inputs[1]);
  const allowed = 'a constant int32 axis tensor [1, 2] (the spatial axes of a 4-D NHWC input, any order)';
  if (x.shape.length !== 4) return c.problem('input rank', x.shape.length, `4 (NHWC) with ${allowed}`);
  if (!a.data || a.type !== 'int32') return c.problem('axis', `${a.type}${a.data ? '' : ' (not constant)'}`, allowed);
  const axes = Array.from(int32Of(a), (v) => (v < 0 ? v + 4 : v)).sort((p, q) => p - q);
  if (axes.length !== 2 || axes[0] !== 1 || axes[1] !== 2) return c.problem('axis', Array.from(int32Of(a)), allowed);
  // op MEAN sums in int32: at most 2^23 int8 values per mean
  if (x.shape[1] * x.shape[2] > 2 ** 23) return c.problem('height x width', x.shape[1] * x.shape[2], 'at most 2^23 elements per mean');
  const keepdims = !!op.options?.keep_dims;
  const want = keepdims ? [x.shape[0], 1, 1, x.shape[3]] : [x.shape[0], x.shape[3]];
  const got = c.raw(op.outputs[0]).shape;
  if (got.join() !== want.join()) return c.problem('output shape', got, `[${want.join(', ')}] (keep_dims ${keepdims} of input [${x.shape.join(', ')}])`);
  const cfg = { data_format: 'channels_last', keepdims, kernel: 'tflite' };
  c.node('GlobalAveragePooling2D', cfg, [c.tensor(op.inputs[0])], [c.tensor(op.outputs[0])]);
}

/**
 * TFLite ops the converter refuses for a reason other than a missing mapping: the lint problem's
 * option, value and what is supported instead, so the line says why.
 */
export const TFLITE_REFUSED: Record<string, { option: string; value: string; supported: string }> = {
  UNIDIRECTIONAL_SEQUENCE_LSTM: {
    option: 'hidden state',
    value: "int8 at the output's scale and zero point",
    supported:
      "Keras LSTM layers (convert the Keras model): TFLite's integer LSTM cannot be matched bit-exactly, as the runtime's LSTM keeps h int16 at 2^-15 " +
      'into the recurrent matmul and uses its own 257-entry gate tables and half-up rounding shifts, where TFLite keeps h int8 and uses its integer ' +
      'sigmoid/tanh (gemmlowp in TFLite, the int16 LUT in TFLite Micro) and half-away-from-zero products',
  },
};

/** The TFLite ops the converter serves, by builtin name. */
export const TFLITE_OPS: Record<string, TfliteOpEntry> = {
  FULLY_CONNECTED: { versions: [1, 2, 3, 4, 5], classes: ['Dense', 'Activation'], build: fullyConnected },
  CONV_2D: { versions: [1, 2, 3], classes: ['Conv2D', 'Activation'], build: conv2d },
  DEPTHWISE_CONV_2D: { versions: [1, 2, 3], classes: ['DepthwiseConv2D', 'Activation'], build: depthwiseConv2d },
  AVERAGE_POOL_2D: { versions: [1, 2], classes: ['AveragePooling2D', 'Activation'], build: pool('AveragePooling2D') },
  MAX_POOL_2D: { versions: [1, 2], classes: ['MaxPooling2D', 'Activation'], build: pool('MaxPooling2D') },
  RESHAPE: { versions: [1], classes: ['Reshape'], build: reshape },
  SQUEEZE: { versions: [1], classes: ['Reshape'], build: reshape },
  SOFTMAX: { versions: [1, 2], classes: ['Softmax'], build: softmax },
  LOGISTIC: { versions: [1, 2], classes: ['Activation'], build: activation('sigmoid', 1 / 256, -128) },
  TANH: { versions: [1, 2], classes: ['Activation'], build: activation('tanh', 1 / 128, 0) },
  ADD: { versions: [1, 2], classes: ['Add', 'Activation'], build: merge('Add') },
  MUL: { versions: [1, 2], classes: ['Multiply', 'Activation'], build: merge('Multiply') },
  CONCATENATION: { versions: [1, 2], classes: ['Concatenate', 'Activation'], build: concatenation },
  PAD: { versions: [1, 2], classes: ['ZeroPadding2D'], build: pad },
  MEAN: { versions: [1, 2], classes: ['GlobalAveragePooling2D'], build: mean },
};
