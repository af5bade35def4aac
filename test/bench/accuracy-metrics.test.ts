/**
 * bench/accuracy-metrics.ts (the figures of `npm run accuracy`) on arrays with known answers, and
 * the report's Markdown; bench/har-model.ts's data is seeded and labelled i % 4.
 */
import { describe, expect, it } from 'vitest';
import { markdownReport, modelMetrics, type Row } from '../../bench/accuracy-metrics.ts';
import { overlappingActivity } from '../../bench/har-model.ts';
import type { LayerError } from '../../tools/blob/layer-error.ts';

const layers: LayerError[] = [
  { layer: 'conv1', className: 'Conv1D', sqnrDb: 41, maxAbsError: 0.1, precision: 'int8' },
  { layer: 'classes', className: 'Dense', sqnrDb: 35.5, maxAbsError: 0.01, precision: 'int8' },
];

describe('accuracy report figures', () => {
  it('accuracy, loss in points, agreement, SQNR and max relative error of a classifier', () => {
    // 4 rows of 2 classes: float predicts 0,1,0,1; the blob flips row 3; labels 0,1,1,1
    const ref = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7]);
    const got = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.6, 0.4]);
    const m = modelMetrics(ref, got, 2, Int32Array.from([0, 1, 1, 1]), layers);
    expect(m.floatAccuracy).toBe(0.75);
    expect(m.blobAccuracy).toBe(0.5);
    expect(m.lossPoints).toBeCloseTo(25, 10);
    expect(m.top1Agreement).toBe(0.75);
    const sr = [...ref].reduce((a, v) => a + v * v, 0);
    expect(m.outputSqnrDb).toBeCloseTo(10 * Math.log10(sr / (0.09 + 0.09)), 6);
    expect(m.maxRelError).toBeCloseTo(0.3 / 0.9, 6);
    expect([m.worstLayer, m.worstLayerSqnrDb]).toEqual(['classes', 35.5]);
  });

  it('a regressor has no accuracy or agreement; an exact blob has infinite SQNR', () => {
    const ref = Float32Array.from([1, -2, 3]);
    const m = modelMetrics(ref, ref.slice(), 1, null, []);
    expect([m.floatAccuracy, m.blobAccuracy, m.lossPoints, m.top1Agreement, m.worstLayer]).toEqual([null, null, null, null, null]);
    expect(m.outputSqnrDb).toBe(Infinity);
    expect(m.maxRelError).toBe(0);
  });

  it('one table per model, one row per precision and method', () => {
    const base = modelMetrics(Float32Array.from([1, 0]), Float32Array.from([0.9, 0.1]), 2, Int32Array.from([0]), layers);
    const rows: Row[] = ['minmax', 'mse'].map((method) => ({ model: 'har', precision: 'int8', method, ...base }));
    const md = markdownReport([{ name: 'har', title: 'HAR CNN', calibrationSamples: 256, testSamples: 1 }], rows);
    expect(md).toContain('## har: HAR CNN');
    expect(md).toContain('256 calibration samples, 1 held-out samples.');
    expect(md).toContain('| int8 | minmax | 100.0% | 100.0% | 0.0 | 100.0% | 17.0 | 0.1000 | 35.5 (classes) |');
    expect(md.split('\n').filter((l) => l.startsWith('| int8 |'))).toHaveLength(2);
  });

  it('the HAR data is seeded, [N, 128, 3], labelled i % 4', () => {
    const a = overlappingActivity(8, 5);
    const b = overlappingActivity(8, 5);
    expect(a.x.shape).toEqual([8, 128, 3]);
    expect([...a.labels]).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(a.x.data).toEqual(b.x.data);
    expect(overlappingActivity(8, 6).x.data).not.toEqual(a.x.data);
  });
});
