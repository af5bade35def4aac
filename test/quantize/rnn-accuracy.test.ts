/**
 * Accuracy of the fixed-point recurrent kernels on TRAINED models against independent float
 * oracles: tfjs (SimpleRNN, LSTM, GRU reset_after=False, Bidirectional) and ONNX Runtime
 * (GRU linear_before_reset=1 == Keras reset_after=True). Models are trained in the test (seeded)
 * on synthetic accelerometer windows (4 classes), then evaluated on 150-step sequences (6x the
 * training length, to show there is no drift). The quantised layer runs in the real kernels
 * (harness wasm); the classifier head (global average + Dense) is applied in float to the
 * dequantised recurrent output.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import * as ort from 'onnxruntime-web';
import pkg from 'onnx-proto';
import { rnnSpec, runRnn } from '../../tools/float/layers/recurrent.ts';
import { quantizeRnn, rnnFloatLayer } from '../../tools/quantize/lower-rnn.ts';
import { RNN_FLAG, type CellKind, type RnnQuant } from '../../tools/quantize/reference-rnn.ts';
import { asymmetricQParams, quantizeValue, type QParams } from '../../tools/quantize/qparams.ts';
import { oneOpBlob, RnnHarness } from '../helpers/rnn-harness.ts';
import { accelData, agreement, argmaxRows, fit, initTf, oneHot, sqnr, tf } from '../helpers/tfjs-train.ts';

const { onnx } = pkg as any;
const T_TRAIN = 25;
const T_EVAL = 150;
const D = 3;
const C = 4;

interface Trained {
  model: any; // tf.LayersModel: input [null, null, 3] -> rnn -> GAP -> Dense(4)
  rnn: any; // the recurrent layer (or Bidirectional)
  dense: { w: Float32Array; b: Float32Array };
}

async function train(make: () => any, seed: number, lr = 0.02): Promise<Trained> {
  const inp = tf.input({ shape: [null, D] });
  const rnn = make();
  const h = rnn.apply(inp);
  const g = tf.layers.globalAveragePooling1d().apply(h);
  const dense = tf.layers.dense({ units: C, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed }) });
  const out = dense.apply(g);
  const model = tf.model({ inputs: inp, outputs: out as any });
  const d = accelData(128, T_TRAIN, seed);
  await fit(model, d.x, oneHot(d.labels, C), { epochs: 4, batchSize: 32, lr, loss: 'categoricalCrossentropy' });
  const [w, b] = dense.getWeights().map((t: any) => t.dataSync() as Float32Array);
  return { model, rnn, dense: { w: Float32Array.from(w), b: Float32Array.from(b) } };
}

function rangeOf(a: ArrayLike<number>): { min: number; max: number } {
  let mn = 0;
  let mx = 0;
  for (let i = 0; i < a.length; i++) {
    mn = Math.min(mn, a[i]);
    mx = Math.max(mx, a[i]);
  }
  return { min: mn, max: mx };
}

/** quantise one direction from float weights + a float calibration pass; run the kernel */
async function runQuant(
  cell: CellKind,
  cfg: Record<string, any>,
  w: Record<string, { shape: number[]; data: Float32Array }>,
  xCal: { shape: number[]; data: Float32Array },
  xEval: { shape: number[]; data: Float32Array },
  inQ: QParams,
  outQ: QParams | null,
  opts: { outputInInputOrder?: boolean } = {},
): Promise<{ y: Float32Array; q: RnnQuant; outQ: QParams }> {
  const spec = rnnSpec(cell, 'l', cfg, w);
  const info: any = {};
  const fr = runRnn(spec, xCal, null, null, info);
  const oq =
    outQ ??
    (() => {
      const r = rangeOf(fr.seq.data);
      return asymmetricQParams(r.min, r.max);
    })();
  const q = quantizeRnn(rnnFloatLayer(cell, 'l', cfg, w, D), info, inQ, oq, { keepState: false, outputInInputOrder: opts.outputInInputOrder });
  const [B, T] = xEval.shape;
  const xq = Int8Array.from(xEval.data, (v) => quantizeValue(v, inQ));
  const h = await new RnnHarness(oneOpBlob(q, B, T)).init();
  expect(h.prepareErr).toBe(0);
  const yq = h.invoke(xq);
  return { y: Float32Array.from(yq, (v) => (v - oq.zeroPoint) * oq.scale), q, outQ: oq };
}

function head(seq: Float32Array, B: number, T: number, u: number, dense: Trained['dense']): Int32Array {
  const logits = new Float32Array(B * C);
  for (let b = 0; b < B; b++) {
    const g = new Float64Array(u);
    for (let t = 0; t < T; t++) for (let k = 0; k < u; k++) g[k] += seq[(b * T + t) * u + k] / T;
    for (let c = 0; c < C; c++) {
      let s = dense.b[c];
      for (let k = 0; k < u; k++) s += g[k] * dense.w[k * C + c];
      logits[b * C + c] = s;
    }
  }
  return argmaxRows(logits, C);
}

const N_EVAL = 64;
const cal = accelData(48, T_EVAL, 901);
const ev = accelData(N_EVAL, T_EVAL, 902);
const xCal = { shape: cal.x.shape, data: cal.x.data };
const xEval = { shape: ev.x.shape, data: ev.x.data };
let inQ: QParams;

beforeAll(async () => {
  await initTf();
  await tf.setBackend('wasm'); // RNN training is ~5x faster than on cpu; results equal to 1e-6
  await tf.ready();
  const r = rangeOf(cal.x.data);
  inQ = asymmetricQParams(r.min, r.max);
});

function tfPredict(m: any, layerOut: any, x: typeof xEval): { seq: Float32Array; top: Int32Array } {
  const sub = tf.model({ inputs: m.inputs, outputs: [layerOut, m.outputs[0]] });
  const xt = tf.tensor(x.data, x.shape);
  const [s, p] = sub.predict(xt) as any[];
  const res = { seq: Float32Array.from(s.dataSync()), top: argmaxRows(p.dataSync(), C) };
  xt.dispose();
  s.dispose();
  p.dispose();
  return res;
}

// lr per model: the SimpleRNNs are trained gently; at lr 0.02 the tanh SimpleRNN becomes chaotic over
// 150 steps (float with only its input quantised to int8: 33 dB; only its weights: 25 dB), so no
// int8 scheme can reach 30 dB on it (see docs/RECURRENT.md).
const uni: [string, CellKind, () => any, Record<string, any>, number][] = [
  [
    'SimpleRNN tanh',
    'SimpleRNN',
    () =>
      tf.layers.simpleRNN({
        units: 16,
        returnSequences: true,
        activation: 'tanh',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        recurrentInitializer: tf.initializers.orthogonal({ seed: 2 }),
      }),
    { units: 16, activation: 'tanh' },
    0.01,
  ],
  [
    'SimpleRNN relu',
    'SimpleRNN',
    () =>
      tf.layers.simpleRNN({
        units: 16,
        returnSequences: true,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        recurrentInitializer: tf.initializers.orthogonal({ seed: 4, gain: 0.5 }),
      }),
    { units: 16, activation: 'relu' },
    0.005,
  ],
  [
    'LSTM sigmoid',
    'LSTM',
    () =>
      tf.layers.lstm({
        units: 16,
        returnSequences: true,
        recurrentActivation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
        recurrentInitializer: tf.initializers.orthogonal({ seed: 6 }),
      }),
    { units: 16, activation: 'tanh', recurrent_activation: 'sigmoid' },
    0.02,
  ],
  [
    'LSTM hard_sigmoid',
    'LSTM',
    () =>
      tf.layers.lstm({
        units: 12,
        returnSequences: true,
        recurrentActivation: 'hardSigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
        recurrentInitializer: tf.initializers.orthogonal({ seed: 8 }),
      }),
    { units: 12, activation: 'tanh', recurrent_activation: 'hard_sigmoid' },
    0.02,
  ],
  [
    'GRU reset_after=False',
    'GRU',
    () =>
      tf.layers.gru({
        units: 16,
        returnSequences: true,
        recurrentActivation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }),
        recurrentInitializer: tf.initializers.orthogonal({ seed: 10 }),
      }),
    { units: 16, activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: false },
    0.02,
  ],
];

describe('recurrent accuracy vs tfjs on trained models (150 steps)', () => {
  it.each(uni.map((u) => [u[0], u] as const))(
    '%s',
    async (_n, [, cell, make, cfg0, lr]) => {
      const tr = await train(make, 11, lr);
      const { seq: ref, top } = tfPredict(tr.model, tr.rnn.output, xEval);
      const [k, r, b] = tr.rnn.getWeights().map((t: any) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
      const cfg: Record<string, any> = { ...cfg0, return_sequences: true, use_bias: true };
      const { y } = await runQuant(cell, cfg, { kernel: k, recurrent_kernel: r, bias: b }, xCal, xEval, inQ, null);
      const s = sqnr(ref, y);
      const u = Number(cfg.units);
      const agree = agreement(head(y, N_EVAL, T_EVAL, u, tr.dense), top);
      // float head on the float tfjs sequence reproduces tfjs's top-1 (checks the head itself)
      expect(agreement(head(ref, N_EVAL, T_EVAL, u, tr.dense), top)).toBe(1);
      // drift: SQNR over the last 25 steps is as good as over all steps (minus 3 dB)
      const tail = (a: Float32Array) => {
        const o: number[] = [];
        for (let bb = 0; bb < N_EVAL; bb++) for (let t = T_EVAL - 25; t < T_EVAL; t++) for (let kk = 0; kk < u; kk++) o.push(a[(bb * T_EVAL + t) * u + kk]);
        return o;
      };
      const sTail = sqnr(tail(ref), tail(y));
      console.log(`${_n}: SQNR ${s.toFixed(1)} dB (last 25 steps ${sTail.toFixed(1)} dB), top-1 agreement ${(agree * 100).toFixed(1)}%`);
      expect(s).toBeGreaterThanOrEqual(30);
      expect(sTail).toBeGreaterThanOrEqual(Math.min(30, s - 3));
      expect(agree).toBeGreaterThanOrEqual(0.99);
    },
    120000,
  );

  it.each([['concat'], ['sum']] as const)(
    'Bidirectional(LSTM) merge_mode=%s',
    async (mode) => {
      const make = () =>
        tf.layers.bidirectional({
          layer: tf.layers.lstm({
            units: 8,
            returnSequences: true,
            recurrentActivation: 'sigmoid',
            kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }),
            recurrentInitializer: tf.initializers.orthogonal({ seed: 13 }),
          }) as any,
          mergeMode: mode,
        });
      const tr = await train(make, 21);
      const { seq: ref, top } = tfPredict(tr.model, tr.rnn.output, xEval);
      const cfg = { units: 8, activation: 'tanh', recurrent_activation: 'sigmoid', return_sequences: true, use_bias: true };
      const wts = (l: any) => {
        const [k, r, b] = l.getWeights().map((t: any) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
        return { kernel: k, recurrent_kernel: r, bias: b };
      };
      const fw = wts(tr.rnn.forwardLayer);
      const bw = wts(tr.rnn.backwardLayer);
      const B = N_EVAL;
      const T = T_EVAL;
      let y: Float32Array;
      const u = 8;
      if (mode === 'concat') {
        // both halves quantised straight to the merged output's qparams (the CONCAT op is then a copy)
        const r = rangeOf(ref);
        const oq = asymmetricQParams(r.min, r.max);
        const f = await runQuant('LSTM', cfg, fw, xCal, xEval, inQ, oq);
        const bk = await runQuant('LSTM', { ...cfg, go_backwards: true }, bw, xCal, xEval, inQ, oq, { outputInInputOrder: true });
        expect(bk.q.flags & RNN_FLAG.GO_BACKWARDS).toBeTruthy();
        y = new Float32Array(B * T * 2 * u);
        for (let i = 0; i < B * T; i++)
          for (let k = 0; k < u; k++) {
            y[i * 2 * u + k] = f.y[i * u + k];
            y[i * 2 * u + u + k] = bk.y[i * u + k];
          }
      } else {
        const f = await runQuant('LSTM', cfg, fw, xCal, xEval, inQ, null);
        const bk = await runQuant('LSTM', { ...cfg, go_backwards: true }, bw, xCal, xEval, inQ, null, { outputInInputOrder: true });
        // the merge (ADD_N in the blob) requantises to the merged qparams; here in float, then int8
        const r = rangeOf(ref);
        const oq = asymmetricQParams(r.min, r.max);
        y = Float32Array.from(f.y, (v, i) => (quantizeValue(v + bk.y[i], oq) - oq.zeroPoint) * oq.scale);
      }
      const width = mode === 'concat' ? 2 * u : u;
      const s = sqnr(ref, y);
      const agree = agreement(head(y, B, T, width, tr.dense), top);
      console.log(`Bidirectional ${mode}: SQNR ${s.toFixed(1)} dB, top-1 agreement ${(agree * 100).toFixed(1)}%`);
      expect(s).toBeGreaterThanOrEqual(30);
      expect(agree).toBeGreaterThanOrEqual(0.99);
    },
    120000,
  );
});

describe('GRU reset_after=True vs ONNX Runtime (linear_before_reset=1)', () => {
  it('trained weights, 150 steps', async () => {
    ort.env.wasm.numThreads = 1;
    // train a tfjs GRU (reset_after=False; tfjs has no reset_after=True), then give its trained
    // weights reset_after=True semantics with a recurrent bias: Keras bias [2, 3u] = [b_in; b_rec]
    const tr = await train(
      () =>
        tf.layers.gru({
          units: 16,
          returnSequences: true,
          recurrentActivation: 'sigmoid',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 31 }),
          recurrentInitializer: tf.initializers.orthogonal({ seed: 32 }),
        }),
      33,
    );
    const [k, r, b] = tr.rnn.getWeights().map((t: any) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
    const U = 16;
    const bias2 = new Float32Array(6 * U);
    for (let j = 0; j < 3 * U; j++) {
      bias2[j] = 0.6 * b.data[j];
      bias2[3 * U + j] = 0.4 * b.data[j] + 0.05 * Math.sin(j);
    }
    const w = { kernel: k, recurrent_kernel: r, bias: { shape: [2, 3 * U], data: bias2 } };
    // ONNX GRU: W [1, 3U, D] = kernel^T, R [1, 3U, U] = recurrent^T, B [1, 6U] = [Wb | Rb], gates z,r,h
    const tr2 = (m: Float32Array, rows: number, cols: number) => {
      const o = new Float32Array(rows * cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) o[j * rows + i] = m[i * cols + j];
      return o;
    };
    const B = N_EVAL;
    const T = T_EVAL;
    const DT = onnx.TensorProto.DataType;
    const vi = (name: string, dims: number[]) =>
      onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DT.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
    const init = (name: string, dims: number[], v: ArrayLike<number>) => onnx.TensorProto.create({ name, dataType: DT.FLOAT, dims, floatData: Array.from(v) });
    const model = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 7,
        opsetImport: [{ domain: '', version: 13 }],
        graph: {
          name: 'g',
          node: [
            onnx.NodeProto.create({
              opType: 'GRU',
              input: ['X', 'W', 'R', 'B'],
              output: ['Y'],
              attribute: [
                { name: 'hidden_size', type: onnx.AttributeProto.AttributeType.INT, i: U },
                { name: 'linear_before_reset', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
              ],
            }),
          ],
          input: [vi('X', [T, B, D])],
          output: [vi('Y', [T, 1, B, U])],
          initializer: [init('W', [1, 3 * U, D], tr2(k.data, D, 3 * U)), init('R', [1, 3 * U, U], tr2(r.data, U, 3 * U)), init('B', [1, 6 * U], bias2)],
        },
      }),
    ).finish();
    const sess = await ort.InferenceSession.create(model);
    const xt = new Float32Array(T * B * D);
    for (let bb = 0; bb < B; bb++) for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) xt[(t * B + bb) * D + d] = xEval.data[(bb * T + t) * D + d];
    const { Y } = await sess.run({ X: new ort.Tensor('float32', xt, [T, B, D]) });
    const ref = new Float32Array(B * T * U);
    const yd = Y.data as Float32Array;
    for (let bb = 0; bb < B; bb++) for (let t = 0; t < T; t++) for (let j = 0; j < U; j++) ref[(bb * T + t) * U + j] = yd[(t * B + bb) * U + j];
    const cfg = { units: U, activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: true, return_sequences: true, use_bias: true };
    // the float reference used for calibration agrees with ORT (sanity of the weight mapping)
    const fr = runRnn(rnnSpec('GRU', 'l', cfg, w), xEval, null, null);
    let maxd = 0;
    for (let i = 0; i < ref.length; i++) maxd = Math.max(maxd, Math.abs(fr.seq.data[i] - ref[i]));
    expect(maxd).toBeLessThan(1e-4);
    const { y } = await runQuant('GRU', cfg, w, xCal, xEval, inQ, null);
    const s = sqnr(ref, y);
    console.log(`GRU reset_after=True vs ORT: SQNR ${s.toFixed(1)} dB`);
    expect(s).toBeGreaterThanOrEqual(30);
  }, 120000);
});
