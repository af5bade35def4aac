/**
 * Converter/reader fuzz harness (issue 7). A case is a set of files (model + weights/config +
 * calibration) written to a fresh folder under os.tmpdir() (never the repo), run through
 * readModel -> buildGraph (-> convertGraph -> parseBlob when `convert`), and judged:
 *
 *  - ok, or a UserError whose message is ONE printable line (no newline, no stack, bounded);
 *  - anything else (TypeError, RangeError, h5wasm aborts, ...) is a failure with its top frames;
 *  - process RSS stays under a cap; no reader temp folder (kerawasm-*) is left in os.tmpdir();
 *  - catch-all messages that wrap an internal JS error ("unreadable or corrupt model file
 *    (TypeError: ...)") are counted separately as `weak`: the user gets one line, but the text
 *    hides a reader bug.
 * Hangs: campaigns run in a worker thread with a per-case heartbeat (see fuzz-pool.ts).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { UserError } from '../../tools/errors.ts';
import { caseRng, mutateBytes, type Rng } from './fuzz.ts';
import { meanModel, writeTflite } from './tflite-writer.ts';

/** A model on disk: relative file names -> bytes, and which file is the model/config/calibration. */
export interface ReaderBase {
  name: string;
  kind: 'tfjs' | 'h5' | 'keras' | 'npy' | 'tflite';
  files: Record<string, Uint8Array>;
  model: string;
  config?: string;
  calibration?: string;
}

export interface ReaderOutcome {
  outcome: string;
  message?: string;
  details?: string[];
  failure?: { kind: 'exception' | 'message' | 'memory' | 'temp-leak' | 'hang' | 'partial-output'; detail: string };
  weak?: boolean;
  /** bytes of RSS growth during the case */
  rssGrowth?: number;
}

const RSS_CAP = 1536 * 1024 * 1024;

// ---------------------------------------------------------------- JSON-aware mutations

const HOSTILE_JSON: unknown[] = [
  -1,
  0,
  -2147483648,
  2147483648,
  1e12,
  1e308,
  2.5,
  -0.5,
  null,
  true,
  'x',
  '',
  [],
  {},
  [[[[[]]]]],
  '32',
  [-1, -1],
  [0, 0],
  [1e9, 1e9],
  'NaN',
];

type Path = (string | number)[];
function paths(v: unknown, p: Path = [], out: Path[] = [], depth = 0): Path[] {
  if (depth > 40 || out.length > 5000) return out;
  out.push(p);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...p, i], out, depth + 1));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) paths((v as any)[k], [...p, k], out, depth + 1);
  return out;
}
function getAt(v: any, p: Path): any {
  for (const k of p) v = v?.[k];
  return v;
}
function setAt(v: any, p: Path, x: unknown): any {
  x = x === undefined ? x : structuredClone(x); // never share (and later mutate) the constant pools
  if (!p.length) return x;
  const parent = getAt(v, p.slice(0, -1));
  if (parent && typeof parent === 'object') parent[p[p.length - 1] as any] = x;
  return v;
}

const INTERESTING_KEYS =
  /units|filters|kernel_size|strides|pool_size|dilation_rate|padding|batch_input_shape|shape|dtype|class_name|activation|rate|axis|size|cropping|target_shape|dims|n\b|input_dim|output_dim|depth_multiplier|groups|epsilon|momentum|alpha|theta|inbound_nodes|layers|weights|paths|byteOffset|data_format|return_sequences|use_bias/;

/** Mutate JSON text semantically (values, keys, structure); falls back to bytes when it does not parse. */
export function mutateJson(text: string, r: Rng, log: string[]): string {
  let j: any;
  try {
    j = JSON.parse(text);
  } catch {
    const m = mutateBytes(strToU8(text), r, 2);
    log.push(...m.ops);
    return strFromU8(m.bytes, true);
  }
  const n = r.pick([1, 1, 2, 3]);
  for (let k = 0; k < n; k++) {
    const all = paths(j);
    const pref = all.filter(
      (p) => (p.length && INTERESTING_KEYS.test(String(p[p.length - 1]))) || p.some((x) => typeof x === 'string' && INTERESTING_KEYS.test(x)),
    );
    const p = (pref.length && r.chance(0.75) ? r.pick(pref) : r.pick(all)) ?? [];
    const old = getAt(j, p);
    const c = r.int(0, 9);
    if (c <= 4) {
      const x = typeof old === 'number' && r.chance(0.5) ? r.pick([-old, old * 1000, -1, 0, old + 1, 1e9]) : r.pick(HOSTILE_JSON);
      j = setAt(j, p, x);
      log.push(`json ${p.join('.')} = ${JSON.stringify(x)}`);
    } else if (c === 5 && p.length) {
      const parent = getAt(j, p.slice(0, -1));
      if (Array.isArray(parent)) parent.splice(Number(p[p.length - 1]), 1);
      else if (parent && typeof parent === 'object') delete parent[p[p.length - 1]];
      log.push(`json delete ${p.join('.')}`);
    } else if (c === 6 && Array.isArray(old) && old.length) {
      old.push(structuredClone(r.pick(old)));
      log.push(`json duplicate element of ${p.join('.')}`);
    } else if (c === 7 && typeof old === 'string') {
      const x = r.pick([
        'Dense',
        'Conv2D',
        'LSTM',
        'Lambda',
        'InputLayer',
        'Sequential',
        'Model',
        'Functional',
        'NoSuchLayer',
        '../x',
        old + old,
        'float16',
        'int32',
        'string',
        'same',
        'causal',
      ]);
      j = setAt(j, p, x);
      log.push(`json ${p.join('.')} = ${JSON.stringify(x)}`);
    } else if (c === 8) {
      j = setAt(j, p, Array.isArray(old) ? old.map(() => -1) : r.pick([{ a: old }, [old]]));
      log.push(`json wrap/negate ${p.join('.')}`);
    } else {
      // textual: a Python-only literal Keras sometimes writes
      const s = JSON.stringify(j).replace(/(:\s*)(-?\d+(\.\d+)?)/, `$1${r.pick(['NaN', 'Infinity', '-Infinity'])}`);
      log.push('json number -> NaN/Infinity literal');
      return s;
    }
  }
  return JSON.stringify(j);
}

/** Length-preserving edits of the JSON embedded in an HDF5 attribute (model_config, keras_version, ...). */
function mutateEmbeddedJson(b: Uint8Array, r: Rng, log: string[]): Uint8Array {
  const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  const start = s.indexOf('{"class_name"');
  if (start < 0) return mutateBytes(b, r, 1).bytes;
  let end = s.indexOf('\0', start);
  if (end < 0) end = s.length;
  const region = s.slice(start, end);
  const nums = [...region.matchAll(/-?\d+(\.\d+)?(e-?\d+)?|true|false|null/g)];
  if (!nums.length) return b;
  const out = b.slice();
  const n = r.pick([1, 1, 2, 4]);
  for (let k = 0; k < n; k++) {
    const m = r.pick(nums);
    const L = m[0].length;
    const cands = [
      '0',
      '9'.repeat(L),
      L >= 2 ? '-1'.padStart(L) : '0',
      L >= 4 ? 'null'.padStart(L) : '0',
      L >= 3 ? '1e9'.padStart(L) : '9',
      L >= 3 ? 'NaN'.padStart(L) : '0',
      L >= 2 ? '-9'.padEnd(L, '9') : '0',
    ];
    const x = r.pick(cands).padStart(L).slice(0, L);
    out.set(Buffer.from(x, 'latin1'), start + (m.index ?? 0));
    log.push(`embedded json @${start + (m.index ?? 0)} '${m[0]}' -> '${x}'`);
  }
  return out;
}

// ---------------------------------------------------------------- file-level mutation

function headBiased(b: Uint8Array, r: Rng, log: string[]): Uint8Array {
  // HDF5 metadata (superblock, object headers, B-trees) sits mostly in the first KiBs
  const out = b.slice();
  const n = r.pick([1, 2, 4, 8]);
  const lim = Math.min(b.length, r.pick([512, 2048, 8192]));
  for (let k = 0; k < n; k++) {
    const i = r.int(0, Math.max(0, lim - 1));
    const v = r.chance(0.5) ? r.pick([0, 0xff, 0x7f, 0x80, 1]) : r.int(0, 255);
    out[i] = v;
    log.push(`head byte @${i} = ${v}`);
  }
  return out;
}

export interface ReaderMutant {
  base: ReaderBase;
  files: Record<string, Uint8Array>;
  ops: string[];
}

function mutateModel(base: ReaderBase, r: Rng): ReaderMutant {
  const files: Record<string, Uint8Array> = { ...base.files };
  const log: string[] = [];
  const names = Object.keys(files);
  const u = r.float();
  if (base.kind === 'keras' && u < 0.6) {
    // inside the archive
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(files[base.model]);
    } catch {
      entries = {};
    }
    const en = Object.keys(entries);
    if (en.length) {
      const e = r.pick(en);
      if (e.endsWith('.json')) entries[e] = strToU8(mutateJson(strFromU8(entries[e]), r, log));
      else entries[e] = r.chance(0.5) ? headBiased(entries[e], r, log) : mutateBytes(entries[e], r, 2).bytes;
      if (r.chance(0.1)) {
        const evil = r.pick(['../../evil.json', '/etc/evil', 'C:\\evil', 'a/../../b', 'config.json\0x']);
        entries[evil] = strToU8('{}');
        log.push(`zip add '${evil}'`);
      }
      log.unshift(`in ${e}:`);
      files[base.model] = zipSync(entries, { level: r.pick([0, 6]) as 0 | 6 });
      return { base, files, ops: log };
    }
  }
  const f = r.pick(names);
  const b = files[f];
  const isJson = f.endsWith('.json');
  if (isJson && u < 0.85) files[f] = strToU8(mutateJson(strFromU8(b, true), r, log));
  else if (f.endsWith('.h5') && u < 0.35) files[f] = mutateEmbeddedJson(b, r, log);
  else if ((f.endsWith('.h5') || f.endsWith('.tflite')) && u < 0.7) files[f] = headBiased(b, r, log);
  else {
    const m = mutateBytes(b, r, 3);
    files[f] = m.bytes;
    log.push(...m.ops);
  }
  log.unshift(`in ${f}:`);
  return { base, files, ops: log };
}

// ---------------------------------------------------------------- running a case

let caseCounter = 0;
const ROOT = join(tmpdir(), `kerawasm-fuzz-readers-${process.pid}`);

export function writeCase(files: Record<string, Uint8Array>): string {
  const dir = join(ROOT, `case-${caseCounter++}`);
  for (const [n, b] of Object.entries(files)) {
    const p = join(dir, n);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, b);
  }
  return dir;
}
export function cleanupCases(): void {
  rmSync(ROOT, { recursive: true, force: true });
}

function readerTemps(): Set<string> {
  try {
    return new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('kerawasm-') && !n.startsWith('kerawasm-fuzz')));
  } catch {
    return new Set();
  }
}

const INTERNAL_LEAK =
  /\b(TypeError|RangeError|ReferenceError|SyntaxError: Unexpected|Cannot read propert|is not a function|is not iterable|undefined is|of undefined|of null|Maximum call stack)/;

export interface RunOptions {
  convert?: boolean;
  batch?: number;
}

/** Run readModel -> buildGraph (-> convertGraph) on files in `dir`. Never throws. */
export async function runModelCase(dir: string, base: Pick<ReaderBase, 'model' | 'config' | 'calibration'>, o: RunOptions = {}): Promise<ReaderOutcome> {
  const before = readerTemps();
  const rss0 = process.memoryUsage().rss;
  const res = await runInner(dir, base, o);
  const after = readerTemps();
  const leaked = [...after].filter((n) => !before.has(n));
  if (!res.failure && leaked.length) res.failure = { kind: 'temp-leak', detail: `left ${leaked.join(', ')} in ${tmpdir()}` };
  for (const n of leaked) rmSync(join(tmpdir(), n), { recursive: true, force: true });
  const rss = process.memoryUsage().rss;
  res.rssGrowth = rss - rss0;
  // blame the case that pushed the process over the cap (memory held by h5wasm's heap never shrinks)
  if (!res.failure && rss > RSS_CAP && rss0 <= RSS_CAP)
    res.failure = { kind: 'memory', detail: `rss ${Math.round(rss0 / 2 ** 20)} -> ${Math.round(rss / 2 ** 20)} MiB > cap ${RSS_CAP / 2 ** 20} MiB` };
  return res;
}

async function runInner(dir: string, base: Pick<ReaderBase, 'model' | 'config' | 'calibration'>, o: RunOptions): Promise<ReaderOutcome> {
  const { readModel } = await import('../../tools/readers/index.ts');
  const { buildGraph } = await import('../../tools/graph/build.ts');
  let stage = 'read';
  try {
    const raw = await readModel(join(dir, base.model), { config: base.config ? join(dir, base.config) : undefined });
    stage = 'graph';
    const g = buildGraph(raw, { batch: o.batch });
    if (!o.convert && !base.calibration) return { outcome: 'ok:graph' };
    stage = 'convert';
    const { calibrationTensors } = await import('../../tools/cli/convert.ts');
    const { convertGraph } = await import('../../tools/pipeline.ts');
    const { runBlobReference } = await import('../../tools/blob/reference.ts');
    const { parseBlob } = await import('../../tools/blob/parse.ts');
    const cal = base.calibration ? calibrationTensors(g, [join(dir, base.calibration)]) : null;
    const r = await convertGraph(g, {
      batch: o.batch,
      calibration: cal,
      syntheticCount: 8,
      runRaw: (blob, inputs) => runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice()),
    });
    parseBlob(r.blob);
    return { outcome: 'ok:convert' };
  } catch (e) {
    if (e instanceof UserError) {
      const msg = e.message;
      if (/[\n\r]/.test(msg) || /\n\s+at /.test(msg) || msg.length > 600 || /[\x00-\x08\x0b-\x1f\x7f]/.test(msg)) {
        return {
          outcome: `user:${e.exitCode}`,
          message: msg,
          failure: { kind: 'message', detail: `not one clean line (${msg.length} chars): ${JSON.stringify(msg.slice(0, 300))}` },
        };
      }
      return { outcome: `user:${e.exitCode}`, message: msg, details: e.details, weak: INTERNAL_LEAK.test(msg) };
    }
    const err = e as Error;
    const frames = (err?.stack ?? '')
      .split('\n')
      .filter((l) => l.includes(' at '))
      .slice(0, 3)
      .map((l) => l.trim().replace(/file:\/\/\/work\/main\//, ''));
    return {
      outcome: `exception@${stage}`,
      failure: {
        kind: 'exception',
        detail: `${err?.constructor?.name ?? typeof e}: ${String(err?.message ?? e)
          .split('\n')[0]
          .slice(0, 200)} | ${frames.join(' | ')}`,
      },
    };
  }
}

// ---------------------------------------------------------------- bases from the shared fixtures

export function fixtureBases(fixturesDir: string): ReaderBase[] {
  const rd = (p: string) => new Uint8Array(readFileSync(join(fixturesDir, p)));
  const out: ReaderBase[] = [];
  const add = (name: string, kind: ReaderBase['kind'], files: Record<string, string>, model: string, config?: string) => {
    if (!Object.values(files).every((p) => existsSync(join(fixturesDir, p)))) return;
    out.push({ name, kind, files: Object.fromEntries(Object.entries(files).map(([k, p]) => [k, rd(p)])), model, config });
  };
  add('abalone (tfjs)', 'tfjs', { 'model.json': 'tfjs_node_abalone_mlp/model.json', 'weights.bin': 'tfjs_node_abalone_mlp/weights.bin' }, 'model.json');
  add('embedding_gru (tfjs)', 'tfjs', { 'model.json': 'tfjs_embedding_gru/model.json', 'weights.bin': 'tfjs_embedding_gru/weights.bin' }, 'model.json');
  add('leaky (h5)', 'h5', { 'm.h5': 'dl4j_dense_leakyrelu/LeakyReLU_0_model.h5' }, 'm.h5');
  add(
    'leaky weights+config (h5)',
    'h5',
    { 'w.h5': 'dl4j_dense_leakyrelu/LeakyReLU_0_weights.h5', 'c.json': 'dl4j_dense_leakyrelu/LeakyReLU_0_config.json' },
    'w.h5',
    'c.json',
  );
  add('cnn_batch_norm (h5)', 'h5', { 'm.h5': 'dl4j_conv2d_batchnorm/cnn_batch_norm.h5' }, 'm.h5');
  add('conv1d (h5)', 'h5', { 'm.h5': 'dl4j_conv1d_k3_s2_valid/conv1d_k3_s2_d1_cl_valid_model.h5' }, 'm.h5');
  add('simple_rnn (h5)', 'h5', { 'm.h5': 'dl4j_simple_rnn/simple_rnn_tf_keras_2_model.h5' }, 'm.h5');
  add('keras1_lstm (h5)', 'h5', { 'm.h5': 'dl4j_keras1_lstm/lstm_tensorflow_1.h5' }, 'm.h5');
  add(
    'hls4ml gru (h5+config)',
    'h5',
    { 'w.h5': 'hls4ml_gru_keras213/KERAS_gru_model_weights.h5', 'c.json': 'hls4ml_gru_keras213/KERAS_gru_model.json' },
    'w.h5',
    'c.json',
  );
  add('lstm_unroll (keras3)', 'keras', { 'm.keras': 'cdt406_keras3_lstm_unroll/model.keras' }, 'm.keras');
  add('elm custom (keras3)', 'keras', { 'm.keras': 'cdt406_keras3_custom_model_negative/elm_model.keras' }, 'm.keras');
  return out;
}

/** The .tflite models of the shared fixtures (MLPerf Tiny), small ones first, and a written MEAN + FULLY_CONNECTED model. */
export function tfliteBases(tfliteDir: string): ReaderBase[] {
  const out: ReaderBase[] = [];
  for (const f of ['ad01_int8.tflite', 'kws_ref_model.tflite', 'pretrainedResnet_quant.tflite']) {
    if (existsSync(join(tfliteDir, f)))
      out.push({ name: `${f} (tflite)`, kind: 'tflite', files: { 'm.tflite': new Uint8Array(readFileSync(join(tfliteDir, f))) }, model: 'm.tflite' });
  }
  const mean = writeTflite(meanModel({ shape: [1, 4, 4, 8], inQ: [0.05, -3], outQ: [0.02, 4], keepDims: true, fcUnits: 3 }));
  out.push({ name: 'written MEAN + FULLY_CONNECTED (tflite)', kind: 'tflite', files: { 'm.tflite': mean }, model: 'm.tflite' });
  return out;
}

export function readerCase(bases: ReaderBase[], seed: number, index: number): ReaderMutant {
  const r = caseRng(seed, index);
  return mutateModel(r.pick(bases), r);
}

export interface ReaderSummary {
  cases: number;
  outcomes: Record<string, number>;
  weak: { index: number; base: string; message: string }[];
  /** the cases that grew RSS the most (MiB) */
  rssTop: { index: number; base: string; mib: number; outcome: string; mutations: string[] }[];
  failures: { seed: number; index: number; base: string; kind: string; detail: string; mutations: string[] }[];
  ms: number;
}

/** Cases [start, start+count) of campaign `seed` (reading + graph building; converts 1 case in `convertEvery`). */
export async function runReaderCampaign(
  bases: ReaderBase[],
  seed: number,
  start: number,
  count: number,
  progress?: Int32Array,
  convertEvery = 10,
): Promise<ReaderSummary> {
  const s: ReaderSummary = { cases: 0, outcomes: {}, weak: [], rssTop: [], failures: [], ms: 0 };
  const t0 = Date.now();
  for (let i = start; i < start + count; i++) {
    if (progress) Atomics.store(progress, 0, i);
    const m = readerCase(bases, seed, i);
    const dir = writeCase(m.files);
    const res = await runModelCase(dir, m.base, { convert: i % convertEvery === 0 });
    rmSync(dir, { recursive: true, force: true });
    s.cases++;
    s.outcomes[res.outcome] = (s.outcomes[res.outcome] ?? 0) + 1;
    const mib = Math.round((res.rssGrowth ?? 0) / 2 ** 20);
    if (mib >= 64) {
      s.rssTop.push({ index: i, base: m.base.name, mib, outcome: res.outcome, mutations: m.ops });
      s.rssTop.sort((a, b) => b.mib - a.mib).splice(10);
    }
    if (res.weak && s.weak.length < 50) s.weak.push({ index: i, base: m.base.name, message: res.message! });
    if (res.failure && s.failures.length < 100)
      s.failures.push({ seed, index: i, base: m.base.name, kind: res.failure.kind, detail: res.failure.detail, mutations: m.ops });
    if (progress) Atomics.store(progress, 1, s.cases);
  }
  s.ms = Date.now() - t0;
  return s;
}

// ---------------------------------------------------------------- worker pool with hang detection

function mergeReaderSummary(a: ReaderSummary, b: ReaderSummary): ReaderSummary {
  a.cases += b.cases;
  for (const [k, v] of Object.entries(b.outcomes)) a.outcomes[k] = (a.outcomes[k] ?? 0) + v;
  a.weak.push(...b.weak.slice(0, Math.max(0, 50 - a.weak.length)));
  a.failures.push(...b.failures.slice(0, Math.max(0, 200 - a.failures.length)));
  a.rssTop = [...a.rssTop, ...b.rssTop].sort((x, y) => y.mib - x.mib).slice(0, 10);
  return a;
}

/**
 * Run reader cases [0, cases) in `workers` worker threads (each its own heap and h5wasm), killing
 * a worker whose current case makes no progress for `caseTimeoutMs` (recorded as a hang) and
 * resuming after it.
 */
export async function runReaderPool(o: {
  bases: ReaderBase[];
  seed: number;
  cases: number;
  workers?: number;
  chunk?: number;
  caseTimeoutMs?: number;
  convertEvery?: number;
  onChunk?: (s: ReaderSummary) => void;
}): Promise<ReaderSummary> {
  const { Worker } = await import('node:worker_threads');
  const total: ReaderSummary = { cases: 0, outcomes: {}, weak: [], rssTop: [], failures: [], ms: 0 };
  const t0 = Date.now();
  const nw = Math.max(1, o.workers ?? 1);
  const timeout = o.caseTimeoutMs ?? 20000;
  const per = Math.ceil(o.cases / nw);
  const boot = new URL('./fuzz-readers-worker-boot.mjs', import.meta.url);
  const runRange = (start: number, end: number): Promise<void> =>
    new Promise((resolve, reject) => {
      if (start >= end) return resolve();
      const progress = new SharedArrayBuffer(8);
      const p = new Int32Array(progress);
      Atomics.store(p, 0, start);
      const w = new Worker(boot, {
        workerData: { bases: o.bases, seed: o.seed, start, count: end - start, chunk: o.chunk ?? 50, progress, convertEvery: o.convertEvery ?? 10 },
      });
      let last = -1;
      let lastMove = Date.now();
      let beats = 0;
      let chunks = 0;
      let finished = false;
      const timer = setInterval(() => {
        const beat = Atomics.load(p, 0) * 4096 + (chunks % 4096);
        if (beat !== last) {
          last = beat;
          lastMove = Date.now();
          beats++;
          return;
        }
        if (Date.now() - lastMove > (beats > 1 ? timeout : timeout + 15000)) {
          finished = true;
          clearInterval(timer);
          void w.terminate();
          const idx = Atomics.load(p, 0);
          const m = readerCase(o.bases, o.seed, idx);
          mergeReaderSummary(total, {
            cases: 1,
            outcomes: { hang: 1 },
            weak: [],
            rssTop: [],
            ms: 0,
            failures: [{ seed: o.seed, index: idx, base: m.base.name, kind: 'hang', detail: `no progress for ${timeout} ms`, mutations: m.ops }],
          });
          runRange(idx + 1, end).then(resolve, reject);
        }
      }, 500);
      w.on('message', (m: any) => {
        if (m.type === 'chunk') {
          chunks++;
          mergeReaderSummary(total, m.summary);
          total.ms = Date.now() - t0;
          o.onChunk?.(total);
        } else if (m.type === 'done') {
          finished = true;
          clearInterval(timer);
          void w.terminate();
          resolve();
        }
      });
      w.on('error', (e) => {
        if (finished) return;
        finished = true;
        clearInterval(timer);
        // a worker killed by V8's heap limit or an h5wasm abort: record it and go on
        const idx = Atomics.load(p, 0);
        const m = readerCase(o.bases, o.seed, idx);
        mergeReaderSummary(total, {
          cases: 1,
          outcomes: { 'worker-died': 1 },
          weak: [],
          rssTop: [],
          ms: 0,
          failures: [{ seed: o.seed, index: idx, base: m.base.name, kind: 'exception', detail: `worker died: ${(e as Error).message}`, mutations: m.ops }],
        });
        runRange(idx + 1, end).then(resolve, reject);
      });
      w.on('exit', (code) => {
        if (!finished) {
          finished = true;
          clearInterval(timer);
          reject(new Error(`reader fuzz worker exited with code ${code}`));
        }
      });
    });
  await Promise.all(Array.from({ length: nw }, (_, k) => runRange(k * per, Math.min(o.cases, (k + 1) * per))));
  total.ms = Date.now() - t0;
  return total;
}
