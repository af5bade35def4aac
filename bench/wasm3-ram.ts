/**
 * Fits WASM3's RAM besides linear memory and the value stack to the functions it compiles:
 * `base + perByte x (bytes of the function bodies that init + self-test + one inference run, plus
 * the exports) + perWasmByte x (runtime .wasm bytes: the parsed module, one record per function)`,
 * as an upper bound of measured runs of firmware-host/measure (tools/boards.ts, compiledCode). Reads, in each DIR,
 * every driver output DIR/M.W.RT[.lim].txt (any model name M, W = flash | ram, RT = full | own;
 * `.lim` = run with --limit, preferred) with DIR/M.W.blob and DIR/M.W.runtime.wasm (the model's own
 * runtime); and each --table FILE: rows `| name | bodies | .wasm | measured | ...` of this script's
 * own output table (runs measured with other runtime builds, kept so the fit stays above them).
 * Prints the fit and a markdown table of every run (measured = heap_end - linear_memory - value stack).
 * Run: npx tsx bench/wasm3-ram.ts [--table FILE]... [--stack VALUE_STACK_BYTES=8192] DIR...
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { countLoadAndInference } from '../tools/blob/count.ts';
import { parseBlob } from '../tools/blob/parse.ts';

interface Run {
  name: string;
  bodyBytes: number;
  wasmBytes: number;
  measured: number;
}

function field(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(text);
  if (!m) throw new Error(`no ${key} in the driver output`);
  return Number(m[1]);
}

async function run(dir: string, m: string, w: string, rt: string, stack: number): Promise<Run | null> {
  const out = [`${dir}/${m}.${w}.${rt}.lim.txt`, `${dir}/${m}.${w}.${rt}.txt`].find(existsSync);
  if (!out) return null;
  const text = readFileSync(out, 'utf8');
  if (!/^rc 0$/m.test(text)) throw new Error(`${out}: the run failed`);
  const blob = new Uint8Array(readFileSync(`${dir}/${m}.${w}.blob`));
  const runtime = rt === 'own' ? `${dir}/${m}.${w}.runtime.wasm` : w === 'flash' ? 'build/runtime-flash.wasm' : 'build/runtime.wasm';
  const p = parseBlob(blob);
  const inputs = p.selfTest?.inputs ?? p.io.inputs.map((t) => new Uint8Array(t.bytes));
  const { code } = await countLoadAndInference(runtime, blob, inputs, w === 'flash');
  return {
    name: `${m} ${w} ${rt}`,
    bodyBytes: code.bodyBytes,
    wasmBytes: readFileSync(runtime).length,
    measured: field(text, 'heap_end') - field(text, 'linear_memory') - stack,
  };
}

interface Fit {
  base: number;
  perByte: number;
  perWasmByte: number;
}

/** Solves the 2x2 least-squares problem for the two slopes (centred data, so the intercept drops out). */
function slopes(runs: Run[]): [number, number] {
  const mean = (f: (r: Run) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  const [mx, mw, my] = [mean((r) => r.bodyBytes), mean((r) => r.wasmBytes), mean((r) => r.measured)];
  const s = (f: (r: Run) => number, g: (r: Run) => number) => runs.reduce((a, r) => a + f(r) * g(r), 0);
  const x = (r: Run) => r.bodyBytes - mx;
  const w = (r: Run) => r.wasmBytes - mw;
  const y = (r: Run) => r.measured - my;
  const [a, b, c, d, e] = [s(x, x), s(x, w), s(w, w), s(x, y), s(w, y)];
  const det = a * c - b * b;
  return [(d * c - b * e) / det, (a * e - b * d) / det];
}

/** Least-squares slopes rounded up to 0.01, then the smallest base (256 B steps) above every run. */
function fit(runs: Run[]): Fit {
  const [perByte, perWasmByte] = slopes(runs).map((k) => Math.ceil(100 * k) / 100);
  const base = Math.ceil(Math.max(...runs.map((r) => r.measured - perByte * r.bodyBytes - perWasmByte * r.wasmBytes)) / 256) * 256;
  return { base, perByte, perWasmByte };
}

/** The runs of DIR: one per model, weights mode and runtime with a driver output, in name order. */
async function dirRuns(dir: string, stack: number): Promise<Run[]> {
  const keys = readdirSync(dir)
    .map((f) => /^(.+)\.(flash|ram)\.(full|own)(?:\.lim)?\.txt$/.exec(f))
    .filter((m) => m !== null)
    .map((m) => [m[1], m[2], m[3]]);
  const unique = [...new Map(keys.map((k) => [k.join(' '), k])).values()].sort((a, b) => a.join(' ').localeCompare(b.join(' ')));
  const runs: Run[] = [];
  for (const [m, w, rt] of unique) {
    const r = await run(dir, m, w, rt, stack);
    if (r) runs.push(r);
  }
  return runs;
}

/** Runs from a markdown table in this script's output format (name, bodies, .wasm, measured, ...). */
function tableRuns(file: string): Run[] {
  const num = (c: string) => Number(c.replace(/,/g, ''));
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    )
    .filter((c) => c.length >= 4 && [1, 2, 3].every((i) => /^[\d,]+$/.test(c[i])))
    .map((c) => ({ name: c[0], bodyBytes: num(c[1]), wasmBytes: num(c[2]), measured: num(c[3]) }));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { table: { type: 'string', multiple: true }, stack: { type: 'string' } } });
  if (!positionals.length && !values.table) throw new Error('usage: npx tsx bench/wasm3-ram.ts [--table FILE]... [--stack VALUE_STACK_BYTES] DIR...');
  const stack = Number(values.stack ?? 8192);
  const runs: Run[] = (values.table ?? []).flatMap(tableRuns);
  for (const dir of positionals) runs.push(...(await dirRuns(dir, stack)));
  const f = fit(runs);
  const n = (x: number) => x.toLocaleString('en-US');
  console.log(`fit over ${runs.length} runs: ${f.base} B + ${f.perByte} x function bodies run + ${f.perWasmByte} x runtime .wasm`);
  console.log('| model, weights, runtime | function bodies run (B) | runtime .wasm (B) | measured interpreter + module (B) | model (B) | margin (B) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of runs) {
    const model = f.base + Math.ceil(f.perByte * r.bodyBytes) + Math.ceil(f.perWasmByte * r.wasmBytes);
    console.log(`| ${r.name} | ${n(r.bodyBytes)} | ${n(r.wasmBytes)} | ${n(r.measured)} | ${n(model)} | ${n(model - r.measured)} |`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
