/**
 * convert --precision auto on a model built here with TensorFlow.js: the layers it promotes to
 * int16 raise the output SQNR measured against tfjs predict (the float oracle), the figure it
 * reports is the one tfjs gives on the calibration samples, a budget it cannot meet the target in
 * fails writing nothing (and --allow-below writes the best mix), and its options' one-line errors.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.ts';
import { initTf, predict, rng, sqnr, tf } from '../helpers/tfjs-train.ts';
import { writeTfjs } from '../helpers/keras-writers.ts';
import { convertWithSelfTest, graphFromFile } from '../helpers/convert-harness.ts';
import { writeNpy } from '../../tools/readers/npy.ts';
import { runBlob } from '../../tools/cli/run-blob.ts';
import { convertWithAutoPrecision, withFusedProducers } from '../../tools/precision-auto.ts';
import { convert as apiConvert } from '../../tools/api.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import type { FloatTensor } from '../../tools/graph/ir.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-prec-auto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Dense regressor 8 -> 32 tanh -> 32 relu -> 1 (untrained, seeded): its linear output shows every layer's rounding. */
function buildModel(): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
  const x = tf.input({ shape: [8], name: 'x' });
  const h1 = tf.layers.dense({ units: 32, activation: 'tanh', kernelInitializer: init(1), name: 'hidden1' }).apply(x);
  const h2 = tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: init(2), name: 'hidden2' }).apply(h1);
  const y = tf.layers.dense({ units: 1, kernelInitializer: init(3), name: 'out' }).apply(h2) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y, name: 'regressor' });
}

function samples(n: number, seed: number): FloatTensor {
  const r = rng(seed);
  return { shape: [n, 8], data: Float32Array.from({ length: n * 8 }, () => r() * 2 - 1) };
}

let model: tf.LayersModel;
let file: string;
let calFile: string;
const cal = samples(64, 1);

beforeAll(async () => {
  await initTf();
  model = buildModel();
  file = await writeTfjs(model, join(dir, 'm'));
  calFile = join(dir, 'cal.npy');
  writeNpy(calFile, cal.data, cal.shape);
}, 60_000);

function convert(args: string[]) {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools/convert'), file, ...args], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const ref = (x: FloatTensor) => predict(model, [x])[0];
const blobSqnr = async (blob: Uint8Array, x: FloatTensor) => sqnr(ref(x), (await runBlob(blob, [x])).outputs[0].data);

describe('convert --precision auto', () => {
  it('promotes layers to int16 until the target and beats int8 against tfjs', async () => {
    const g = await graphFromFile(file);
    const runRaw = (blob: Uint8Array, inputs: ArrayBufferView[]) =>
      runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice());
    const auto = await convertWithAutoPrecision(g, { calibration: [cal], runRaw }, { targetSqnrDb: 45 });
    const int8 = await convertWithSelfTest(g, [cal]);
    const test = samples(200, 2);
    const [a, b] = [await blobSqnr(auto.result.blob, test), await blobSqnr(int8.blob, test)];
    expect(auto.report.promoted.length).toBeGreaterThan(0);
    expect(auto.report.met).toBe(true);
    expect(a).toBeGreaterThan(b + 4);
    // the figures it reports are the blobs' SQNR against tfjs on the calibration samples
    expect(auto.report.finalSqnrDb).toBeGreaterThanOrEqual(45);
    expect(Math.abs(auto.report.finalSqnrDb - (await blobSqnr(auto.result.blob, cal)))).toBeLessThan(0.5);
    expect(Math.abs(auto.report.int8SqnrDb - (await blobSqnr(int8.blob, cal)))).toBeLessThan(0.5);
    expect(auto.result.lowered.tensors.some((t) => t.dtype === 'int16')).toBe(true);
  }, 120_000);

  it('promotes a Dense with the BatchNormalization and Activation fused into its op (the errors list only the Activation)', async () => {
    const init = (k: number) => tf.initializers.glorotUniform({ seed: 10 + k });
    const x = tf.input({ shape: [8], name: 'x' });
    let h: tf.SymbolicTensor = x;
    for (const k of [1, 2]) {
      h = tf.layers.dense({ units: 32, kernelInitializer: init(k), name: `dense${k}` }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.batchNormalization({ name: `bn${k}` }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.activation({ activation: 'relu', name: `act${k}` }).apply(h) as tf.SymbolicTensor;
    }
    const y = tf.layers.dense({ units: 4, kernelInitializer: init(3), name: 'out' }).apply(h) as tf.SymbolicTensor;
    const g = await graphFromFile(await writeTfjs(tf.model({ inputs: x, outputs: y }), join(dir, 'bn')));
    expect(withFusedProducers(g, { act2: 'int16' }, new Set(['act1', 'act2', 'out']))).toEqual({ act2: 'int16', bn2: 'int16', dense2: 'int16' });
    const auto = await convertWithAutoPrecision(g, { calibration: [cal] }, { targetSqnrDb: 60, allowBelow: true });
    const promoted = auto.report.promoted.map((p) => p.layer);
    expect(promoted).toContain('act1');
    // every promotion changes the blob: its op (dense+bn+act) runs int16
    for (const p of auto.report.promoted) expect(p.sqnrAfter).toBeGreaterThan(p.sqnrBefore + 3);
    const op = auto.result.lowered.ops.find((o) => o.layer.startsWith('dense1'))!;
    expect(auto.result.lowered.tensors[op.outputs[0]].dtype).toBe('int16');
  }, 120_000);

  it('a budget that stops it short: the table and best figure, exit 7, nothing written; --allow-below writes', () => {
    const out = join(dir, 'small.blob');
    const args = ['--calibration', calFile, '--precision', 'auto', '--target-sqnr', '90', '--ram', '64', '-o', out];
    const r = convert(args);
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/^error: --target-sqnr 90 dB cannot be reached within the budget \(--ram 64\): the best output SQNR reached is [\d.]+ dB/);
    expect(r.err).toMatch(/hidden1\s+Dense\s+int8/);
    expect(existsSync(out)).toBe(false);
    const rep = join(dir, 'small.json');
    const ok = convert([...args, '--allow-below', '--report', rep]);
    expect(ok.code, ok.err).toBe(0);
    expect(existsSync(out)).toBe(true);
    const p = JSON.parse(readFileSync(rep, 'utf8')).precision;
    expect(p).toMatchObject({ mode: 'auto', promoted: [], targetSqnrDb: 90, met: false, stoppedBy: 'budget' });
    expect(ok.out).toContain('precision auto: output SQNR');
  }, 120_000);

  it("the API's precision 'auto' reports the promotions and refuses a bad target", async () => {
    const out = await apiConvert(file, { calibration: [calFile], precision: 'auto', auto: { targetSqnr: 45 } });
    expect(out.report.precision).toMatchObject({ mode: 'auto', targetSqnrDb: 45, met: true });
    expect(out.report.precision!.promoted.length).toBeGreaterThan(0);
    expect(out.report.tensors.some((t) => t.dtype === 'int16')).toBe(true);
    await expect(apiConvert(file, { calibration: [calFile], precision: 'auto', auto: { targetSqnr: -3 } })).rejects.toThrow(
      "--target-sqnr must be a number of dB in (0, 200], got '-3'",
    );
  }, 60_000);

  it('its options are refused in one line each', () => {
    const o = join(dir, 'x.blob');
    const cases: [string[], string][] = [
      [['--target-sqnr', '40'], 'error: --target-sqnr: only valid with --precision auto\n'],
      [['--precision', 'auto', '--target-sqnr', 'high'], "error: --target-sqnr must be a number of dB in (0, 200], got 'high'\n"],
      [['--precision', 'auto'], 'error: --precision auto measures each layer on the calibration samples: give --calibration (or --precision int8|int16)\n'],
      [['--precision', 'best'], "error: --precision must be one of int8, int16, auto, got 'best'\n"],
    ];
    for (const [args, err] of cases) {
      const r = convert([...args, '-o', o]);
      expect([r.code, r.err]).toEqual([2, err]);
    }
    expect(existsSync(o)).toBe(false);
  }, 60_000);
});
