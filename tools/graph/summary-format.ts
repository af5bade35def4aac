/**
 * model.summary()-style text and the --json form for a Graph.
 */
import type { Graph, Shape } from './ir.ts';
import { lintLines } from '../errors.ts';

function shapeStr(s: Shape): string {
  // an unsupported layer (or one after it) has no inferred shape
  if (s.length === 0) return '?';
  return `(${s.map((d) => (d === null ? 'None' : String(d))).join(', ')}${s.length === 1 ? ',' : ''})`;
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

/** Keras-style reference to a tensor: `<layer>[<node>][<tensor>]`. */
function tensorRef(g: Graph, id: number): string {
  const t = g.tensors[id];
  if (t.producer < 0) return `${t.name}[0][0]`;
  const n = g.nodes[t.producer];
  const m = /^(.*)@(\d+)$/.exec(n.name);
  const base = m ? m[1] : n.name;
  const node = m ? Number(m[2]) : 0;
  return `${base}[${node}][${n.outputs.indexOf(id)}]`;
}

export interface SummaryJson {
  name: string;
  inputs: { name: string; shape: Shape; dtype: string }[];
  outputs: { name: string; shape: Shape }[];
  layers: {
    name: string;
    class: string;
    outputShapes: Shape[];
    params: number;
    trainableParams: number;
    nonTrainableParams: number;
    macs: number;
    inbound: string[];
  }[];
  totals: { params: number; trainableParams: number; nonTrainableParams: number; macs: number };
  notes: string[];
  /** What the converter refuses (empty when the model converts). */
  problems: string[];
}

export function summaryJson(g: Graph): SummaryJson {
  const layers = g.nodes.map((n) => ({
    name: n.name,
    class: n.className,
    outputShapes: n.outputs.map((t) => g.tensors[t].shape),
    params: n.trainableParams + n.nonTrainableParams,
    trainableParams: n.trainableParams,
    nonTrainableParams: n.nonTrainableParams,
    macs: n.macs,
    inbound: n.inputs.map((t) => g.tensors[t].name),
  }));
  const t = layers.reduce(
    (a, l) => ({
      params: a.params + l.params,
      trainableParams: a.trainableParams + l.trainableParams,
      nonTrainableParams: a.nonTrainableParams + l.nonTrainableParams,
      macs: a.macs + l.macs,
    }),
    { params: 0, trainableParams: 0, nonTrainableParams: 0, macs: 0 },
  );
  return {
    name: g.name,
    inputs: g.inputs.map((id) => ({ name: g.tensors[id].name, shape: g.tensors[id].shape, dtype: g.tensors[id].dtype })),
    outputs: g.outputs.map((id) => ({ name: g.tensors[id].name, shape: g.tensors[id].shape })),
    layers,
    totals: t,
    notes: g.notes,
    problems: g.problems ? lintLines(g.problems) : [],
  };
}

function isSequentialChain(g: Graph): boolean {
  if (g.inputs.length !== 1 || g.outputs.length !== 1) return false;
  let prev = g.inputs[0];
  for (const n of g.nodes) {
    if (n.inputs.length !== 1 || n.inputs[0] !== prev) return false;
    prev = n.outputs[0];
  }
  return prev === g.outputs[0];
}

/** Node names the lint refused (a shared layer's later calls are `name@k`). */
function refusedNodes(g: Graph): Set<string> {
  const bad = new Set((g.problems ?? []).map((p) => p.layer));
  return new Set(g.nodes.filter((n) => bad.has(n.name.replace(/@\d+$/, ''))).map((n) => n.name));
}

/**
 * The text Keras's model.summary() prints, plus a MACs column and total. Layers the converter
 * refuses are marked with `*` and their problems listed once below the table.
 */
export function summaryText(g: Graph, opts: { width?: number } = {}): string {
  const functional = !isSequentialChain(g);
  // Keras prints InputLayer rows for every Functional model, sequential-like or not
  const inputRows = functional || g.modelClass === 'Functional';
  const refused = refusedNodes(g);
  const heads = functional ? ['Layer (type)', 'Output Shape', 'Param #', 'MACs', 'Connected to'] : ['Layer (type)', 'Output Shape', 'Param #', 'MACs'];
  const rows: string[][] = [];
  if (inputRows) {
    for (const id of g.inputs) {
      const r = [`${g.tensors[id].name} (InputLayer)`, `[${shapeStr(g.tensors[id].shape)}]`, '0', '0'];
      if (functional) r.push('[]');
      rows.push(r);
    }
  }
  for (const n of g.nodes) {
    const shapes = n.outputs.map((t) => shapeStr(g.tensors[t].shape));
    const shape = shapes.length === 1 ? shapes[0] : `[${shapes.join(', ')}]`;
    const r = [`${n.name} (${n.className})${refused.has(n.name) ? ' *' : ''}`, shape, String(n.trainableParams + n.nonTrainableParams), String(n.macs)];
    if (functional) r.push(n.inputs.map((t) => tensorRef(g, t)).join(', ') || '[]');
    rows.push(r);
  }
  const mins = [28, 25, 11, 13, 20];
  const cols = heads.map((h, i) => Math.max(mins[i], h.length + 2, ...rows.map((r) => r[i].length + 2)));
  const width = opts.width ?? cols.reduce((a, b) => a + b, 1);
  const line = (cells: string[]) => {
    let s = '';
    cells.forEach((c, i) => {
      const w = cols[i];
      s += i === cells.length - 1 ? c : c.length >= w - 1 ? c + ' ' : c.padEnd(w);
    });
    return ' ' + s.trimEnd();
  };
  const out: string[] = [];
  out.push(`Model: "${g.name}"`);
  out.push('_'.repeat(width));
  out.push(line(heads));
  out.push('='.repeat(width));
  for (const r of rows) out.push(line(r));
  out.push('='.repeat(width));
  const j = summaryJson(g);
  out.push(`Total params: ${num(j.totals.params)}`);
  out.push(`Trainable params: ${num(j.totals.trainableParams)}`);
  out.push(`Non-trainable params: ${num(j.totals.nonTrainableParams)}`);
  out.push(`Total MACs: ${num(j.totals.macs)}`);
  out.push('_'.repeat(width));
  for (const n of g.notes) out.push(`note: ${n}`);
  if (g.problems?.length) {
    const n = g.problems.length;
    out.push(`* not supported by the converter (${n} problem${n === 1 ? '' : 's'}; '?' marks shapes that follow from an unsupported layer):`);
    for (const l of lintLines(g.problems)) out.push(`  ${l}`);
  }
  return out.join('\n') + '\n';
}
