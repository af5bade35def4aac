/**
 * What convert/verify --report writes: the page's data from a blob and what the command knows
 * besides (the model's graph, the verify result), and the file format by extension: .html or
 * .htm -> the HTML page, anything else -> JSON.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph } from '../../graph/ir.ts';
import { summaryText } from '../../graph/summary-format.ts';
import { decodeAcceptedBlob, type ParsedBlob } from '../../blob/parse.ts';
import { DTYPE } from '../../blob/spec.ts';
import { arenaTimeline } from './memory.ts';
import { reportHtml, type LayerError, type ReportData } from './html.ts';
import type { VerifyResult } from '../verify.ts';
import type { Report } from '../convert.ts';

const isHtmlReport = (file: string) => /\.html?$/i.test(file);

interface BlobReportInput {
  title: string;
  blob: Uint8Array;
  /** the blob checked with every board (VerifyOptions.boards) */
  verified: VerifyResult;
  /** the Keras model the blob comes from (the layer table), when known */
  graph?: Graph | null;
  /** the Keras layer of each op, when known */
  opLayers?: string[];
  facts: [string, string][];
  notes?: string[];
  /** show the checks (verify); convert leaves them out */
  showChecks?: boolean;
  layerErrors?: LayerError[] | null;
}

function blobReportData(o: BlobReportInput): ReportData {
  // a blob that failed its integrity check is not decoded
  const p = o.verified.checks[0]?.status === 'PASS' ? decodeAcceptedBlob(o.blob) : null;
  return {
    title: o.title,
    facts: o.facts,
    layerTable: o.graph ? summaryText(o.graph) : null,
    ops: (p?.ops ?? []).map((op, i) => ({ index: i, op: op.name, layer: o.opLayers?.[i] ?? '' })),
    arena: p ? arenaTimeline(p) : null,
    boards: o.verified.boards ?? [],
    ...(o.showChecks ? { checks: o.verified.checks } : {}),
    layerErrors: o.layerErrors ?? null,
    notes: o.notes ?? [],
  };
}

/** A JSON report: non-finite numbers (an SQNR of a bit-exact output) as strings. */
function reportJson(json: unknown): string {
  return JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n';
}

/**
 * The numbers check's per-output figures as layer errors: each model output is the last layer
 * of its branch, compared on the final outputs (verify --model --data).
 */
function outputLayerErrors(v: VerifyResult, p: ParsedBlob, graph: Graph | null): LayerError[] | null {
  const numbers = v.checks.find((c) => c.name === 'numbers');
  const outs = numbers?.figures.outputs as { sqnrDb: number | string; maxAbsErr: number }[] | undefined;
  if (!outs) return null;
  return outs.map((m, k) => {
    const node = graph ? graph.nodes[graph.tensors[graph.outputs[k]].producer] : undefined;
    const sqnr = typeof m.sqnrDb === 'number' ? m.sqnrDb : m.sqnrDb === 'inf' ? Infinity : -Infinity;
    return {
      layer: node?.name ?? p.io.outputs[k].name,
      className: node?.className ?? '',
      sqnrDb: sqnr,
      maxAbsError: m.maxAbsErr,
      precision: p.io.outputs[k].dtype === DTYPE.INT16 ? 'int16' : 'int8',
    };
  });
}

/** verify --report FILE: the page (with the model's layer table when --model was given) or the result as JSON. */
export async function verifyReport(
  file: string,
  r: VerifyResult,
  o: { blob: Uint8Array; model?: string; config?: string; layerErrors?: LayerError[] | null },
): Promise<string> {
  if (!isHtmlReport(file)) return reportJson(r);
  let graph: Graph | null = null;
  if (o.model) {
    const { readModel } = await import('../../readers/index.ts');
    const { buildGraph } = await import('../../graph/build.ts');
    graph = buildGraph(await readModel(o.model, o.config ? { config: o.config } : {}), { keepProblems: true });
  }
  const ok = r.checks[0]?.status === 'PASS';
  const integrity = r.checks[0]?.figures as { bytes?: number; version?: number; ops?: number; batch?: number };
  const facts: [string, string][] = [
    ['blob', r.blob],
    ['result', r.ok ? 'PASS (exit 0)' : `FAIL (exit ${r.exitCode})`],
    ...(ok
      ? ([['format', `version ${integrity.version}, ${integrity.bytes} bytes, ${integrity.ops} ops, batch ${integrity.batch}`]] as [string, string][])
      : []),
    ...(o.model ? ([['model', o.model]] as [string, string][]) : []),
  ];
  // per-layer errors when measured (--layers, or by the caller), else the model's outputs from the numbers check
  const measured = r.checks.find((c) => c.name === 'layers')?.figures.layers as LayerError[] | undefined;
  const layerErrors = o.layerErrors ?? measured ?? (ok ? outputLayerErrors(r, decodeAcceptedBlob(o.blob), graph) : null);
  return reportHtml(blobReportData({ title: `verify ${r.blob}`, blob: o.blob, verified: r, graph, facts, showChecks: true, layerErrors }));
}

/** The file's format, and the Keras dialect when it says more ('h5, keras2', 'tfjs', 'tflite'). */
export function modelKind(m: { format: string; dialect: string }): string {
  return m.dialect && m.dialect !== m.format ? `${m.format}, ${m.dialect}` : m.format;
}

/** The figures of convert's report the page lists first. */
function convertFacts(rep: Report): [string, string][] {
  const kib = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);
  const r = rep.ram;
  return [
    ['model', `${rep.model.file} (${modelKind(rep.model)})`],
    ['blob', `${rep.output}: ${kib(rep.flash.blobBytes)} (weights and tables ${kib(rep.weightsBytes)}), batch ${rep.batch}`],
    ['weights', rep.weights === 'flash' ? `in flash, read through a ${kib(r.stagingBytes)} staging area` : 'copied into RAM'],
    ['flash', `${kib(rep.flash.totalBytes)} = blob + runtime ${kib(rep.flash.runtimeWasmBytes)}`],
    [
      'RAM (model)',
      `arena ${kib(r.arenaBytes)}, state ${kib(r.stateBytes)}${r.linearMemoryBytes !== null ? `; linear memory ${kib(r.linearMemoryBytes)}` : ''}`,
    ],
    ['calibration', `${rep.calibration.source}, ${rep.calibration.samples} samples`],
    ['self-test vector', rep.selfTest ? 'embedded' : 'none'],
  ];
}

/**
 * convert --report FILE: the page, with the boards from verify's checks (`check`: verify with
 * VerifyOptions.boards) on the new blob under `runtime`, the .wasm the firmware would run; or
 * convert's JSON report.
 */
export async function convertReport(
  file: string,
  rep: Report,
  o: {
    blob: Uint8Array;
    graph: Graph;
    runtime: string | Uint8Array;
    check: (runtimeFile: string) => Promise<VerifyResult>;
    layerErrors?: LayerError[] | null;
  },
): Promise<string> {
  if (!isHtmlReport(file)) return reportJson(rep);
  let dir: string | null = null;
  let runtimeFile = typeof o.runtime === 'string' ? o.runtime : '';
  if (typeof o.runtime !== 'string') {
    dir = mkdtempSync(join(tmpdir(), 'kerawasm-report-'));
    runtimeFile = join(dir, 'runtime.wasm');
    writeFileSync(runtimeFile, o.runtime);
  }
  try {
    const verified = await o.check(runtimeFile);
    const notes = [...rep.assumptions.map((a) => `assumed: ${a}`), ...rep.notes];
    const title = `convert ${rep.model.file} -> ${rep.output}`;
    const opLayers = rep.ops.map((op) => op.layer);
    const facts = convertFacts(rep);
    return reportHtml(blobReportData({ title, blob: o.blob, verified, graph: o.graph, opLayers, facts, notes, layerErrors: o.layerErrors }));
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
