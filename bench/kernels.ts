/**
 * Measures candidate Dense inner-loop shapes (bench/kernels/dense-candidates.ts, compiled with
 * the runtime's asc flags into build/bench/dense-candidates.wasm) with the same exact counter,
 * after checking each against a JS reference. `tsx bench/kernels.ts` prints a table; run.ts
 * includes it when the compiled module exists (it compiles it when asc is available).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CountingRuntime, instrument } from '../tools/blob/count.ts';
import { rng } from '../test/helpers/tfjs-train.ts';
import { ROOT } from './models.ts';

const SRC = join(ROOT, 'bench/kernels/dense-candidates.ts');
const WASM = join(ROOT, 'build/bench/dense-candidates.wasm');

export interface KernelRow {
  kernel: string;
  shape: string;
  K: number;
  N: number;
  executed: number;
  perMac: number;
  dispatchedPerMac: number;
  exact: boolean;
}

/** rows: input rows per call (2: the two-lane i64 kernel, two positions or batch 2) */
const SHAPES: { fn: string; shape: string; layout: (w: Int8Array, K: number, N: number) => Int8Array; kStep: number; nStep: number; rows?: number }[] = [
  { fn: 'rowX4', shape: 'runtime layout 0: 1 output, k x4 (current DENSE path)', layout: (w) => w, kStep: 4, nStep: 1 },
  { fn: 'blk4', shape: 'runtime layout 1: 4 outputs, k x1', layout: (w, K, N) => interleave(w, K, N, 4, 1), kStep: 1, nStep: 4 },
  { fn: 'blk4k4', shape: '4 outputs, k x4, products summed per output', layout: (w, K, N) => interleave(w, K, N, 4, 4), kStep: 4, nStep: 4 },
  { fn: 'blk4k8', shape: '4 outputs, k x8, products summed per output', layout: (w, K, N) => interleave(w, K, N, 4, 8), kStep: 8, nStep: 4 },
  { fn: 'blk8k2', shape: '8 outputs, k x2', layout: (w, K, N) => interleave(w, K, N, 8, 2), kStep: 2, nStep: 8 },
  {
    fn: 'pair4k4',
    shape: '2 input rows in one i64 per k (two-lane multiply), 4 outputs, k x4',
    layout: (w, K, N) => interleave(w, K, N, 4, 4),
    kStep: 4,
    nStep: 4,
    rows: 2,
  },
  {
    fn: 'pairFly4k4',
    shape: 'the same, pairs formed in the loop (no scratch)',
    layout: (w, K, N) => interleave(w, K, N, 4, 4),
    kStep: 4,
    nStep: 4,
    rows: 2,
  },
  {
    fn: 'wpairFly4k4',
    shape: 'batch 1: 2 rows per i64, weight pair formed in the loop (layout 1), k x4',
    layout: (w, K, N) => interleave(w, K, N, 4, 1),
    kStep: 4,
    nStep: 4,
  },
  {
    fn: 'wpack24',
    shape: 'batch 1: 2 rows per i64, pairs packed as w0 + 2^24 w1 (int32), 4 rows, k x4',
    layout: (w, K, N) => pack24(w, K, N, 4),
    kStep: 4,
    nStep: 4,
  },
  { fn: 'wpack24r8', shape: 'the same, 8 rows per pass', layout: (w, K, N) => pack24(w, K, N, 8), kStep: 4, nStep: 8 },
  {
    fn: 'u8r8',
    shape: 'batch 1: 8 rows per i64 load, offset-binary bytes, 2 rows per multiply, k x2',
    layout: (w, K, N) => offsetBinary(w, K, N),
    kStep: 2,
    nStep: 8,
  },
  { fn: 'u8r8k4', shape: 'the same, k x4', layout: (w, K, N) => offsetBinary(w, K, N), kStep: 4, nStep: 8 },
];

/** w[N][K] (|w| <= 127) -> int32 words [N/r][K][r/2]: w[o][k] + 2^24 * w[o+1][k] */
export function pack24(w: Int8Array, K: number, N: number, r: number): Int8Array {
  const out = new Int32Array((N * K) / 2);
  let p = 0;
  for (let b = 0; b < N / r; b++)
    for (let k = 0; k < K; k++) for (let j = 0; j < r; j += 2) out[p++] = w[(b * r + j) * K + k] + w[(b * r + j + 1) * K + k] * 2 ** 24;
  return new Int8Array(out.buffer);
}

/** w[N][K] -> bytes [N/8][K][8] holding w + 128 (offset binary) */
export function offsetBinary(w: Int8Array, K: number, N: number): Int8Array {
  const out = interleave(w, K, N, 8, 1);
  for (let i = 0; i < out.length; i++) out[i] ^= -128;
  return out;
}

/** w[N][K] -> blocks [N/no][K/nk][no][nk] */
function interleave(w: Int8Array, K: number, N: number, no: number, nk: number): Int8Array {
  const out = new Int8Array(N * K);
  let p = 0;
  for (let b = 0; b < N / no; b++)
    for (let k0 = 0; k0 < K; k0 += nk) for (let j = 0; j < no; j++) for (let t = 0; t < nk; t++) out[p++] = w[(b * no + j) * K + k0 + t];
  return out;
}

export function compileCandidates(): boolean {
  if (existsSync(WASM) && statSync(WASM).mtimeMs >= statSync(SRC).mtimeMs) return true;
  mkdirSync(join(ROOT, 'build/bench'), { recursive: true });
  try {
    execFileSync(
      'npx',
      [
        'asc',
        SRC,
        '-O3',
        '--noAssert',
        '--runtime',
        'stub',
        '--converge',
        '--disable',
        'mutable-globals,sign-extension,nontrapping-f2i,bulk-memory',
        '--initialMemory',
        '4',
        '-o',
        WASM,
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    return true;
  } catch {
    return false;
  }
}

export async function measureKernels(
  sizes: [number, number][] = [
    [128, 128],
    [640, 128],
    [64, 64],
  ],
): Promise<KernelRow[]> {
  if (!compileCandidates()) return [];
  const inst = instrument(new Uint8Array(readFileSync(WASM)));
  const rt = await CountingRuntime.fromInstrumented(inst);
  const mem = () => new Uint8Array(rt.memory.buffer);
  const rows: KernelRow[] = [];
  const r = rng(3);
  for (const [K, N] of sizes) {
    const x = Int8Array.from({ length: 2 * K }, () => Math.floor(r() * 256) - 128);
    const w = Int8Array.from({ length: N * K }, () => Math.floor(r() * 255) - 127); // |w| <= 127, as the converter emits
    const bias = Int32Array.from({ length: N }, () => Math.floor(r() * 20000) - 10000);
    const ref = new Int32Array(2 * N);
    for (let row = 0; row < 2; row++)
      for (let o = 0; o < N; o++) {
        let a = bias[o];
        for (let k = 0; k < K; k++) a += x[row * K + k] * w[o * K + k];
        ref[row * N + o] = a;
      }
    const X = 4096,
      B = X + 2 * K,
      A = B + 4 * N,
      W = A + 8 * N + 8 * K + 64;
    for (const s of SHAPES) {
      if (K % s.kStep || N % s.nStep) continue;
      const m = mem();
      m.set(new Uint8Array(x.buffer), X);
      m.set(new Uint8Array(bias.buffer), B);
      m.set(new Uint8Array(s.layout(w, K, N).buffer), W);
      rt.reset();
      rt.exports[s.fn](X, W, K, N, B, A);
      const c = rt.summarise(null);
      const rowsIn = s.rows ?? 1;
      const got = new Int32Array(rt.memory.buffer.slice(A, A + 4 * N * rowsIn));
      const exact = got.every((v, i) => v === ref[i]);
      const macs = K * N * rowsIn;
      rows.push({ kernel: s.fn, shape: s.shape, K, N, executed: c.executed, perMac: c.executed / macs, dispatchedPerMac: c.dispatched / macs, exact });
    }
  }
  return rows;
}

export function kernelTable(rows: KernelRow[]): string {
  const L = ['| loop shape | K x N | exact | instr / MAC | dispatched / MAC |', '|---|---|---|---:|---:|'];
  for (const r of rows)
    L.push(`| ${r.kernel}: ${r.shape} | ${r.K} x ${r.N} | ${r.exact ? 'yes' : '**NO**'} | ${r.perMac.toFixed(2)} | ${r.dispatchedPerMac.toFixed(2)} |`);
  return L.join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(kernelTable(await measureKernels()));
}
