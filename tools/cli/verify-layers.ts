/**
 * verify's `layers` check (`--layers`): the blob runs in the tapped runtime, each Keras layer's
 * output is read right after its op and compared with the float model's output of that layer
 * (tools/blob/layer-error.ts). The blob's metadata section says which tensor holds which Keras
 * layer's output and at what scale, so the blob and the model are all it needs.
 *
 * The check reports; it does not fail verify (the `numbers` check judges the outputs): it is WARN
 * when a layer falls below the threshold, and names the first such layer.
 */
import { UserError, EXIT } from '../errors.ts';
import type { ParsedBlob } from '../blob/parse.ts';
import { DTYPE, FLAG } from '../blob/spec.ts';
import { firstBelow, layerErrors, type LayerError } from '../blob/layer-error.ts';
import { checkSamples, sameSampleCount } from './inputs.ts';

/** The per-layer threshold when --min-sqnr is not given: convert's default end-to-end target. */
export const DEFAULT_LAYER_SQNR_DB = 30;

export interface LayersOptions {
  model: string;
  config?: string;
  data: string[];
  minSqnr?: number;
  maxSamples?: number;
}

export interface LayersCheck {
  name: 'layers';
  status: 'PASS' | 'WARN';
  summary: string;
  details: string[];
  figures: { thresholdDb: number; samples: number; firstBelow: string | null; layers: LayerError[] };
}

async function readInputs(p: ParsedBlob, files: string[], maxSamples: number) {
  const { readArray } = await import('../readers/npy.ts');
  const ins = p.io.inputs;
  if (files.length !== ins.length) throw new UserError(`--data: the blob has ${ins.length} input(s), ${files.length} file(s) given`, EXIT.USAGE);
  const arrays = files.map((f, i) =>
    checkSamples(f, readArray(f), { name: ins[i].name, dims: ins[i].dims.slice(1), int: ins[i].dtype === DTYPE.INT32 }, 'data'),
  );
  sameSampleCount(files, arrays, '--data');
  const B = p.header.batch;
  const n = Math.floor(Math.min(arrays[0].shape[0], maxSamples) / B) * B;
  if (n < B) throw new UserError(`--data: ${arrays[0].shape[0]} sample(s), but the blob was built with batch ${B}: give at least ${B}`, EXIT.BAD_INPUT);
  return arrays.map((a) => ({ shape: [n, ...a.shape.slice(1)], data: a.data.subarray(0, (n * a.data.length) / a.shape[0]) }));
}

const fmt = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : x > 0 ? 'inf' : '-inf');

/** The per-layer table, one line per layer, the first below the threshold marked. */
export function layerTable(layers: LayerError[], thresholdDb: number): string[] {
  const w = Math.max(5, ...layers.map((l) => l.layer.length));
  const c = Math.max(5, ...layers.map((l) => l.className.length));
  const first = firstBelow(layers, thresholdDb);
  const rows = layers.map(
    (l) =>
      `${l.layer.padEnd(w)}  ${l.className.padEnd(c)}  ${l.precision.padEnd(5)}  ${fmt(l.sqnrDb, 1).padStart(7)}  ${fmt(l.maxAbsError, 5).padStart(11)}${l === first ? '  <- first below ' + thresholdDb + ' dB' : ''}`,
  );
  return [`${'layer'.padEnd(w)}  ${'class'.padEnd(c)}  prec.  SQNR dB  max abs err`, ...rows];
}

export async function checkLayers(p: ParsedBlob, runtimeFile: string, blob: Uint8Array, o: LayersOptions): Promise<LayersCheck> {
  if (p.tensors.some((t) => !t.meta))
    throw new UserError('--layers: the blob has no tensor metadata (scales of the tensors between the layers); convert the model again', EXIT.BAD_INPUT);
  const { readModel } = await import('../readers/index.ts');
  const { buildGraph } = await import('../graph/build.ts');
  const cfg = o.config ? { config: o.config } : {};
  const K = p.io.inputs[0]?.dims[1];
  const streamed = !!(p.header.flags & FLAG.STATEFUL) && p.io.inputs[0]?.dims.length >= 2;
  const graph = buildGraph(await readModel(o.model, cfg), { batch: p.header.batch, ...(streamed ? { steps: K } : {}) });
  const inputs = await readInputs(p, o.data, o.maxSamples ?? 256);
  const layers = await layerErrors(blob, graph, inputs, { runtime: runtimeFile });
  const thresholdDb = o.minSqnr ?? DEFAULT_LAYER_SQNR_DB;
  const first = firstBelow(layers, thresholdDb);
  const figures = { thresholdDb, samples: inputs[0].shape[0], firstBelow: first?.layer ?? null, layers };
  const details = layerTable(layers, thresholdDb);
  const worst = layers.reduce<LayerError | null>((a, l) => (!a || l.sqnrDb < a.sqnrDb ? l : a), null);
  if (first)
    return {
      name: 'layers',
      status: 'WARN',
      summary: `first layer below ${thresholdDb} dB: '${first.layer}' (${first.className}, ${first.precision}) at ${fmt(first.sqnrDb, 1)} dB, max abs error ${fmt(first.maxAbsError, 5)}`,
      details,
      figures,
    };
  return {
    name: 'layers',
    status: 'PASS',
    summary: `${layers.length} layer outputs on ${figures.samples} sample(s), all at or above ${thresholdDb} dB${worst ? ` (lowest '${worst.layer}' ${fmt(worst.sqnrDb, 1)} dB)` : ''}`,
    details,
    figures,
  };
}
