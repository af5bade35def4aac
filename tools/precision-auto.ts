/**
 * `convert --precision auto`: the model is converted all-int8, every layer's SQNR is measured on
 * the calibration samples (tools/blob/layer-error.ts), and the layers that lose the most are
 * promoted to int16 one at a time (tools/quantize/precision-search.ts) until the model's output
 * reaches the target SQNR or the budget stops it.
 *
 * Each trial's cost is measured on its blob: RAM = arena + state + scratch + staging (flash mode)
 * or blob copy (ram mode), the bytes the model adds to the runtime's linear memory; flash = the
 * blob; instructions = executed wasm instructions for one inference (tools/blob/count.ts). A
 * `--board` budget compares these with the board's usable RAM and flash (tools/boards.ts); the
 * interpreter and runtime footprint that verify adds on top is not counted here.
 */
import { firstSamples } from './float/tensor.ts';
import type { FloatTensor, Graph } from './graph/ir.ts';
import { UserError, EXIT } from './errors.ts';
import { convertGraph, rawInputs, type ConvertOptions, type ConvertResult } from './pipeline.ts';
import { layerErrors, type LayerError } from './blob/layer-error.ts';
import { countInference } from './blob/count.ts';
import { searchPrecision, type Budget, type PrecisionMap, type SearchResult, type Trial } from './quantize/precision-search.ts';
import { packageFile } from './package-root.ts';

export interface AutoPrecisionOptions {
  /** the output SQNR to reach (dB) */
  targetSqnrDb: number;
  budget?: Budget;
  /** names the budget in messages ('board esp32', '--ram 4096') */
  budgetName?: string;
  /** write the best mix found when the target is not reached */
  allowBelow?: boolean;
  /** calibration samples each trial is measured on (the first N) */
  samples?: number;
}

/** convert's JSON report field `precision` for auto. */
export interface PrecisionReport {
  mode: 'auto';
  promoted: { layer: string; sqnrBefore: number; sqnrAfter: number; ramBytes: number; flashBytes: number; instructions: number }[];
  finalSqnrDb: number;
  targetSqnrDb: number;
  /** the int8 start's output SQNR */
  int8SqnrDb: number;
  met: boolean;
  stoppedBy: SearchResult['stoppedBy'];
  /** layers whose promotion exceeded the budget */
  overBudget: string[];
}

export interface AutoPrecision {
  result: ConvertResult;
  report: PrecisionReport;
  /** the final mix's layers */
  layers: LayerError[];
}

/** The calibration samples each trial is measured on when not given. */
const AUTO_SAMPLES = 256;

const outputSqnr = (g: Graph, layers: LayerError[]) => {
  const outs = new Set(g.outputs.map((t) => g.tensors[t].name));
  return Math.min(...layers.filter((l) => outs.has(l.layer)).map((l) => l.sqnrDb));
};

/** RAM the model adds to linear memory and flash the blob takes. */
function blobCost(r: ConvertResult): { ramBytes: number; flashBytes: number } {
  const copy = r.weights === 'ram' ? r.blob.length : r.staging;
  return { ramBytes: r.plan.arenaSize + r.plan.stateSize + copy, flashBytes: r.blob.length };
}

async function measure(graph: Graph, opts: ConvertOptions, map: PrecisionMap, xs: FloatTensor[]): Promise<Trial & { layers: LayerError[] }> {
  const r = await convertGraph(graph, { ...opts, precision: new Map(Object.entries(map)), runRaw: undefined, warn: undefined, progress: undefined });
  const layers = await layerErrors(r.blob, graph, xs);
  const streamed = r.staging > 0;
  const runtime = packageFile('build', streamed ? 'runtime-flash.wasm' : 'runtime.wasm');
  const count = await countInference(runtime, r.blob, rawInputs(r.lowered, opts.calibration!, r.batch), streamed);
  return { layers, outputSqnrDb: outputSqnr(graph, layers), ...blobCost(r), instructions: count.executed };
}

/**
 * The map with each int16 layer's producers that have no output of their own in the blob: a
 * Dense whose BatchNormalization and Activation are folded or fused into its op shows only as
 * the Activation in the per-layer errors, and the op runs in its first layer's precision, so
 * promoting the Activation alone would change nothing. Producers are followed up to a layer the
 * errors list (`measured`) or a model input.
 */
export function withFusedProducers(graph: Graph, map: PrecisionMap, measured: Set<string>): PrecisionMap {
  const out: PrecisionMap = { ...map };
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const visit = (name: string) => {
    for (const t of byName.get(name)?.inputs ?? []) {
      const p = graph.nodes[graph.tensors[t].producer];
      if (!p || measured.has(p.name) || out[p.name] === 'int16') continue;
      out[p.name] = 'int16';
      visit(p.name);
    }
  };
  for (const [name, prec] of Object.entries(map)) if (prec === 'int16') visit(name);
  return out;
}

/**
 * The layers as the search sees them: by Keras layer name (a layer's second output `<layer>:1`
 * is the same layer), and int16 once the map names them (a layer without int16 kernels stays
 * int8 in the blob; it is not tried again).
 */
function searchLayers(layers: LayerError[], map: PrecisionMap): Trial['layers'] {
  return layers.map((l) => {
    const layer = l.layer.replace(/:\d+$/, '');
    return { layer, sqnrDb: l.sqnrDb, precision: map[layer] ?? l.precision };
  });
}

const db = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} dB` : x > 0 ? 'exact' : '-inf');

/** The per-layer table: layer, class, precision, SQNR, max abs error. */
function layerTable(layers: LayerError[]): string[] {
  const w = Math.max(5, ...layers.map((l) => l.layer.length));
  return [
    `${'layer'.padEnd(w)}  ${'class'.padEnd(22)} prec   SQNR       max |err|`,
    ...layers.map((l) => `${l.layer.padEnd(w)}  ${l.className.padEnd(22)} ${l.precision.padEnd(6)} ${db(l.sqnrDb).padEnd(10)} ${l.maxAbsError.toPrecision(3)}`),
  ];
}

function toReport(s: SearchResult, int8: number, target: number): PrecisionReport {
  return {
    mode: 'auto',
    promoted: s.promoted.map((p) => ({
      layer: p.layer,
      sqnrBefore: p.layerSqnrDb[0],
      sqnrAfter: p.layerSqnrDb[1],
      ramBytes: p.ramBytes,
      flashBytes: p.flashBytes,
      instructions: p.instructions,
    })),
    finalSqnrDb: s.trial.outputSqnrDb,
    targetSqnrDb: target,
    int8SqnrDb: int8,
    met: s.met,
    stoppedBy: s.stoppedBy,
    overBudget: s.overBudget,
  };
}

function checkUsable(opts: ConvertOptions): void {
  if (!opts.calibration)
    throw new UserError('--precision auto measures each layer on the calibration samples: give --calibration (or --precision int8|int16)', EXIT.USAGE);
  if (opts.stream) throw new UserError('--precision auto is not available with --stream: give --precision int8 or int16', EXIT.USAGE);
}

export async function convertWithAutoPrecision(graph: Graph, opts: ConvertOptions, o: AutoPrecisionOptions): Promise<AutoPrecision> {
  checkUsable(opts);
  const xs = firstSamples(opts.calibration!, o.samples ?? AUTO_SAMPLES);
  const total = graph.nodes.length + 1;
  let done = 0;
  let last: LayerError[] = [];
  const trials = new Map<string, LayerError[]>();
  let start: Trial | null = null;
  let measured = new Set<string>();
  const full = (map: PrecisionMap) => withFusedProducers(graph, map, measured);
  const convert = async (map: PrecisionMap) => {
    const t = await measure(graph, opts, full(map), xs);
    if (!start) measured = new Set(t.layers.map((l) => l.layer.replace(/:\d+$/, '')));
    start ??= t;
    trials.set(JSON.stringify(map), t.layers);
    last = t.layers;
    opts.progress?.('precision', Math.min(++done, total), total);
    return { ...t, layers: searchLayers(t.layers, map) };
  };
  const search = await searchPrecision(convert, { targetSqnrDb: o.targetSqnrDb, budget: o.budget });
  const layers = trials.get(JSON.stringify(search.map)) ?? last;
  const int8 = search.promoted.length ? search.promoted[0].outputSqnrDb[0] : search.trial.outputSqnrDb;
  const report = toReport(search, int8, o.targetSqnrDb);
  if (!search.met && !o.allowBelow) {
    const why = search.stoppedBy === 'budget' ? `within ${o.budgetName ?? 'the budget'}` : 'even with every layer that has int16 kernels in int16';
    throw new UserError(
      `--target-sqnr ${o.targetSqnrDb} dB cannot be reached ${why}: the best output SQNR reached is ${db(search.trial.outputSqnrDb)} (all-int8 ${db(int8)}); nothing was written (--allow-below writes the best mix)`,
      EXIT.NUMERIC_FAILED,
      [...layerTable(layers), ...costLines(start!, search, o.budget)],
    );
  }
  const result = await convertGraph(graph, { ...opts, precision: new Map(Object.entries(full(search.map))) });
  result.notes.push(autoNote(report, o.budgetName));
  return { result, report, layers };
}

/** What the all-int8 blob and the best mix need against the budget, and the layers that did not fit. */
function costLines(start: Trial, s: SearchResult, b: Budget | undefined): string[] {
  const cost = (t: Trial) => `RAM ${t.ramBytes} B, flash ${t.flashBytes} B`;
  const limit = `RAM ${b?.ramBytes ?? 'unlimited'}${b?.ramBytes !== undefined ? ' B' : ''}, flash ${b?.flashBytes ?? 'unlimited'}${b?.flashBytes !== undefined ? ' B' : ''}`;
  return [
    `all-int8 needs ${cost(start)}; the best mix ${cost(s.trial)}; the budget: ${limit}`,
    ...(s.overBudget.length ? [`over budget when promoted: ${s.overBudget.join(', ')}`] : []),
  ];
}

function autoNote(r: PrecisionReport, budgetName: string | undefined): string {
  const promoted = r.promoted.length
    ? r.promoted
        .map((p) => `${p.layer} (${db(p.sqnrBefore)} -> ${db(p.sqnrAfter)}; +${p.ramBytes} B RAM, +${p.flashBytes} B flash, +${p.instructions} instructions)`)
        .join(', ')
    : 'none';
  const status = r.met
    ? 'reached'
    : `NOT reached (${r.stoppedBy === 'budget' ? `stopped by ${budgetName ?? 'the budget'}` : 'every int16-capable layer promoted'}; --allow-below)`;
  return `precision auto: output SQNR ${db(r.int8SqnrDb)} all-int8 -> ${db(r.finalSqnrDb)}, target ${r.targetSqnrDb} dB ${status}; promoted to int16: ${promoted}`;
}
