// The C comparison kernels of `npm run bench:interp` (bench/c-kernels/tflite_ref.c) against the
// TypeScript reference arithmetic in bench/interp-c.ts: compiled with Debian's clang to wasm32 and
// run in Node on seeded jobs with Dense and Conv1D (padded, strided) shapes, byte for byte.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCJob, type CLayer } from '../../bench/interp-c.ts';

const SRC = join(import.meta.dirname, '../../bench/c-kernels/tflite_ref.c');
const dir = mkdtempSync(join(tmpdir(), 'kw-ckernels-'));
const out = join(dir, 'k.wasm');
const cc = spawnSync('clang', ['--target=wasm32', '-mcpu=mvp', '-nostdlib', '-O2', '-Wl,--no-entry', '-Wl,--export-dynamic', '-o', out, SRC], {
  encoding: 'utf8',
});
const skip = cc.error ? 'clang/wasm-ld not installed (apt-get install clang lld)' : '';
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runJob(layers: CLayer[], seed: number): Promise<{ got: Uint8Array; want: Uint8Array }> {
  const job = buildCJob(layers, seed);
  const { instance } = await WebAssembly.instantiate(readFileSync(out));
  const ex = instance.exports as { memory: WebAssembly.Memory; bench_arena: () => number; bench_run: () => number };
  const base = ex.bench_arena();
  new Uint8Array(ex.memory.buffer).set(job.bytes, base);
  expect(ex.bench_run()).toBe(0);
  const dv = new DataView(job.bytes.buffer);
  const at = dv.getInt32(4, true);
  return { got: new Uint8Array(ex.memory.buffer, base + at, dv.getInt32(8, true)).slice(), want: job.expected };
}

describe.skipIf(skip)('bench C kernels (TFLite reference arithmetic)', () => {
  it('compiles to MVP wasm', () => expect(cc.status, cc.stderr).toBe(0));

  it('matches the TypeScript reference for Dense and Conv1D shapes', async () => {
    const layers: CLayer[] = [
      { kind: 'fc', k: 640, n: 128 },
      { kind: 'fc', k: 3, n: 96 },
      { kind: 'conv', inW: 128, inC: 3, outW: 128, outC: 16, kW: 5, strideW: 1, padW: 2 },
      { kind: 'conv', inW: 31, inC: 8, outW: 14, outC: 12, kW: 3, strideW: 2, padW: 0 },
    ];
    for (const seed of [1, 2, 3]) {
      const { got, want } = await runJob(layers, seed);
      expect(want.length).toBe(128 + 96 + 128 * 16 + 14 * 12);
      expect(Buffer.compare(Buffer.from(got), Buffer.from(want))).toBe(0);
    }
  });
});
if (skip) it.skip(`bench C kernels: ${skip}`, () => {});
