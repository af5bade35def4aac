/**
 * Seeded random one-op blobs for the runtime and corruption tests: every op, random shapes,
 * strides, paddings, dilations, zero points and per-channel multipliers.
 */
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { DTYPE, STORAGE } from '../../tools/blob/spec.ts';
import { softmaxTfliteParams } from '../../tools/quantize/softmax-tflite.ts';
import { blockRows4 } from '../../tools/quantize/reference-rnn.ts';
import { meanTfliteParams } from '../../tools/quantize/mean-tflite.ts';

export type Rng = () => number;

/** mulberry32, the converter's own deterministic PRNG. */
import { rng } from '../../tools/quantize/calibrate.ts';
export { rng };

export const rint = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
export const pick = <T>(r: Rng, xs: T[]): T => xs[Math.floor(r() * xs.length)];

export function randI8(r: Rng, n: number, lo = -128, hi = 127): Int8Array {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = rint(r, lo, hi);
  return a;
}
function randI16(r: Rng, n: number): Int16Array {
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = rint(r, -32768, 32767);
  return a;
}

/** a TFLite-like multiplier: mult in [2^30, 2^31), shift mostly moderate, sometimes extreme */
export function randMS(r: Rng, allowNeg = false): { mult: number; shift: number } {
  let mult = rint(r, 1 << 30, 2147483647);
  if (allowNeg && r() < 0.3) mult = -mult;
  if (r() < 0.03) mult = 0;
  const u = r();
  const shift = u < 0.05 ? -31 : u < 0.08 ? rint(r, 1, 30) : u < 0.12 ? rint(r, -31, -21) : rint(r, -16, 1);
  return { mult, shift };
}

function randAct(r: Rng): { actMin: number; actMax: number } {
  if (r() < 0.5) return { actMin: -128, actMax: 127 };
  const lo = rint(r, -128, 20);
  return { actMin: lo, actMax: rint(r, lo, 127) };
}

export interface OneOp {
  name: string;
  blob: Uint8Array;
  inputs: (Int8Array | Int16Array | Int32Array)[];
  /** expect invoke to fail with BAD_INPUT_VALUE */
  badInput?: boolean;
}

const a16 = (v: number) => Math.ceil(v / 16) * 16;

/** Allocate arena tensors back to back (16-aligned). */
class Arena {
  end = 0;
  constructor(readonly b: BlobBuilder) {}
  t(dtype: number, elements: number): number {
    const bytes = elements * (dtype === DTYPE.INT8 ? 1 : dtype === DTYPE.INT16 ? 2 : 4);
    const off = this.end;
    this.end = a16(off + bytes);
    return this.b.addTensor({ dtype, storage: STORAGE.ARENA, offset: off, bytes });
  }
}

function finish(b: BlobBuilder, arena: Arena, ins: number[], outs: number[], elems: (t: number) => number, r: Rng, scratch = 0): Uint8Array {
  b.setIO(
    ins.map((t, i) => ({ tensor: t, dims: [1, elems(t)], scale: 0.05 + r(), zeroPoint: 0, name: `in${i}` })),
    outs.map((t, i) => ({ tensor: t, dims: [1, elems(t)], scale: 0.01 + r(), zeroPoint: 0, name: `out${i}` })),
  );
  b.setPlan({ arenaSize: arena.end + rint(r, 0, 2) * 16, stateSize: 0, scratchSize: scratch, batch: 1 });
  return b.build();
}

/** multiplier that maps a typical accumulator of K taps to roughly +-64 (plus random extremes) */
function realisticMS(r: Rng, K: number): { mult: number; shift: number } {
  if (r() < 0.15) return randMS(r);
  const typical = Math.sqrt(K) * 128 * 73;
  const shift = Math.max(-31, Math.min(0, -Math.round(Math.log2(typical / 64)) + rint(r, -2, 2)));
  return { mult: rint(r, 1 << 30, 2147483647), shift };
}

function perChannel(b: BlobBuilder, r: Rng, outC: number, weights: Int8Array): Record<string, number> {
  const K = Math.max(1, weights.length / outC);
  const ms = Array.from({ length: outC }, () => realisticMS(r, K));
  const useBias = r() < 0.85;
  return {
    weights: b.addConst(weights),
    bias: useBias ? b.addConstI32(Array.from({ length: outC }, () => rint(r, -(1 << 20), 1 << 20))) : -1,
    mult: b.addConstI32(ms.map((m) => m.mult)),
    shift: b.addConstI8(ms.map((m) => m.shift)),
    lut: r() < 0.2 ? b.addConst(randI8(r, 256)) : -1,
  };
}

function conv2dLike(r: Rng, depthwise: boolean): OneOp {
  for (;;) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const batch = rint(r, 1, 2);
    const inH = rint(r, 1, 7);
    const inW = rint(r, 1, 8);
    const groups = depthwise ? 1 : pick(r, [1, 1, 1, 2, 3]);
    const icg = rint(r, 1, 5);
    const inC = depthwise ? rint(r, 1, 6) : groups * icg;
    const dm = rint(r, 1, 3);
    const outC = depthwise ? inC * dm : groups * rint(r, 1, 4);
    const kH = rint(r, 1, 3);
    const kW = rint(r, 1, 4);
    const sH = rint(r, 1, 3);
    const sW = rint(r, 1, 3);
    const dH = rint(r, 1, 2);
    const dW = rint(r, 1, 3);
    const padTop = rint(r, 0, (kH - 1) * dH);
    const padLeft = rint(r, 0, (kW - 1) * dW);
    const padB = rint(r, 0, (kH - 1) * dH);
    const padR = rint(r, 0, (kW - 1) * dW);
    const outH = Math.floor((inH + padTop + padB - (kH - 1) * dH - 1) / sH) + 1;
    const outW = Math.floor((inW + padLeft + padR - (kW - 1) * dW - 1) / sW) + 1;
    if (outH < 1 || outW < 1) continue;
    const tin = ar.t(DTYPE.INT8, batch * inH * inW * inC);
    const tout = ar.t(DTYPE.INT8, batch * outH * outW * outC);
    const wN = depthwise ? kH * kW * outC : outC * kH * kW * icg;
    // CONV2D layout 1 (DENSE-style 4-row blocks; groups 1): outputs take the kernel-row DENSE
    // path when dilW = 1, so bias those geometries in
    const layout = !depthwise && groups === 1 && r() < 0.6 ? 1 : 0;
    const c = perChannel(b, r, outC, randI8(r, wN, -127, 127));
    const common = {
      in: tin,
      out: tout,
      batch,
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
      padTop,
      padLeft,
      zpIn: rint(r, -128, 127),
      zpOut: rint(r, -128, 127),
      ...randAct(r),
      ...c,
    };
    if (depthwise) b.addOp('DEPTHWISE_CONV2D', { ...common, depthMult: dm });
    else b.addOp('CONV2D', { ...common, outC, groups, layout });
    const blob = finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes, r);
    return { name: depthwise ? 'DEPTHWISE_CONV2D' : 'CONV2D', blob, inputs: [randI8(r, batch * inH * inW * inC)] };
  }
}

export const GENERATORS: Record<string, (r: Rng) => OneOp> = {
  DENSE(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const rows = rint(r, 1, 3);
    const inDim = pick(r, [1, 2, 3, 4, 5, 7, 8, 16, 17, rint(r, 1, 90)]);
    const outDim = pick(r, [1, 3, 4, 5, 8, 9, rint(r, 1, 21)]);
    // layout 2 reads the random bytes as offset binary (w = byte - 128)
    const layout = rint(r, 0, 2);
    const w = randI8(r, outDim * inDim, -127, 127);
    const tin = ar.t(DTYPE.INT8, rows * inDim);
    const tout = ar.t(DTYPE.INT8, rows * outDim);
    const c = perChannel(b, r, outDim, w);
    b.addOp('DENSE', { in: tin, out: tout, rows, inDim, outDim, ...c, zpOut: rint(r, -128, 127), ...randAct(r), layout });
    return { name: 'DENSE', blob: finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes, r), inputs: [randI8(r, rows * inDim)] };
  },
  CONV2D: (r) => conv2dLike(r, false),
  DEPTHWISE_CONV2D: (r) => conv2dLike(r, true),
  MAX_POOL2D: (r) => poolGen(r, 'MAX_POOL2D'),
  AVG_POOL2D: (r) => poolGen(r, 'AVG_POOL2D'),
  ADD_N(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const count = rint(r, 1, 40);
    const n = rint(r, 1, 4);
    const ins = Array.from({ length: n }, () => ar.t(DTYPE.INT8, count));
    const tout = ar.t(DTYPE.INT8, count);
    const leftShift = r() < 0.6 ? 20 : rint(r, 0, 24);
    const groups = ins.map((t) => {
      const ms = randMS(r, true);
      return { tensor: t, zp: rint(r, -128, 127), mult: ms.mult, shift: Math.min(ms.shift, 0) };
    });
    const om = randMS(r);
    b.addOp('ADD_N', { out: tout, count, zpOut: rint(r, -128, 127), ...randAct(r), leftShift, outMult: om.mult, outShift: om.shift, n: groups });
    return { name: 'ADD_N', blob: finish(b, ar, ins, [tout], () => count, r), inputs: ins.map(() => randI8(r, count)) };
  },
  MUL(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const count = rint(r, 1, 40);
    // half of the cases broadcast b: nB a divisor of count (b repeats over the output)
    const divisors = Array.from({ length: count }, (_, i) => i + 1).filter((d) => count % d === 0);
    const nB = r() < 0.5 ? count : pick(r, divisors);
    const ta = ar.t(DTYPE.INT8, count);
    const tb = ar.t(DTYPE.INT8, nB);
    const tout = ar.t(DTYPE.INT8, count);
    const ms = randMS(r);
    b.addOp('MUL', { a: ta, b: tb, out: tout, count, zpA: rint(r, -128, 127), zpB: rint(r, -128, 127), zpOut: rint(r, -128, 127), ...ms, ...randAct(r) });
    const elems = (t: number) => (t === tb ? nB : count);
    return { name: 'MUL', blob: finish(b, ar, [ta, tb], [tout], elems, r), inputs: [randI8(r, count), randI8(r, nB)] };
  },
  MAXMIN(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const count = rint(r, 1, 40);
    const n = rint(r, 1, 4);
    const ins = Array.from({ length: n }, () => ar.t(DTYPE.INT8, count));
    const tout = ar.t(DTYPE.INT8, count);
    const groups = ins.map((t) => ({ tensor: t, zp: rint(r, -128, 127), ...randMS(r) }));
    b.addOp('MAXMIN', { out: tout, count, isMin: rint(r, 0, 1), zpOut: rint(r, -128, 127), ...randAct(r), n: groups });
    return { name: 'MAXMIN', blob: finish(b, ar, ins, [tout], () => count, r), inputs: ins.map(() => randI8(r, count)) };
  },
  CONCAT(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const outer = rint(r, 1, 5);
    const n = rint(r, 1, 4);
    const inners = Array.from({ length: n }, () => rint(r, 1, 9));
    const ins = inners.map((k) => ar.t(DTYPE.INT8, outer * k));
    const tout = ar.t(DTYPE.INT8, outer * inners.reduce((a, c) => a + c, 0));
    const groups = ins.map((t, i) => ({ tensor: t, inner: inners[i], zp: rint(r, -128, 127), ...randMS(r), identity: r() < 0.3 ? 1 : 0 }));
    b.addOp('CONCAT', { out: tout, outer, zpOut: rint(r, -128, 127), n: groups });
    return { name: 'CONCAT', blob: finish(b, ar, ins, [tout], (t) => b.tensors[t].bytes, r), inputs: ins.map((t) => randI8(r, b.tensors[t].bytes)) };
  },
  SOFTMAX(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const rows = rint(r, 1, 4);
    const depth = rint(r, 1, 30);
    const beta = 0.5 + r();
    const scale = 0.01 + r() * 0.3;
    const table = Array.from({ length: 256 }, (_, d) => Math.round(2 ** 20 * Math.exp(-beta * scale * d)));
    const tin = ar.t(DTYPE.INT8, rows * depth);
    const tout = ar.t(DTYPE.INT8, rows * depth);
    b.addOp('SOFTMAX', { in: tin, out: tout, rows, depth, table: b.addConstI32(table) });
    return { name: 'SOFTMAX', blob: finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes, r), inputs: [randI8(r, rows * depth)] };
  },
  SOFTMAX_TFLITE(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const rows = rint(r, 1, 4);
    const depth = pick(r, [1, 2, 3, 10, rint(r, 1, 300)]);
    const scale = pick(r, [0.01 + r() * 0.3, 1 / 256, 1, 16]);
    const tin = ar.t(DTYPE.INT8, rows * depth);
    const tout = ar.t(DTYPE.INT8, rows * depth);
    b.addOp('SOFTMAX_TFLITE', { in: tin, out: tout, rows, depth, ...softmaxTfliteParams(0.5 + r(), scale) });
    return { name: 'SOFTMAX_TFLITE', blob: finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes, r), inputs: [randI8(r, rows * depth)] };
  },
  LUT(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const count = rint(r, 1, 60);
    const tin = ar.t(DTYPE.INT8, count);
    const tout = ar.t(DTYPE.INT8, count);
    b.addOp('LUT', { in: tin, out: tout, count, table: b.addConst(randI8(r, 256), rint(r, 1, 16)) });
    return { name: 'LUT', blob: finish(b, ar, [tin], [tout], () => count, r), inputs: [randI8(r, count)] };
  },
  PRELU(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const channels = rint(r, 1, 6);
    const count = channels * rint(r, 1, 8);
    const tin = ar.t(DTYPE.INT8, count);
    const tout = ar.t(DTYPE.INT8, count);
    const pm = randMS(r);
    const nm = randMS(r);
    b.addOp('PRELU', {
      in: tin,
      out: tout,
      count,
      channels,
      zpIn: rint(r, -128, 127),
      zpOut: rint(r, -128, 127),
      posMult: pm.mult,
      posShift: pm.shift,
      alpha: b.addConst(randI8(r, channels)),
      negMult: nm.mult,
      negShift: nm.shift,
    });
    return { name: 'PRELU', blob: finish(b, ar, [tin], [tout], () => count, r), inputs: [randI8(r, count)] };
  },
  LAYOUT(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const dtype = pick(r, [DTYPE.INT8, DTYPE.INT8, DTYPE.INT16, DTYPE.INT32]);
    const rank = rint(r, 1, 4);
    const inDims = Array.from({ length: rank }, () => rint(r, 1, 5));
    // row-major strides of the input, then a random permutation of the axes
    const strides = inDims.map((_, i) => inDims.slice(i + 1).reduce((a, c) => a * c, 1));
    const perm = inDims.map((_, i) => i).sort(() => r() - 0.5);
    const groups = perm.map((ax) => {
      const div = r() < 0.3 ? rint(r, 2, 3) : 1;
      const padBefore = r() < 0.4 ? rint(r, -2, 2) : 0;
      const outDim = Math.max(1, inDims[ax] * div + rint(r, -1, 2));
      return { outDim, inDim: inDims[ax], inStride: strides[ax], padBefore, div };
    });
    const inElems = inDims.reduce((a, c) => a * c, 1);
    const outElems = groups.reduce((a, g) => a * g.outDim, 1);
    const tin = ar.t(dtype, inElems);
    const tout = ar.t(dtype, outElems);
    const lim = dtype === DTYPE.INT8 ? 127 : 1000;
    b.addOp('LAYOUT', { in: tin, out: tout, elemSize: dtype === DTYPE.INT8 ? 1 : dtype === DTYPE.INT16 ? 2 : 4, fill: rint(r, -lim, lim), rank: groups });
    const x =
      dtype === DTYPE.INT8 ? randI8(r, inElems) : dtype === DTYPE.INT16 ? randI16(r, inElems) : Int32Array.from({ length: inElems }, () => rint(r, -2e9, 2e9));
    return {
      name: 'LAYOUT',
      blob: finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes / (dtype === DTYPE.INT8 ? 1 : dtype === DTYPE.INT16 ? 2 : 4), r),
      inputs: [x],
    };
  },
  GATHER(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const count = rint(r, 1, 10);
    const vocab = rint(r, 1, 20);
    const dim = rint(r, 1, 9);
    const tids = ar.t(DTYPE.INT32, count);
    const tout = ar.t(DTYPE.INT8, count * dim);
    b.addOp('GATHER', { ids: tids, out: tout, count, vocab, dim, table: b.addConst(randI8(r, vocab * dim)) });
    const bad = r() < 0.15;
    const ids = Int32Array.from({ length: count }, () => rint(r, 0, vocab - 1));
    if (bad) ids[rint(r, 0, count - 1)] = pick(r, [-1, vocab, vocab + 100, -2147483648, 2147483647]);
    return { name: 'GATHER', blob: finish(b, ar, [tids], [tout], (t) => b.tensors[t].bytes / (t === tids ? 4 : 1), r), inputs: [ids], badInput: bad };
  },
  REQUANT(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const count = rint(r, 1, 40);
    const dIn = pick(r, [DTYPE.INT8, DTYPE.INT16]);
    const dOut = pick(r, [DTYPE.INT8, DTYPE.INT16]);
    const tin = ar.t(dIn, count);
    const tout = ar.t(dOut, count);
    const [lo, hi] = dOut === DTYPE.INT8 ? [-128, 127] : [-32768, 32767];
    const [ilo, ihi] = dIn === DTYPE.INT8 ? [-128, 127] : [-32768, 32767];
    const outMin = r() < 0.5 ? lo : rint(r, lo, 0);
    b.addOp('REQUANT', { in: tin, out: tout, count, zpIn: rint(r, ilo, ihi), zpOut: rint(r, lo, hi), ...randMS(r), outMin, outMax: rint(r, outMin, hi) });
    return { name: 'REQUANT', blob: finish(b, ar, [tin], [tout], () => count, r), inputs: [dIn === DTYPE.INT8 ? randI8(r, count) : randI16(r, count)] };
  },
  MEAN(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const [batch, inH, inW, channels] = [rint(r, 1, 2), rint(r, 1, 9), rint(r, 1, 9), rint(r, 1, 20)];
    const tin = ar.t(DTYPE.INT8, batch * inH * inW * channels);
    const tout = ar.t(DTYPE.INT8, batch * channels);
    // TFLite's multiplier of random scales (often below 2^30), or any multiplier the op accepts
    const ms = r() < 0.7 ? meanTfliteParams(0.01 + r(), 0.01 + r(), inH * inW, 'double') : { mult: rint(r, 0, 2147483647), shift: rint(r, -31, 30) };
    b.addOp('MEAN', { in: tin, out: tout, batch, inH, inW, channels, zpIn: rint(r, -128, 127), zpOut: rint(r, -128, 127), ...ms });
    return { name: 'MEAN', blob: finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes, r), inputs: [randI8(r, batch * inH * inW * channels)] };
  },
  LAYER_NORM(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const rows = rint(r, 1, 4);
    const C = pick(r, [1, 2, 3, 7, 16, 33, rint(r, 1, 70)]);
    const tin = ar.t(DTYPE.INT8, rows * C);
    const tout = ar.t(DTYPE.INT8, rows * C);
    // t is the normalised value * 2^16: multipliers like gamma / (s_out * 2^16) keep outputs inside int8
    const ms = Array.from({ length: C }, () => ({ mult: (r() < 0.3 ? -1 : 1) * rint(r, 1 << 30, 2 ** 31 - 1), shift: rint(r, -19, -12) }));
    const params = {
      in: tin,
      out: tout,
      rows,
      channels: C,
      zpIn: rint(r, -128, 127),
      zpOut: rint(r, -128, 127),
      epsTerm: pick(r, [0, rint(r, 0, 1000), rint(r, 0, 2 ** 31 - 1)]),
      mult: b.addConstI32(ms.map((m) => m.mult)),
      shift: b.addConstI8(ms.map((m) => m.shift)),
      bias: b.addConstI32(Array.from({ length: C }, () => (r() < 0.1 ? rint(r, -(1 << 20), 1 << 20) : rint(r, -60, 60)))),
    };
    b.addOp('LAYER_NORM', params);
    // rows of equal values (variance 0) and of extremes are the interesting ones
    const x = randI8(r, rows * C);
    if (r() < 0.3) x.fill(rint(r, -128, 127), 0, C);
    return { name: 'LAYER_NORM', blob: finish(b, ar, [tin], [tout], () => rows * C, r), inputs: [x] };
  },
};

function poolGen(r: Rng, name: string): OneOp {
  const b = new BlobBuilder();
  const ar = new Arena(b);
  const batch = rint(r, 1, 2);
  const inH = rint(r, 1, 8);
  const inW = rint(r, 1, 8);
  const ch = rint(r, 1, 5);
  const kH = rint(r, 1, 3);
  const kW = rint(r, 1, 3);
  const sH = rint(r, 1, 3);
  const sW = rint(r, 1, 3);
  const padTop = rint(r, 0, kH - 1);
  const padLeft = rint(r, 0, kW - 1);
  const padB = rint(r, 0, kH - 1);
  const padR = rint(r, 0, kW - 1);
  const outH = Math.max(1, Math.floor((inH + padTop + padB - kH) / sH) + 1);
  const outW = Math.max(1, Math.floor((inW + padLeft + padR - kW) / sW) + 1);
  const tin = ar.t(DTYPE.INT8, batch * inH * inW * ch);
  const tout = ar.t(DTYPE.INT8, batch * outH * outW * ch);
  b.addOp(name, { in: tin, out: tout, batch, inH, inW, channels: ch, outH, outW, kH, kW, strideH: sH, strideW: sW, padTop, padLeft, ...randAct(r) });
  return { name, blob: finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes, r), inputs: [randI8(r, batch * inH * inW * ch)] };
}

// ---------- int16 activations (TFLite 16x8): the same ops with int16 tensors ----------

const I16 = DTYPE.INT16;

function randAct16(r: Rng): { actMin: number; actMax: number } {
  if (r() < 0.5) return { actMin: -32768, actMax: 32767 };
  const lo = rint(r, -32768, 3000);
  return { actMin: lo, actMax: rint(r, lo, 32767) };
}

/** a 16x8 multiplier (shift in [-31, 7]) mapping a typical accumulator of K taps to about +-16k */
function realisticMS16(r: Rng, K: number): { mult: number; shift: number } {
  const mult = r() < 0.03 ? 0 : rint(r, 1 << 30, 2147483647);
  if (r() < 0.1) return { mult, shift: rint(r, -31, 14) };
  const typical = Math.sqrt(K) * 18000 * 73;
  return { mult, shift: Math.max(-31, Math.min(7, -Math.round(Math.log2(typical / 16384)) + rint(r, -2, 2))) };
}

function perChannel16(b: BlobBuilder, r: Rng, outC: number, weights: Int8Array): Record<string, number> {
  const K = Math.max(1, weights.length / outC);
  const ms = Array.from({ length: outC }, () => realisticMS16(r, K));
  return {
    weights: b.addConst(weights),
    bias: r() < 0.85 ? b.addConstI32(Array.from({ length: outC }, () => rint(r, -(1 << 22), 1 << 22))) : -1,
    mult: b.addConstI32(ms.map((m) => m.mult)),
    shift: b.addConstI8(ms.map((m) => m.shift)),
    lut: r() < 0.25 ? b.addConst(randI16(r, 513), 2) : -1,
  };
}

function conv16(r: Rng, depthwise: boolean): OneOp {
  for (;;) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const batch = rint(r, 1, 2);
    const [inH, inW] = [rint(r, 1, 6), rint(r, 1, 8)];
    const groups = depthwise ? 1 : pick(r, [1, 1, 2, 3]);
    const icg = rint(r, 1, 5);
    const inC = depthwise ? rint(r, 1, 6) : groups * icg;
    const dm = rint(r, 1, 3);
    const outC = depthwise ? inC * dm : groups * rint(r, 1, 5);
    const [kH, kW, sH, sW, dH, dW] = [rint(r, 1, 3), rint(r, 1, 4), rint(r, 1, 2), rint(r, 1, 3), rint(r, 1, 2), rint(r, 1, 2)];
    const [padTop, padLeft] = [rint(r, 0, (kH - 1) * dH), rint(r, 0, (kW - 1) * dW)];
    const outH = Math.floor((inH + 2 * padTop - (kH - 1) * dH - 1) / sH) + 1;
    const outW = Math.floor((inW + 2 * padLeft - (kW - 1) * dW - 1) / sW) + 1;
    if (outH < 1 || outW < 1) continue;
    const tin = ar.t(I16, batch * inH * inW * inC);
    const tout = ar.t(I16, batch * outH * outW * outC);
    const wN = depthwise ? kH * kW * outC : outC * kH * kW * icg;
    const c = perChannel16(b, r, outC, randI8(r, wN, -127, 127));
    const geom = { batch, inH, inW, inC, outH, outW, kH, kW, strideH: sH, strideW: sW, dilH: dH, dilW: dW, padTop, padLeft };
    const common = { in: tin, out: tout, ...geom, zpIn: 0, zpOut: 0, ...randAct16(r), ...c };
    if (depthwise) b.addOp('DEPTHWISE_CONV2D', { ...common, depthMult: dm });
    else b.addOp('CONV2D', { ...common, outC, groups, layout: groups === 1 ? rint(r, 0, 1) : 0 });
    const blob = finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes / 2, r);
    return { name: depthwise ? 'DEPTHWISE_CONV2D' : 'CONV2D', blob, inputs: [randI16(r, batch * inH * inW * inC)] };
  }
}

function pool16(r: Rng, name: string): OneOp {
  const b = new BlobBuilder();
  const ar = new Arena(b);
  const [batch, inH, inW, ch, kH, kW, sH, sW] = [
    rint(r, 1, 2),
    rint(r, 1, 7),
    rint(r, 1, 7),
    rint(r, 1, 4),
    rint(r, 1, 3),
    rint(r, 1, 3),
    rint(r, 1, 2),
    rint(r, 1, 2),
  ];
  const [padTop, padLeft] = [rint(r, 0, kH - 1), rint(r, 0, kW - 1)];
  const outH = Math.max(1, Math.floor((inH + padTop - kH) / sH) + 1);
  const outW = Math.max(1, Math.floor((inW + padLeft - kW) / sW) + 1);
  const tin = ar.t(I16, batch * inH * inW * ch);
  const tout = ar.t(I16, batch * outH * outW * ch);
  b.addOp(name, { in: tin, out: tout, batch, inH, inW, channels: ch, outH, outW, kH, kW, strideH: sH, strideW: sW, padTop, padLeft, ...randAct16(r) });
  return { name, blob: finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes / 2, r), inputs: [randI16(r, batch * inH * inW * ch)] };
}

/** Seeded one-op blobs of every op that runs on int16 (INT16_OPS; LAYOUT and REQUANT are in GENERATORS). */
export const GENERATORS16: Record<string, (r: Rng) => OneOp> = {
  DENSE(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const rows = rint(r, 1, 3);
    const inDim = pick(r, [1, 3, 4, 8, 17, rint(r, 1, 90)]);
    const outDim = pick(r, [1, 3, 4, 5, 9, rint(r, 1, 21)]);
    const tin = ar.t(I16, rows * inDim);
    const tout = ar.t(I16, rows * outDim);
    const c = perChannel16(b, r, outDim, randI8(r, outDim * inDim, -127, 127));
    b.addOp('DENSE', { in: tin, out: tout, rows, inDim, outDim, ...c, zpOut: 0, ...randAct16(r), layout: rint(r, 0, 1) });
    return { name: 'DENSE', blob: finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes / 2, r), inputs: [randI16(r, rows * inDim)] };
  },
  CONV2D: (r) => conv16(r, false),
  DEPTHWISE_CONV2D: (r) => conv16(r, true),
  MAX_POOL2D: (r) => pool16(r, 'MAX_POOL2D'),
  AVG_POOL2D: (r) => pool16(r, 'AVG_POOL2D'),
  ADD_N(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const count = rint(r, 1, 40);
    const ins = Array.from({ length: rint(r, 1, 4) }, () => ar.t(I16, count));
    const tout = ar.t(I16, count);
    const groups = ins.map((t) => {
      const ms = randMS(r, true);
      return { tensor: t, zp: 0, mult: ms.mult, shift: Math.min(ms.shift, 0) };
    });
    const om = randMS(r);
    b.addOp('ADD_N', { out: tout, count, zpOut: 0, ...randAct16(r), leftShift: 15, outMult: om.mult, outShift: om.shift, n: groups });
    return { name: 'ADD_N', blob: finish(b, ar, ins, [tout], () => count, r), inputs: ins.map(() => randI16(r, count)) };
  },
  MUL(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const count = rint(r, 1, 40);
    const divisors = Array.from({ length: count }, (_, i) => i + 1).filter((d) => count % d === 0);
    const nB = r() < 0.5 ? count : pick(r, divisors);
    const [ta, tb, tout] = [ar.t(I16, count), ar.t(I16, nB), ar.t(I16, count)];
    const ms = { mult: rint(r, 1 << 30, 2147483647), shift: rint(r, -31, -10) };
    b.addOp('MUL', { a: ta, b: tb, out: tout, count, zpA: 0, zpB: 0, zpOut: 0, ...ms, ...randAct16(r) });
    return { name: 'MUL', blob: finish(b, ar, [ta, tb], [tout], (t) => (t === tb ? nB : count), r), inputs: [randI16(r, count), randI16(r, nB)] };
  },
  MAXMIN(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const count = rint(r, 1, 40);
    const ins = Array.from({ length: rint(r, 1, 4) }, () => ar.t(I16, count));
    const tout = ar.t(I16, count);
    const groups = ins.map((t) => ({ tensor: t, zp: 0, ...randMS(r) }));
    b.addOp('MAXMIN', { out: tout, count, isMin: rint(r, 0, 1), zpOut: 0, ...randAct16(r), n: groups });
    return { name: 'MAXMIN', blob: finish(b, ar, ins, [tout], () => count, r), inputs: ins.map(() => randI16(r, count)) };
  },
  CONCAT(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const outer = rint(r, 1, 5);
    const inners = Array.from({ length: rint(r, 1, 4) }, () => rint(r, 1, 9));
    const ins = inners.map((k) => ar.t(I16, outer * k));
    const tout = ar.t(I16, outer * inners.reduce((a, c) => a + c, 0));
    const groups = ins.map((t, i) => ({ tensor: t, inner: inners[i], zp: 0, ...randMS(r), identity: r() < 0.3 ? 1 : 0 }));
    b.addOp('CONCAT', { out: tout, outer, zpOut: 0, n: groups });
    return { name: 'CONCAT', blob: finish(b, ar, ins, [tout], (t) => b.tensors[t].bytes / 2, r), inputs: ins.map((t) => randI16(r, b.tensors[t].bytes / 2)) };
  },
  LUT(r) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const count = rint(r, 1, 200);
    const [tin, tout] = [ar.t(I16, count), ar.t(I16, count)];
    b.addOp('LUT', { in: tin, out: tout, count, table: b.addConst(randI16(r, 513), 2 * rint(r, 1, 8)) });
    const x = randI16(r, count);
    if (count > 2) x.set([-32768, 32767], 0); // both ends of the table
    return { name: 'LUT', blob: finish(b, ar, [tin], [tout], () => count, r), inputs: [x] };
  },
};

/** SOFTMAX on int16: a scale multiplier and a 513-entry exp table (positive entries) in its const. */
GENERATORS16.SOFTMAX = (r) => {
  const b = new BlobBuilder();
  const ar = new Arena(b);
  const rows = rint(r, 1, 4);
  const depth = rint(r, 1, 30);
  const [tin, tout] = [ar.t(I16, rows * depth), ar.t(I16, rows * depth)];
  const table = new Uint8Array(8 + 1026);
  const dv = new DataView(table.buffer);
  dv.setInt32(0, rint(r, 1 << 30, 2147483647), true);
  dv.setInt32(4, rint(r, -20, 2), true);
  for (let i = 0; i < 513; i++) dv.setInt16(8 + 2 * i, Math.max(1, Math.round(32767 * Math.exp(-(512 - i) / rint(r, 20, 200)))), true);
  b.addOp('SOFTMAX', { in: tin, out: tout, rows, depth, table: b.addConst(table, 4) });
  return { name: 'SOFTMAX', blob: finish(b, ar, [tin], [tout], () => rows * depth, r), inputs: [randI16(r, rows * depth)] };
};

// ---------- int16 weights (DENSE layout 3, 16x16) ----------

/** a 16x16 multiplier mapping a typical accumulator of K taps (|x|, |w| ~ 18000) to about +-16k, sometimes extreme */
function realisticMS16x16(r: Rng, K: number): { mult: number; shift: number } {
  const mult = r() < 0.03 ? 0 : rint(r, 1 << 30, 2147483647);
  if (r() < 0.1) return { mult, shift: rint(r, -31, 14) };
  const typical = Math.sqrt(K) * 18000 * 18000;
  return { mult, shift: Math.max(-31, Math.min(14, -Math.round(Math.log2(typical / 16384)) + rint(r, -2, 2))) };
}

/** int64 bias values: mostly of the size of an accumulator, sometimes at the limit 2^46 */
function randBias64(r: Rng, n: number): Uint8Array {
  const lim = 2n ** 46n;
  const v = BigInt64Array.from({ length: n }, () => {
    const u = r();
    if (u < 0.04) return u < 0.02 ? lim : -lim;
    return BigInt(rint(r, -(2 ** 31), 2 ** 31));
  });
  return new Uint8Array(v.buffer);
}

/**
 * One DENSE with int16 activations and int16 weights (layout 3) of `rows` x `inDim` -> `outDim`,
 * weights in [-32767, 32767] (the full range in some rows), int64 bias (or none), int16 LUT sometimes.
 */
function denseW16(r: Rng, rows: number, inDim: number, outDim: number): OneOp {
  const b = new BlobBuilder();
  const ar = new Arena(b);
  const tin = ar.t(I16, rows * inDim);
  const tout = ar.t(I16, rows * outDim);
  const w = new Int16Array(outDim * inDim);
  for (let i = 0; i < w.length; i++) w[i] = r() < 0.05 ? pick(r, [-32767, 32767]) : rint(r, -32767, 32767);
  const ms = Array.from({ length: outDim }, () => realisticMS16x16(r, inDim));
  b.addOp('DENSE', {
    in: tin,
    out: tout,
    rows,
    inDim,
    outDim,
    weights: b.addConst(blockRows4(w, outDim, inDim), 2),
    bias: r() < 0.85 ? b.addConst(randBias64(r, outDim), 8) : -1,
    mult: b.addConstI32(ms.map((m) => m.mult)),
    shift: b.addConstI8(ms.map((m) => m.shift)),
    lut: r() < 0.25 ? b.addConst(randI16(r, 513), 2) : -1,
    zpOut: 0,
    ...randAct16(r),
    layout: 3,
  });
  const x = randI16(r, rows * inDim);
  if (r() < 0.1) x.fill(-32768);
  return { name: 'DENSE', blob: finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes / 2, r), inputs: [x] };
}

/** Seeded DENSE layout 3 blobs of random shapes (the remainders of the 4-row blocks and the k pairs included). */
export function randDenseW16(r: Rng): OneOp {
  return denseW16(r, rint(r, 1, 3), pick(r, [1, 2, 3, 4, 5, 8, 17, rint(r, 1, 90)]), pick(r, [1, 3, 4, 5, 8, 9, rint(r, 1, 21)]));
}

/** Seeded CONV2D layout 2 blobs (int16 weights, groups 1): random geometry, paddings, strides and dilations. */
export function randConvW16(r: Rng): OneOp {
  for (;;) {
    const b = new BlobBuilder();
    const ar = new Arena(b);
    const batch = rint(r, 1, 2);
    const [inH, inW, inC, outC] = [rint(r, 1, 6), rint(r, 1, 9), rint(r, 1, 6), pick(r, [1, 3, 4, 5, 8, rint(r, 1, 11)])];
    const [kH, kW, sH, sW, dH, dW] = [rint(r, 1, 3), rint(r, 1, 4), rint(r, 1, 2), rint(r, 1, 3), rint(r, 1, 2), pick(r, [1, 1, 2])];
    const [padTop, padLeft] = [rint(r, 0, (kH - 1) * dH), rint(r, 0, (kW - 1) * dW)];
    const outH = Math.floor((inH + 2 * padTop - (kH - 1) * dH - 1) / sH) + 1;
    const outW = Math.floor((inW + 2 * padLeft - (kW - 1) * dW - 1) / sW) + 1;
    if (outH < 1 || outW < 1) continue;
    const K = kH * kW * inC;
    const tin = ar.t(I16, batch * inH * inW * inC);
    const tout = ar.t(I16, batch * outH * outW * outC);
    const w = new Int16Array(outC * K);
    for (let i = 0; i < w.length; i++) w[i] = r() < 0.05 ? pick(r, [-32767, 32767]) : rint(r, -32767, 32767);
    const ms = Array.from({ length: outC }, () => realisticMS16x16(r, K));
    const geom = { batch, inH, inW, inC, outH, outW, kH, kW, strideH: sH, strideW: sW, dilH: dH, dilW: dW, padTop, padLeft };
    b.addOp('CONV2D', {
      in: tin,
      out: tout,
      ...geom,
      outC,
      zpIn: 0,
      zpOut: 0,
      ...randAct16(r),
      weights: b.addConst(blockRows4(w, outC, K), 2),
      bias: r() < 0.85 ? b.addConst(randBias64(r, outC), 8) : -1,
      mult: b.addConstI32(ms.map((m) => m.mult)),
      shift: b.addConstI8(ms.map((m) => m.shift)),
      lut: r() < 0.25 ? b.addConst(randI16(r, 513), 2) : -1,
      groups: 1,
      layout: 2,
    });
    const x = randI16(r, batch * inH * inW * inC);
    if (r() < 0.1) x.fill(-32768);
    return { name: 'CONV2D', blob: finish(b, ar, [tin], [tout], (t) => b.tensors[t].bytes / 2, r), inputs: [x] };
  }
}
