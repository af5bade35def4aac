/**
 * The figures of the accuracy report (bench/accuracy.ts) and its Markdown, apart from the runs so
 * they can be tested on known arrays.
 */
import type { LayerError } from '../tools/blob/layer-error.ts';
import { predictions } from '../tools/cli/verify-numbers.ts';

export interface Metrics {
  /** share of held-out samples the float model classifies right (null: no labels) */
  floatAccuracy: number | null;
  blobAccuracy: number | null;
  /** float minus blob accuracy, in points */
  lossPoints: number | null;
  /** share of rows where the blob's argmax equals the float model's (null: one output unit) */
  top1Agreement: number | null;
  outputSqnrDb: number;
  /** max |blob - float| / max |float| */
  maxRelError: number;
  /** the layer with the lowest SQNR and its figure */
  worstLayer: string | null;
  worstLayerSqnrDb: number | null;
}

export interface Row extends Metrics {
  model: string;
  precision: string;
  method: string;
}

const share = (a: Int32Array, b: ArrayLike<number>) => a.filter((v, i) => v === b[i]).length / a.length;

/** The figures of one conversion: `ref` and `got` are the float and blob outputs over the same samples. */
export function modelMetrics(ref: Float32Array, got: Float32Array, classes: number, labels: Int32Array | null, layers: LayerError[]): Metrics {
  const n = Math.min(ref.length, got.length);
  let se = 0,
    sr = 0,
    maxAbs = 0,
    peak = 0;
  for (let i = 0; i < n; i++) {
    const e = got[i] - ref[i];
    se += e * e;
    sr += ref[i] * ref[i];
    maxAbs = Math.max(maxAbs, Math.abs(e));
    peak = Math.max(peak, Math.abs(ref[i]));
  }
  const pr = classes > 1 ? predictions(ref.subarray(0, n), classes, undefined) : null;
  const pg = classes > 1 ? predictions(got.subarray(0, n), classes, undefined) : null;
  const lab = labels && pr ? labels.subarray(0, pr.length) : null;
  const fa = lab ? share(pr!, lab) : null;
  const ba = lab ? share(pg!, lab) : null;
  const worst = layers.reduce<LayerError | null>((a, l) => (!a || l.sqnrDb < a.sqnrDb ? l : a), null);
  return {
    floatAccuracy: fa,
    blobAccuracy: ba,
    lossPoints: fa !== null && ba !== null ? 100 * (fa - ba) : null,
    top1Agreement: pr && pg ? share(pr, pg) : null,
    outputSqnrDb: se === 0 ? Infinity : 10 * Math.log10(sr / se),
    maxRelError: peak === 0 ? 0 : maxAbs / peak,
    worstLayer: worst?.layer ?? null,
    worstLayerSqnrDb: worst?.sqnrDb ?? null,
  };
}

const pct = (x: number | null) => (x === null ? '' : `${(100 * x).toFixed(1)}%`);
const db = (x: number | null) => (x === null ? '' : Number.isFinite(x) ? x.toFixed(1) : 'inf');

/** One Markdown table per model: a row per precision and calibration method. */
export function markdownReport(models: { name: string; title: string; testSamples: number; calibrationSamples: number }[], rows: Row[]): string {
  const out: string[] = ['# Accuracy of the converted example models', ''];
  for (const m of models) {
    out.push(`## ${m.name}: ${m.title}`, '', `${m.calibrationSamples} calibration samples, ${m.testSamples} held-out samples.`, '');
    out.push('| precision | calibration | float acc. | blob acc. | loss (points) | top-1 agreement | output SQNR dB | max rel. error | lowest layer SQNR dB |');
    out.push('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows.filter((x) => x.model === m.name))
      out.push(
        `| ${r.precision} | ${r.method} | ${pct(r.floatAccuracy)} | ${pct(r.blobAccuracy)} | ${r.lossPoints === null ? '' : r.lossPoints.toFixed(1)} | ${pct(r.top1Agreement)} | ${db(r.outputSqnrDb)} | ${r.maxRelError.toFixed(4)} | ${r.worstLayer === null ? '' : `${db(r.worstLayerSqnrDb)} (${r.worstLayer})`} |`,
      );
    out.push('');
  }
  return out.join('\n');
}
