/**
 * Lowering: prepared Graph (prepare.ts) + calibrated qparams -> runtime ops with params
 * exactly as tools/blob/spec.ts defines them, plus the int8/int32 tensor list.
 *
 * Every IR tensor is stored in its Keras logical layout (channels_first tensors stay NCHW;
 * the conv/pool ops that need NHWC get LAYOUT transposes around them). Reshape-like layers
 * are aliases (no op, shared bytes). Const params are `ConstRef`s, resolved to byte offsets
 * by the blob assembler.
 */
import type { Graph, IRNode } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';
import { OP_BY_NAME } from '../blob/spec.ts';
import { quantizeMultiplier } from '../fixedpoint.ts';
import {
  activationRange,
  asymmetricQParams,
  buildLut,
  foldBias,
  quantizeValue,
  quantizeWeightsPerChannel,
  softmaxTable,
  SIGMOID_OUT,
  SOFTMAX_OUT,
  TANH_OUT,
  type QParams,
} from './qparams.ts';
import type { Calibration } from './calibrate.ts';
import { consumers } from './prepare.ts';
import { padInfo } from '../float/layers/conv.ts';
import { activation as activationLayer, eluLayer, leakyRelu, reluLayer, thresholdedRelu } from '../float/layers/core.ts';
import { pairs } from '../float/layers/reshape.ts';
import { lowerRecurrent, maskSourceIds, outOfRange, type RecurrentLowerCtx } from './lower-rnn.ts';
import { blockRows4 } from './reference-rnn.ts';

export interface ConstRef {
  kind: 'const';
  bytes: Uint8Array;
  align: number;
  what: string;
}
export type ParamValue = number | ConstRef | Record<string, number>[];

interface LTensor {
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
  /** IR tensor id when this tensor is one, -1 for internal tensors (transposes, pre-activations). */
  ir: number;
}

interface LOp {
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

/** Recurrent layers lowered by lower-rnn.ts. */
const RNN_CLASSES = new Set(['SimpleRNN', 'GRU', 'LSTM', 'Bidirectional']);
/** Recurrent layers the converter cannot lower. */
const RECURRENT_UNSUPPORTED = new Set(['ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D', 'RNN', 'StackedRNNCells']);
const RECURRENT = new Set([...RNN_CLASSES, ...RECURRENT_UNSUPPORTED]);
const IDENTITY = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ActivityRegularization',
  'Masking',
  'Reshape',
  'Identity',
  '_MergeTime',
  '_SplitTime',
]);
const ELEMENTWISE = new Set(['Activation', 'ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU']);

const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);
const rowStrides = (shape: number[]) => {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
};

function constI8(a: Int8Array, what: string): ConstRef {
  return { kind: 'const', bytes: new Uint8Array(a.buffer, a.byteOffset, a.byteLength), align: 16, what };
}
function constI32(a: Int32Array | number[], what: string): ConstRef {
  const arr = a instanceof Int32Array ? a : Int32Array.from(a);
  const b = new Uint8Array(arr.length * 4);
  const dv = new DataView(b.buffer);
  arr.forEach((v, i) => dv.setInt32(i * 4, v, true));
  return { kind: 'const', bytes: b, align: 16, what };
}
/** per-channel shifts, int8 (format 2; validated in [-31, 30]) */
function constShift(ms: { shift: number }[], what: string): ConstRef {
  return { kind: 'const', bytes: new Uint8Array(Int8Array.from(ms.map((m) => m.shift)).buffer), align: 1, what };
}
function constU32(a: Uint32Array, what: string): ConstRef {
  const b = new Uint8Array(a.length * 4);
  const dv = new DataView(b.buffer);
  a.forEach((v, i) => dv.setUint32(i * 4, v, true));
  return { kind: 'const', bytes: b, align: 16, what };
}

function unsupportedLayer(n: IRNode, what: string, supported: string): UserError {
  return new UserError(`layer '${n.name}' (${n.className}) ${what}: not supported by the converter; supported: ${supported}`, EXIT.UNSUPPORTED);
}

/** Element-wise float function of an activation-like node (null if not element-wise). */
function elementwiseFn(n: IRNode): ((x: number) => number) | null {
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

/** Clamp-only activation if the node is exactly one (relu, relu6, ReLU(max_value)). */
function clampActivation(n: IRNode): 'linear' | 'relu' | 'relu6' | { min: number; max: number } | null {
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

const SUPPORTED_TEXT =
  'SimpleRNN/GRU/LSTM (and Bidirectional of them), Dense, Conv1D/2D, DepthwiseConv1D/2D, SeparableConv1D/2D, pooling, BatchNormalization, activations, Softmax, PReLU, Add/Subtract/Average/Multiply/Maximum/Minimum/Concatenate, Embedding, Flatten/Reshape/Permute/RepeatVector/ZeroPadding/Cropping/UpSampling, Dropout-like layers';
const LOWERABLE = new Set([
  ...IDENTITY,
  ...ELEMENTWISE,
  'Flatten',
  'Dense',
  'Conv1D',
  'Conv2D',
  'DepthwiseConv1D',
  'DepthwiseConv2D',
  'SeparableConv1D',
  'SeparableConv2D',
  'BatchNormalization',
  'MaxPooling1D',
  'MaxPooling2D',
  'AveragePooling1D',
  'AveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'Softmax',
  'PReLU',
  'Add',
  'Subtract',
  'Average',
  'Multiply',
  'Maximum',
  'Minimum',
  'Concatenate',
  'Embedding',
  'Permute',
  'RepeatVector',
  'ZeroPadding1D',
  'ZeroPadding2D',
  'Cropping1D',
  'Cropping2D',
  'UpSampling1D',
  'UpSampling2D',
  ...RNN_CLASSES,
]);

/** Fails fast (before calibration) on layers the converter cannot lower. */
export function assertLowerable(g: Graph): void {
  for (const n of g.nodes) {
    if (RECURRENT_UNSUPPORTED.has(n.className) || (n.className === 'TimeDistributed' && RECURRENT.has(n.config.layer?.class_name))) {
      const what = n.className === 'TimeDistributed' ? `TimeDistributed(${n.config.layer?.class_name})` : n.className;
      throw new UserError(
        `layer '${n.name}' (${what}): not supported by the converter; supported recurrent layers: SimpleRNN, GRU, LSTM and Bidirectional of them; supported: ${SUPPORTED_TEXT}`,
        EXIT.UNSUPPORTED,
      );
    }
    const cls = n.className === 'TimeDistributed' ? n.config.layer?.class_name : n.className;
    if (!LOWERABLE.has(cls)) {
      const what = n.className === 'TimeDistributed' ? `TimeDistributed(${cls})` : n.className;
      throw new UserError(`layer '${n.name}' (${what}): not supported by the converter; supported: ${SUPPORTED_TEXT}`, EXIT.UNSUPPORTED);
    }
  }
}

/**
 * Keras Masking (skip steps whose features all equal mask_value) is not implemented by the
 * recurrent ops (only Embedding mask_zero=True is): refuse a Masking layer whose mask reaches a
 * recurrent layer instead of silently ignoring it.
 */
function assertNoMaskingLayer(g: Graph, rnn: IRNode): void {
  const PASS = new Set([
    'Dropout',
    'SpatialDropout1D',
    'GaussianNoise',
    'GaussianDropout',
    'Activation',
    'Dense',
    'TimeDistributed',
    'BatchNormalization',
    'LayerNormalization',
    'ReLU',
    'LeakyReLU',
    '_MergeTime',
    '_SplitTime',
  ]);
  let t = rnn.inputs[0];
  for (let guard = 0; guard < 1000; guard++) {
    const p = g.tensors[t]?.producer ?? -1;
    if (p < 0) return;
    const n = g.nodes[p];
    if (n.className === 'Masking') {
      throw new UserError(
        `layer '${n.name}' (Masking) masks the input of recurrent layer '${rnn.name}': not supported by the converter; supported: Embedding(mask_zero=True) masks, or no masking`,
        EXIT.UNSUPPORTED,
      );
    }
    if (!PASS.has(n.className)) return;
    t = n.inputs[0];
  }
}

export interface LowerOptions {
  batch: number;
  /**
   * convert --stream: every recurrent layer keeps its state between invokes (the graph's
   * time dimension is then the chunk length).
   */
  stream?: boolean;
}

export function lowerGraph(g: Graph, cal: Calibration, opts: LowerOptions): Lowered {
  const B = opts.batch;
  const tensors: LTensor[] = [];
  const ops: LOp[] = [];
  const notes: string[] = [];
  const irToL = new Map<number, number>();
  const qOverride = new Map<number, QParams>();
  const absorbed = new Set<IRNode>();

  const staticShape = (irId: number): number[] => {
    const t = g.tensors[irId];
    return t.shape.map((d, i) => {
      if (i === 0) return B * (t.batchMultiple ?? 1);
      if (d === null) throw new UserError(`tensor '${t.name}' has a free dimension at axis ${i}: only the batch may be free`, EXIT.UNSUPPORTED);
      return d;
    });
  };
  const irQ = (irId: number): QParams => {
    const o = qOverride.get(irId);
    if (o) return o;
    if (g.tensors[irId].dtype === 'int32') return { scale: 1, zeroPoint: 0 };
    const q = cal.qparams.get(irId);
    if (!q) throw new Error(`no calibration range for tensor '${g.tensors[irId].name}'`);
    return q;
  };
  const newT = (
    name: string,
    shape: number[],
    q: QParams,
    ir = -1,
    dtype: 'int8' | 'int16' | 'int32' = 'int8',
    aliasOf?: number,
    storage: 'arena' | 'state' = 'arena',
  ): number => {
    const index = tensors.length;
    const count = prod(shape);
    const size = dtype === 'int32' ? 4 : dtype === 'int16' ? 2 : 1;
    tensors.push({ index, name, dtype, storage, shape, bytes: count * size, q, ir, ...(aliasOf !== undefined ? { aliasOf } : {}) });
    return index;
  };
  /** The LTensor of an IR tensor (created on first request as its own buffer). */
  const lt = (irId: number, q?: QParams): number => {
    let i = irToL.get(irId);
    if (i === undefined) {
      const t = g.tensors[irId];
      if (q) qOverride.set(irId, q);
      i = newT(t.name, staticShape(irId), irQ(irId), irId, t.dtype === 'int32' ? 'int32' : 'int8');
      irToL.set(irId, i);
    }
    return i;
  };
  const alias = (irId: number, ofL: number) => {
    const t = g.tensors[irId];
    const root = tensors[ofL];
    qOverride.set(irId, root.q);
    const i = newT(t.name, staticShape(irId), root.q, irId, root.dtype, ofL);
    irToL.set(irId, i);
    return i;
  };
  const qm = (d: number, n: IRNode, what: string): { mult: number; shift: number } => {
    try {
      const neg = d < 0;
      const r = quantizeMultiplier(Math.abs(d));
      return neg ? { mult: -r.mult, shift: r.shift } : r;
    } catch {
      throw new UserError(outOfRange(`layer '${n.name}' (${n.className})`, what, d), EXIT.BAD_INPUT);
    }
  };
  const emit = (name: string, params: Record<string, ParamValue>, inputs: number[], outputs: number[], layer: string) => {
    const spec = OP_BY_NAME[name];
    if (!spec) throw new Error(`unknown op ${name}`);
    for (const p of spec.params) if (!(p in params)) throw new Error(`op ${name}: missing param ${p}`);
    if (spec.repeat && !Array.isArray(params.rep)) {
      throw new Error(`op ${name}: missing repeat groups`);
    }
    ops.push({ name, params, inputs, outputs, layer });
  };

  /** LAYOUT op: out axis j reads in axis map[j].axis (or -1 = broadcast), with pad/div. */
  const layout = (
    inL: number,
    outShape: number[],
    axes: { inAxis: number; padBefore?: number; div?: number }[],
    layer: string,
    outL?: number,
    name?: string,
  ): number => {
    const inT = tensors[inL];
    const str = rowStrides(inT.shape);
    const out = outL ?? newT(name ?? `${layer}/layout`, outShape, inT.q);
    const groups = axes.map((a, j) => ({
      outDim: outShape[j],
      inDim: a.inAxis < 0 ? 1 : inT.shape[a.inAxis],
      inStride: a.inAxis < 0 ? 0 : str[a.inAxis],
      padBefore: a.padBefore ?? 0,
      div: a.div ?? 1,
    }));
    emit('LAYOUT', { in: inL, out, elemSize: inT.dtype === 'int32' ? 4 : 1, rank: outShape.length, fill: inT.q.zeroPoint, rep: groups }, [inL], [out], layer);
    return out;
  };
  const transposeL = (inL: number, perm: number[], layer: string, outL?: number): number => {
    const sh = tensors[inL].shape;
    return layout(
      inL,
      perm.map((p) => sh[p]),
      perm.map((p) => ({ inAxis: p })),
      layer,
      outL,
      `${layer}/transpose`,
    );
  };
  /** The NHWC view of a conv/pooling input (a LAYOUT transpose first for channels_first). */
  const nhwcInput = (inIr: number, rank: number, c: Record<string, any>, name: string) => {
    const cf = c.data_format === 'channels_first';
    let inL = lt(inIr);
    if (cf) inL = transposeL(inL, toLast(rank + 2), name);
    const inT = tensors[inL];
    return { cf, inL, inT, inH: rank === 1 ? 1 : inT.shape[1], inW: inT.shape[rank], C: inT.shape[rank + 1] };
  };
  const toLast = (r: number) => [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
  const toFirst = (r: number) => [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];

  /**
   * Fusion: if the op's output feeds only an element-wise activation (and is not a model
   * output), return the activation's clamp/LUT and its output tensor instead.
   */
  const fuse = (n: IRNode, allowLut: boolean) => {
    const pre = n.outputs[0];
    const preQ = irQ(pre);
    const cs = consumers(g, pre);
    if (cs.length === 1 && !g.outputs.includes(pre) && cs[0].inputs.length === 1) {
      const a = cs[0];
      const cl = clampActivation(a);
      if (cl) {
        absorbed.add(a);
        const post = a.outputs[0];
        return { outIr: post, outQ: irQ(post), range: activationRange(cl, irQ(post)), lut: -1 as ParamValue, accQ: irQ(post), fused: a.name };
      }
      const f = elementwiseFn(a);
      if (f && allowLut) {
        absorbed.add(a);
        const post = a.outputs[0];
        const postQ = fixedActivationQ(a) ?? irQ(post);
        qOverride.set(post, postQ);
        return {
          outIr: post,
          outQ: postQ,
          range: [-128, 127] as [number, number],
          lut: constI8(buildLut(f, preQ, postQ), `${a.name} lut`) as ParamValue,
          accQ: preQ,
          fused: a.name,
        };
      }
    }
    return { outIr: pre, outQ: preQ, range: [-128, 127] as [number, number], lut: -1 as ParamValue, accQ: preQ, fused: null as string | null };
  };

  /** TFLite's fixed output qparams for sigmoid and tanh. */
  function fixedActivationQ(a: IRNode): QParams | null {
    if (a.className !== 'Activation') return null;
    if (a.config.activation === 'sigmoid') return SIGMOID_OUT;
    if (a.config.activation === 'tanh') return TANH_OUT;
    return null;
  }

  // recurrent layers (lower-rnn.ts) through the same helpers
  const nodeByName = new Map(g.nodes.map((n) => [n.name, n]));
  const rctx: RecurrentLowerCtx = {
    batch: B,
    stream: !!opts.stream,
    tensorOf: (ir, q) => lt(ir, q),
    qOf: irQ,
    tensorShape: staticShape,
    newTensor: (name, shape, dtype, q, storage = 'arena') => newT(name, shape, q, -1, dtype, undefined, storage),
    emit: (op, params, inputs, outputs, layer) => emit(op, params as Record<string, ParamValue>, inputs, outputs, layer),
    konst: (bytes, align, what): ConstRef => ({ kind: 'const', bytes, align, what }),
    recurrentInfo: (nodeName) => {
      const n = nodeByName.get(nodeName);
      const info = n ? cal.recurrent?.get(n.id) : undefined;
      if (!info) throw new Error(`no recurrent calibration ranges for layer '${nodeName}'`);
      return info;
    },
    maskIds: (ir) => {
      const src = maskSourceIds(g, ir);
      return src < 0 ? -1 : lt(src);
    },
  };

  // model inputs
  for (const id of g.inputs) lt(id);

  for (const n of g.nodes) {
    if (absorbed.has(n)) continue;
    const cls = n.className;
    const c = n.config;
    if (RNN_CLASSES.has(cls)) {
      assertNoMaskingLayer(g, n);
      lowerRecurrent(n, rctx); // SimpleRNN, GRU, LSTM, Bidirectional (tools/quantize/lower-rnn.ts)
      continue;
    }
    if (RECURRENT.has(cls) || (cls === 'TimeDistributed' && RECURRENT.has(c.layer?.class_name))) {
      throw new UserError(`layer '${n.name}' (${cls}): not supported by the converter; supported: ${SUPPORTED_TEXT}`, EXIT.UNSUPPORTED);
    }
    const inIr = n.inputs[0];
    const outIr = n.outputs[0];

    if (IDENTITY.has(cls) || (cls === 'Flatten' && !(c.data_format === 'channels_first' && g.tensors[inIr].shape.length >= 4))) {
      alias(outIr, lt(inIr));
      continue;
    }
    if (cls === 'Flatten') {
      // channels_first Flatten moves channels last first, as Keras does
      const inL = lt(inIr);
      const r = tensors[inL].shape.length;
      const tl = transposeL(inL, toLast(r), n.name);
      alias(outIr, tl);
      continue;
    }

    switch (cls) {
      case 'Dense': {
        const inL = lt(inIr);
        const inT = tensors[inL];
        const k = n.weights.kernel;
        const [inDim, units] = k.shape;
        // kernel [in, units] -> [units][in]
        const wt = new Float32Array(k.data.length);
        for (let i = 0; i < inDim; i++) for (let u = 0; u < units; u++) wt[u * inDim + i] = k.data[i * units + u];
        const f = fuse(n, true);
        const outL = lt(f.outIr, f.outQ);
        const wq = quantizeWeightsPerChannel(wt, units);
        const bias = foldBias(n.weights.bias?.data ?? null, wq.q, wq.scales, inT.q.scale, inT.q.zeroPoint);
        const ms = Array.from(wq.scales, (s) => qm((inT.q.scale * s) / f.accQ.scale, n, 'output'));
        emit(
          'DENSE',
          {
            in: inL,
            out: outL,
            rows: prod(inT.shape) / inDim,
            inDim,
            outDim: units,
            // layout 1: 4-row blocks for the runtime's 4-outputs-per-pass loop (same bytes, reordered)
            weights: constI8(blockRows4(wq.q, units, inDim), `${n.name} weights`),
            bias: constI32(bias, `${n.name} bias`),
            mult: constI32(
              ms.map((m) => m.mult),
              `${n.name} mult`,
            ),
            shift: constShift(ms, `${n.name} shift`),
            zpOut: f.accQ.zeroPoint,
            actMin: f.range[0],
            actMax: f.range[1],
            lut: f.lut,
            layout: 1,
          },
          [inL],
          [outL],
          f.fused ? `${n.name}+${f.fused}` : n.name,
        );
        break;
      }
      case 'Conv1D':
      case 'Conv2D':
      case 'DepthwiseConv1D':
      case 'DepthwiseConv2D': {
        const rank = cls.endsWith('1D') ? 1 : 2;
        const dw = cls.startsWith('Depthwise');
        const { cf, inL, inT, inH, inW, C: inC } = nhwcInput(inIr, rank, c, n.name);
        const ks: number[] = c.kernel_size;
        const st: number[] = c.strides ?? ks.map(() => 1);
        const dl: number[] = c.dilation_rate ?? ks.map(() => 1);
        const padding = String(c.padding ?? 'valid');
        const kH = rank === 1 ? 1 : ks[0],
          kW = ks[rank - 1];
        const sH = rank === 1 ? 1 : st[0],
          sW = st[rank - 1];
        const dH = rank === 1 ? 1 : dl[0],
          dW = dl[rank - 1];
        if (padding === 'causal' && rank !== 1) throw unsupportedLayer(n, `option padding="causal"`, 'valid, same (causal for 1-D only)');
        const ph = padInfo(inH, kH, sH, dH, rank === 1 ? 'valid' : padding);
        const pw = padInfo(inW, kW, sW, dW, padding);
        const f = fuse(n, true);
        const outShapeIr = staticShape(f.outIr);
        const outShapeNHWC = cf ? toLast(rank + 2).map((p) => outShapeIr[p]) : outShapeIr;
        const outH = rank === 1 ? 1 : outShapeNHWC[1];
        const outW = outShapeNHWC[rank];
        const outC = outShapeNHWC[rank + 1];
        if (outH !== ph.out || outW !== pw.out) throw new Error(`${n.name}: output shape ${outShapeIr} disagrees with padding math ${ph.out}x${pw.out}`);
        const outIrL = lt(f.outIr, f.outQ);
        const outL = cf ? newT(`${n.name}/nhwc`, outShapeNHWC, f.outQ) : outIrL;
        const common = {
          in: inL,
          out: outL,
          batch: inT.shape[0],
          inH,
          inW,
          inC,
          outH,
          outW,
          kH,
          kW,
          strideH: sH,
          strideW: sW,
          dilH: dH,
          dilW: dW,
          padTop: ph.before,
          padLeft: pw.before,
          zpIn: inT.q.zeroPoint,
        };
        let wq, bias;
        if (!dw) {
          const k = n.weights.kernel; // [kh?, kw, cin/g, F]
          const groups = Number(c.groups ?? 1);
          const F = k.shape[k.shape.length - 1];
          const per = k.data.length / F;
          const wt = new Float32Array(k.data.length);
          for (let i = 0; i < per; i++) for (let o = 0; o < F; o++) wt[o * per + i] = k.data[i * F + o];
          wq = quantizeWeightsPerChannel(wt, F);
          bias = foldBias(n.weights.bias?.data ?? null, wq.q, wq.scales, inT.q.scale, inT.q.zeroPoint);
          const ms = Array.from(wq.scales, (s) => qm((inT.q.scale * s) / f.accQ.scale, n, 'output'));
          // layout 1 (runtime: interior outputs as one contiguous DENSE vector) where the taps of
          // an output are contiguous in NHWC: one kernel row, no width dilation, one group
          const layout = groups === 1 && kH === 1 && dW === 1 ? 1 : 0;
          emit(
            'CONV2D',
            {
              ...common,
              outC,
              weights: constI8(layout ? blockRows4(wq.q, F, per) : wq.q, `${n.name} weights`),
              bias: constI32(bias, `${n.name} bias`),
              mult: constI32(
                ms.map((m) => m.mult),
                `${n.name} mult`,
              ),
              shift: constShift(ms, `${n.name} shift`),
              zpOut: f.accQ.zeroPoint,
              actMin: f.range[0],
              actMax: f.range[1],
              lut: f.lut,
              groups,
              layout,
            },
            [inL],
            [outL],
            f.fused ? `${n.name}+${f.fused}` : n.name,
          );
        } else {
          const k = n.weights.depthwise_kernel; // [kh?, kw, C, dm]
          const dm = k.shape[k.shape.length - 1];
          const OC = inC * dm;
          const taps = k.data.length / OC;
          const wt = new Float32Array(k.data.length);
          for (let t = 0; t < taps; t++) for (let o = 0; o < OC; o++) wt[o * taps + t] = k.data[t * OC + o];
          wq = quantizeWeightsPerChannel(wt, OC);
          bias = foldBias(n.weights.bias?.data ?? null, wq.q, wq.scales, inT.q.scale, inT.q.zeroPoint);
          const back = new Int8Array(wq.q.length);
          for (let t = 0; t < taps; t++) for (let o = 0; o < OC; o++) back[t * OC + o] = wq.q[o * taps + t];
          const ms = Array.from(wq.scales, (s) => qm((inT.q.scale * s) / f.accQ.scale, n, 'output'));
          emit(
            'DEPTHWISE_CONV2D',
            {
              ...common,
              depthMult: dm,
              weights: constI8(back, `${n.name} weights`),
              bias: constI32(bias, `${n.name} bias`),
              mult: constI32(
                ms.map((m) => m.mult),
                `${n.name} mult`,
              ),
              shift: constShift(ms, `${n.name} shift`),
              zpOut: f.accQ.zeroPoint,
              actMin: f.range[0],
              actMax: f.range[1],
              lut: f.lut,
            },
            [inL],
            [outL],
            f.fused ? `${n.name}+${f.fused}` : n.name,
          );
        }
        if (cf) transposeL(outL, toFirst(rank + 2), n.name, outIrL);
        break;
      }
      case 'BatchNormalization': {
        const inL = lt(inIr);
        const inT = tensors[inL];
        const r = inT.shape.length;
        let axis = Array.isArray(c.axis) ? (c.axis.length === 1 ? c.axis[0] : NaN) : (c.axis ?? -1);
        if (axis < 0) axis += r;
        if (axis !== r - 1)
          throw unsupportedLayer(
            n,
            `option axis=${JSON.stringify(c.axis)}`,
            'the last axis (channels_last), or a BatchNormalization foldable into the preceding Dense/Conv',
          );
        const C = inT.shape[r - 1];
        const eps = Number(c.epsilon ?? 1e-3);
        const { gamma, beta, moving_mean: mean, moving_variance: vr } = n.weights;
        const w = new Float32Array(C);
        const b = new Float32Array(C);
        for (let i = 0; i < C; i++) {
          w[i] = gamma.data[i] / Math.sqrt(vr.data[i] + eps);
          b[i] = beta.data[i] - mean.data[i] * w[i];
        }
        const f = fuse(n, true);
        const outL = lt(f.outIr, f.outQ);
        const wq = quantizeWeightsPerChannel(w, C);
        const bias = foldBias(b, wq.q, wq.scales, inT.q.scale, inT.q.zeroPoint);
        const ms = Array.from(wq.scales, (s) => qm((inT.q.scale * s) / f.accQ.scale, n, 'output'));
        const W = prod(inT.shape.slice(1, -1));
        emit(
          'DEPTHWISE_CONV2D',
          {
            in: inL,
            out: outL,
            batch: inT.shape[0],
            inH: 1,
            inW: W,
            inC: C,
            outH: 1,
            outW: W,
            depthMult: 1,
            kH: 1,
            kW: 1,
            strideH: 1,
            strideW: 1,
            dilH: 1,
            dilW: 1,
            padTop: 0,
            padLeft: 0,
            zpIn: inT.q.zeroPoint,
            weights: constI8(wq.q, `${n.name} weights`),
            bias: constI32(bias, `${n.name} bias`),
            mult: constI32(
              ms.map((m) => m.mult),
              `${n.name} mult`,
            ),
            shift: constShift(ms, `${n.name} shift`),
            zpOut: f.accQ.zeroPoint,
            actMin: f.range[0],
            actMax: f.range[1],
            lut: f.lut,
          },
          [inL],
          [outL],
          f.fused ? `${n.name}+${f.fused}` : n.name,
        );
        notes.push(`BatchNormalization '${n.name}' kept standalone (as a 1x1 depthwise op): its input is not a linear Dense/Conv used only by it`);
        break;
      }
      case 'MaxPooling1D':
      case 'MaxPooling2D':
      case 'AveragePooling1D':
      case 'AveragePooling2D':
      case 'GlobalMaxPooling1D':
      case 'GlobalMaxPooling2D':
      case 'GlobalAveragePooling1D':
      case 'GlobalAveragePooling2D': {
        const rank = cls.includes('1D') ? 1 : 2;
        const isMax = cls.includes('Max');
        const global = cls.startsWith('Global');
        const { cf, inL, inT, inH, inW, C } = nhwcInput(inIr, rank, c, n.name);
        let kH, kW, sH, sW, ph, pw;
        if (global) {
          kH = inH;
          kW = inW;
          sH = 1;
          sW = 1;
          ph = { out: 1, before: 0 };
          pw = { out: 1, before: 0 };
        } else {
          const ps: number[] = c.pool_size;
          const st: number[] = c.strides ?? ps;
          const padding = String(c.padding ?? 'valid');
          kH = rank === 1 ? 1 : ps[0];
          kW = ps[rank - 1];
          sH = rank === 1 ? 1 : st[0];
          sW = st[rank - 1];
          ph = padInfo(inH, kH, sH, 1, rank === 1 ? 'valid' : padding);
          pw = padInfo(inW, kW, sW, 1, padding);
        }
        // pooling keeps the input's qparams
        qOverride.set(outIr, inT.q);
        const outIrL = lt(outIr, inT.q);
        const nhwc = [inT.shape[0], ...(rank === 2 ? [ph.out] : []), pw.out, C];
        const outL = cf && !global ? newT(`${n.name}/nhwc`, nhwc, inT.q) : outIrL;
        emit(
          isMax ? 'MAX_POOL2D' : 'AVG_POOL2D',
          {
            in: inL,
            out: outL,
            batch: inT.shape[0],
            inH,
            inW,
            channels: C,
            outH: ph.out,
            outW: pw.out,
            kH,
            kW,
            strideH: sH,
            strideW: sW,
            padTop: ph.before,
            padLeft: pw.before,
            actMin: -128,
            actMax: 127,
          },
          [inL],
          [outL],
          n.name,
        );
        if (cf && !global) transposeL(outL, toFirst(rank + 2), n.name, outIrL);
        break;
      }
      case 'Activation':
      case 'ReLU':
      case 'LeakyReLU':
      case 'ELU':
      case 'ThresholdedReLU':
      case 'Softmax': {
        const inL = lt(inIr);
        const inT = tensors[inL];
        const isSoftmax = cls === 'Softmax' || c.activation === 'softmax';
        if (c.activation === 'log_softmax') throw unsupportedLayer(n, 'activation "log_softmax"', 'softmax, element-wise activations');
        if (isSoftmax) {
          const r = inT.shape.length;
          let axis = Array.isArray(c.axis) ? (c.axis.length === 1 ? c.axis[0] : NaN) : (c.axis ?? -1);
          if (axis < 0) axis += r;
          if (axis !== r - 1) throw unsupportedLayer(n, `option axis=${JSON.stringify(c.axis)}`, 'softmax over the last axis');
          const outL = lt(outIr, SOFTMAX_OUT);
          const depth = inT.shape[r - 1];
          emit(
            'SOFTMAX',
            { in: inL, out: outL, rows: prod(inT.shape) / depth, depth, table: constU32(softmaxTable(inT.q.scale), `${n.name} exp table`) },
            [inL],
            [outL],
            n.name,
          );
          break;
        }
        const fn = elementwiseFn(n);
        if (!fn) throw unsupportedLayer(n, `activation ${JSON.stringify(c.activation)}`, 'element-wise activations and softmax');
        const outQ = fixedActivationQ(n) ?? irQ(outIr);
        const outL = lt(outIr, outQ);
        emit('LUT', { in: inL, out: outL, count: prod(inT.shape), table: constI8(buildLut(fn, inT.q, outQ), `${n.name} lut`) }, [inL], [outL], n.name);
        break;
      }
      case 'PReLU': {
        const inL = lt(inIr);
        const inT = tensors[inL];
        const alpha = n.weights.alpha;
        const inner = inT.shape.slice(1);
        const as = [...alpha.shape];
        while (as.length > inner.length) as.shift();
        while (as.length < inner.length) as.unshift(1);
        let lead = 0;
        while (lead < as.length && as[lead] === 1) lead++;
        const suffix = as.slice(lead);
        if (suffix.join(',') !== inner.slice(lead).join(',')) {
          throw unsupportedLayer(
            n,
            `option shared_axes=${JSON.stringify(c.shared_axes)}`,
            'alpha shared over leading axes only (e.g. shared_axes=[1] for [batch, steps, channels])',
          );
        }
        const channels = prod(suffix);
        const outQ = irQ(outIr);
        const outL = lt(outIr, outQ);
        let amax = 0;
        for (const v of alpha.data) amax = Math.max(amax, Math.abs(v));
        const sA = amax > 0 ? Math.fround(amax / 127) : 1;
        const aq = new Int8Array(channels);
        for (let i = 0; i < channels; i++) aq[i] = Math.max(-127, Math.min(127, Math.round(alpha.data[i] / sA)));
        const pos = qm(inT.q.scale / outQ.scale, n, 'positive');
        const neg = qm((inT.q.scale * sA) / outQ.scale, n, 'negative');
        emit(
          'PRELU',
          {
            in: inL,
            out: outL,
            count: prod(inT.shape),
            channels,
            zpIn: inT.q.zeroPoint,
            zpOut: outQ.zeroPoint,
            posMult: pos.mult,
            posShift: pos.shift,
            alpha: constI8(aq, `${n.name} alpha`),
            negMult: neg.mult,
            negShift: neg.shift,
          },
          [inL],
          [outL],
          n.name,
        );
        break;
      }
      case 'Add':
      case 'Subtract':
      case 'Average': {
        const ins = n.inputs.map((t) => lt(t));
        const shapes = ins.map((i) => tensors[i].shape.join(','));
        if (new Set(shapes).size !== 1) throw unsupportedLayer(n, `broadcasting inputs [${shapes.join('] [')}]`, 'inputs of identical shape');
        const f = fuse(n, false);
        const outL = lt(f.outIr, f.outQ);
        const scales = ins.map((i) => tensors[i].q.scale);
        const twiceMax = 2 * Math.max(...scales);
        const leftShift = 20;
        const groups = ins.map((i, k) => {
          const sign = cls === 'Subtract' && k === 1 ? -1 : 1;
          const m = qm((sign * tensors[i].q.scale) / twiceMax, n, `input ${k}`);
          return { tensor: i, zp: tensors[i].q.zeroPoint, mult: m.mult, shift: m.shift };
        });
        const o = qm(twiceMax / ((1 << leftShift) * f.accQ.scale * (cls === 'Average' ? ins.length : 1)), n, 'output');
        emit(
          'ADD_N',
          {
            out: outL,
            count: prod(tensors[outL].shape),
            zpOut: f.accQ.zeroPoint,
            actMin: f.range[0],
            actMax: f.range[1],
            leftShift,
            outMult: o.mult,
            outShift: o.shift,
            n: groups.length,
            rep: groups,
          },
          ins,
          [outL],
          f.fused ? `${n.name}+${f.fused}` : n.name,
        );
        break;
      }
      case 'Multiply': {
        const ins = n.inputs.map((t) => lt(t));
        const shapes = ins.map((i) => tensors[i].shape.join(','));
        if (new Set(shapes).size !== 1) throw unsupportedLayer(n, `broadcasting inputs [${shapes.join('] [')}]`, 'inputs of identical shape');
        const f = fuse(n, false);
        const outL = lt(f.outIr, f.outQ);
        let acc = ins[0];
        let accRange = cal.ranges.get(n.inputs[0]) ?? { min: -1, max: 1 };
        for (let k = 1; k < ins.length; k++) {
          const last = k === ins.length - 1;
          const rb = cal.ranges.get(n.inputs[k]) ?? { min: -1, max: 1 };
          const pr = [accRange.min * rb.min, accRange.min * rb.max, accRange.max * rb.min, accRange.max * rb.max];
          accRange = { min: Math.min(...pr, 0), max: Math.max(...pr, 0) };
          const oq = last ? f.accQ : asymmetricQParams(accRange.min, accRange.max);
          const o = last ? outL : newT(`${n.name}/product${k}`, tensors[outL].shape, oq);
          const a = tensors[acc],
            b = tensors[ins[k]];
          const m = qm((a.q.scale * b.q.scale) / oq.scale, n, 'output');
          emit(
            'MUL',
            {
              a: acc,
              b: ins[k],
              out: o,
              count: prod(a.shape),
              zpA: a.q.zeroPoint,
              zpB: b.q.zeroPoint,
              zpOut: oq.zeroPoint,
              mult: m.mult,
              shift: m.shift,
              actMin: last ? f.range[0] : -128,
              actMax: last ? f.range[1] : 127,
            },
            [acc, ins[k]],
            [o],
            f.fused ? `${n.name}+${f.fused}` : n.name,
          );
          if (!last) notes.push(`Multiply '${n.name}': intermediate product range estimated from the input ranges`);
          acc = o;
        }
        break;
      }
      case 'Maximum':
      case 'Minimum': {
        const ins = n.inputs.map((t) => lt(t));
        const shapes = ins.map((i) => tensors[i].shape.join(','));
        if (new Set(shapes).size !== 1) throw unsupportedLayer(n, `broadcasting inputs [${shapes.join('] [')}]`, 'inputs of identical shape');
        const outQ = irQ(outIr);
        const outL = lt(outIr, outQ);
        const groups = ins.map((i, k) => {
          const m = qm(tensors[i].q.scale / outQ.scale, n, `input ${k}`);
          return { tensor: i, zp: tensors[i].q.zeroPoint, mult: m.mult, shift: m.shift };
        });
        emit(
          'MAXMIN',
          {
            out: outL,
            count: prod(tensors[outL].shape),
            isMin: cls === 'Minimum' ? 1 : 0,
            zpOut: outQ.zeroPoint,
            actMin: -128,
            actMax: 127,
            n: groups.length,
            rep: groups,
          },
          ins,
          [outL],
          n.name,
        );
        break;
      }
      case 'Concatenate': {
        const ins = n.inputs.map((t) => lt(t));
        const outQ = irQ(outIr);
        const outL = lt(outIr, outQ);
        const oShape = tensors[outL].shape;
        let axis = Number(c.axis ?? -1);
        if (axis < 0) axis += oShape.length;
        const groups = ins.map((i, k) => {
          const t = tensors[i];
          const same = t.q.scale === outQ.scale && t.q.zeroPoint === outQ.zeroPoint;
          const m = same ? { mult: 0, shift: 0 } : qm(t.q.scale / outQ.scale, n, `input ${k}`);
          return { tensor: i, inner: prod(t.shape.slice(axis)), zp: t.q.zeroPoint, mult: m.mult, shift: m.shift, identity: same ? 1 : 0 };
        });
        emit('CONCAT', { out: outL, outer: prod(oShape.slice(0, axis)), zpOut: outQ.zeroPoint, n: groups.length, rep: groups }, ins, [outL], n.name);
        break;
      }
      case 'Embedding': {
        const inL = lt(inIr);
        if (tensors[inL].dtype !== 'int32') throw unsupportedLayer(n, 'input that is not a model input of token ids', 'Embedding directly on a model input');
        const e = n.weights.embeddings;
        const [vocab, dim] = e.shape;
        let mn = 0,
          mx = 0;
        for (const v of e.data) {
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
        const outQ = asymmetricQParams(mn, mx);
        const outL = lt(outIr, outQ);
        const table = new Int8Array(e.data.length);
        for (let i = 0; i < table.length; i++) table[i] = quantizeValue(e.data[i], outQ);
        emit('GATHER', { ids: inL, out: outL, count: prod(tensors[inL].shape), vocab, dim, table: constI8(table, `${n.name} table`) }, [inL], [outL], n.name);
        break;
      }
      case 'Permute': {
        const inL = lt(inIr);
        const dims: number[] = c.dims;
        const outL = lt(outIr, tensors[inL].q);
        transposeL(inL, [0, ...dims], n.name, outL);
        break;
      }
      case 'RepeatVector': {
        const inL = lt(inIr);
        const rep = Number(c.n);
        const outL = lt(outIr, tensors[inL].q);
        layout(inL, tensors[outL].shape, [{ inAxis: 0 }, { inAxis: -1, div: rep }, { inAxis: 1 }], n.name, outL);
        break;
      }
      case 'ZeroPadding1D':
      case 'ZeroPadding2D':
      case 'Cropping1D':
      case 'Cropping2D':
      case 'UpSampling1D':
      case 'UpSampling2D': {
        const rank = cls.endsWith('1D') ? 1 : 2;
        const cf = c.data_format === 'channels_first';
        const inL = lt(inIr);
        const inT = tensors[inL];
        const outL = lt(outIr, inT.q);
        const r = inT.shape.length;
        const spatial = cf ? Array.from({ length: rank }, (_, i) => i + 2) : Array.from({ length: rank }, (_, i) => i + 1);
        const axes = inT.shape.map((_, a) => ({ inAxis: a, padBefore: 0, div: 1 }));
        if (cls.startsWith('UpSampling')) {
          if (rank === 2 && c.interpolation && c.interpolation !== 'nearest')
            throw unsupportedLayer(n, `option interpolation=${JSON.stringify(c.interpolation)}`, 'nearest');
          const s: number[] = Array.isArray(c.size) ? c.size : [c.size ?? 2];
          spatial.forEach((a, i) => (axes[a].div = s[i] ?? s[0]));
        } else {
          const key = cls.startsWith('Zero') ? 'padding' : 'cropping';
          const pp = pairs(c[key] ?? 1, rank, `${n.name}.${key}`);
          const sign = key === 'padding' ? 1 : -1;
          spatial.forEach((a, i) => (axes[a].padBefore = sign * pp[i][0]));
        }
        void r;
        layout(inL, tensors[outL].shape, axes, n.name, outL);
        break;
      }
      default:
        throw new UserError(
          `layer '${n.name}' (${cls}): not supported by the converter; supported: Dense, Conv1D/2D, DepthwiseConv1D/2D, SeparableConv1D/2D, pooling, BatchNormalization, activations, Softmax, PReLU, Add/Subtract/Average/Multiply/Maximum/Minimum/Concatenate, Embedding, Flatten/Reshape/Permute/RepeatVector/ZeroPadding/Cropping/UpSampling, Dropout-like layers`,
          EXIT.UNSUPPORTED,
        );
    }
  }

  const outputs = g.outputs.map((id) => {
    const i = irToL.get(id);
    if (i === undefined) throw new Error(`model output '${g.tensors[id].name}' was not produced`);
    return i;
  });
  const inputs = g.inputs.map((id) => irToL.get(id)!);
  return { tensors, ops, inputs, outputs, batch: B, notes };
}
