/**
 * firmware-host/measure: the measuring driver compiles with -Wall -Wextra -Werror against the
 * interpreter test doubles and runs on the toy runtime in both weight modes (CI has no
 * interpreter). With WASM3_INC + WASM3_LIB or WAMR_INC + WAMR_LIB in the environment it is also
 * linked against those libraries and run on the real runtimes with the example model, and its
 * outputs must equal what `npx tools/run` wrote, in both weight modes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeNpy } from '../../tools/readers/npy.ts';
import { repoRoot } from '../helpers/fixtures.ts';
import { toyBlob } from '../helpers/toy-blob.ts';

const has = (cmd: string) => spawnSync(cmd, ['--version']).status === 0;
const haveGcc = has('gcc');
const haveMake = has('make');
const linux = process.platform === 'linux'; // -Wl,--wrap and pthread_attr_setstack
const MEASURE = resolve(repoRoot, 'firmware-host/measure');
const dir = mkdtempSync(join(tmpdir(), 'kw-measure-'));
const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', env });
  return { status: r.status, out: r.stdout ?? '', all: `${cmd} ${args.join(' ')}\n${r.stdout}${r.stderr}` };
};
const field = (out: string, key: string) => new RegExp(`^${key}: (.*)$`, 'm').exec(out)?.[1];

// make reads the environment too: the real-interpreter variables must not reach the doubles build
const cleanEnv = { ...process.env };
for (const v of ['WASM3_INC', 'WASM3_LIB', 'WAMR_INC', 'WAMR_LIB']) delete cleanEnv[v];

describe.skipIf(!haveGcc || !haveMake || !linux)('firmware-host/measure against the test doubles', () => {
  const build = join(dir, 'build');
  beforeAll(() => {
    writeFileSync(join(dir, 'fake.wasm'), Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    writeFileSync(join(dir, 'toy.blob'), toyBlob());
    // the toy copies the input bytes to the output: q = x / 0.5, y = q * 0.5 = x
    writeNpy(join(dir, 'in.npy'), Float32Array.from([0.5, 1, -1, 2, 0, 0.5, 1, 1.5]), [2, 4]);
    writeNpy(join(dir, 'want.npy'), Float32Array.from([0.5, 1, -1, 2, 0, 0.5, 1, 1.5]), [2, 4]);
    writeFileSync(join(dir, 'want.bin'), Uint8Array.from([1, 2, 254, 4, 0, 1, 2, 3]));
    writeNpy(join(dir, 'wrong.npy'), Float32Array.from([0.5, 1, -1, 2, 0, 0.5, 1, 1]), [2, 4]);
    const make = run('make', ['-s', '-C', MEASURE, 'test', `BUILD=${build}`], cleanEnv);
    expect(make.status, make.all).toBe(0);
  });

  for (const interp of ['wasm3', 'wamr']) {
    it(`${interp}: both weight modes run the self-test and the samples, print the figures, and compare outputs`, () => {
      const exe = join(build, `kw_measure_${interp}_fake`);
      for (const weights of ['ram', 'flash']) {
        for (const want of ['want.npy', 'want.bin']) {
          const r = run(exe, ['fake.wasm', 'toy.blob', '--weights', weights, '--input', 'in.npy', '--expect', want, '--min-stack']);
          expect(r.status, r.all).toBe(0);
          expect(field(r.out, 'interpreter')).toBe(interp);
          expect(field(r.out, 'weights')).toBe(weights);
          expect(field(r.out, 'self_test')).toBe('PASS');
          expect(field(r.out, 'samples')).toBe('2');
          expect(field(r.out, 'expected')).toBe('2 samples match');
          for (const k of ['kw_memory_used', 'linear_memory', 'native_stack_high_water', 'min_stack_size'])
            expect(Number(field(r.out, k)), k).toBeGreaterThan(0);
          expect(field(r.out, 'heap_peak')).toMatch(/^\d+$/); // the doubles allocate nothing
          expect(field(r.out, 'outputs')).toMatch(/^2 samples, 8 bytes, crc32 [0-9a-f]{8}$/);
          if (weights === 'flash') expect(field(r.out, 'blob_reads')).toMatch(/^\d+ calls, \d+ bytes$/);
          expect(field(r.out, 'result')).toBe('PASS');
        }
      }
      const bad = run(exe, ['fake.wasm', 'toy.blob', '--input', 'in.npy', '--expect', 'wrong.npy']);
      expect(bad.status).toBe(1);
      expect(field(bad.out, 'result')).toBe('FAIL output 0 of sample 1 differs from wrong.npy at element 3');
      const limited = run(exe, ['fake.wasm', 'toy.blob', '--weights', 'flash', '--limit', '40000']);
      expect(field(limited.out, 'linear_memory')).toBe(interp === 'wasm3' ? '40000' : '131072');
    });
  }
});

// Real interpreters, only when their library and headers are given.
const real = {
  wasm3: process.env.WASM3_INC && process.env.WASM3_LIB ? [`WASM3_INC=${process.env.WASM3_INC}`, `WASM3_LIB=${process.env.WASM3_LIB}`] : null,
  wamr: process.env.WAMR_INC && process.env.WAMR_LIB ? [`WAMR_INC=${process.env.WAMR_INC}`, `WAMR_LIB=${process.env.WAMR_LIB}`] : null,
};

describe.skipIf(!haveGcc || !haveMake || !linux || (!real.wasm3 && !real.wamr))('firmware-host/measure on the real interpreters given', () => {
  const files = {} as Record<'ram' | 'flash', { blob: string; out: string }>;
  beforeAll(() => {
    const input = resolve(repoRoot, 'examples/test-inputs.npy');
    for (const weights of ['ram', 'flash'] as const) {
      const blob = join(dir, `example.${weights}.blob`);
      const out = join(dir, `example.${weights}.out.npy`);
      const conv = ['examples/model/model.json', '--calibration', 'examples/calibration.npy', '-o', blob, '--weights', weights];
      const c = spawnSync('node', [resolve(repoRoot, 'tools/convert'), ...conv], { cwd: repoRoot, encoding: 'utf8' });
      expect(c.status, c.stderr).toBe(0);
      const r = spawnSync('node', [resolve(repoRoot, 'tools/run'), blob, '--input', input, '-o', out, '--weights', weights], {
        cwd: repoRoot,
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      files[weights] = { blob, out };
    }
  });

  for (const interp of ['wasm3', 'wamr'] as const) {
    it.skipIf(!real[interp])(`${interp}: outputs equal the Node simulation in both weight modes`, () => {
      const build = join(dir, `real-${interp}`);
      const make = run('make', ['-s', '-C', MEASURE, interp, `BUILD=${build}`, ...real[interp]!]);
      expect(make.status, make.all).toBe(0);
      for (const weights of ['ram', 'flash'] as const) {
        const wasm = resolve(repoRoot, weights === 'flash' ? 'build/runtime-flash.wasm' : 'build/runtime.wasm');
        const input = resolve(repoRoot, 'examples/test-inputs.npy');
        const r = run(join(build, `kw_measure_${interp}`), [wasm, files[weights].blob, '--weights', weights, '--input', input, '--expect', files[weights].out]);
        expect(r.status, r.all).toBe(0);
        expect(field(r.out, 'self_test')).toBe('PASS');
        expect(Number(field(r.out, 'samples'))).toBeGreaterThan(0);
        expect(field(r.out, 'result')).toBe('PASS');
      }
      expect(readFileSync(files.flash.out)).toEqual(readFileSync(files.ram.out));
    });
  }
});
