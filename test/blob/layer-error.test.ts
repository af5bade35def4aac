/**
 * tools/blob/layer-error.ts and op-tap.ts: each layer's output read from the tapped runtime is
 * the very tensor the runtime computes (the same layer made a model output gives the same bytes
 * through kw_output_ptr), the float reference matches tfjs layer by layer, and the per-layer
 * figures are the error of those tensors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTf, rng, gauss, tf } from '../helpers/tfjs-train.ts';
import { writeTfjs } from '../helpers/keras-writers.ts';
import { graphFromFile, convertWithSelfTest } from '../helpers/convert-harness.ts';
import { firstBelow, layerErrors, sqnr } from '../../tools/blob/layer-error.ts';
import { OpTap } from '../../tools/blob/op-tap.ts';
import { DeviceSim, DEFAULT_WASM } from '../../firmware-host/node/host.ts';
import { rawInputs } from '../../tools/pipeline.ts';
import { runFloat } from '../../tools/float/forward.ts';
import type { FloatTensor } from '../../tools/graph/ir.ts';

const dir = mkdtempSync(join(tmpdir(), 'layer-error-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 1-D CNN (three Conv1D, pooling, Dense softmax); `tap` also makes conv2's output a model output. */
function buildCnn(tap: boolean): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
  const x = tf.input({ shape: [32, 3], name: 'x' });
  const c1 = tf.layers.conv1d({ filters: 8, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'conv1' }).apply(x);
  const p1 = tf.layers.maxPooling1d({ poolSize: 2, name: 'pool1' }).apply(c1);
  const c2 = tf.layers.conv1d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2), name: 'conv2' }).apply(p1);
  const c3 = tf.layers.conv1d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init(3), name: 'conv3' }).apply(c2);
  const g = tf.layers.globalAveragePooling1d({ name: 'gap' }).apply(c3);
  const y = tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(4), name: 'classes' }).apply(g) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: tap ? [y, c2 as tf.SymbolicTensor] : y, name: tap ? 'cnn_tap' : 'cnn' });
}

function samples(n: number, seed: number): FloatTensor {
  const r = rng(seed);
  const data = new Float32Array(n * 32 * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i / 7) + 0.5 * gauss(r);
  return { shape: [n, 32, 3], data };
}

let files: { one: string; two: string };
let model: tf.LayersModel;
beforeAll(async () => {
  await initTf();
  model = buildCnn(false);
  files = { one: await writeTfjs(model, join(dir, 'one')), two: await writeTfjs(buildCnn(true), join(dir, 'two')) };
}, 60_000);

describe('layerErrors', () => {
  it('reads each op output while it is intact: the tapped conv2 equals conv2 made a model output', async () => {
    const cal = samples(64, 1);
    const test = samples(8, 2);
    const one = await convertWithSelfTest(await graphFromFile(files.one), [cal]);
    const two = await convertWithSelfTest(await graphFromFile(files.two), [cal]);
    // conv2's tensor in the one-output blob and the op that writes it
    const t = one.lowered.tensors.find((x) => x.ir >= 0 && one.graph.tensors[x.ir].name === 'conv2')!;
    const writer = one.lowered.ops.findIndex((o) => o.outputs.includes(t.index));
    // the plan reuses conv2's bytes for a later tensor, so reading them after the whole invoke would be wrong
    const at = (i: number) => one.plan.offsets.get(i)!;
    const later = one.lowered.ops.slice(writer + 1).flatMap((o) => o.outputs);
    expect(later.some((i) => at(i) < at(t.index) + t.bytes && at(t.index) < at(i) + one.lowered.tensors[i].bytes)).toBe(true);
    const tap = await OpTap.load(DEFAULT_WASM);
    expect(tap.init(one.blob)).toBe(0);
    const sim = await DeviceSim.load(DEFAULT_WASM);
    sim.initOrThrow(two.blob);
    for (let s = 0; s < test.shape[0]; s++) {
      const x = { shape: [1, 32, 3], data: test.data.subarray(s * 96, (s + 1) * 96) };
      let tapped: Int8Array | null = null;
      tap.invoke(rawInputs(one.lowered, [x], 1), (op) => {
        if (op === writer) tapped = tap.read(t.index) as Int8Array;
      });
      const [, conv2] = sim.run(rawInputs(two.lowered, [x], 1).map((b) => new Int8Array(b.buffer)));
      expect(tapped).not.toBeNull();
      expect([...tapped!]).toEqual([...conv2]);
    }
  }, 60_000);

  it('the float reference agrees with tfjs on every layer output the report names', async () => {
    const g = await graphFromFile(files.one);
    const x = samples(4, 3);
    const ours = new Map<string, Float32Array>();
    runFloat(g, [x], { onTensor: (id, t) => ours.set(g.tensors[id].name, t.data) });
    for (const name of ['conv1', 'pool1', 'conv2', 'conv3', 'gap', 'classes']) {
      const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(name).output as tf.SymbolicTensor });
      const want = (sub.predict(tf.tensor(x.data, x.shape)) as tf.Tensor).dataSync() as Float32Array;
      const got = ours.get(name)!;
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst, name).toBeLessThan(1e-4);
    }
  }, 60_000);

  it('reports each computed layer in blob order with its SQNR and max abs error; the last equals the output error', async () => {
    const g = await graphFromFile(files.one);
    const r = await convertWithSelfTest(g, [samples(64, 1)]);
    const test = samples(16, 4);
    const errs = await layerErrors(r.blob, g, [test]);
    expect(errs.map((e) => e.layer)).toEqual(['conv1', 'pool1', 'conv2', 'conv3', 'gap', 'classes']);
    expect(errs.map((e) => e.className)).toEqual(['Conv1D', 'MaxPooling1D', 'Conv1D', 'Conv1D', 'GlobalAveragePooling1D', 'Dense']);
    for (const e of errs) {
      expect(e.precision).toBe('int8');
      expect(e.sqnrDb).toBeGreaterThan(20);
      expect(e.maxAbsError).toBeGreaterThan(0);
    }
    // the output layer's figures from the blob's ordinary outputs
    const sim = await DeviceSim.load(DEFAULT_WASM);
    sim.initOrThrow(r.blob);
    let se = 0,
      sr = 0,
      maxAbs = 0;
    for (let s = 0; s < 16; s++) {
      const x = { shape: [1, 32, 3], data: test.data.subarray(s * 96, (s + 1) * 96) };
      const ref = runFloat(g, [x])[0].data;
      sim.setInputFloat(0, x.data);
      expect(sim.invoke()).toBe(0);
      const got = sim.getOutputFloat(0);
      ref.forEach((v, i) => {
        se += (got[i] - v) ** 2;
        sr += v * v;
        maxAbs = Math.max(maxAbs, Math.abs(got[i] - v));
      });
    }
    expect(errs.at(-1)!.sqnrDb).toBeCloseTo(sqnr(sr, se), 6);
    expect(errs.at(-1)!.maxAbsError).toBeCloseTo(maxAbs, 6);
    expect(firstBelow(errs, 1000)).toBe(errs[0]);
    expect(firstBelow(errs, -1)).toBeNull();
  }, 60_000);

  it('runs a blob built for the streaming runtime the same way (weights in flash)', async () => {
    const g = await graphFromFile(files.one);
    const r = await convertWithSelfTest(g, [samples(64, 1)]);
    expect(r.weights).toBe('flash');
    const flash = await layerErrors(r.blob, g, [samples(8, 5)]);
    const ram = await layerErrors(r.blob, g, [samples(8, 5)], { runtime: DEFAULT_WASM });
    expect(flash).toEqual(ram);
  }, 60_000);
});
