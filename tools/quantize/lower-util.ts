/** Types and helpers shared by the lowering of every layer (tools/quantize/lower*.ts). */
import type { Graph, IRNode } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';
import { buildLut, type Precision, type QParams } from './qparams.ts';
import type { Rounding } from '../blob/spec.ts';
import type { InterpreterProfile } from '../boards.ts';
import { tfliteLut } from './lut-tflite.ts';
import { xnnpackScale } from '../fixedpoint.ts';
import type { RecurrentInfo, Range } from '../float/types.ts';
import { activation as activationLayer, eluLayer, leakyRelu, reluLayer, thresholdedRelu } from '../float/layers/core.ts';

export interface ConstRef {
  kind: 'const';
  bytes: Uint8Array;
  align: number;
  what: string;
}
export type ParamValue = number | ConstRef | Record<string, number>[];

export interface LTensor {
  index: number;
  name: string;
  dtype: 'int8' | 'int16' | 'int32';
  /**
   * 'arena' (planned, reused between ops) or 'state' (the STATE region: recurrent h/c kept
   * between invokes, zeroed by kw_reset_state; never part of the arena plan).
   */
  storage: 'arena' | 'state';
  shape: number[];
  bytes: number;
  q: QParams;
  /** Shares the bytes of this tensor index (Reshape/Flatten/identity layers). */
  aliasOf?: number;
  /** With aliasOf: starts this many bytes into it (the flash tiles of a DENSE write slices of its output). */
  aliasOffset?: number;
  /** IR tensor id when this tensor is one, -1 for internal tensors (transposes, pre-activations). */
  ir: number;
}

export interface LOp {
  name: string;
  /** Spec params by name; a repeat group (ADD_N, MAXMIN, CONCAT, LAYOUT) is the array `rep`. */
  params: Record<string, ParamValue>;
  inputs: number[];
  outputs: number[];
  /** The Keras layer(s) this op implements. */
  layer: string;
}

export interface Lowered {
  tensors: LTensor[];
  ops: LOp[];
  inputs: number[];
  outputs: number[];
  batch: number;
  notes: string[];
}

/** The nodes that read a tensor. */
export function consumers(g: Graph, tensorId: number): IRNode[] {
  return g.nodes.filter((n) => n.inputs.includes(tensorId));
}

const ELEMENTWISE = new Set(['Activation', 'ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU']);

export const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);
export const rowStrides = (shape: number[]) => {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
};

export function constI8(a: Int8Array, what: string): ConstRef {
  return { kind: 'const', bytes: new Uint8Array(a.buffer, a.byteOffset, a.byteLength), align: 16, what };
}
export function constI16(a: Int16Array, what: string): ConstRef {
  const b = new Uint8Array(a.length * 2);
  const dv = new DataView(b.buffer);
  a.forEach((v, i) => dv.setInt16(i * 2, v, true));
  return { kind: 'const', bytes: b, align: 16, what };
}
export function constI32(a: Int32Array | number[], what: string): ConstRef {
  const arr = a instanceof Int32Array ? a : Int32Array.from(a);
  const b = new Uint8Array(arr.length * 4);
  const dv = new DataView(b.buffer);
  arr.forEach((v, i) => dv.setInt32(i * 4, v, true));
  return { kind: 'const', bytes: b, align: 16, what };
}
/** per-channel shifts, int8 (format 2; validated in [-31, 30]) */
export function constShift(ms: { shift: number }[], what: string): ConstRef {
  return { kind: 'const', bytes: new Uint8Array(Int8Array.from(ms.map((m) => m.shift)).buffer), align: 1, what };
}
export function constU32(a: Uint32Array, what: string): ConstRef {
  const b = new Uint8Array(a.length * 4);
  const dv = new DataView(b.buffer);
  a.forEach((v, i) => dv.setUint32(i * 4, v, true));
  return { kind: 'const', bytes: b, align: 16, what };
}

export function unsupportedLayer(n: IRNode, what: string, supported: string): UserError {
  return new UserError(`layer '${n.name}' (${n.className}) ${what}: not supported by the converter; supported: ${supported}`, EXIT.UNSUPPORTED);
}

/**
 * The requantization params of an op with int8 weights: int32 bias, per-channel multipliers and
 * shifts, and the output zero point, clamp and LUT of the activation fused into it.
 */
export function requantParams(
  name: string,
  bias: Int32Array,
  ms: { mult: number; shift: number }[],
  f: { accQ: QParams; range: [number, number]; lut: ParamValue },
): Record<string, ParamValue> {
  return {
    bias: constI32(bias, `${name} bias`),
    mult: constI32(
      ms.map((m) => m.mult),
      `${name} mult`,
    ),
    shift: constShift(ms, `${name} shift`),
    zpOut: f.accQ.zeroPoint,
    actMin: f.range[0],
    actMax: f.range[1],
    lut: f.lut,
  };
}

/** Element-wise float function of an activation-like node (null if not element-wise). */
export function elementwiseFn(n: IRNode): ((x: number) => number) | null {
  if (!ELEMENTWISE.has(n.className)) return null;
  if (n.className === 'Activation' && (n.config.activation === 'softmax' || n.config.activation === 'log_softmax')) return null;
  const fn =
    n.className === 'Activation'
      ? activationLayer
      : n.className === 'ReLU'
        ? reluLayer
        : n.className === 'LeakyReLU'
          ? leakyRelu
          : n.className === 'ELU'
            ? eluLayer
            : thresholdedRelu;
  return (x: number) => {
    const out = fn(n, [{ shape: [1, 1], data: Float32Array.of(x) }], { inMasks: [null] });
    return out[0].data[0];
  };
}

/**
 * The LUT of an element-wise activation node: a .tflite LOGISTIC/TANH (config.kernel 'tflite')
 * gets the table of TFLite's implementation for the blob's rounding mode, every other the
 * function's table (buildLut).
 */
export function activationLut(n: IRNode, fn: (x: number) => number, inQ: QParams, outQ: QParams, rounding: Rounding | undefined): Int8Array {
  const a = n.config.activation;
  if (n.config.kernel === 'tflite' && (a === 'sigmoid' || a === 'tanh')) return tfliteLut(a, inQ, outQ, rounding);
  return buildLut(fn, inQ, outQ);
}

/** The output scale s_in·s_w / s_out of a CONV2D/DEPTHWISE channel: in mode float as XNNPACK forms it in float32, else in double (TFLite). */
export function outputScale(rounding: Rounding | undefined, sIn: number, sW: number, sOut: number): number {
  return rounding === 'float' ? xnnpackScale(sIn, sW, sOut) : (sIn * sW) / sOut;
}

/** Clamp-only activation if the node is exactly one (relu, relu6, ReLU(max_value)). */
export function clampActivation(n: IRNode): 'linear' | 'relu' | 'relu6' | { min: number; max: number } | null {
  if (n.className === 'Activation') {
    const a = n.config.activation;
    if (a === 'relu' || a === 'relu6' || a === 'linear') return a;
    return null;
  }
  if (n.className === 'ReLU') {
    const c = n.config;
    if ((c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) return null;
    const mv = c.max_value ?? null;
    if (mv === null) return 'relu';
    return { min: 0, max: Number(mv) };
  }
  return null;
}

/** Calibration's result: the range and quantization of every tensor (tools/quantize/calibrate.ts). */
export interface Calibration {
  ranges: Map<number, Range>;
  qparams: Map<number, QParams>;
  samples: number;
  /**
   * Internal ranges of every recurrent node (SimpleRNN/GRU/LSTM/Bidirectional) by node id,
   * merged over all calibration batches (the float forward's onRecurrent hook).
   */
  recurrent: Map<number, RecurrentInfo>;
  /** Loud remarks about what was assumed (synthetic data, ...): printed and reported. */
  assumptions: string[];
  /** The calibration method that set each tensor's int8 range (tools/quantize/ranges.ts). */
  methods?: Map<number, 'minmax' | 'percentile' | 'mse'>;
  /** The int8 range each method chose (`ranges` keeps the observed min/max). */
  quantRanges?: Map<number, Range>;
}

export interface LowerOptions {
  batch: number;
  /**
   * Activation precision by Keras layer name (nodes a rewrite derived from a layer, named
   * `layer/...`, follow it); a layer not named is int8. A layer whose ops cannot run on int16
   * (softmax, recurrent, ...) stays int8; REQUANT ops join layers of different precision.
   */
  precision?: Map<string, Precision>;
  /**
   * convert --stream: every recurrent layer keeps its state between invokes (the graph's
   * time dimension is then the chunk length).
   */
  stream?: boolean;
  /** The blob's rounding mode: which TFLite implementation's tables a .tflite LOGISTIC/TANH gets. */
  rounding?: Rounding;
  /**
   * convert --weight-precision: int16 gives the Dense layers that run on int16 activations
   * int16 weights (DENSE layout 3, 16x16); default int8.
   */
  weightPrecision?: 'int8' | 'int16';
  /**
   * convert --interpreter: the interpreter the blob is tuned for (default wasm3). wamr-classic
   * keeps int8 DENSE at layout 1: on 32-bit cores its classic interpreter runs layout 2's i64
   * operations slower than layout 1's i32 ones (docs/PERFORMANCE.md, "DENSE layout 2 on a 32-bit core").
   */
  interpreter?: InterpreterProfile['name'];
}
