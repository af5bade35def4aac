/** The lowering context: the tensor list, the op list and the helpers every layer's lowering calls. */
import type { Graph, IRNode } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';
import { OP_BY_NAME } from '../blob/spec.ts';
import { quantizeMultiplier } from '../fixedpoint.ts';
import {
  activationRange,
  buildLut,
  buildLut16,
  dtypeRange,
  symmetricQParams16,
  SIGMOID_OUT,
  TANH_OUT,
  Q15_OUT,
  type Precision,
  type QParams,
} from './qparams.ts';
import { maskSourceIds, outOfRange, type RecurrentLowerCtx } from './lower-rnn.ts';
import {
  ConstRef,
  ParamValue,
  LTensor,
  LOp,
  prod,
  rowStrides,
  constI8,
  constI16,
  elementwiseFn,
  activationLut,
  clampActivation,
  consumers,
  LowerOptions,
  type Calibration,
} from './lower-util.ts';

/** The state and helpers every layer's lowering uses (tensors, ops, qparams, LAYOUT views, activation fusion). */
function baseCtx(g: Graph, cal: Calibration, opts: LowerOptions) {
  const B = opts.batch;
  const tensors: LTensor[] = [];
  const ops: LOp[] = [];
  const notes: string[] = [];
  const irToL = new Map<number, number>();
  /** The activation precision of the layer being lowered (lowerGraph sets it per node). */
  const prec = { cur: 'int8' as Precision };
  const overrides = { int8: new Map<number, QParams>(), int16: new Map<number, QParams>() };
  /** Fixed qparams of IR tensors in the current precision (fused LUT outputs, pooling, aliases). */
  const qOverride = {
    set: (irId: number, q: QParams) => overrides[prec.cur].set(irId, q),
    get: (irId: number) => overrides[prec.cur].get(irId),
  };
  /** REQUANT copies of tensors in the other precision, by `${tensor}:${dtype}`. */
  const requants = new Map<string, number>();
  const absorbed = new Set<IRNode>();

  const staticShape = (irId: number): number[] => {
    const t = g.tensors[irId];
    return t.shape.map((d, i) => {
      if (i === 0) return B * (t.batchMultiple ?? 1);
      if (d === null) throw new UserError(`tensor '${t.name}' has a free dimension at axis ${i}: only the batch may be free`, EXIT.UNSUPPORTED);
      return d;
    });
  };
  /** The qparams of an IR tensor in precision dt (int16: symmetric, from the calibrated range). */
  const irQ = (irId: number, dt: Precision = prec.cur): QParams => {
    const o = overrides[dt].get(irId);
    if (o) return o;
    if (g.tensors[irId].dtype === 'int32') return { scale: 1, zeroPoint: 0 };
    if (dt === 'int16') {
      const r = cal.ranges.get(irId);
      if (!r) throw new Error(`no calibration range for tensor '${g.tensors[irId].name}'`);
      return symmetricQParams16(r.min, r.max);
    }
    const q = cal.qparams.get(irId);
    if (!q) throw new Error(`no calibration range for tensor '${g.tensors[irId].name}'`);
    return q;
  };
  const newT = (
    name: string,
    shape: number[],
    q: QParams,
    ir = -1,
    dtype: 'int8' | 'int16' | 'int32' = prec.cur,
    aliasOf?: number,
    storage: 'arena' | 'state' = 'arena',
  ): number => {
    const index = tensors.length;
    const count = prod(shape);
    const size = dtype === 'int32' ? 4 : dtype === 'int16' ? 2 : 1;
    tensors.push({ index, name, dtype, storage, shape, bytes: count * size, q, ir, ...(aliasOf !== undefined ? { aliasOf } : {}) });
    return index;
  };
  /**
   * The LTensor of an IR tensor in the current precision: created on first request as its own
   * buffer (the producer's precision); read by a layer of the other precision, a REQUANT copy.
   */
  const lt = (irId: number, q?: QParams): number => {
    const i = irToL.get(irId);
    if (i !== undefined) return homeDtypeFits(i) ? i : requantTo(i, irId, prec.cur);
    const t = g.tensors[irId];
    if (q) qOverride.set(irId, q);
    const made = newT(t.name, staticShape(irId), irQ(irId), irId, t.dtype === 'int32' ? 'int32' : prec.cur);
    irToL.set(irId, made);
    return made;
  };
  const homeDtypeFits = (i: number) => tensors[i].dtype === 'int32' || tensors[i].dtype === prec.cur;
  /** The LTensor of an IR tensor as its producer wrote it (whatever its precision). */
  const home = (irId: number): number => irToL.get(irId) ?? lt(irId);
  /** REQUANT of tensor `fromL` (IR tensor irId) into dtype dt, once per tensor and dtype. */
  const requantTo = (fromL: number, irId: number, dt: Precision): number => {
    const key = `${fromL}:${dt}`;
    const done = requants.get(key);
    if (done !== undefined) return done;
    const src = tensors[fromL];
    const q = irQ(irId, dt);
    const out = newT(`${src.name}/${dt}`, src.shape, q, -1, dt);
    const r = requantMultiplier(src.q.scale / q.scale, src.name);
    const [lo, hi] = dtypeRange(dt);
    const params = { in: fromL, out, count: prod(src.shape), zpIn: src.q.zeroPoint, zpOut: q.zeroPoint, mult: r.mult, shift: r.shift, outMin: lo, outMax: hi };
    emit('REQUANT', params, [fromL], [out], `${src.name}/requant`);
    requants.set(key, out);
    return out;
  };
  const requantMultiplier = (d: number, name: string) => {
    try {
      return quantizeMultiplier(d);
    } catch {
      throw new UserError(outOfRange(`tensor '${name}'`, 'int8/int16 requantization', d), EXIT.BAD_INPUT);
    }
  };
  const alias = (irId: number, ofL: number) => {
    const t = g.tensors[irId];
    const root = tensors[ofL];
    if (root.dtype !== 'int32') overrides[root.dtype].set(irId, root.q);
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

  /** The value range of the current precision (the clamp of an op without activation). */
  const actRange = (): [number, number] => dtypeRange(prec.cur);
  return { g, cal, opts, B, tensors, ops, notes, irToL, prec, qOverride, absorbed, staticShape, irQ, newT, lt, home, alias, qm, emit, actRange };
}

function viewCtx(base: ReturnType<typeof baseCtx>) {
  const { g, opts, tensors, prec, qOverride, absorbed, irQ, newT, lt, emit } = base;
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
    emit(
      'LAYOUT',
      { in: inL, out, elemSize: inT.dtype === 'int32' ? 4 : inT.dtype === 'int16' ? 2 : 1, rank: outShape.length, fill: inT.q.zeroPoint, rep: groups },
      [inL],
      [out],
      layer,
    );
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
    const full = dtypeRange(prec.cur);
    const cs = consumers(g, pre);
    if (cs.length === 1 && !g.outputs.includes(pre) && cs[0].inputs.length === 1) {
      const a = cs[0];
      const cl = clampActivation(a);
      if (cl) {
        absorbed.add(a);
        const post = a.outputs[0];
        return { outIr: post, outQ: irQ(post), range: activationRange(cl, irQ(post), prec.cur), lut: -1 as ParamValue, accQ: irQ(post), fused: a.name };
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
          range: full,
          lut: (prec.cur === 'int16'
            ? constI16(buildLut16(f, preQ, postQ), `${a.name} lut`)
            : constI8(activationLut(a, f, preQ, postQ, opts.rounding), `${a.name} lut`)) as ParamValue,
          accQ: preQ,
          fused: a.name,
        };
      }
    }
    return { outIr: pre, outQ: preQ, range: full, lut: -1 as ParamValue, accQ: preQ, fused: null as string | null };
  };

  /** TFLite's fixed output qparams for sigmoid and tanh. */
  function fixedActivationQ(a: IRNode): QParams | null {
    if (a.className !== 'Activation') return null;
    if (prec.cur === 'int16') return a.config.activation === 'sigmoid' || a.config.activation === 'tanh' ? Q15_OUT : null;
    if (a.config.activation === 'sigmoid') return SIGMOID_OUT;
    if (a.config.activation === 'tanh') return TANH_OUT;
    return null;
  }

  /** An elementwise table in the current precision (int8: 256 entries; int16: TFLite's 513, interpolated). */
  const lutConst = (f: (x: number) => number, inQ: QParams, outQ: QParams, what: string): ConstRef =>
    prec.cur === 'int16' ? constI16(buildLut16(f, inQ, outQ), what) : constI8(buildLut(f, inQ, outQ), what);
  return { layout, transposeL, nhwcInput, toLast, toFirst, fuse, fixedActivationQ, lutConst };
}

function recurrentCtx(base: ReturnType<typeof baseCtx>, passesMask: (className: string) => boolean) {
  const { g, cal, opts, B, staticShape, irQ, newT, lt, emit } = base;
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
      const src = maskSourceIds(g, ir, passesMask);
      return src < 0 ? -1 : lt(src);
    },
  };

  return { nodeByName, rctx };
}

/** `passesMask`: whether a class passes a time mask on unchanged (the layer table's mask rule). */
export function makeLowerCtx(g: Graph, cal: Calibration, opts: LowerOptions, passesMask: (className: string) => boolean) {
  const base = baseCtx(g, cal, opts);
  return { ...base, ...viewCtx(base), ...recurrentCtx(base, passesMask) };
}

export type LowerCtx = ReturnType<typeof makeLowerCtx>;
