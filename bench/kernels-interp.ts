/**
 * Native cost of the candidate Dense loops (bench/kernels/dense-candidates.ts) under real
 * interpreters: `npx tsx bench/kernels-interp.ts DRIVER ...`, where DRIVER is a
 * bench/c-kernels/driver.c binary that `npm run bench:interp` linked
 * (build/bench/interp/<interpreter>/kernel_driver). Each candidate's accumulators are checked
 * against a JS reference before its callgrind count (bench_invoke only) is used.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileCandidates, offsetBinary, pack24 } from './kernels.ts';
import { ROOT } from './models.ts';
import { rng } from '../test/helpers/tfjs-train.ts';

const WASM = join(ROOT, 'build/bench/dense-candidates.wasm');
const OUT = join(ROOT, 'build/bench/kernels-interp');
const CANDIDATES = [
  { id: 0, name: 'blk4k4', nk: 4, rows: 1 },
  { id: 1, name: 'blk4k8', nk: 8, rows: 1 },
  { id: 2, name: 'pair4k4', nk: 4, rows: 2 },
  { id: 3, name: 'pairFly4k4', nk: 4, rows: 2 },
  { id: 4, name: 'wpairFly4k4', nk: 1, rows: 1 },
  { id: 5, name: 'wpack24', nk: 0, rows: 1, pack: 4 },
  { id: 6, name: 'wpack24r8', nk: 0, rows: 1, pack: 8 },
  { id: 7, name: 'u8r8', nk: 0, rows: 1, u8: true },
  { id: 8, name: 'u8r8k4', nk: 0, rows: 1, u8: true },
  { id: 9, name: 'u8r8k4m', nk: 0, rows: 1, u8: true },
];

function interleave(w: Int8Array, K: number, N: number, nk: number): Int8Array {
  const out = new Int8Array(N * K);
  let p = 0;
  for (let b = 0; b < N / 4; b++)
    for (let k0 = 0; k0 < K; k0 += nk) for (let j = 0; j < 4; j++) for (let t = 0; t < nk; t++) out[p++] = w[(b * 4 + j) * K + k0 + t];
  return out;
}

/** job bytes and the expected accumulators ([rows][N] int32) */
function job(c: (typeof CANDIDATES)[number], K: number, N: number): { bytes: Uint8Array; want: Int32Array } {
  const r = rng(5);
  const x = Int8Array.from({ length: 2 * K }, () => Math.floor(r() * 256) - 128);
  const w = Int8Array.from({ length: N * K }, () => Math.floor(r() * 255) - 127); // |w| <= 127, as the converter emits
  const bias = Int32Array.from({ length: N }, () => Math.floor(r() * 20000) - 10000);
  const want = new Int32Array(c.rows * N);
  for (let row = 0; row < c.rows; row++)
    for (let o = 0; o < N; o++) {
      let a = bias[o];
      for (let k = 0; k < K; k++) a += x[row * K + k] * w[o * K + k];
      want[row * N + o] = a;
    }
  const X = 64,
    B = X + 2 * K,
    A = B + 4 * N,
    W = A + 8 * N + 8 * K + 64;
  const wl = 'u8' in c ? offsetBinary(w, K, N) : 'pack' in c && c.pack !== undefined ? pack24(w, K, N, c.pack) : interleave(w, K, N, c.nk);
  const bytes = new Uint8Array(W + wl.length);
  new Int32Array(bytes.buffer, 0, 9).set([c.id, A, 4 * c.rows * N, K, N, X, W, B, 255]);
  bytes.set(new Uint8Array(x.buffer), X);
  bytes.set(new Uint8Array(bias.buffer), B);
  bytes.set(new Uint8Array(wl.buffer), W);
  return { bytes, want };
}

function measure(driver: string, c: (typeof CANDIDATES)[number], K: number, N: number): number {
  const { bytes, want } = job(c, K, N);
  const jf = join(OUT, 'job.bin'),
    of = join(OUT, 'out.bin'),
    cg = join(OUT, 'callgrind.out');
  writeFileSync(jf, bytes);
  const r = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--main-stacksize=67108864', '--toggle-collect=bench_invoke', `--callgrind-out-file=${cg}`, driver, WASM, jf, of],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`${driver} ${c.name}: ${r.stderr.split('\n').find((l) => /error|SIGILL/.test(l)) ?? `exit ${r.status}`}`);
  const got = new Int32Array(new Uint8Array(readFileSync(of)).buffer);
  if (got.length !== want.length || !got.every((v, i) => v === want[i]))
    throw new Error(`${c.name} under ${driver}: accumulators differ from the JS reference`);
  return Number(/^totals:\s*(\d+)/m.exec(readFileSync(cg, 'utf8'))![1]) / (K * N * c.rows);
}

const drivers = process.argv.slice(2);
if (!drivers.length || !compileCandidates()) throw new Error('usage: npx tsx bench/kernels-interp.ts DRIVER ... (needs asc for the candidates)');
mkdirSync(OUT, { recursive: true });
const lines = ['| loop shape | K x N | ' + drivers.join(' | ') + ' |', '|---|---|' + drivers.map(() => '---:').join('|') + '|'];
for (const [K, N] of [
  [128, 128],
  [640, 128],
]) {
  for (const c of CANDIDATES) lines.push(`| ${c.name} | ${K} x ${N} | ${drivers.map((d) => measure(d, c, K, N).toFixed(1)).join(' | ')} |`);
}
process.stdout.write(lines.join('\n') + '\n');
