/**
 * `npm run accuracy`: what quantisation costs on the example models, per calibration method and
 * per precision. Each model (bench/models.ts trains or loads them; the bundled example) is
 * converted with its calibration set, the blob runs in the Node device simulation on a labelled
 * held-out set, and its outputs are compared with the float model's:
 *
 *   classifiers  float accuracy, blob accuracy, the loss in points, top-1 agreement with float
 *   every model  output SQNR, max relative error, and the lowest per-layer SQNR (layerErrors)
 *
 * Writes build/accuracy/report.json and build/accuracy/report.md (docs/ACCURACY.md quotes them).
 *
 *   npm run accuracy [-- --models cnn,lstm] [-- --methods minmax,mse] [-- --precisions int8,int16-w16,auto]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureModel, activityData, ROOT, type BenchModelFiles } from './models.ts';
import { readArray } from '../tools/readers/npy.ts';
import { readModel } from '../tools/readers/index.ts';
import { buildGraph } from '../tools/graph/build.ts';
import { runFloat } from '../tools/float/forward.ts';
import type { FloatTensor, Graph } from '../tools/graph/ir.ts';
import { convertGraph, type ConvertOptions, type ConvertResult } from '../tools/pipeline.ts';
import { convertWithAutoCalibration } from '../tools/calibration-search.ts';
import { convertWithAutoPrecision, type AutoPrecisionOptions } from '../tools/precision-auto.ts';
import { uniformPrecision } from '../tools/pipeline.ts';
import { layerErrors } from '../tools/blob/layer-error.ts';
import { DeviceSim } from '../firmware-host/node/host.ts';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../tools/quantize/ranges.ts';
import { modelMetrics, markdownReport, type Row } from './accuracy-metrics.ts';
import { ensureHar } from './har-model.ts';

/**
 * The precisions measured: one entry per column group. int16 is every layer int16 (int8 weights,
 * TFLite's 16x8); int16-w16 the same with int16 Dense weights (--weight-precision int16); auto is
 * convert --precision auto at its default target (30 dB, no budget, the best mix written when the
 * target is not met), measured with the calibration methods other than auto.
 */
export const PRECISIONS: { name: string; options: Partial<ConvertOptions>; auto?: AutoPrecisionOptions; int16?: boolean }[] = [
  { name: 'int8', options: {} },
  { name: 'int16', options: {}, int16: true },
  { name: 'int16-w16', options: { weightPrecision: 'int16' }, int16: true },
  { name: 'auto', options: {}, auto: { targetSqnrDb: 30, allowBelow: true } },
  { name: 'auto-45', options: {}, auto: { targetSqnrDb: 45, allowBelow: true } },
];

export interface AccuracyModel {
  name: string;
  title: string;
  task: 'classify' | 'regress';
  modelJson: string;
  calibration: FloatTensor;
  test: FloatTensor;
  labels: Int32Array | null;
}

const tensorOf = (file: string): FloatTensor => {
  const a = readArray(file);
  return { shape: a.shape, data: Float32Array.from(a.data as ArrayLike<number>) };
};

/** The bench model, with the CNN's held-out set widened to 1024 windows (64 gives 1.6-point steps). */
async function benchModel(name: string): Promise<AccuracyModel> {
  const f: BenchModelFiles = await ensureModel(name, (m) => process.stderr.write(m + '\n'));
  const base = { name, title: f.title, task: f.task, modelJson: f.modelJson, calibration: tensorOf(f.calibration) };
  if (name === 'cnn') {
    const held = activityData(1024, 128, 197);
    return { ...base, test: { shape: held.x.shape, data: held.x.data }, labels: held.labels };
  }
  return { ...base, test: tensorOf(f.test), labels: f.testLabels ? Int32Array.from(readArray(f.testLabels).data as ArrayLike<number>) : null };
}

async function harModel(): Promise<AccuracyModel> {
  const f = await ensureHar((m) => process.stderr.write(m + '\n'));
  return {
    name: 'har',
    title: '1-D CNN activity classifier, 128x3, three Conv1D, overlapping classes (bench/har-model.ts)',
    task: 'classify',
    modelJson: f.modelJson,
    calibration: tensorOf(f.calibration),
    test: tensorOf(f.test),
    labels: Int32Array.from(readArray(f.labels).data as ArrayLike<number>),
  };
}

function exampleModel(): AccuracyModel {
  const ex = (p: string) => join(ROOT, 'examples', p);
  return {
    name: 'example',
    title: 'bundled example: 1-D CNN 32x3, 4 classes',
    task: 'classify',
    modelJson: ex('model/model.json'),
    calibration: tensorOf(ex('calibration.npy')),
    test: tensorOf(ex('test-inputs.npy')),
    labels: Int32Array.from(readArray(ex('test-labels.npy')).data as ArrayLike<number>),
  };
}

async function convertBy(g: Graph, m: AccuracyModel, method: CalibrationMethod, p: (typeof PRECISIONS)[number]): Promise<ConvertResult> {
  const opts: ConvertOptions = { calibration: [m.calibration], weights: 'ram', ...p.options, ...(p.int16 ? { precision: uniformPrecision(g, 'int16') } : {}) };
  if (p.auto) {
    const a = await convertWithAutoPrecision(g, { ...opts, calibrationMethod: method === 'auto' ? undefined : method }, p.auto);
    process.stderr.write(`${m.name} ${method}: ${a.result.notes.at(-1)}\n`);
    return a.result;
  }
  return method === 'auto' ? (await convertWithAutoCalibration(g, opts)).result : convertGraph(g, { ...opts, calibrationMethod: method });
}

/** The blob's dequantized outputs on every test sample (batch by batch, state reset before each). */
async function runBlobOn(r: ConvertResult, test: FloatTensor): Promise<Float32Array> {
  const sim = await DeviceSim.load(undefined, { weights: 'ram' });
  sim.initOrThrow(r.blob);
  const B = r.batch;
  const per = test.data.length / test.shape[0];
  const out: number[] = [];
  for (let s = 0; s + B <= test.shape[0]; s += B) {
    sim.resetState();
    sim.setInputFloat(0, test.data.subarray(s * per, (s + B) * per));
    if (sim.invoke() !== 0) throw new Error(`kw_invoke failed: ${sim.lastError}`);
    out.push(...sim.getOutputFloat(0));
  }
  return Float32Array.from(out);
}

async function measure(m: AccuracyModel, methods: CalibrationMethod[], precisions: string[]): Promise<Row[]> {
  const g = buildGraph(await readModel(m.modelJson));
  const ref = runFloat(g, [m.test])[0].data;
  const rows: Row[] = [];
  for (const p of PRECISIONS.filter((x) => precisions.includes(x.name)))
    for (const method of methods) {
      if (p.auto && method === 'auto') continue;
      const t0 = Date.now();
      const r = await convertBy(g, m, method, p);
      const got = await runBlobOn(r, m.test);
      const layers = await layerErrors(r.blob, g, [m.test], { runtime: join(ROOT, 'build/runtime.wasm') });
      // a regressor's or autoencoder's outputs are values, not class scores: no argmax
      const classes = m.task === 'classify' ? g.tensors[g.outputs[0]].shape.at(-1)! : 1;
      rows.push({ model: m.name, precision: p.name, method, ...modelMetrics(ref, got, classes, m.task === 'classify' ? m.labels : null, layers) });
      process.stderr.write(`${m.name} ${p.name} ${method}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  return rows;
}

function option(name: string, all: readonly string[]): string[] {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? [...all] : process.argv[i + 1].split(',');
}

async function main() {
  const names = option('models', ['har', 'example', 'cnn', 'gru', 'lstm', 'ad']);
  const methods = option('methods', CALIBRATION_METHODS) as CalibrationMethod[];
  const precisions = option(
    'precisions',
    PRECISIONS.map((p) => p.name),
  );
  const models: AccuracyModel[] = [];
  for (const n of names) models.push(n === 'example' ? exampleModel() : n === 'har' ? await harModel() : await benchModel(n));
  const rows: Row[] = [];
  for (const m of models) rows.push(...(await measure(m, methods, precisions)));
  const dir = join(ROOT, 'build/accuracy');
  mkdirSync(dir, { recursive: true });
  const meta = models.map((m) => ({ name: m.name, title: m.title, task: m.task, calibrationSamples: m.calibration.shape[0], testSamples: m.test.shape[0] }));
  writeFileSync(join(dir, 'report.json'), JSON.stringify({ models: meta, precisions: PRECISIONS.map((p) => p.name), rows }, null, 2) + '\n');
  writeFileSync(join(dir, 'report.md'), markdownReport(meta, rows));
  process.stdout.write(markdownReport(meta, rows));
}

await main();
