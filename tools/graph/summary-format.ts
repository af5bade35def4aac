/**
 * model.summary()-style text and the --json form for a Graph.
 */
import type { Graph, Shape } from './ir.ts';

function shapeStr(s: Shape): string {
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

/** The text Keras's model.summary() prints, plus a MACs column and total. */
export function summaryText(g: Graph, opts: { width?: number } = {}): string {
  const functional = !isSequentialChain(g);
  const heads = functional ? ['Layer (type)', 'Output Shape', 'Param #', 'MACs', 'Connected to'] : ['Layer (type)', 'Output Shape', 'Param #', 'MACs'];
  const rows: string[][] = [];
  if (functional) {
    for (const id of g.inputs) rows.push([`${g.tensors[id].name} (InputLayer)`, `[${shapeStr(g.tensors[id].shape)}]`, '0', '0', '[]']);
  }
  for (const n of g.nodes) {
    const shapes = n.outputs.map((t) => shapeStr(g.tensors[t].shape));
    const shape = shapes.length === 1 ? shapes[0] : `[${shapes.join(', ')}]`;
    const r = [`${n.name} (${n.className})`, shape, String(n.trainableParams + n.nonTrainableParams), String(n.macs)];
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
  return out.join('\n') + '\n';
}
