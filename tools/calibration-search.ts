/**
 * `convert --calibration-method auto`: each tensor's calibration method chosen by measured error.
 *
 * The model is converted once per method (minmax, percentile, mse) and each blob runs on the
 * calibration samples with every layer's output compared with the float model
 * (tools/blob/layer-error.ts). Each layer's tensor takes the method under which that layer's
 * output had the highest SQNR; tensors no layer report covers (model inputs, the converter's
 * own) take the method with the best model output. That per-tensor mix is converted and
 * measured too, and the candidate (the mix or one method throughout) with the highest SQNR at
 * the model's outputs is the one written (ties at 0.1 dB: the highest mean SQNR over the layers).
 */
import type { Graph } from './graph/ir.ts';
import { firstSamples } from './float/tensor.ts';
import { UserError, EXIT } from './errors.ts';
import { convertGraph, type ConvertOptions, type ConvertResult } from './pipeline.ts';
import { layerErrors, type LayerError } from './blob/layer-error.ts';
import { RANGE_METHODS, type RangeMethod } from './quantize/ranges.ts';

type Method = NonNullable<ConvertOptions['calibrationMethod']>;

interface MethodTrial {
  /** 'minmax' | 'percentile' | 'mse', or 'per-tensor' for the mix */
  method: RangeMethod | 'per-tensor';
  /** the lowest SQNR over the model's outputs on the calibration samples */
  outputSqnrDb: number;
  /** the mean SQNR over every layer's output (decides between trials whose outputs tie) */
  meanLayerSqnrDb: number;
  layers: LayerError[];
}

export interface AutoCalibration {
  result: ConvertResult;
  /** the method each layer's tensor took */
  byLayer: Record<string, RangeMethod>;
  trials: MethodTrial[];
  /** the trial written */
  chosen: MethodTrial['method'];
}

const outputSqnr = (g: Graph, layers: LayerError[]) => {
  const outs = new Set(g.outputs.map((t) => g.tensors[t].name));
  return Math.min(...layers.filter((l) => outs.has(l.layer)).map((l) => l.sqnrDb));
};

/** The calibration samples each candidate is measured on (the first MEASURE_SAMPLES). */
const MEASURE_SAMPLES = 512;

async function trial(graph: Graph, opts: ConvertOptions, method: Method, label: MethodTrial['method']): Promise<MethodTrial> {
  const r = await convertGraph(graph, { ...opts, calibrationMethod: method, runRaw: undefined, warn: undefined });
  const xs = firstSamples(opts.calibration!, MEASURE_SAMPLES);
  const layers = await layerErrors(r.blob, graph, xs);
  const finite = layers.filter((l) => Number.isFinite(l.sqnrDb));
  const mean = finite.reduce((a, l) => a + l.sqnrDb, 0) / Math.max(1, finite.length);
  return { method: label, outputSqnrDb: outputSqnr(graph, layers), meanLayerSqnrDb: mean, layers };
}

/**
 * The better trial: the higher output SQNR, compared at 0.1 dB (a softmax or sigmoid output is
 * held to a fixed int8 scale, so its SQNR often ties), then the higher mean layer SQNR.
 */
function better(a: MethodTrial, b: MethodTrial): MethodTrial {
  const oa = Math.round(a.outputSqnrDb * 10);
  const ob = Math.round(b.outputSqnrDb * 10);
  if (oa !== ob) return ob > oa ? b : a;
  return b.meanLayerSqnrDb > a.meanLayerSqnrDb ? b : a;
}

/** For each layer, the method whose conversion gave its output the highest SQNR (ties: the earlier method). */
function bestPerLayer(trials: MethodTrial[]): Map<string, RangeMethod> {
  const best = new Map<string, { m: RangeMethod; db: number }>();
  for (const t of trials)
    for (const l of t.layers) {
      const b = best.get(l.layer);
      if (!b || l.sqnrDb > b.db) best.set(l.layer, { m: t.method as RangeMethod, db: l.sqnrDb });
    }
  return new Map([...best].map(([k, v]) => [k, v.m]));
}

export async function convertWithAutoCalibration(graph: Graph, opts: ConvertOptions): Promise<AutoCalibration> {
  if (!opts.calibration) throw new UserError('--calibration-method auto measures each method on the calibration samples: give --calibration', EXIT.USAGE);
  if (opts.stream) throw new UserError('--calibration-method auto is not available with --stream: give minmax, percentile or mse', EXIT.USAGE);
  const trials: MethodTrial[] = [];
  for (const m of RANGE_METHODS) trials.push(await trial(graph, opts, m, m));
  const uniform = trials.reduce(better);
  const byTensor = bestPerLayer(trials);
  const mixed = { byTensor, otherwise: uniform.method as RangeMethod };
  trials.push(await trial(graph, opts, mixed, 'per-tensor'));
  const win = trials.reduce(better);
  const method: Method = win.method === 'per-tensor' ? mixed : win.method;
  const result = await convertGraph(graph, { ...opts, calibrationMethod: method });
  const byLayer = Object.fromEntries(win.layers.map((l) => [l.layer, win.method === 'per-tensor' ? (byTensor.get(l.layer) ?? mixed.otherwise) : win.method]));
  const fig = (t: MethodTrial) => `${t.method} ${t.outputSqnrDb.toFixed(1)} dB (layer mean ${t.meanLayerSqnrDb.toFixed(1)})`;
  result.notes.push(`calibration method auto: output SQNR on the calibration samples ${trials.map(fig).join(', ')}; wrote ${win.method}`);
  return { result, byLayer, trials, chosen: win.method };
}
