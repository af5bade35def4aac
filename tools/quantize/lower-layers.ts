/** The lowering of each Keras layer class to runtime ops (recurrent layers: lower-rnn.ts). */
import type { IRNode } from '../graph/ir.ts';
import { asymmetricQParams, buildLut, foldBias, quantizeValue, quantizeWeightsPerChannel, softmaxTable, SOFTMAX_OUT } from './qparams.ts';
import { padInfo } from '../float/layers/conv.ts';
import { pairs } from '../float/layers/reshape.ts';
import { blockRows4 } from './reference-rnn.ts';
import { prod, constI8, constI32, constShift, constU32, unsupportedLayer, elementwiseFn } from './lower-util.ts';
import { LowerCtx } from './lower-ctx.ts';

function lowerDense(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, qm, emit, fuse } = L;
  const inIr = n.inputs[0];
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
  return;
}

/** Conv1D, Conv2D, DepthwiseConv1D, DepthwiseConv2D (SeparableConv is split into the two by prepare.ts). */
function lowerConv(n: IRNode, L: LowerCtx): void {
  const { staticShape, newT, lt, qm, emit, transposeL, nhwcInput, toLast, toFirst, fuse } = L;
  const cls = n.className;
  const c = n.config;
  const inIr = n.inputs[0];
  const rank = cls.endsWith('1D') ? 1 : 2;
  const dw = cls.startsWith('Depthwise');
  const { cf, inL, inT, inH, inW, C: inC } = nhwcInput(inIr, rank, c, n.name);
  const ks: number[] = c.kernel_size;
  const st: number[] = c.strides ?? ks.map(() => 1);
  const dl: number[] = c.dilation_rate ?? ks.map(() => 1);
  const padding = String(c.padding ?? 'valid');
  const [kH, sH, dH] = rank === 1 ? [1, 1, 1] : [ks[0], st[0], dl[0]];
  const [kW, sW, dW] = [ks[rank - 1], st[rank - 1], dl[rank - 1]];
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
  return;
}

function lowerBatchNormalization(n: IRNode, L: LowerCtx): void {
  const { tensors, notes, lt, qm, emit, fuse } = L;
  const c = n.config;
  const inIr = n.inputs[0];
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
  return;
}

function lowerMaxPooling1D(n: IRNode, L: LowerCtx): void {
  const { qOverride, newT, lt, emit, transposeL, nhwcInput, toFirst } = L;
  const cls = n.className;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
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
  return;
}

function lowerActivation(n: IRNode, L: LowerCtx): void {
  const { tensors, irQ, lt, emit, fixedActivationQ } = L;
  const cls = n.className;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
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
    return;
  }
  const fn = elementwiseFn(n);
  if (!fn) throw unsupportedLayer(n, `activation ${JSON.stringify(c.activation)}`, 'element-wise activations and softmax');
  const outQ = fixedActivationQ(n) ?? irQ(outIr);
  const outL = lt(outIr, outQ);
  emit('LUT', { in: inL, out: outL, count: prod(inT.shape), table: constI8(buildLut(fn, inT.q, outQ), `${n.name} lut`) }, [inL], [outL], n.name);
  return;
}

function lowerPReLU(n: IRNode, L: LowerCtx): void {
  const { tensors, irQ, lt, qm, emit } = L;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
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
  return;
}

function lowerAdd(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, qm, emit, fuse } = L;
  const cls = n.className;
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
  return;
}

function lowerMultiply(n: IRNode, L: LowerCtx): void {
  const { cal, tensors, notes, newT, lt, qm, emit, fuse } = L;
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
  return;
}

function lowerMaximum(n: IRNode, L: LowerCtx): void {
  const { tensors, irQ, lt, qm, emit } = L;
  const cls = n.className;
  const outIr = n.outputs[0];
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
  return;
}

function lowerConcatenate(n: IRNode, L: LowerCtx): void {
  const { tensors, irQ, lt, qm, emit } = L;
  const c = n.config;
  const outIr = n.outputs[0];
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
  return;
}

function lowerEmbedding(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, emit } = L;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
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
  return;
}

function lowerPermute(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, transposeL } = L;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
  const inL = lt(inIr);
  const dims: number[] = c.dims;
  const outL = lt(outIr, tensors[inL].q);
  transposeL(inL, [0, ...dims], n.name, outL);
  return;
}

function lowerRepeatVector(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, layout } = L;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
  const inL = lt(inIr);
  const rep = Number(c.n);
  const outL = lt(outIr, tensors[inL].q);
  layout(inL, tensors[outL].shape, [{ inAxis: 0 }, { inAxis: -1, div: rep }, { inAxis: 1 }], n.name, outL);
  return;
}

function lowerZeroPadding1D(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, layout } = L;
  const cls = n.className;
  const c = n.config;
  const inIr = n.inputs[0];
  const outIr = n.outputs[0];
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
  return;
}

/**
 * LayerNormalization over the last axis: LAYER_NORM normalises each row in integers; gamma rides
 * in the per-channel multiplier (the op's t is the normalised value times 2^16), beta is the bias.
 */
function lowerLayerNormalization(n: IRNode, L: LowerCtx): void {
  const { tensors, lt, qm, emit } = L;
  const inL = lt(n.inputs[0]);
  const outL = lt(n.outputs[0]);
  const inQ = tensors[inL].q;
  const outQ = tensors[outL].q;
  const C = tensors[inL].shape[tensors[inL].shape.length - 1];
  const c = n.config;
  const gamma = c.scale === false ? null : n.weights.gamma.data;
  const beta = c.center === false ? null : n.weights.beta.data;
  const ms = Array.from({ length: C }, (_, k) => {
    const m = qm((gamma ? gamma[k] : 1) / (outQ.scale * 65536), n, 'gamma');
    return m.shift < -31 ? { mult: 0, shift: 0 } : m; // |gamma| too small to move an output LSB
  });
  const limit = (1 << 24) - 1;
  const bias = Array.from({ length: C }, (_, k) => Math.max(-limit, Math.min(limit, Math.round((beta ? beta[k] : 0) / outQ.scale))));
  const epsTerm = Math.min(2 ** 31 - 1, Math.round((C * C * (c.epsilon ?? 1e-3)) / (inQ.scale * inQ.scale)));
  const params = {
    in: inL,
    out: outL,
    rows: prod(tensors[inL].shape) / C,
    channels: C,
    zpIn: inQ.zeroPoint,
    zpOut: outQ.zeroPoint,
    epsTerm,
    mult: constI32(
      ms.map((m) => m.mult),
      `${n.name} mult`,
    ),
    shift: constShift(ms, `${n.name} shift`),
    bias: constI32(bias, `${n.name} bias`),
  };
  emit('LAYER_NORM', params, [inL], [outL], n.name);
}

/** The lowering of every Keras class the converter serves without recurrent ops, by class name. */
export const LOWER: Record<string, (n: IRNode, L: LowerCtx) => void> = {
  LayerNormalization: lowerLayerNormalization,
  Dense: lowerDense,
  Conv1D: lowerConv,
  Conv2D: lowerConv,
  DepthwiseConv1D: lowerConv,
  DepthwiseConv2D: lowerConv,
  BatchNormalization: lowerBatchNormalization,
  MaxPooling1D: lowerMaxPooling1D,
  MaxPooling2D: lowerMaxPooling1D,
  AveragePooling1D: lowerMaxPooling1D,
  AveragePooling2D: lowerMaxPooling1D,
  GlobalMaxPooling1D: lowerMaxPooling1D,
  GlobalMaxPooling2D: lowerMaxPooling1D,
  GlobalAveragePooling1D: lowerMaxPooling1D,
  GlobalAveragePooling2D: lowerMaxPooling1D,
  Activation: lowerActivation,
  ReLU: lowerActivation,
  LeakyReLU: lowerActivation,
  ELU: lowerActivation,
  ThresholdedReLU: lowerActivation,
  Softmax: lowerActivation,
  PReLU: lowerPReLU,
  Add: lowerAdd,
  Subtract: lowerAdd,
  Average: lowerAdd,
  Multiply: lowerMultiply,
  Maximum: lowerMaximum,
  Minimum: lowerMaximum,
  Concatenate: lowerConcatenate,
  Embedding: lowerEmbedding,
  Permute: lowerPermute,
  RepeatVector: lowerRepeatVector,
  ZeroPadding1D: lowerZeroPadding1D,
  ZeroPadding2D: lowerZeroPadding1D,
  Cropping1D: lowerZeroPadding1D,
  Cropping2D: lowerZeroPadding1D,
  UpSampling1D: lowerZeroPadding1D,
  UpSampling2D: lowerZeroPadding1D,
};
