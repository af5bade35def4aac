/**
 * One self-contained HTML page for convert/verify --report: the layer table as summary prints
 * it, the arena occupancy over the op list, RAM/flash/latency per board, the checks (verify),
 * and per-layer errors when they were measured. The charts are uPlot, whose bundle and CSS are
 * read from node_modules and inlined with the page script (page.js): no network at view time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ArenaTimeline } from './memory.ts';
import type { BoardRow, Check } from '../verify.ts';

/** Per-layer error of the blob against the float model (the fidelity check's shape). */
export interface LayerError {
  layer: string;
  className: string;
  sqnrDb: number;
  maxAbsError: number;
  precision: 'int8' | 'int16';
}

export interface ReportData {
  title: string;
  /** key figures, in order: [label, value] */
  facts: [string, string][];
  /** the summary table (tools/summary's text); null when no model was given */
  layerTable: string | null;
  ops: { index: number; op: string; layer: string }[];
  /** null when the blob failed its integrity check */
  arena: ArenaTimeline | null;
  /** every board under one interpreter (latencyMs 0: not estimated) */
  boards: BoardRow[];
  checks?: Check[];
  layerErrors?: LayerError[] | null;
  notes: string[];
}

const require = createRequire(import.meta.url);
const UPLOT_JS = require.resolve('uplot/dist/uPlot.iife.min.js');
const UPLOT_CSS = require.resolve('uplot/dist/uPlot.min.css');
const PAGE_JS = new URL('./page.js', import.meta.url);

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const kib = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);
const num = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : x > 0 ? '∞' : String(x));

function table(head: string[], rows: string[][], cls = ''): string {
  const tr = (cells: string[], tag: string) => `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
  return `<table class="${cls}"><thead>${tr(head, 'th')}</thead><tbody>${rows.map((r) => tr(r, 'td')).join('\n')}</tbody></table>`;
}

function boardsSection(d: ReportData): string {
  if (!d.boards.length) return '';
  const interp = d.boards[0].interpreter;
  const rows = d.boards.map((b) => [
    esc(b.board),
    `${kib(b.ram)} of ${kib(b.ramUsable)}`,
    `${kib(b.flash)} of ${kib(b.flashUsable)}`,
    b.fits ? '<span class="pass">fits</span>' : `<span class="fail">no</span> ${esc(b.why ?? '')}`,
    b.latencyMs > 0 ? `~${num(b.latencyMs, b.latencyMs < 10 ? 2 : 1)} ms` : 'n/a',
  ]);
  return `<h2>Boards (${esc(interp)})</h2>
<p>RAM and flash the firmware needs against what each board leaves usable (docs/BOARDS.md); latency is an estimate from the executed wasm instructions of one inference.</p>
<div id="boards-chart" class="chart"></div>
${table(['board', 'RAM', 'flash', 'fits', 'est. latency'], rows)}`;
}

function errorsSection(d: ReportData): string {
  if (!d.layerErrors?.length) return '';
  const rows = d.layerErrors.map((e) => [esc(e.layer), esc(e.className), e.precision, `${num(e.sqnrDb, 1)} dB`, num(e.maxAbsError, 5)]);
  return `<h2>Per-layer error</h2>
<p>Each row: one layer's output inside the running blob against the float model's output of that layer, on the data given (verify: <code>--data</code>; convert: the first calibration samples).</p>
<div id="errors-chart" class="chart"></div>
${table(['layer', 'class', 'precision', 'SQNR', 'max |error|'], rows)}`;
}

function checksSection(d: ReportData): string {
  if (!d.checks?.length) return '';
  const rows = d.checks.map((c) => [`<span class="${c.status.toLowerCase()}">${c.status}</span>`, esc(c.name), esc([c.summary, ...c.details].join('\n'))]);
  return `<h2>Checks</h2>\n${table(['status', 'check', 'result'], rows, 'checks')}`;
}

function arenaSection(d: ReportData): string {
  const a = d.arena;
  if (!a) return '';
  const ops = d.ops.map((o) => [String(o.index), esc(o.op), esc(o.layer), kib(a.liveBytes[o.index] ?? 0)]);
  return `<h2>Memory plan</h2>
<p>Arena ${kib(a.arenaBytes)}; at most ${kib(a.peakLiveBytes)} occupied at once (${a.buffers.length} buffers). Occupied: the bytes of the tensors live while each op runs (the last step: while the host reads the outputs).</p>
<div id="arena-chart" class="chart"></div>
<details><summary>${d.ops.length} ops</summary>${table(['#', 'op', 'layer', 'occupied'], ops)}</details>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1f2328;max-width:1160px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}pre{background:#f6f8fa;padding:10px;overflow:auto;font-size:12px}
.checks td:last-child{white-space:pre-wrap}.pass{color:#1a7f37;font-weight:600}.fail{color:#d1242f;font-weight:600}
.warn{color:#9a6700;font-weight:600}.skip{color:#57606a}.chart{margin:10px 0}`;

export function reportHtml(d: ReportData): string {
  const facts = table(
    ['', ''],
    d.facts.map(([k, v]) => [esc(k), esc(v)]),
  );
  const body = [
    `<h1>${esc(d.title)}</h1>`,
    facts,
    checksSection(d),
    d.layerTable ? `<h2>Layers</h2><pre>${esc(d.layerTable)}</pre>` : '',
    arenaSection(d),
    boardsSection(d),
    errorsSection(d),
    d.notes.length ? `<h2>Notes</h2><ul>${d.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '',
  ].join('\n');
  // JSON inside <script>: '<' escaped so no string in it can close the element
  const json = JSON.stringify(d).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(d.title)}</title>
<style>${readFileSync(UPLOT_CSS, 'utf8')}</style><style>${CSS}</style></head>
<body>
${body}
<script type="application/json" id="kw-data">${json}</script>
<script>${readFileSync(UPLOT_JS, 'utf8')}</script>
<script>${readFileSync(PAGE_JS, 'utf8')}</script>
</body></html>
`;
}
