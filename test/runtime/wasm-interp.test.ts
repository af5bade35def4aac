/**
 * Independent interpreter: the runtime run end to end under Debian wabt's non-JIT `wasm-interp`
 * must produce the same output bytes as V8 (DeviceSim on build/runtime.wasm).
 *
 * wasm-interp cannot pass arguments to exports, so the test generates a small AssemblyScript
 * entry that imports the runtime's own modules from assembly/, embeds a blob and an input as
 * data, and exports a no-argument `run(): i32` plus getters `o<k>(): i64` returning 8 output
 * bytes each; it is compiled with the MVP feature flags of asconfig.json (at -O1) and run with
 * `wasm-interp --run-all-exports`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import asc from 'assemblyscript/asc';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { DTYPE, STORAGE } from '../../tools/blob/spec.ts';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { repoRoot } from '../helpers/fixtures.ts';
import { MVP_ONLY } from '../helpers/mvp.ts';

const haveInterp = spawnSync('wasm-interp', ['--version']).status === 0;
if (!haveInterp) console.warn('wasm-interp (Debian package wabt) not found: skipping the independent-interpreter test');
const dir = mkdtempSync(join(tmpdir(), 'kw-interp-'));

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** DENSE 48 -> 24 (per-channel requant) then a LUT (tanh-like table). */
function testBlob(): { blob: Uint8Array; input: Int8Array } {
  const r = rng(42);
  const inDim = 48;
  const outDim = 24;
  const b = new BlobBuilder();
  const tin = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: inDim });
  const tmid = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 64, bytes: outDim });
  const tout = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 0, bytes: outDim });
  const w = Int8Array.from({ length: inDim * outDim }, () => Math.floor(r() * 255) - 127);
  b.addOp('DENSE', {
    in: tin,
    out: tmid,
    rows: 1,
    inDim,
    outDim,
    weights: b.addConst(w),
    bias: b.addConstI32(Array.from({ length: outDim }, () => Math.floor(r() * 20000) - 10000)),
    mult: b.addConstI32(Array.from({ length: outDim }, () => (1 << 30) + Math.floor(r() * (1 << 30)))),
    shift: b.addConstI8(Array.from({ length: outDim }, () => -7 - Math.floor(r() * 3))),
    zpOut: -5,
    actMin: -128,
    actMax: 127,
    lut: -1,
    layout: 0,
  });
  const table = Int8Array.from({ length: 256 }, (_, i) => Math.max(-128, Math.min(127, Math.round(127 * Math.tanh((i - 128) / 40)))));
  b.addOp('LUT', { in: tmid, out: tout, count: outDim, table: b.addConst(table) });
  b.setIO(
    [{ tensor: tin, dims: [1, inDim], scale: 0.05, zeroPoint: 3, name: 'x' }],
    [{ tensor: tout, dims: [1, outDim], scale: 1 / 128, zeroPoint: 0, name: 'y' }],
  );
  b.setPlan({ arenaSize: 96, batch: 1 });
  const input = Int8Array.from({ length: inDim }, () => Math.floor(r() * 256) - 128);
  return { blob: b.build(), input };
}

function ascFlags(): string[] {
  const cfg = JSON.parse(readFileSync(resolve(repoRoot, 'asconfig.json'), 'utf8'));
  const t = cfg.targets.release;
  const o = cfg.options;
  // Same features (the MVP set), runtime and asserts as the release build; optimisation at -O1
  // without --converge to keep the test fast (binaryen -O3 --converge takes ~30 s here). The
  // comparison is then also across optimisation levels.
  const flags = ['--optimizeLevel', '1', '--shrinkLevel', '0', '--runtime', t.runtime];
  if (t.noAssert) flags.push('--noAssert');
  if (o.disable?.length) flags.push('--disable', o.disable.join(','));
  if (o.initialMemory) flags.push('--initialMemory', String(o.initialMemory));
  return flags;
}

describe.skipIf(!haveInterp)('wabt wasm-interp (non-JIT) vs V8, byte for byte', () => {
  let v8Out: Uint8Array;
  let interpOut: Uint8Array;
  let runCode: number;
  let validate: ReturnType<typeof spawnSync>;
  beforeAll(async () => {
    const { blob, input } = testBlob();
    // V8: DeviceSim on the normal runtime build
    const sim = await DeviceSim.load(resolve(repoRoot, 'build/runtime.wasm'));
    expect(sim.init(blob)).toBe(0);
    const [o] = sim.run([input]);
    v8Out = new Uint8Array(o.buffer, o.byteOffset, o.byteLength).slice();

    const idx = relative(dir, resolve(repoRoot, 'assembly/index')).split('\\').join('/');
    const chunks = Math.ceil(v8Out.length / 8);
    const src = [
      `import { kw_blob_buffer, kw_init, kw_input_ptr, kw_input_size, kw_invoke, kw_output_ptr } from '${idx.startsWith('.') ? idx : './' + idx}';`,
      `const BLOB = memory.data<u8>([${Array.from(blob).join(',')}]);`,
      `const IN0 = memory.data<u8>([${Array.from(new Uint8Array(input.buffer)).join(',')}]);`,
      'export function run(): i32 {',
      `  const p = kw_blob_buffer(${blob.length});`,
      '  if (p == 0) return -1;',
      `  memory.copy(p, BLOB, ${blob.length});`,
      '  const rc = kw_init();',
      '  if (rc != 0) return 100 + rc;',
      `  if (kw_input_size(0) != ${input.length}) return -2;`,
      `  memory.copy(kw_input_ptr(0), IN0, ${input.length});`,
      '  return kw_invoke();',
      '}',
      ...Array.from({ length: chunks }, (_, k) => `export function o${k}(): i64 { return load<i64>(kw_output_ptr(0) + ${8 * k}); }`),
    ].join('\n');
    const entry = join(dir, 'interp_entry.ts');
    writeFileSync(entry, src);
    const out = join(dir, 'interp.wasm');
    const errs: string[] = [];
    const { error } = await asc.main([entry, '--outFile', out, ...ascFlags()], {
      stdout: { write: () => true } as any,
      stderr: { write: (s: string) => (errs.push(String(s)), true) } as any,
    });
    expect(error, errs.join('')).toBeFalsy();
    validate = spawnSync('wasm-validate', [...MVP_ONLY, out], { encoding: 'utf8' });
    const r = spawnSync('wasm-interp', [out, '--run-all-exports'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const runLine = lines.find((l) => l.startsWith('run()'));
    runCode = Number(/i32:(-?\d+)/.exec(runLine ?? '')?.[1]);
    interpOut = new Uint8Array(chunks * 8);
    const dv = new DataView(interpOut.buffer);
    for (let k = 0; k < chunks; k++) {
      const m = new RegExp(`^o${k}\\(\\) => i64:(-?\\d+)$`, 'm').exec(r.stdout);
      expect(m, r.stdout).toBeTruthy();
      dv.setBigUint64(8 * k, BigInt.asUintN(64, BigInt(m![1])), true);
    }
  });

  it('the test build is MVP-only (validates with every post-MVP feature off)', () => {
    expect(validate.status, String(validate.stderr)).toBe(0);
  });

  it('runs the model and matches V8 byte for byte', () => {
    expect(runCode).toBe(0);
    expect(v8Out.length).toBe(24);
    expect(Array.from(interpOut.subarray(0, v8Out.length))).toEqual(Array.from(v8Out));
    // not a trivial output: several distinct values, some saturated by the table
    expect(new Set(v8Out).size).toBeGreaterThan(5);
  });
});
