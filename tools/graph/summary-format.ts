/**
 * model.summary()-style text and the --json form for a Graph.
 */
import type { Graph, Shape, ShapeSource } from './ir.ts';
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
  /**
   * shapeSource: the config option that set the input's shape (null: none found);
   * blobBatch: what its batch becomes in a blob convert builds without --batch.
   */
  inputs: { name: string; shape: Shape; dtype: string; shapeSource: ShapeSource | null; blobBatch: number }[];
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
  /**
   * Nested model calls (Keras shows each as one row): `layers` are the names in `layers` of
   * the layers it holds directly, `parent` the nested model it sits in (null: the top level).
   */
  nested: {
    name: string;
    class: string;
    parent: string | null;
    outputShapes: Shape[];
    params: number;
    trainableParams: number;
    nonTrainableParams: number;
    macs: number;
    inbound: string[];
    layers: string[];
  }[];
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
    inputs: g.inputs.map((id, i) => ({
      name: g.tensors[id].name,
      shape: g.tensors[id].shape,
      dtype: g.tensors[id].dtype,
      shapeSource: g.inputSources?.[i] ?? null,
      blobBatch: g.tensors[id].shape[0] ?? 1,
    })),
    outputs: g.outputs.map((id) => ({ name: g.tensors[id].name, shape: g.tensors[id].shape })),
    layers,
    totals: t,
    notes: g.notes,
    problems: g.problems ? lintLines(g.problems) : [],
    nested: nestedJson(g),
  };
}

function nestedJson(g: Graph): SummaryJson['nested'] {
  const calls = g.nested ?? [];
  return tableRows(g, true)
    .filter((r) => r.call !== undefined)
    .map((r) => {
      const c = calls[r.call!];
      const direct = g.nodes
        .slice(c.firstNode, c.endNode)
        .filter((_n, i) => !calls.some((d) => d.parent === r.call && i + c.firstNode >= d.firstNode && i + c.firstNode < d.endNode));
      return {
        name: c.name,
        class: c.className,
        parent: c.parent >= 0 ? calls[c.parent].name : null,
        outputShapes: c.outputs.map((t) => g.tensors[t].shape),
        params: r.trainableParams + r.nonTrainableParams,
        trainableParams: r.trainableParams,
        nonTrainableParams: r.nonTrainableParams,
        macs: r.macs,
        inbound: c.inputs.map((t) => g.tensors[t].name),
        layers: direct.map((n) => n.name),
      };
    });
}

/** One table row: a layer call, or a nested model call shown as one layer. */
interface Row {
  label: string;
  className: string;
  inputs: number[];
  outputs: number[];
  trainableParams: number;
  nonTrainableParams: number;
  macs: number;
  refused: boolean;
  /** nesting depth (rows inside an expanded nested model are indented) */
  depth: number;
  /** index in g.nested for a nested model row */
  call?: number;
}

function isSequentialChain(g: Graph, rows: Row[]): boolean {
  if (g.inputs.length !== 1 || g.outputs.length !== 1) return false;
  let prev = g.inputs[0];
  for (const r of rows.filter((x) => x.depth === 0)) {
    if (r.inputs.length !== 1 || r.inputs[0] !== prev || r.outputs.length !== 1) return false;
    prev = r.outputs[0];
  }
  return prev === g.outputs[0];
}

/** Node names the lint refused (a shared layer's later calls are `name@k`). */
function refusedNodes(g: Graph): Set<string> {
  const bad = new Set((g.problems ?? []).map((p) => p.layer));
  return new Set(g.nodes.filter((n) => bad.has(n.name.replace(/@\d+$/, ''))).map((n) => n.name));
}

/** A name without the prefix of the nested model it sits in. */
function localName(g: Graph, name: string, call: number): string {
  const outer = call >= 0 ? g.nested![call].name + '/' : '';
  return name.startsWith(outer) ? name.slice(outer.length) : name;
}

/**
 * The rows, in node order: a nested model's call is one row (its parameters and MACs are its
 * layers' sums, as Keras counts them); with `expand` its layers follow it, indented.
 */
function tableRows(g: Graph, expand: boolean): Row[] {
  const refused = refusedNodes(g);
  const calls = g.nested ?? [];
  const rows: Row[] = [];
  const walk = (from: number, to: number, parent: number, depth: number) => {
    let i = from;
    const inner = calls.map((c, k) => ({ c, k })).filter(({ c }) => c.parent === parent);
    for (const { c, k } of inner) {
      for (; i < c.firstNode; i++) rows.push(nodeRow(g, i, parent, depth, refused));
      const ns = g.nodes.slice(c.firstNode, c.endNode);
      rows.push({
        label: localName(g, c.name, parent),
        className: c.className,
        inputs: c.inputs,
        outputs: c.outputs,
        trainableParams: ns.reduce((a, n) => a + n.trainableParams, 0),
        nonTrainableParams: ns.reduce((a, n) => a + n.nonTrainableParams, 0),
        macs: ns.reduce((a, n) => a + n.macs, 0),
        refused: ns.some((n) => refused.has(n.name)),
        depth,
        call: k,
      });
      if (expand) walk(c.firstNode, c.endNode, k, depth + 1);
      i = c.endNode;
    }
    for (; i < to; i++) rows.push(nodeRow(g, i, parent, depth, refused));
  };
  walk(0, g.nodes.length, -1, 0);
  return rows;
}

function nodeRow(g: Graph, i: number, call: number, depth: number, refused: Set<string>): Row {
  const n = g.nodes[i];
  return {
    label: localName(g, n.name, call),
    className: n.className,
    inputs: n.inputs,
    outputs: n.outputs,
    trainableParams: n.trainableParams,
    nonTrainableParams: n.nonTrainableParams,
    macs: n.macs,
    refused: refused.has(n.name),
    depth,
  };
}

/**
 * Keras-style reference to a tensor as the table shows it: a tensor a collapsed nested model
 * returns is that model's output.
 */
function rowRef(g: Graph, id: number, expand: boolean): string {
  if (!expand) {
    const k = (g.nested ?? []).findIndex((c) => c.parent === -1 && c.outputs.includes(id));
    if (k >= 0) {
      const c = g.nested![k];
      const m = /^(.*)@(\d+)$/.exec(c.name);
      return `${m ? m[1] : c.name}[${m ? Number(m[2]) : 0}][${c.outputs.indexOf(id)}]`;
    }
  }
  return tensorRef(g, id);
}

/**
 * The text Keras's model.summary() prints, plus a MACs column and total. Layers the converter
 * refuses are marked with `*` and their problems listed once below the table. Nested models
 * are one row each, or (expandNested, Keras's expand_nested=True) followed by their layers.
 */
export function summaryText(g: Graph, opts: { width?: number; expandNested?: boolean; explain?: boolean } = {}): string {
  const expand = !!opts.expandNested;
  const items = tableRows(g, expand);
  const functional = !isSequentialChain(g, items);
  // Keras prints InputLayer rows for every Functional model, sequential-like or not
  const inputRows = functional || g.modelClass === 'Functional';
  const heads = functional ? ['Layer (type)', 'Output Shape', 'Param #', 'MACs', 'Connected to'] : ['Layer (type)', 'Output Shape', 'Param #', 'MACs'];
  const rows: string[][] = [];
  if (inputRows) {
    for (const id of g.inputs) {
      const r = [`${g.tensors[id].name} (InputLayer)`, `[${shapeStr(g.tensors[id].shape)}]`, '0', '0'];
      if (functional) r.push('[]');
      rows.push(r);
    }
  }
  for (const it of items) {
    const shapes = it.outputs.map((t) => shapeStr(g.tensors[t].shape));
    const shape = shapes.length === 1 ? shapes[0] : `[${shapes.join(', ')}]`;
    const label = `${'  '.repeat(it.depth)}${it.label} (${it.className})${it.refused ? ' *' : ''}`;
    const r = [label, shape, String(it.trainableParams + it.nonTrainableParams), String(it.macs)];
    if (functional) r.push(it.inputs.map((t) => rowRef(g, t, expand)).join(', ') || '[]');
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
  if (opts.explain) out.push(...explainInputs(g));
  return out.join('\n') + '\n';
}

/** A config value as Python prints it (None for null). */
function py(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  return v === null || v === undefined ? 'None' : String(v);
}

const OPTION_MEANING: Record<ShapeSource['option'], string> = {
  input_shape: 'input_shape excludes the batch, which stays None',
  batch_input_shape: 'batch_input_shape includes the batch; Keras 1/2 and tfjs save Input(shape=...) and input_shape=... this way',
  batch_shape: 'batch_shape includes the batch; Keras 3 saves Input(shape=...) this way',
  input_dim: 'input_dim=n means input_shape=(n,)',
  build_input_shape: 'the shape the Sequential was built with: model.build(...) or its first call',
};

/** summary --explain: for each input, the option that set its shape and its batch in the blob. */
function explainInputs(g: Graph): string[] {
  const out = ['Input shapes:'];
  g.inputs.forEach((id, i) => {
    const t = g.tensors[id];
    const src = g.inputSources?.[i] ?? null;
    out.push(`  ${t.name}: ${shapeStr(t.shape)}`);
    if (src) {
      const holder =
        src.where === 'InputLayer' ? `InputLayer '${src.layer}'` : src.where === 'Sequential' ? `Sequential '${src.layer}'` : `the first layer '${src.layer}'`;
      const noInput = src.where === 'InputLayer' ? '' : ' (a Sequential without an InputLayer takes its input shape from there)';
      const opt = src.inputLength !== undefined ? `input_dim=${py(src.value)}, input_length=${py(src.inputLength)}` : `${src.option}=${py(src.value)}`;
      const meaning = src.inputLength !== undefined ? 'input_dim=n with input_length=t means input_shape=(t, n)' : OPTION_MEANING[src.option];
      out.push(`    set by ${opt} of ${holder}${noInput}: ${meaning}`);
      if (src.batchSize !== undefined) out.push(`    batch_size=${src.batchSize} fixes the batch`);
    } else out.push('    set by the file (no input_shape, batch_input_shape, batch_shape or input_dim option found)');
    const b = t.shape[0];
    out.push(
      b === null
        ? '    batch: None in the model; the blob has a static batch of 1 (convert --batch N sets N)'
        : `    batch: fixed at ${b} in the file; the blob uses ${b} (convert --batch N replaces it unless the model has stateful layers)`,
    );
  });
  return out;
}
