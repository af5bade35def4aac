/**
 * int16 activations with int8 weights (TFLite's 16x8 scheme) end to end: models built and trained
 * here with TensorFlow.js, converted with every layer int16 (and mixed int8/int16), run in
 * build/runtime.wasm; the runtime must equal the integer reference bit for bit, and the outputs
 * are compared with tfjs predict (SQNR).
 *
 * With int8 weights the SQNR cannot pass that of the float model whose weights are rounded to
 * int8 (per output channel, as the converter does): the `ceiling` below, computed with tfjs. The
 * int16 conversion must come within 1 dB of it; int8 activations stay well below it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fit, initTf, predict, rng, saveTfjsFiles, sqnr, tf, type Arr } from '../helpers/tfjs-train.ts';
import { convertAndRun, graphFromFile, slice } from '../helpers/convert-harness.ts';
import { uniformPrecision } from '../../tools/pipeline.ts';
import type { Graph } from '../../tools/graph/ir.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-int16-'));
const seedInit = (s: number) => tf.initializers.glorotUniform({ seed: s });

beforeAll(async () => {
  await initTf();
});

/** A smooth regression task: y = f(x) for x uniform in [-1, 1]^d. */
function regression(n: number, d: number, seed: number): { x: Arr; y: Arr } {
  const r = rng(seed);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = r() * 2 - 1;
    y[i] = Math.sin(2 * x[i * d]) + 0.5 * x[i * d + 1] * x[i * d + 2] - 0.3 * x[i * d + 3];
  }
  return { x: { data: x, shape: [n, d] }, y: { data: y, shape: [n, 1] } };
}

/** Keras kernels hold the output channel last (depthwise: the last two axes). */
function roundPerChannel(w: tf.Tensor, depthwise: boolean): tf.Tensor {
  const d = w.dataSync() as Float32Array;
  const ch = depthwise ? w.shape[w.shape.length - 2]! * w.shape[w.shape.length - 1]! : w.shape[w.shape.length - 1]!;
  const out = new Float32Array(d.length);
  for (let c = 0; c < ch; c++) {
    let mx = 0;
    for (let i = c; i < d.length; i += ch) mx = Math.max(mx, Math.abs(d[i]));
    const s = Math.fround(mx / 127);
    for (let i = c; i < d.length; i += ch) out[i] = s > 0 ? Math.max(-127, Math.min(127, Math.round(d[i] / s))) * s : 0;
  }
  return tf.tensor(out, w.shape);
}

/** SQNR of the float model with its kernels rounded to int8 per output channel: the 16x8 ceiling. */
async function int8WeightsCeiling(m: tf.LayersModel, test: Arr, ref: Float32Array): Promise<number> {
  const m2 = await tf.models.modelFromJSON({ modelTopology: m.toJSON(null, false) as any });
  m.layers.forEach((l, i) => {
    const ws = l.getWeights();
    const dw = l.getClassName().startsWith('DepthwiseConv');
    m2.layers[i].setWeights(ws.map((w, k) => (k === 0 && w.shape.length >= 2 ? roundPerChannel(w, dw) : w)));
  });
  return sqnr(ref, predict(m2, [test])[0]);
}

async function convertBoth(m: tf.LayersModel, name: string, cal: Arr, test: Arr) {
  const g: Graph = await graphFromFile(await saveTfjsFiles(m, join(dir, name)));
  const ref = predict(m, [test])[0];
  const calT = [slice(cal as any, 0, 200)];
  const r8 = await convertAndRun(g, calT, [test as any]);
  const r16 = await convertAndRun(g, calT, [test as any], undefined, { precision: uniformPrecision(g, 'int16') });
  const ceiling = await int8WeightsCeiling(m, test, ref);
  return { g, ref, r8, r16, db8: sqnr(ref, r8.outputs[0].data), db16: sqnr(ref, r16.outputs[0].data), ceiling };
}

describe('int16 activations (16x8)', () => {
  it('Dense regressor (relu, tanh fused as an int16 LUT): bit-exact, within 1 dB of the int8-weights ceiling, far above int8', async () => {
    const train = regression(800, 4, 5);
    const test = regression(300, 4, 6);
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 32, activation: 'relu', kernelInitializer: seedInit(11) }));
    m.add(tf.layers.dense({ units: 16, activation: 'tanh', kernelInitializer: seedInit(12) }));
    m.add(tf.layers.dense({ units: 1, kernelInitializer: seedInit(13) }));
    await fit(m, train.x, train.y, { epochs: 20, loss: 'meanSquaredError' });
    const { r16, db8, db16, ceiling } = await convertBoth(m, 'dense', train.x, test.x);
    expect(r16.selfTest).toBe(0);
    expect(r16.bitExact).toBe(true);
    const lo = r16.result.lowered;
    expect(lo.ops.map((o) => o.name)).toEqual(['DENSE', 'DENSE', 'DENSE']);
    expect(lo.tensors.every((t) => t.dtype === 'int16')).toBe(true);
    console.log(`Dense regressor: SQNR int8 ${db8.toFixed(1)} dB, int16 ${db16.toFixed(1)} dB, int8-weights ceiling ${ceiling.toFixed(1)} dB`);
    expect(db16).toBeGreaterThanOrEqual(ceiling - 1);
    expect(db16).toBeGreaterThan(db8 + 6);
  });

  it('Conv1D regressor (BatchNorm folded, relu, max and average pooling, sigmoid fused, global pooling): bit-exact, at the int8-weights ceiling', async () => {
    const T = 32;
    const mk = (n: number, seed: number) => {
      const r = rng(seed);
      const x = new Float32Array(n * T * 3);
      const y = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        const f = 0.5 + r() * 2;
        const ph = r() * 6;
        for (let t = 0; t < T; t++) for (let c = 0; c < 3; c++) x[(i * T + t) * 3 + c] = Math.sin(f * t * 0.3 + ph + c) * (1 + c * 0.3) + 0.1 * (r() - 0.5);
        y[i * 2] = f;
        y[i * 2 + 1] = Math.cos(ph);
      }
      return { x: { data: x, shape: [n, T, 3] }, y: { data: y, shape: [n, 2] } };
    };
    const train = mk(400, 41);
    const test = mk(200, 42);
    const m = tf.sequential();
    m.add(tf.layers.conv1d({ inputShape: [T, 3], filters: 8, kernelSize: 5, padding: 'same', kernelInitializer: seedInit(31) }));
    m.add(tf.layers.batchNormalization({ momentum: 0.8 }));
    m.add(tf.layers.activation({ activation: 'relu' }));
    m.add(tf.layers.maxPooling1d({ poolSize: 2 }));
    m.add(tf.layers.conv1d({ filters: 12, kernelSize: 3, activation: 'sigmoid', kernelInitializer: seedInit(32) }));
    m.add(tf.layers.averagePooling1d({ poolSize: 2 }));
    m.add(tf.layers.conv1d({ filters: 12, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: seedInit(33) }));
    m.add(tf.layers.globalAveragePooling1d({}));
    m.add(tf.layers.dense({ units: 2, kernelInitializer: seedInit(34) }));
    await fit(m, train.x, train.y, { epochs: 15, loss: 'meanSquaredError' });
    const { r16, db8, db16, ceiling } = await convertBoth(m, 'conv1d', train.x, test.x);
    expect(r16.selfTest).toBe(0);
    expect(r16.bitExact).toBe(true);
    const lo = r16.result.lowered;
    expect(lo.ops.map((o) => o.name)).toEqual(['CONV2D', 'MAX_POOL2D', 'CONV2D', 'AVG_POOL2D', 'CONV2D', 'AVG_POOL2D', 'DENSE']);
    expect(lo.tensors.every((t) => t.dtype === 'int16')).toBe(true);
    console.log(`Conv1D regressor: SQNR int8 ${db8.toFixed(1)} dB, int16 ${db16.toFixed(1)} dB, int8-weights ceiling ${ceiling.toFixed(1)} dB`);
    expect(db16).toBeGreaterThanOrEqual(ceiling - 1);
    expect(db16).toBeGreaterThan(db8 + 6);
  });

  it('functional 2-D model (DepthwiseConv2D, Add, Multiply, Concatenate, Maximum, standalone sigmoid): bit-exact, at the ceiling', async () => {
    const inp = tf.input({ shape: [8, 8, 2] });
    const c = tf.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seedInit(51) })
      .apply(inp) as tf.SymbolicTensor;
    const a = tf.layers
      .depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 1, depthwiseInitializer: seedInit(52) })
      .apply(c) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: seedInit(53) }).apply(c) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
    const gate = tf.layers.activation({ activation: 'sigmoid' }).apply(b) as tf.SymbolicTensor;
    const prod = tf.layers.multiply().apply([sum, gate]) as tf.SymbolicTensor;
    const mx = tf.layers.maximum().apply([prod, a]) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([mx, sum]) as tf.SymbolicTensor;
    const gp = tf.layers.globalAveragePooling2d({}).apply(cat) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, kernelInitializer: seedInit(54) }).apply(gp) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: out });
    const mk = (n: number, seed: number) => {
      const r = rng(seed);
      const x = Float32Array.from({ length: n * 128 }, () => r() * 2 - 1);
      const y = new Float32Array(n * 3);
      for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) y[i * 3 + k] = x[i * 128 + k * 7] * x[i * 128 + k * 11 + 1];
      return { x: { data: x, shape: [n, 8, 8, 2] }, y: { data: y, shape: [n, 3] } };
    };
    const train = mk(300, 61);
    const test = mk(100, 62);
    await fit(m, train.x, train.y, { epochs: 5, loss: 'meanSquaredError' });
    const { r16, db8, db16, ceiling } = await convertBoth(m, 'merges', train.x, test.x);
    expect(r16.selfTest).toBe(0);
    expect(r16.bitExact).toBe(true);
    const lo = r16.result.lowered;
    const ops = new Set(lo.ops.map((o) => o.name));
    for (const op of ['CONV2D', 'DEPTHWISE_CONV2D', 'ADD_N', 'LUT', 'MUL', 'MAXMIN', 'CONCAT', 'AVG_POOL2D', 'DENSE']) expect(ops).toContain(op);
    expect(ops).not.toContain('REQUANT');
    expect(lo.tensors.every((t) => t.dtype === 'int16')).toBe(true);
    console.log(`functional 2-D merges: SQNR int8 ${db8.toFixed(1)} dB, int16 ${db16.toFixed(1)} dB, int8-weights ceiling ${ceiling.toFixed(1)} dB`);
    expect(db16).toBeGreaterThanOrEqual(ceiling - 1);
    expect(db16).toBeGreaterThan(db8 + 6);
  });

  it('mixed int8/int16 (one layer int16; LayerNormalization, without int16 kernel, kept int8): REQUANT ops join them, the plan holds them, bit-exact', async () => {
    const train = regression(400, 4, 71);
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 24, activation: 'relu', kernelInitializer: seedInit(71), name: 'a' }));
    m.add(tf.layers.dense({ units: 12, activation: 'tanh', kernelInitializer: seedInit(72), name: 'b' }));
    m.add(tf.layers.layerNormalization({ name: 'ln' }));
    m.add(tf.layers.dense({ units: 3, kernelInitializer: seedInit(73), name: 'c' }));
    m.add(tf.layers.activation({ activation: 'softmax', name: 'p' }));
    const g = await graphFromFile(await saveTfjsFiles(m, join(dir, 'mixed')));
    const cal = [slice(train.x as any, 0, 200)];
    const test = regression(100, 4, 72).x as any;
    // only 'b' int16: its input and output are requantised
    const one = await convertAndRun(g, cal, [test], undefined, { precision: new Map([['b', 'int16']]) });
    expect(one.selfTest).toBe(0);
    expect(one.bitExact).toBe(true);
    const lo = one.result.lowered;
    expect(lo.ops.map((o) => o.name)).toEqual(['DENSE', 'REQUANT', 'DENSE', 'REQUANT', 'LAYER_NORM', 'DENSE', 'SOFTMAX']);
    const dtypes = lo.ops.map((o) => lo.tensors[o.params.out as number].dtype);
    expect(dtypes).toEqual(['int8', 'int16', 'int16', 'int8', 'int8', 'int8', 'int8']);
    // int16 tensors are planned at 2 bytes an element; every REQUANT output has its arena place
    for (const t of lo.tensors) expect(t.bytes).toBe(t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'int16' ? 2 : 1));
    for (const o of lo.ops.filter((x) => x.name === 'REQUANT')) expect(one.result.plan.offsets.has(o.params.out as number)).toBe(true);
    expect(one.result.plan.arenaSize).toBeGreaterThanOrEqual(one.result.plan.lowerBound);
    expect(one.result.notes.join('\n')).toMatch(/2 REQUANT op\(s\)/);
    // every layer asked int16: input and output (softmax at 2^-15) are int16; LayerNormalization stays int8
    const all = await convertAndRun(g, cal, [test], undefined, { precision: uniformPrecision(g, 'int16') });
    expect(all.bitExact).toBe(true);
    expect(all.selfTest).toBe(0);
    const la = all.result.lowered;
    expect(la.ops.map((o) => o.name)).toEqual(['DENSE', 'DENSE', 'REQUANT', 'LAYER_NORM', 'REQUANT', 'DENSE', 'SOFTMAX']);
    expect(la.tensors[la.inputs[0]].dtype).toBe('int16');
    expect(la.tensors[la.outputs[0]].dtype).toBe('int16');
    expect(la.tensors[la.outputs[0]].q).toEqual({ scale: 1 / 32768, zeroPoint: 0 });
    expect(all.result.notes.join('\n')).toMatch(/int8 kept \(no int16 kernel\): 'ln' \(LayerNormalization\)/);
    // the softmax outputs agree with the float model, the int16 ones closer
    const ref = predict(m, [test])[0];
    const [db8, db16] = [sqnr(ref, one.outputs[0].data), sqnr(ref, all.outputs[0].data)];
    console.log(`mixed: softmax output SQNR, int8 head ${db8.toFixed(1)} dB, int16 ${db16.toFixed(1)} dB`);
    expect(db16).toBeGreaterThan(db8);
  });
});
