/**
 * verify's `layers` check (`--layers`): the blob runs in the tapped runtime, each Keras layer's
 * output is read right after its op and compared with the float model's output of that layer
 * (tools/blob/layer-error.ts). The blob stores the scales of its inputs and outputs only; the
 * scales of the tensors in between, and which Keras layer each holds, come from convert's JSON
 * report of that blob (`convert --report R.json`, given as `--convert-report R.json`).
 *
 * The check reports; it does not fail verify (the `numbers` check judges the outputs): it is WARN
 * when a layer falls below the threshold, and names the first such layer.
 */
import { readFileSync } from 'node:fs';
import { UserError, EXIT } from '../errors.ts';
import type { ParsedBlob } from '../blob/parse.ts';
import { DTYPE, FLAG } from '../blob/spec.ts';
import { firstBelow, layerErrors, type LayerError, type LayerModel } from '../blob/layer-error.ts';
import { checkSamples, sameSampleCount } from './inputs.ts';

/** The per-layer threshold when --min-sqnr is not given: convert's default end-to-end target. */
export const DEFAULT_LAYER_SQNR_DB = 30;

export interface LayersOptions {
  model: string;
  config?: string;
  data: string[];
  convertReport?: string;
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

interface ReportTensor {
  index: number;
  scale: number;
  zeroPoint: number;
  aliasOf: number | null;
  layerOutput?: string | null;
}

/** The tensors and ops of convert's JSON report, checked to describe this blob. */
function readConvertReport(file: string, p: ParsedBlob): { tensors: ReportTensor[]; ops: { outputs: number[] }[] } {
  let j: any;
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: cannot read the convert report (${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)})`, EXIT.BAD_INPUT);
  }
  if (!Array.isArray(j?.tensors) || !Array.isArray(j?.ops) || typeof j?.blobCrc32 !== 'number' || !j.tensors.some((t: any) => 'layerOutput' in t))
    throw new UserError(`${file}: not a JSON report written by this version of convert --report (no tensors, ops and blobCrc32)`, EXIT.BAD_INPUT);
  if (j.blobCrc32 !== p.header.crc32 || j.tensors.length !== p.tensors.length)
    throw new UserError(
      `${file} describes another blob (CRC 0x${(j.blobCrc32 >>> 0).toString(16)}, the blob's is 0x${p.header.crc32.toString(16)}): give the report convert wrote with this blob`,
      EXIT.BAD_INPUT,
    );
  return { tensors: j.tensors, ops: j.ops };
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
  if (!o.convertReport)
    throw new UserError(
      '--layers needs the JSON report convert wrote with this blob (convert --report R.json, then --convert-report R.json): the blob stores the scales of its inputs and outputs only',
      EXIT.USAGE,
    );
  const rep = readConvertReport(o.convertReport, p);
  const { readModel } = await import('../readers/index.ts');
  const { buildGraph } = await import('../graph/build.ts');
  const cfg = o.config ? { config: o.config } : {};
  const K = p.io.inputs[0]?.dims[1];
  const streamed = !!(p.header.flags & FLAG.STATEFUL) && p.io.inputs[0]?.dims.length >= 2;
  const graph = buildGraph(await readModel(o.model, cfg), { batch: p.header.batch, ...(streamed ? { steps: K } : {}) });
  const model: LayerModel = {
    graph,
    tensors: rep.tensors
      .filter((t) => t.layerOutput && t.aliasOf === null)
      .map((t) => ({ index: t.index, name: t.layerOutput!, scale: t.scale, zeroPoint: t.zeroPoint })),
    ops: rep.ops,
  };
  const inputs = await readInputs(p, o.data, o.maxSamples ?? 256);
  const layers = await layerErrors(blob, model, inputs, { runtime: runtimeFile });
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
