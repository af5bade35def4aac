/**
 * verify --model --data judges each output by the metric that fits its task: top-1 agreement for
 * classifiers (softmax or sigmoid head, or --labels), SQNR and maximum relative error for
 * regressors and autoencoders; --metric overrides. Models are built and trained here with tfjs,
 * converted in-process and verified as files.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { verify, type Check } from '../../tools/cli/verify-checks.ts';
import { compareOutputs } from '../../tools/cli/verify-numbers.ts';
import { writeNpy } from '../../tools/readers/npy.ts';
import { accelData, fit, gauss, initTf, oneHot, rng, saveTfjsFiles, tf, type Arr } from '../helpers/tfjs-train.ts';
import { convertWithSelfTest, graphFromFile } from '../helpers/convert-harness.ts';
import { repoRoot } from '../helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-verify-metric-'));
const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

/** Saves the model, converts it with `cal`, writes blob and data files. */
async function files(m: tf.LayersModel, name: string, cal: Arr, test: Arr) {
  const model = await saveTfjsFiles(m, join(dir, name));
  const r = await convertWithSelfTest(await graphFromFile(model), [cal]);
  const blob = join(dir, `${name}.blob`);
  writeFileSync(blob, r.blob);
  const data = join(dir, `${name}-x.npy`);
  writeNpy(data, test.data, test.shape);
  return { model, blob, data };
}

const numbers = async (o: Parameters<typeof verify>[0]): Promise<Check> => (await verify(o)).checks.find((c) => c.name === 'numbers')!;
const out0 = (c: Check) => (c.figures as any).outputs[0];

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools/verify'), ...args], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  await initTf();
});

describe('verify: the metric fits the task', () => {
  it('metrics: max relative error is max |error| over max |float|; a one-unit head is judged by its decision', () => {
    const ref = Float32Array.from([0.9, 0.2, 0.6, 0.4]);
    const got = Float32Array.from([0.8, 0.2, 0.45, 0.55]);
    const m = compareOutputs(ref, got, 1, 0.5);
    expect(m.maxAbsErr).toBeCloseTo(0.15, 6);
    expect(m.maxRelErr).toBeCloseTo(0.15 / 0.9, 6);
    // decisions 1 0 1 0 vs 1 0 0 1
    expect(m.top1).toBe(0.5);
    expect(m.samples).toBe(4);
    expect(compareOutputs(ref, got, 1).top1).toBeNull();
  });

  it('an autoencoder is judged by SQNR and max relative error (passes where top-1 over its 64 outputs does not)', async () => {
    // smooth 64-sample windows: neighbouring outputs are close, so the argmax of a reconstruction is fragile
    const r = rng(3);
    const mk = (n: number): Arr => {
      const d = new Float32Array(n * 64);
      for (let i = 0; i < n; i++) {
        const f = 0.5 + 2 * r();
        const ph = 2 * Math.PI * r();
        for (let k = 0; k < 64; k++) d[i * 64 + k] = Math.sin((2 * Math.PI * f * k) / 64 + ph) + 0.02 * gauss(r);
      }
      return { data: d, shape: [n, 64] };
    };
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [64], units: 16, activation: 'relu', kernelInitializer: seeded(1), name: 'enc' }));
    m.add(tf.layers.dense({ units: 64, kernelInitializer: seeded(2), name: 'dec' }));
    const train = mk(512);
    await fit(m, train, train, { epochs: 30, lr: 0.01, loss: 'meanSquaredError' });
    const f = await files(m, 'ae', train, mk(200));
    const c = await numbers({ blobFile: f.blob, model: f.model, data: [f.data] });
    const o = out0(c);
    console.log(`autoencoder: SQNR ${o.sqnrDb.toFixed(1)} dB, max relative error ${o.maxRelErr.toFixed(3)}, top-1 ${(100 * o.top1).toFixed(1)}%`);
    expect(o.metric).toBe('sqnr');
    expect(o.why).toBe('linear head (not softmax or sigmoid), so a regressor or autoencoder');
    expect(c.status).toBe('PASS');
    expect(o.sqnrDb).toBeGreaterThan(25);
    expect(o.maxRelErr).toBeLessThan(0.1);
    expect(o.top1).toBeLessThan(0.9);
    expect(c.details[0]).toMatch(
      /^output 'dec' judged by SQNR and max relative error \(linear head .*\): SQNR [\d.]+ dB \(min 15\), max relative error [\d.]+ \(max 0.1\)/,
    );
    // --metric top1 judges the same blob by top-1 agreement: it fails, saying so
    const t = await numbers({ blobFile: f.blob, model: f.model, data: [f.data], metric: 'top1' });
    expect(t.status).toBe('FAIL');
    expect(t.summary).toMatch(/^output 'dec': top-1 agreement [\d.]+% < --min-top1 0.9$/);
    expect(out0(t).why).toBe('--metric top1 given');
    // a threshold given on the command line is checked whatever the metric
    const strict = await numbers({ blobFile: f.blob, model: f.model, data: [f.data], thresholds: { maxRelErr: 0.001 } });
    expect(strict.status).toBe('FAIL');
    expect(strict.summary).toMatch(/^output 'dec': max relative error [\d.]+ > --max-rel-err 0.001$/);
  });

  it('a softmax classifier is judged by top-1 agreement; --labels adds the accuracy of both; a sigmoid head by its decision', async () => {
    const C = 4;
    const train = accelData(256, 24, 5);
    const test = accelData(120, 24, 6);
    const m = tf.sequential();
    m.add(tf.layers.conv1d({ inputShape: [24, 3], filters: 6, kernelSize: 5, activation: 'relu', kernelInitializer: seeded(3), name: 'conv' }));
    m.add(tf.layers.globalAveragePooling1d({ name: 'gap' }));
    m.add(tf.layers.dense({ units: C, activation: 'softmax', kernelInitializer: seeded(4), name: 'classes' }));
    await fit(m, train.x, oneHot(train.labels, C), { epochs: 25, lr: 0.02, loss: 'categoricalCrossentropy' });
    const f = await files(m, 'cls', train.x, test.x);
    const c = await numbers({ blobFile: f.blob, model: f.model, data: [f.data] });
    expect(out0(c).metric).toBe('top1');
    expect(out0(c).why).toBe('softmax head, so a classifier');
    expect(c.status).toBe('PASS');
    expect(c.summary).toMatch(/^120 sample\(s\) vs the float model: output 'classes' top-1 agreement [\d.]+% of 120 \(min 0.9\)$/);
    expect(out0(c).top1).toBeGreaterThanOrEqual(0.95);
    const labels = join(dir, 'cls-y.npy');
    writeNpy(labels, test.labels, [120]);
    const l = await numbers({ blobFile: f.blob, model: f.model, data: [f.data], labels });
    const acc = out0(l).accuracy;
    console.log(
      `classifier: top-1 agreement ${(100 * out0(l).top1).toFixed(1)}%, accuracy float ${(100 * acc.float).toFixed(1)}%, blob ${(100 * acc.blob).toFixed(1)}%`,
    );
    expect(acc.float).toBeGreaterThan(0.6);
    expect(Math.abs(acc.dropPoints - 100 * (acc.float - acc.blob))).toBeLessThan(1e-9);
    expect(l.details[0]).toMatch(/accuracy on the labels: float [\d.]+%, blob [\d.]+% \((no change|[-+][\d.]+ points)\)$/);
    // one-hot labels are read as their argmax
    const onehot = join(dir, 'cls-y1h.npy');
    writeNpy(onehot, oneHot(test.labels, C).data, [120, C]);
    expect(out0(await numbers({ blobFile: f.blob, model: f.model, data: [f.data], labels: onehot })).accuracy).toEqual(acc);
    // --metric sqnr judges the classifier's probabilities instead
    const s = await numbers({ blobFile: f.blob, model: f.model, data: [f.data], metric: 'sqnr' });
    expect(out0(s).metric).toBe('sqnr');
    expect(s.details[0]).toMatch(/^output 'classes' judged by SQNR and max relative error \(--metric sqnr given\)/);

    // a binary classifier with one sigmoid unit: top-1 is the agreement of the p >= 0.5 decision
    const b = tf.sequential();
    b.add(tf.layers.dense({ inputShape: [8], units: 6, activation: 'tanh', kernelInitializer: seeded(7), name: 'h' }));
    b.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: seeded(8), name: 'p' }));
    const rb = rng(9);
    const xb = (n: number): Arr => ({ data: Float32Array.from({ length: n * 8 }, () => gauss(rb)), shape: [n, 8] });
    const bx = xb(256);
    const by = { data: Float32Array.from({ length: 256 }, (_, i) => (bx.data[i * 8] + bx.data[i * 8 + 1] > 0 ? 1 : 0)), shape: [256, 1] };
    await fit(b, bx, by, { epochs: 20, lr: 0.03, loss: 'binaryCrossentropy' });
    const fb = await files(b, 'bin', bx, xb(100));
    const cb = await numbers({ blobFile: fb.blob, model: fb.model, data: [fb.data] });
    expect(out0(cb).metric).toBe('top1');
    expect(out0(cb).why).toBe('sigmoid head, so a classifier');
    expect(out0(cb).samples).toBe(100);
    expect(out0(cb).top1).toBeGreaterThanOrEqual(0.95);
  });

  it('CLI: --metric with an unknown value, --labels of the wrong size or without --model are one-line errors', async () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 3, activation: 'softmax', kernelInitializer: seeded(10), name: 'out' }));
    const r = rng(11);
    const x = { data: Float32Array.from({ length: 40 * 4 }, () => r() * 2 - 1), shape: [40, 4] };
    const f = await files(m, 'tiny', x, x);
    const bad = cli([f.blob, '--model', f.model, '--data', f.data, '--metric', 'f1']);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('error: --metric f1: expected one of top1, sqnr\n');
    const labels = join(dir, 'tiny-y.npy');
    writeNpy(
      labels,
      Int32Array.from({ length: 7 }, () => 1),
      [7],
    );
    const wrong = cli([f.blob, '--model', f.model, '--data', f.data, '--labels', labels]);
    expect(wrong.code).toBe(3);
    expect(wrong.err).toMatch(
      /^error: .*tiny-y\.npy: 7 value\(s\) in shape \[7\]; expected class ids \(40 values, one per output row\) or one-hot rows \[40, 3\]\n$/,
    );
    const alone = cli([f.blob, '--metric', 'top1']);
    expect(alone.code).toBe(2);
    expect(alone.err).toBe('error: --metric goes with --model and --data (the numbers check)\n');
    const ok = cli([f.blob, '--model', f.model, '--data', f.data, '--metric', 'sqnr']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/PASS numbers: 40 sample\(s\) vs the float model: output 'out' SQNR [\d.]+ dB \(min 15\)/);
  });
});
