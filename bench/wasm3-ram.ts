/**
 * Fits WASM3's RAM besides linear memory and the value stack to the functions it compiles:
 * `base + perByte x (bytes of the function bodies that init + self-test + one inference run, plus
 * the exports) + perWasmByte x (runtime .wasm bytes: the parsed module, one record per function)`,
 * as an upper bound of measured runs of firmware-host/measure (tools/boards.ts, compiledCode). Reads DIR/M.W.blob, DIR/M.W.runtime.wasm (the model's own
 * runtime) and the driver's output DIR/M.W.RT[.lim].txt (RT = full | own; `.lim` = run with
 * --limit, preferred) for M in ad cnn gru lstm and W in flash ram; prints the fit and a markdown
 * table of every run (measured = heap_end - linear_memory - value stack).
 * Run: npx tsx bench/wasm3-ram.ts DIR [VALUE_STACK_BYTES=8192]
 */
import { existsSync, readFileSync } from 'node:fs';
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

async function main(): Promise<void> {
  const [dir, stackArg] = process.argv.slice(2);
  if (!dir) throw new Error('usage: npx tsx bench/wasm3-ram.ts DIR [VALUE_STACK_BYTES]');
  const stack = Number(stackArg ?? 8192);
  const runs: Run[] = [];
  for (const m of ['ad', 'cnn', 'gru', 'lstm'])
    for (const w of ['flash', 'ram'])
      for (const rt of ['full', 'own']) {
        const r = await run(dir, m, w, rt, stack);
        if (r) runs.push(r);
      }
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
