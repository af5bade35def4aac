/**
 * Float reference vs ONNX Runtime (onnxruntime-web, pure WASM) for what tfjs lacks: GRU with
 * reset_after=True (ONNX GRU linear_before_reset=1), causal/strided/dilated Conv1D, grouped and
 * channels_first Conv1D, DepthwiseConv1D, SeparableConv1D (Conv group=C then 1x1 Conv); and vs
 * plain tfjs ops for Subtract, ZeroPadding1D, Cropping1D, UpSampling1D. Also checks the
 * calibration hooks (onTensor, onRecurrent).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import pkg from 'onnx-proto';
import * as tf from '@tensorflow/tfjs';
import { runFloat } from '../../tools/float/forward.ts';
import type { FloatTensor, Graph, IRNode } from '../../tools/graph/ir.ts';
import { maxErr, randomTensor } from '../helpers/random.ts';
import { toTf } from '../helpers/tfjs.ts';

const { onnx } = pkg as any;
const DT = onnx.TensorProto.DataType;
const TOL = 1e-5;

beforeAll(async () => {
  ort.env.wasm.numThreads = 1;
  await tf.setBackend('cpu');
});

const vi = (name: string, dims: number[]) =>
  onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DT.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const init = (name: string, dims: number[], v: ArrayLike<number>) => onnx.TensorProto.create({ name, dataType: DT.FLOAT, dims, floatData: Array.from(v) });
const onode = (op: string, i: string[], o: string[], attrs: any[] = []) => onnx.NodeProto.create({ opType: op, input: i, output: o, attribute: attrs });
const ints = (name: string, v: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
const int = (name: string, v: number) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });

async function runOnnx(nodes: any[], inputs: [string, FloatTensor][], outputs: [string, number[]][], inits: any[]): Promise<Float32Array[]> {
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: { name: 'g', node: nodes, input: inputs.map(([n, t]) => vi(n, t.shape)), output: outputs.map(([n, s]) => vi(n, s)), initializer: inits },
    }),
  ).finish();
  const sess = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [n, t] of inputs) feeds[n] = new ort.Tensor('float32', t.data, t.shape);
  const res = await sess.run(feeds);
  return outputs.map(([n]) => res[n].data as Float32Array);
}

/** Transpose a 2-D row-major [r, c] array to [c, r]. */
function t2(d: Float32Array, r: number, c: number): Float32Array {
  const o = new Float32Array(d.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) o[j * r + i] = d[i * c + j];
  return o;
}
/** [B, T, C] <-> [B, C, T] (self-inverse in shape terms when given the right dims). */
function nwcToNcw(t: FloatTensor): FloatTensor {
  const [B, T, C] = t.shape;
  const o = new Float32Array(t.data.length);
  for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) for (let c = 0; c < C; c++) o[(b * C + c) * T + i] = t.data[(b * T + i) * C + c];
  return { shape: [B, C, T], data: o };
}
/** Keras conv1d kernel [k, cin, f] -> ONNX [f, cin, k]. */
function kerasToOnnxKernel(k: FloatTensor): FloatTensor {
  const [K, C, F] = k.shape;
  const o = new Float32Array(k.data.length);
  for (let i = 0; i < K; i++) for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) o[(f * C + c) * K + i] = k.data[(i * C + c) * F + f];
  return { shape: [F, C, K], data: o };
}

/** A one-node graph: inputs [B,...] -> node -> outputs. */
function oneNode(className: string, config: Record<string, any>, weights: Record<string, FloatTensor>, inShapes: (number | null)[][], nOut = 1): Graph {
  const tensors = inShapes.map((s, i) => ({ id: i, name: `in${i}`, shape: s, dtype: 'float32' as const, producer: -1 }));
  const outs = Array.from({ length: nOut }, (_, i) => ({
    id: inShapes.length + i,
    name: `${className}:${i}`,
    shape: [null] as (number | null)[],
    dtype: 'float32' as const,
    producer: 0,
  }));
  const node: IRNode = {
    id: 0,
    name: className.toLowerCase(),
    className,
    config,
    inputs: tensors.map((t) => t.id),
    outputs: outs.map((t) => t.id),
    weights,
    trainableParams: 0,
    nonTrainableParams: 0,
    macs: 0,
  };
  return {
    name: 'g',
    inputs: tensors.map((t) => t.id),
    outputs: outs.map((t) => t.id),
    tensors: [...tensors, ...outs],
    nodes: [node],
    source: { file: '-', format: 'test', dialect: 'keras2', kerasVersion: null },
    notes: [],
  };
}

describe('GRU reset_after=True vs ONNX GRU linear_before_reset=1', () => {
  const cases = [
    { B: 2, T: 7, F: 3, U: 5, seq: true, bias: true },
    { B: 3, T: 6, F: 4, U: 4, seq: false, bias: true },
    { B: 2, T: 5, F: 2, U: 3, seq: true, bias: false },
    { B: 2, T: 6, F: 3, U: 4, seq: true, bias: true, back: true },
  ];
  for (const [n, c] of cases.entries()) {
    it(`B${c.B} T${c.T} F${c.F} U${c.U} return_sequences=${c.seq} use_bias=${c.bias} go_backwards=${!!c.back}`, async () => {
      const { B, T, F, U } = c;
      const kernel = randomTensor([F, 3 * U], 10 + n, -0.7, 0.7);
      const rec = randomTensor([U, 3 * U], 20 + n, -0.7, 0.7);
      const bias = randomTensor([2, 3 * U], 30 + n, -0.5, 0.5);
      const x = randomTensor([B, T, F], 40 + n, -2, 2);
      const cfg = {
        units: U,
        activation: 'tanh',
        recurrent_activation: 'sigmoid',
        use_bias: c.bias,
        reset_after: true,
        return_sequences: c.seq,
        return_state: true,
        go_backwards: !!c.back,
        stateful: false,
      };
      const w: Record<string, FloatTensor> = { kernel, recurrent_kernel: rec };
      if (c.bias) w.bias = bias;
      const got = runFloat(oneNode('GRU', cfg, w, [[null, T, F]], 2), [x]);
      // ONNX: X [T, B, F]
      const xt = new Float32Array(x.data.length);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) xt[(t * B + b) * F + f] = x.data[(b * T + t) * F + f];
      const inits = [init('W', [1, 3 * U, F], t2(kernel.data, F, 3 * U)), init('R', [1, 3 * U, U], t2(rec.data, U, 3 * U))];
      if (c.bias) inits.push(init('B', [1, 6 * U], bias.data));
      const [Y, Yh] = await runOnnx(
        [
          onode(
            'GRU',
            ['X', 'W', 'R', c.bias ? 'B' : ''],
            ['Y', 'Yh'],
            [
              int('hidden_size', U),
              int('linear_before_reset', 1),
              ...(c.back ? [{ name: 'direction', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('reverse') }] : []),
            ],
          ),
        ],
        [['X', { shape: [T, B, F], data: xt }]],
        [
          ['Y', [T, 1, B, U]],
          ['Yh', [1, B, U]],
        ],
        inits,
      );
      // Y [T, 1, B, U] -> [B, T, U]
      const ybt = new Float32Array(B * T * U);
      // ONNX 'reverse' keeps Y in input time order; Keras go_backwards returns it in iteration order
      for (let t = 0; t < T; t++)
        for (let b = 0; b < B; b++) for (let u = 0; u < U; u++) ybt[(b * T + (c.back ? T - 1 - t : t)) * U + u] = Y[(t * B + b) * U + u];
      if (c.seq) {
        expect(got[0].shape).toEqual([B, T, U]);
        expect(maxErr(got[0].data, ybt)).toBeLessThanOrEqual(TOL);
      } else {
        expect(got[0].shape).toEqual([B, U]);
        expect(maxErr(got[0].data, Yh)).toBeLessThanOrEqual(TOL);
      }
      expect(maxErr(got[1].data, Yh)).toBeLessThanOrEqual(TOL);
    });
  }
});

describe('Conv1D family vs ONNX Conv', () => {
  async function onnxConv(x: FloatTensor, k: FloatTensor, bias: FloatTensor | null, attrs: any[], outShape: number[]): Promise<Float32Array> {
    const inits = [init('W', k.shape, k.data)];
    if (bias) inits.push(init('B', bias.shape, bias.data));
    const xn = nwcToNcw(x);
    const [y] = await runOnnx([onode('Conv', ['X', 'W', ...(bias ? ['B'] : [])], ['Y'], attrs)], [['X', xn]], [['Y', outShape]], inits);
    return y;
  }

  const cases = [
    { T: 16, C: 3, F: 4, k: 3, s: 1, d: 2, pad: 'causal', groups: 1 },
    { T: 15, C: 4, F: 6, k: 4, s: 2, d: 1, pad: 'causal', groups: 1 },
    { T: 13, C: 4, F: 6, k: 3, s: 1, d: 3, pad: 'same', groups: 2 },
    { T: 12, C: 6, F: 3, k: 2, s: 3, d: 1, pad: 'valid', groups: 3 },
  ];
  for (const [n, c] of cases.entries()) {
    it(`Conv1D ${c.pad} k${c.k} s${c.s} d${c.d} groups${c.groups}, channels_last and channels_first`, async () => {
      const B = 2;
      const x = randomTensor([B, c.T, c.C], 50 + n, -2, 2);
      const kernel = randomTensor([c.k, c.C / c.groups, c.F], 60 + n);
      const bias = randomTensor([c.F], 70 + n);
      const dk = (c.k - 1) * c.d + 1;
      let pads: number[];
      let To: number;
      if (c.pad === 'causal') {
        pads = [dk - 1, 0];
        To = Math.floor((c.T - 1) / c.s) + 1;
      } else if (c.pad === 'same') {
        To = Math.ceil(c.T / c.s);
        const tot = Math.max((To - 1) * c.s + dk - c.T, 0);
        pads = [Math.floor(tot / 2), tot - Math.floor(tot / 2)];
      } else {
        pads = [0, 0];
        To = Math.floor((c.T - dk) / c.s) + 1;
      }
      const want = await onnxConv(
        x,
        kerasToOnnxKernel(kernel),
        bias,
        [ints('pads', pads), ints('strides', [c.s]), ints('dilations', [c.d]), int('group', c.groups)],
        [B, c.F, To],
      );
      const cfg = {
        filters: c.F,
        kernel_size: [c.k],
        strides: [c.s],
        dilation_rate: [c.d],
        padding: c.pad,
        groups: c.groups,
        activation: 'linear',
        use_bias: true,
        data_format: 'channels_last',
      };
      const got = runFloat(oneNode('Conv1D', cfg, { kernel, bias }, [[null, c.T, c.C]]), [x])[0];
      expect(got.shape).toEqual([B, To, c.F]);
      expect(maxErr(nwcToNcw(got).data, want)).toBeLessThanOrEqual(TOL);
      // channels_first: input [B, C, T], output [B, F, T']
      const gotCf = runFloat(oneNode('Conv1D', { ...cfg, data_format: 'channels_first' }, { kernel, bias }, [[null, c.C, c.T]]), [nwcToNcw(x)])[0];
      expect(gotCf.shape).toEqual([B, c.F, To]);
      expect(maxErr(gotCf.data, want)).toBeLessThanOrEqual(TOL);
    });
  }

  it('DepthwiseConv1D (dm 2, same, stride 2) and SeparableConv1D (causal, dilation 2) = Conv group=C then 1x1 Conv', async () => {
    const B = 2,
      T = 14,
      C = 3,
      dm = 2,
      F = 5,
      k = 3;
    const x = randomTensor([B, T, C], 81, -2, 2);
    const dw = randomTensor([k, C, dm], 82);
    const pw = randomTensor([1, C * dm, F], 83);
    const bias = randomTensor([F], 84);
    const dbias = randomTensor([C * dm], 85);
    // ONNX grouped conv weight [C*dm, 1, k]: output channel c*dm+m uses dw[:, c, m]
    const wd = new Float32Array(C * dm * k);
    for (let c = 0; c < C; c++) for (let m = 0; m < dm; m++) for (let i = 0; i < k; i++) wd[(c * dm + m) * k + i] = dw.data[(i * C + c) * dm + m];
    const wp = t2(pw.data, C * dm, F); // [F, C*dm]
    // depthwise: same, stride 2 -> To = 7, total pad = (7-1)*2+3-14 = 1 -> [0, 1]
    const [yd] = await runOnnx(
      [onode('Conv', ['X', 'Wd', 'Bd'], ['Y'], [ints('pads', [0, 1]), ints('strides', [2]), int('group', C)])],
      [['X', nwcToNcw(x)]],
      [['Y', [B, C * dm, 7]]],
      [init('Wd', [C * dm, 1, k], wd), init('Bd', [C * dm], dbias.data)],
    );
    const gotD = runFloat(
      oneNode(
        'DepthwiseConv1D',
        {
          kernel_size: [k],
          strides: [2],
          padding: 'same',
          depth_multiplier: dm,
          dilation_rate: [1],
          activation: 'linear',
          use_bias: true,
          data_format: 'channels_last',
        },
        { depthwise_kernel: dw, bias: dbias },
        [[null, T, C]],
      ),
      [x],
    )[0];
    expect(gotD.shape).toEqual([B, 7, C * dm]);
    expect(maxErr(nwcToNcw(gotD).data, yd)).toBeLessThanOrEqual(TOL);
    // separable causal dilation 2
    const [ys] = await runOnnx(
      [onode('Conv', ['X', 'Wd'], ['D'], [ints('pads', [4, 0]), ints('dilations', [2]), int('group', C)]), onode('Conv', ['D', 'Wp', 'B'], ['Y'])],
      [['X', nwcToNcw(x)]],
      [['Y', [B, F, T]]],
      [init('Wd', [C * dm, 1, k], wd), init('Wp', [F, C * dm, 1], wp), init('B', [F], bias.data)],
    );
    const gotS = runFloat(
      oneNode(
        'SeparableConv1D',
        {
          filters: F,
          kernel_size: [k],
          strides: [1],
          padding: 'causal',
          depth_multiplier: dm,
          dilation_rate: [2],
          activation: 'linear',
          use_bias: true,
          data_format: 'channels_last',
        },
        { depthwise_kernel: dw, pointwise_kernel: pw, bias },
        [[null, T, C]],
      ),
      [x],
    )[0];
    expect(gotS.shape).toEqual([B, T, F]);
    expect(maxErr(nwcToNcw(gotS).data, ys)).toBeLessThanOrEqual(TOL);
  });
});

describe('layers tfjs lacks, vs plain tfjs ops', () => {
  const x = randomTensor([2, 7, 3], 91, -2, 2);
  it('Subtract (with broadcasting)', () => {
    const y = randomTensor([2, 7, 3], 92);
    const got = runFloat(
      oneNode('Subtract', {}, {}, [
        [null, 7, 3],
        [null, 7, 3],
      ]),
      [x, y],
    )[0];
    expect(maxErr(got.data, tf.sub(toTf(x), toTf(y)).dataSync())).toBe(0);
    const z = randomTensor([2, 1, 3], 93);
    const got2 = runFloat(
      oneNode('Subtract', {}, {}, [
        [null, 7, 3],
        [null, 1, 3],
      ]),
      [x, z],
    )[0];
    expect(got2.shape).toEqual([2, 7, 3]);
    expect(maxErr(got2.data, tf.sub(toTf(x), toTf(z)).dataSync())).toBe(0);
  });
  it('ZeroPadding1D, Cropping1D, UpSampling1D', () => {
    const zp = runFloat(oneNode('ZeroPadding1D', { padding: [2, 1] }, {}, [[null, 7, 3]]), [x])[0];
    expect(zp.shape).toEqual([2, 10, 3]);
    expect(Array.from(zp.data)).toEqual(
      Array.from(
        tf
          .pad(toTf(x), [
            [0, 0],
            [2, 1],
            [0, 0],
          ])
          .dataSync(),
      ),
    );
    const cr = runFloat(oneNode('Cropping1D', { cropping: [1, 2] }, {}, [[null, 7, 3]]), [x])[0];
    expect(cr.shape).toEqual([2, 4, 3]);
    expect(Array.from(cr.data)).toEqual(Array.from(tf.slice(toTf(x), [0, 1, 0], [2, 4, 3]).dataSync()));
    const up = runFloat(oneNode('UpSampling1D', { size: 3 }, {}, [[null, 7, 3]]), [x])[0];
    expect(up.shape).toEqual([2, 21, 3]);
    const want = tf
      .tile(toTf(x).reshape([2, 7, 1, 3]), [1, 1, 3, 1])
      .reshape([2, 21, 3])
      .dataSync();
    expect(Array.from(up.data)).toEqual(Array.from(want));
  });
});

describe('global pooling keepdims, Conv2D groups', () => {
  it('GlobalMax/AveragePooling1D/2D keepdims=true vs tf.max/tf.mean', () => {
    const x = randomTensor([2, 4, 5, 3], 95, -2, 2);
    const gm = runFloat(oneNode('GlobalMaxPooling2D', { keepdims: true, data_format: 'channels_last' }, {}, [[null, 4, 5, 3]]), [x])[0];
    expect(gm.shape).toEqual([2, 1, 1, 3]);
    expect(maxErr(gm.data, tf.max(toTf(x), [1, 2], true).dataSync())).toBe(0);
    const ga = runFloat(oneNode('GlobalAveragePooling2D', { keepdims: true, data_format: 'channels_first' }, {}, [[null, 4, 5, 3]]), [x])[0];
    expect(ga.shape).toEqual([2, 4, 1, 1]);
    expect(maxErr(ga.data, tf.mean(toTf(x), [2, 3], true).dataSync())).toBeLessThanOrEqual(1e-6);
    const x1 = randomTensor([2, 7, 3], 96);
    const g1 = runFloat(oneNode('GlobalAveragePooling1D', { keepdims: true, data_format: 'channels_last' }, {}, [[null, 7, 3]]), [x1])[0];
    expect(g1.shape).toEqual([2, 1, 3]);
    expect(maxErr(g1.data, tf.mean(toTf(x1), 1, true).dataSync())).toBeLessThanOrEqual(1e-6);
  });

  it('Embedding(mask_zero) -> GlobalAveragePooling1D averages only unmasked steps (vs tf ops)', () => {
    const emb = randomTensor([5, 3], 94);
    const ids: FloatTensor = { shape: [2, 6], data: Float32Array.from([1, 2, 0, 4, 0, 0, 3, 3, 1, 2, 4, 1]) };
    const g = oneNode('Embedding', { input_dim: 5, output_dim: 3, mask_zero: true }, { embeddings: emb }, [[null, 6]]);
    const gap: IRNode = {
      ...g.nodes[0],
      id: 1,
      name: 'gap',
      className: 'GlobalAveragePooling1D',
      config: { data_format: 'channels_last', keepdims: false },
      inputs: [1],
      outputs: [2],
      weights: {},
    };
    g.nodes.push(gap);
    g.tensors.push({ id: 2, name: 'gap', shape: [null, 3], dtype: 'float32', producer: 1 });
    g.outputs = [2];
    const got = runFloat(g, [ids])[0];
    const e = tf.gather(toTf(emb), tf.tensor(ids.data, ids.shape, 'int32'));
    const m = tf.tensor(ids.data, ids.shape).notEqual(0).cast('float32').expandDims(2);
    const want = e.mul(m).sum(1).div(m.sum(1)).dataSync();
    expect(got.shape).toEqual([2, 3]);
    expect(maxErr(got.data, want)).toBeLessThanOrEqual(1e-6);
  });

  it('Conv2D groups=2 (same, stride 2) vs ONNX Conv group=2', async () => {
    const B = 2,
      H = 6,
      W = 7,
      C = 4,
      F = 6,
      G = 2;
    const x = randomTensor([B, H, W, C], 97, -2, 2);
    const k = randomTensor([3, 3, C / G, F], 98);
    const bias = randomTensor([F], 99);
    const got = runFloat(
      oneNode(
        'Conv2D',
        {
          filters: F,
          kernel_size: [3, 3],
          strides: [2, 2],
          padding: 'same',
          dilation_rate: [1, 1],
          groups: G,
          activation: 'linear',
          use_bias: true,
          data_format: 'channels_last',
        },
        { kernel: k, bias },
        [[null, H, W, C]],
      ),
      [x],
    )[0];
    expect(got.shape).toEqual([B, 3, 4, F]);
    // ONNX: X NCHW, W [F, C/G, kh, kw]; same with stride 2: H 6 -> pads (0,1), W 7 -> total 2 -> (1,1)
    const wo = new Float32Array(k.data.length);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++)
        for (let c = 0; c < C / G; c++) for (let f = 0; f < F; f++) wo[((f * (C / G) + c) * 3 + i) * 3 + j] = k.data[((i * 3 + j) * (C / G) + c) * F + f];
    const xn = toTf(x).transpose([0, 3, 1, 2]);
    const [y] = await runOnnx(
      [onode('Conv', ['X', 'W', 'B'], ['Y'], [ints('pads', [0, 1, 1, 1]), ints('strides', [2, 2]), int('group', G)])],
      [['X', { shape: [B, C, H, W], data: xn.dataSync() as Float32Array }]],
      [['Y', [B, F, 3, 4]]],
      [init('W', [F, C / G, 3, 3], wo), init('B', [F], bias.data)],
    );
    const want = tf.tensor(y, [B, F, 3, 4]).transpose([0, 2, 3, 1]).dataSync();
    expect(maxErr(got.data, want)).toBeLessThanOrEqual(TOL);
  });
});

describe('calibration hooks', () => {
  it('onTensor sees every tensor; onRecurrent ranges agree with the outputs they describe', () => {
    const U = 4,
      T = 6,
      F = 3;
    const cfg = {
      units: U,
      activation: 'tanh',
      recurrent_activation: 'sigmoid',
      use_bias: true,
      return_sequences: true,
      return_state: true,
      go_backwards: false,
      stateful: false,
    };
    const g = oneNode(
      'LSTM',
      cfg,
      { kernel: randomTensor([F, 4 * U], 1), recurrent_kernel: randomTensor([U, 4 * U], 2), bias: randomTensor([4 * U], 3) },
      [[null, T, F]],
      3,
    );
    const x = randomTensor([2, T, F], 4, -2, 2);
    const seen = new Map<number, FloatTensor>();
    let info: any = null;
    const [y, , c] = runFloat(g, [x], {
      onTensor: (id, t) => seen.set(id, t),
      onRecurrent: (nid, r) => {
        expect(nid).toBe(0);
        info = r;
      },
    });
    expect([...seen.keys()].sort()).toEqual([0, 1, 2, 3]);
    const mm = (d: ArrayLike<number>) => [Math.min(...Array.from(d)), Math.max(...Array.from(d))];
    expect([info.h.min, info.h.max]).toEqual(mm(y.data).map((v) => expect.closeTo(v, 6)));
    for (const k of ['i_pre', 'f_pre', 'c_pre', 'o_pre', 'i', 'f', 'g', 'o', 'c', 'act_c', 'h']) expect(info[k].min).toBeLessThanOrEqual(info[k].max);
    expect(info.i.min).toBeGreaterThanOrEqual(0);
    expect(info.i.max).toBeLessThanOrEqual(1);
    // final cell state lies inside the recorded cell range
    for (const v of c.data) {
      expect(v).toBeGreaterThanOrEqual(info.c.min - 1e-6);
      expect(v).toBeLessThanOrEqual(info.c.max + 1e-6);
    }
    // GRU reset_after keys
    const gg = oneNode(
      'GRU',
      { ...cfg, reset_after: true, return_state: false },
      { kernel: randomTensor([F, 3 * U], 5), recurrent_kernel: randomTensor([U, 3 * U], 6), bias: randomTensor([2, 3 * U], 7) },
      [[null, T, F]],
    );
    let ginfo: any = null;
    const [gy] = runFloat(gg, [x], { onRecurrent: (_n, r) => (ginfo = r) });
    expect(Object.keys(ginfo).sort()).toEqual(['h', 'h_pre', 'hh', 'r', 'r_pre', 'rec_h', 'rec_r', 'rec_z', 'x_h', 'x_r', 'x_z', 'z', 'z_pre'].sort());
    expect([ginfo.h.min, ginfo.h.max]).toEqual(mm(gy.data).map((v) => expect.closeTo(v, 6)));
  });
});
