/**
 * npm run bench:interp -- --wasm3 LIB --wamr LIB [--wamr-classic LIB] [model ...]
 *
 * Native instructions per MAC on real interpreters: links firmware-host/measure (the project's
 * glue + a measuring driver) and bench/c-kernels/driver.c against the static libraries given,
 * runs each bench model's blob under valgrind's callgrind counting only kw_invoke
 * (--toggle-collect), and prints a table per model x interpreter for
 *   - this runtime (build/runtime.wasm, ram weights) and build/runtime-flash.wasm (flash weights),
 *   - the previous commit's runtime (built from `git show HEAD~1:assembly/...` in a temporary
 *     worktree, or --baseline-wasm PATH),
 *   - TFLite's reference int8 kernels written in C (bench/c-kernels/tflite_ref.c), compiled to
 *     wasm32 with clang and wasm-ld, on the same layer shapes.
 * Every output is checked byte for byte against the integer reference (tools/blob/reference.ts,
 * or bench/interp-c.ts for the C kernels) before a count is used. Writes build/bench/interp.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureModel, loadTfjs, MODEL_NAMES, readNpy, ROOT } from './models.ts';
import { convert } from './run.ts';
import { buildCJob, cLayers } from './interp-c.ts';
import { rawInputs } from '../tools/pipeline.ts';
import { runBlobReference } from '../tools/blob/reference.ts';
import { writeNpy } from '../tools/readers/npy.ts';

const OUT = join(ROOT, 'build/bench/interp');

interface Interp {
  id: 'wasm3' | 'wamr-fast' | 'wamr-classic';
  lib: string;
  inc: string;
}
interface Cell {
  ram: number;
  flash: number;
  baseline: number | null;
  c: number | null;
}

class BenchError extends Error {}

function usage(): never {
  throw new BenchError(
    'usage: npm run bench:interp -- --wasm3 LIB --wamr LIB [--wamr-classic LIB] [--wasm3-inc DIR] [--wamr-inc DIR]\n' +
      '       [--wamr-classic-inc DIR] [--baseline-wasm PATH | --no-baseline] [--samples N] [model ...]\n' +
      `  LIB: libm3.a / libiwasm.a you built; DIR defaults to LIB's ../../include; models: ${MODEL_NAMES.join(', ')}`,
  );
}

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      wasm3: { type: 'string' },
      wamr: { type: 'string' },
      'wamr-classic': { type: 'string' },
      'wasm3-inc': { type: 'string' },
      'wamr-inc': { type: 'string' },
      'wamr-classic-inc': { type: 'string' },
      'baseline-wasm': { type: 'string' },
      'no-baseline': { type: 'boolean' },
      samples: { type: 'string', default: '2' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || (!values.wasm3 && !values.wamr && !values['wamr-classic'])) usage();
  for (const n of positionals) if (!MODEL_NAMES.includes(n)) throw new BenchError(`unknown model '${n}' (have ${MODEL_NAMES.join(', ')})`);
  const samples = Number(values.samples);
  if (!Number.isInteger(samples) || samples < 1 || samples > 64) throw new BenchError(`--samples: give 1..64, got '${values.samples}'`);
  const interps: Interp[] = [];
  const add = (id: Interp['id'], lib?: string, inc?: string) => {
    if (!lib) return;
    const l = resolve(lib);
    if (!existsSync(l)) throw new BenchError(`--${id === 'wamr-fast' ? 'wamr' : id}: library ${lib} is missing`);
    const i = resolve(inc ?? join(dirname(l), '..', 'include'));
    const header = id === 'wasm3' ? 'wasm3.h' : 'wasm_export.h';
    if (!existsSync(join(i, header))) throw new BenchError(`${id}: ${header} not found in ${i} (give --${id === 'wamr-fast' ? 'wamr' : id}-inc DIR)`);
    interps.push({ id, lib: l, inc: i });
  };
  add('wasm3', values.wasm3, values['wasm3-inc']);
  add('wamr-fast', values.wamr, values['wamr-inc']);
  add('wamr-classic', values['wamr-classic'], values['wamr-classic-inc']);
  return {
    interps,
    models: positionals.length ? positionals : MODEL_NAMES.filter((m) => m !== 'mlp'),
    samples,
    baselineWasm: values['baseline-wasm'],
    noBaseline: !!values['no-baseline'],
  };
}

function need(cmd: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) throw new BenchError(`${cmd} not found: apt-get install ${pkg}`);
}

function run(cmd: string, args: string[], what: string, cwd = ROOT): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    const lines = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').filter((l) => /error|undefined reference|FAIL|No such/i.test(l));
    throw new BenchError(`${what} failed: ${(lines[0] ?? r.stderr ?? '').trim() || `exit ${r.status}`}`);
  }
  return r.stdout;
}

/** kw_measure and the C kernel driver, linked against the interpreter library. */
function buildDrivers(it: Interp): { measure: string; kernel: string } {
  const dir = join(OUT, it.id);
  mkdirSync(dir, { recursive: true });
  const w3 = it.id === 'wasm3';
  const target = w3 ? 'wasm3' : 'wamr';
  const vars = w3 ? [`WASM3_INC=${it.inc}`, `WASM3_LIB=${it.lib}`] : [`WAMR_INC=${it.inc}`, `WAMR_LIB=${it.lib}`];
  run('make', ['-s', '-B', '-C', 'firmware-host/measure', target, ...vars, `BUILD=${dir}`], `${it.id}: linking firmware-host/measure with ${it.lib}`);
  const kernel = join(dir, 'kernel_driver');
  const libs = w3 ? ['-lm'] : ['-lm', '-ldl', '-lpthread'];
  run(
    'cc',
    ['-O2', '-std=c99', ...(w3 ? ['-DKW_BENCH_WASM3'] : []), `-I${it.inc}`, 'bench/c-kernels/driver.c', it.lib, ...libs, '-o', kernel],
    `${it.id}: linking bench/c-kernels/driver.c with ${it.lib}`,
  );
  return { measure: join(dir, `kw_measure_${target}`), kernel };
}

/** Native instructions executed inside `fn` (callgrind --toggle-collect). */
function callgrind(fn: string, argv: string[], what: string): number {
  const out = join(OUT, 'callgrind.out');
  rmSync(out, { force: true });
  const r = spawnSync('valgrind', ['--tool=callgrind', '--main-stacksize=67108864', `--toggle-collect=${fn}`, `--callgrind-out-file=${out}`, ...argv], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (/SIGILL/.test(r.stderr)) {
    throw new BenchError(
      `${what}: valgrind stopped at an instruction it does not know (WAMR writes the GS base register by default: build WAMR with -DWAMR_DISABLE_WRITE_GS_BASE=1 to measure it under valgrind)`,
    );
  }
  if (r.status !== 0) {
    const fail = `${r.stdout}\n${r.stderr}`.split('\n').find((l) => /^result: FAIL|^error/.test(l));
    throw new BenchError(`${what}: ${fail ?? `exit ${r.status}`}`);
  }
  const m = /^totals:\s*(\d+)/m.exec(readFileSync(out, 'utf8')) ?? /^summary:\s*(\d+)/m.exec(readFileSync(out, 'utf8'));
  if (!m || Number(m[1]) === 0) throw new BenchError(`${what}: callgrind counted nothing inside ${fn}`);
  return Number(m[1]);
}

/** The previous commit's runtime.wasm, compiled from `HEAD~1` in a temporary worktree. */
function baselineRuntime(): { wasm: string; note: string } {
  const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD~1'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'kw-baseline-'));
  const wt = join(dir, 'src');
  const wasm = join(OUT, `runtime-${rev}.wasm`);
  try {
    run('git', ['worktree', 'add', '--detach', wt, rev], 'git worktree add HEAD~1');
    symlinkSync(join(ROOT, 'node_modules'), join(wt, 'node_modules'));
    run(
      'npx',
      ['asc', 'assembly/index.ts', '--target', 'release', '--config', 'asconfig.json', '--outFile', wasm, '--textFile', wasm.replace(/\.wasm$/, '.wat')],
      `asc at ${rev}`,
      wt,
    );
  } finally {
    spawnSync('git', ['worktree', 'remove', '--force', wt], { cwd: ROOT });
    rmSync(dir, { recursive: true, force: true });
  }
  return { wasm, note: `runtime.wasm of ${rev} (HEAD~1)` };
}

interface ModelFiles {
  name: string;
  macs: number;
  ram: string;
  flash: string;
  argsIn: string[];
  expRam: string[];
  expFlash: string[];
  cJob: string | null;
  cExpected: Uint8Array;
  cMacs: number;
}

/** Converted blobs, the test inputs and the integer reference's outputs for one model. */
async function prepareModel(name: string, samples: number): Promise<ModelFiles> {
  const f = await ensureModel(name, (m) => process.stderr.write(m + '\n'));
  const dir = join(OUT, name);
  mkdirSync(dir, { recursive: true });
  const test = readNpy(f.test);
  const per = test.data.length / test.shape[0];
  const n = Math.min(samples, test.shape[0]);
  const input = join(dir, 'input.npy');
  writeNpy(input, Float32Array.from(test.data.subarray(0, n * per)), [n, ...test.shape.slice(1)]);
  const files = { ram: '', flash: '', expRam: [] as string[], expFlash: [] as string[] };
  for (const weights of ['ram', 'flash'] as const) {
    const conv = await convert(f, weights);
    const blob = join(dir, `${name}.${weights}.blob`);
    writeFileSync(blob, conv.blob);
    const outs: Uint8Array[][] = [];
    for (let s = 0; s < n; s++) {
      const rin = rawInputs(conv.lowered, [{ data: test.data.subarray(s * per, (s + 1) * per), shape: [1, ...test.shape.slice(1)] }], 1);
      runBlobReference(conv.blob, rin).forEach((o, k) => (outs[k] ??= []).push(new Uint8Array(o.buffer, o.byteOffset, o.byteLength)));
    }
    const exp = outs.map((o, k) => {
      const p = join(dir, `expected.${weights}.${k}.bin`);
      writeFileSync(p, Buffer.concat(o));
      return p;
    });
    files[weights] = blob;
    files[weights === 'ram' ? 'expRam' : 'expFlash'] = exp;
  }
  const layers = cKernelLayers(await loadTfjs(f.modelJson), name);
  if (!layers) return { name, macs: f.macs * n, ...files, argsIn: ['--input', input], cJob: null, cExpected: new Uint8Array(0), cMacs: 0 };
  const job = buildCJob(layers);
  const cJob = join(dir, 'c-job.bin');
  writeFileSync(cJob, job.bytes);
  return { name, macs: f.macs * n, ...files, argsIn: ['--input', input], cJob, cExpected: job.expected, cMacs: job.macs };
}

/** The model's C kernel layers, or null (its C column n/a) when bench/c-kernels has no kernel for one of its layers (Conv2D) */
function cKernelLayers(model: Parameters<typeof cLayers>[0], name: string): ReturnType<typeof cLayers> | null {
  try {
    return cLayers(model);
  } catch (e) {
    if (!(e instanceof Error) || !/^C kernels: no C kernel/.test(e.message)) throw e;
    process.stderr.write(`${name}: ${e.message}; its C column is n/a\n`);
    return null;
  }
}

/** The previous commit's figure, or null (shown n/a) when that runtime reads another blob format. */
function previous(measure: () => number, what: string): number | null {
  try {
    return measure();
  } catch (e) {
    if (!(e instanceof BenchError) || !/format version differs/.test(e.message)) throw e;
    process.stderr.write(`${what}: the previous commit's runtime reads another blob format, its column is n/a\n`);
    return null;
  }
}

function measureModel(
  m: ModelFiles,
  it: Interp,
  drv: { measure: string; kernel: string },
  wasm: { ram: string; flash: string; base: string | null; c: string },
): Cell {
  const ours = (rt: string, blob: string, weights: string, exp: string[], what: string) =>
    callgrind(
      'kw_invoke',
      [drv.measure, rt, blob, '--weights', weights, ...m.argsIn, ...exp.flatMap((e) => ['--expect', e])],
      `${m.name} on ${it.id}, ${what}`,
    ) / m.macs;
  const ram = ours(wasm.ram, m.ram, 'ram', m.expRam, 'build/runtime.wasm');
  const flash = ours(wasm.flash, m.flash, 'flash', m.expFlash, 'build/runtime-flash.wasm');
  const baseline = wasm.base ? previous(() => ours(wasm.base!, m.ram, 'ram', m.expRam, 'previous commit'), `${m.name} on ${it.id}`) : null;
  if (!m.cJob) return { ram, flash, baseline, c: null };
  const outFile = join(OUT, m.name, `c-out.${it.id}.bin`);
  const ir = callgrind('bench_invoke', [drv.kernel, wasm.c, m.cJob, outFile], `${m.name} C kernels on ${it.id}`);
  const got = readFileSync(outFile);
  if (Buffer.compare(got, Buffer.from(m.cExpected)) !== 0)
    throw new BenchError(`${m.name} C kernels on ${it.id}: output differs from the TypeScript reference arithmetic`);
  return { ram, flash, baseline, c: ir / m.cMacs };
}

function compileCKernels(): string {
  const out = join(OUT, 'tflite_ref.wasm');
  run(
    'clang',
    ['--target=wasm32', '-mcpu=mvp', '-nostdlib', '-O2', '-Wl,--no-entry', '-Wl,--export-dynamic', '-o', out, 'bench/c-kernels/tflite_ref.c'],
    'clang --target=wasm32 bench/c-kernels/tflite_ref.c',
  );
  return out;
}

const f1 = (v: number | null) => (v === null ? 'n/a' : v.toFixed(1));

function table(results: Record<string, Record<string, Cell>>, interps: Interp[]): string {
  const lines: string[] = [];
  for (const [model, byInterp] of Object.entries(results)) {
    lines.push(`\n${model}: native instructions per MAC (callgrind, kw_invoke only)\n`);
    lines.push('| interpreter | runtime (ram) | runtime-flash | flash cost | previous commit | C TFLite ref in wasm | lead over C |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const it of interps) {
      const c = byInterp[it.id];
      if (!c) continue;
      const flashPct = (100 * (c.flash - c.ram)) / c.ram;
      lines.push(
        `| ${it.id} | ${f1(c.ram)} | ${f1(c.flash)} | ${flashPct.toFixed(1)}% | ${f1(c.baseline)} | ${f1(c.c)} | ${c.c === null ? 'n/a' : (c.c / c.ram).toFixed(2) + 'x'} |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const o = options();
  need('valgrind', 'valgrind');
  need('clang', 'clang');
  need('wasm-ld', 'lld');
  const ram = join(ROOT, 'build/runtime.wasm');
  const flash = join(ROOT, 'build/runtime-flash.wasm');
  if (!existsSync(ram) || !existsSync(flash)) throw new BenchError('build/runtime.wasm or build/runtime-flash.wasm missing: run npm run build:wasm');
  mkdirSync(OUT, { recursive: true });
  const c = compileCKernels();
  const drivers = o.interps.map((it) => ({ it, drv: buildDrivers(it) }));
  const base = o.noBaseline ? null : o.baselineWasm ? { wasm: resolve(o.baselineWasm), note: o.baselineWasm } : baselineRuntime();
  if (base && !existsSync(base.wasm)) throw new BenchError(`--baseline-wasm: ${base.wasm} is missing`);
  const results: Record<string, Record<string, Cell>> = {};
  const meta = {
    date: new Date().toISOString(),
    samples: o.samples,
    baseline: base?.note ?? null,
    libraries: o.interps,
    valgrind: run('valgrind', ['--version'], 'valgrind').trim(),
  };
  for (const name of o.models) {
    const m = await prepareModel(name, o.samples);
    results[name] = {};
    for (const { it, drv } of drivers) {
      process.stderr.write(`${name} on ${it.id} ...\n`);
      results[name][it.id] = measureModel(m, it, drv, { ram, flash, base: base?.wasm ?? null, c });
    }
    // written after every model, so a later failure keeps the figures measured so far
    writeFileSync(join(ROOT, 'build/bench/interp.json'), JSON.stringify({ ...meta, results }, null, 2) + '\n');
    process.stderr.write(table({ [name]: results[name] }, o.interps));
  }
  process.stdout.write(table(results, o.interps));
}

try {
  await main();
} catch (e) {
  if (!(e instanceof BenchError)) throw e;
  process.stderr.write(`bench:interp: ${e.message}\n`);
  process.exit(1);
}
