import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { EXPORTS, ERR_TEXT, DTYPE, STORAGE, IMPORT_READ_BLOB } from '../../tools/blob/spec.ts';
import { quantize } from '../../tools/fixedpoint.ts';
import { writeNpy } from '../../tools/readers/npy.ts';
import { toCHeader, wasmToCHeader } from '../../tools/blob/c-header.ts';
import { readRuntimeInfo } from '../../tools/blob/runtime-info.ts';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { repoRoot } from '../helpers/fixtures.ts';

const haveGcc = spawnSync('gcc', ['--version']).status === 0;
if (!haveGcc) console.warn('gcc not found: skipping the C glue tests (apt-get install gcc)');
const FW = resolve(repoRoot, 'firmware-host');
const dir = mkdtempSync(join(tmpdir(), 'kw-c-'));
const run = (cmd: string, args: string[], cwd = FW) => spawnSync(cmd, args, { cwd, encoding: 'utf8' });

describe('C glue shares the ABI with spec.ts (no gcc needed)', () => {
  const common = readFileSync(resolve(FW, 'src/kw_common.c'), 'utf8');
  const backend = readFileSync(resolve(FW, 'src/kw_backend.h'), 'utf8');
  const abi = readFileSync(resolve(FW, 'include/kw_abi.h'), 'utf8');
  it('every export in spec.ts EXPORTS is named from kw_abi.h and called by the glue', () => {
    for (const e of EXPORTS) {
      const X = e.name.replace(/^kw_/, '').toUpperCase();
      expect(abi, e.name).toContain(`#define KW_EXPORT_${X} "${e.name}"`);
      expect(common, e.name).toContain(`KW_EXPORT_${X},`);
      expect(backend, e.name).toContain(`KW_FN_${X},`);
      // a call site: call(m, KW_FN_X, ...) or simple(m, KW_FN_X, ...) or tensor_ptr(m, KW_FN_X, ...)
      expect(common, `${e.name} is never called`).toMatch(new RegExp(`(call|simple|tensor_ptr)\\(m, KW_FN_${X},`));
    }
    // the enum lists them in the generated order
    const order = [...backend.matchAll(/KW_FN_([A-Z_0-9]+),/g)].map((m) => m[1]).filter((n) => n !== 'COUNT');
    expect(order).toEqual(EXPORTS.map((e) => e.name.replace(/^kw_/, '').toUpperCase()));
    // both interpreters resolve every export by that table
    expect(readFileSync(resolve(FW, 'src/kw_wasm3.c'), 'utf8')).toContain('m3_FindFunction(&b->fn[i], b->runtime, kw_fn_names[i])');
    expect(readFileSync(resolve(FW, 'src/kw_wamr.c'), 'utf8')).toContain('wasm_runtime_lookup_function(b->inst, kw_fn_names[i])');
  });

  it('flash-only exports are optional and both glues link the one import with its signature', () => {
    const flags = /kw_export_flash_only\[KW_EXPORT_COUNT\] = \{ ([^}]*) \}/.exec(abi)?.[1].split(', ').map(Number);
    expect(flags).toEqual(EXPORTS.map((e) => (e.flashOnly ? 1 : 0)));
    expect(abi).toContain(`#define KW_IMPORT_MODULE "${IMPORT_READ_BLOB.module}"`);
    expect(abi).toContain(`#define KW_IMPORT_READ_BLOB "${IMPORT_READ_BLOB.name}"`);
    expect(IMPORT_READ_BLOB.args).toHaveLength(3);
    const wasm3 = readFileSync(resolve(FW, 'src/kw_wasm3.c'), 'utf8');
    const wamr = readFileSync(resolve(FW, 'src/kw_wamr.c'), 'utf8');
    expect(wasm3).toContain('m3_LinkRawFunction(b->module, KW_IMPORT_MODULE, KW_IMPORT_READ_BLOB, "i(iii)", kw_wasm3_read_blob)');
    expect(wamr).toContain('{KW_IMPORT_READ_BLOB, (void *)kw_wamr_read_blob, "(iii)i", NULL}');
    expect(wamr).toContain('wasm_runtime_register_natives(KW_IMPORT_MODULE, kw_wamr_kw_natives');
    for (const glue of [wasm3, wamr]) expect(glue).toContain('kw_fn_optional(i)');
  });
});

describe.skipIf(!haveGcc)('C glue compiled with gcc -Wall -Werror -std=c99 against the test doubles', () => {
  const build = join(dir, 'build');
  let make: ReturnType<typeof run>;
  beforeAll(() => {
    make = run('make', ['-s', 'test', `BUILD=${build}`]);
  });

  it('builds both glues and examples, and kw_common.c passes its test under both', () => {
    expect(make.status, make.stderr + make.stdout).toBe(0);
    expect(make.stdout).toContain('backend wasm3');
    expect(make.stdout).toContain('backend wamr');
    const counts = [...make.stdout.matchAll(/(\d+) passed, (\d+) failed/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(counts).toEqual([
      [82, 0],
      [82, 0],
    ]);
  });

  it('error texts in C are the spec texts', () => {
    // the C test checks three of them; here all of kw_abi.h's table against spec.ts
    const abi = readFileSync(resolve(FW, 'include/kw_abi.h'), 'utf8');
    for (const [code, text] of Object.entries(ERR_TEXT)) expect(abi, `error ${code}`).toContain(JSON.stringify(text));
  });

  it('C quantisation equals the Node host bit for bit (incl. .5 ties, clamps, int16/int32)', () => {
    let s = 12345;
    const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const lines: string[] = [];
    const cases: [number, number, number, number][] = [];
    for (let i = 0; i < 3000; i++) {
      const scale = Math.fround(i % 3 === 0 ? 2 ** -Math.floor(rnd() * 10) : 0.001 + rnd() * 0.2);
      const zp = Math.floor(rnd() * 256) - 128;
      const dt = i % 10 === 0 ? DTYPE.INT16 : i % 10 === 1 ? DTYPE.INT32 : DTYPE.INT8;
      // ties: x exactly (k + 0.5) * scale for power-of-two scales
      const x = Math.fround(i % 3 === 0 ? (Math.floor(rnd() * 300) - 150 + 0.5) * scale : (rnd() - 0.5) * 100 * scale);
      cases.push([x, scale, dt === DTYPE.INT32 ? 0 : zp, dt]);
    }
    for (const [x, scale, zp, dt] of cases) lines.push(`${x.toPrecision(9)} ${scale.toPrecision(9)} ${zp} ${dt}`);
    const f = join(dir, 'q.txt');
    writeFileSync(f, lines.join('\n') + '\n');
    const r = run(join(build, 'test_kw_wasm3'), ['--quantize', f]);
    expect(r.status).toBe(0);
    const got = r.stdout.trim().split('\n').map(Number);
    expect(got).toHaveLength(cases.length);
    const want = cases.map(([x, scale, zp, dt]) => {
      const [lo, hi] = dt === DTYPE.INT8 ? [-128, 127] : dt === DTYPE.INT16 ? [-32768, 32767] : [-2147483648, 2147483647];
      return quantize(x, scale, zp, lo, hi);
    });
    expect(got).toEqual(want);
    expect(cases.filter(([x, scale]) => Math.abs(x / scale - Math.round(x / scale)) === 0.5).length).toBeGreaterThan(500);
  });

  it('desktop examples read .npy and raw .f32 inputs and print dequantised outputs', () => {
    const npy = join(dir, 'in.npy');
    writeNpy(npy, Float32Array.from([0.25, -0.25, 1, 100, 0, 0.5, 1, 1.5]), [2, 4]);
    const raw = join(dir, 'in.f32');
    writeFileSync(raw, Buffer.from(Float32Array.from([0.25, -0.25, 1, 100]).buffer));
    for (const ex of ['main_wasm3_fake', 'main_wamr_fake']) {
      const r = run(join(build, ex), [join(build, 'fake.wasm'), join(build, 'toy.blob'), npy]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain("input 0 'input_1' int8 [1,4] scale 0.5 zero_point -3");
      expect(r.stdout).toContain('self-test: PASS');
      // toy runtime copies input bytes to the output: q = round(x/0.5) - 3, y = (q - 10) * 0.25
      expect(r.stdout).toContain('sample 0 output 0: -3 -3.5 -2.75 29.25');
      expect(r.stdout).toContain('sample 1 output 0: -3.25 -3 -2.75 -2.5');
      const r2 = run(join(build, ex), [join(build, 'fake.wasm'), join(build, 'toy.blob'), raw, '--no-self-test']);
      expect(r2.stdout.trim().split('\n').pop()).toBe('sample 0 output 0: -3 -3.5 -2.75 29.25');
      const bad = run(join(build, ex), [join(build, 'fake.wasm'), join(build, 'toy.blob'), join(build, 'toy.blob')]);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/is not a multiple of input 0's 4 elements/);
    }
  });

  it('toCHeader / wasmToCHeader emit aligned arrays and constants that compile and match the bytes', async () => {
    const b = new BlobBuilder();
    const tin = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: 6 });
    const tout = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 16, bytes: 2 });
    b.addOp('DENSE', {
      in: tin,
      out: tout,
      rows: 1,
      inDim: 6,
      outDim: 2,
      weights: b.addConst(Int8Array.from([1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6])),
      bias: b.addConstI32([0, 0]),
      mult: b.addConstI32([1 << 30, 1 << 30]),
      shift: b.addConstI8([0, 0]),
      zpOut: 0,
      actMin: -128,
      actMax: 127,
      lut: -1,
      layout: 0,
    });
    b.setIO(
      [{ tensor: tin, dims: [1, 2, 3], scale: 0.0078125, zeroPoint: -1, name: 'imu' }],
      [{ tensor: tout, dims: [1, 2], scale: 0.1, zeroPoint: 5, name: 'out' }],
    );
    b.setPlan({ arenaSize: 100000, batch: 1 });
    const blob = b.build();
    const h = toCHeader(blob, { name: 'har_model', source: 'har.blob' });
    writeFileSync(join(dir, 'har_model.h'), h);
    const wasm = readFileSync(resolve(repoRoot, 'build/runtime.wasm'));
    const info = await readRuntimeInfo(wasm);
    writeFileSync(join(dir, 'runtime_wasm.h'), wasmToCHeader(wasm, { name: 'kw_runtime_wasm', info }));
    const p = parseBlob(blob);
    const c = `#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "har_model.h"
#include "runtime_wasm.h"
#include "kw_runtime.h"
int main(void) {
  static const uint32_t dims[] = HAR_MODEL_INPUT0_DIMS;
  int ok = 1;
  ok &= sizeof har_model == HAR_MODEL_LEN && HAR_MODEL_LEN == HAR_MODEL_SIZE;
  ok &= ((uintptr_t)har_model % 16) == 0 && ((uintptr_t)kw_runtime_wasm % 16) == 0;
  ok &= kw_crc32(har_model + 16, HAR_MODEL_LEN - 16) == HAR_MODEL_CRC32;
  ok &= dims[0] == 1 && dims[1] == 2 && dims[2] == 3 && HAR_MODEL_INPUT0_RANK == 3 && HAR_MODEL_INPUT0_ELEMENTS == 6;
  ok &= HAR_MODEL_INPUT0_SCALE == 0.0078125f && HAR_MODEL_INPUT0_ZERO_POINT == -1 && HAR_MODEL_INPUT0_DTYPE == KW_DTYPE_INT8;
  ok &= HAR_MODEL_OUTPUT0_SCALE == 0.1f && HAR_MODEL_OUTPUT0_ZERO_POINT == 5 && HAR_MODEL_OUTPUT0_BYTES == 2;
  ok &= strcmp(HAR_MODEL_INPUT0_NAME, "imu") == 0 && HAR_MODEL_ARENA_SIZE == 100000u && HAR_MODEL_PAGES_MIN == 2;
  ok &= sizeof kw_runtime_wasm == KW_RUNTIME_WASM_LEN && memcmp(kw_runtime_wasm, "\\0asm", 4) == 0;
  ok &= KW_RUNTIME_WASM_FORMAT_VERSION == KW_FORMAT_VERSION && KW_RUNTIME_WASM_ABI_VERSION == KW_ABI_VERSION;
  printf("%s %u\\n", ok ? "OK" : "BAD", (unsigned)HAR_MODEL_LEN);
  return ok ? 0 : 1;
}
`;
    writeFileSync(join(dir, 'hdr.c'), c);
    for (const std of ['-std=c99', '-std=c11']) {
      const cc = run(
        'gcc',
        [
          '-Wall',
          '-Wextra',
          '-Werror',
          std,
          `-I${dir}`,
          `-I${resolve(FW, 'include')}`,
          join(dir, 'hdr.c'),
          resolve(FW, 'src/kw_common.c'),
          resolve(FW, 'src/kw_wasm3.c'),
          resolve(repoRoot, 'test/firmware/c/fake_wasm3.c'),
          resolve(repoRoot, 'test/firmware/c/toy_runtime.c'),
          `-I${resolve(repoRoot, 'test/firmware/c')}`,
          `-I${resolve(FW, 'src')}`,
          '-o',
          join(dir, 'hdr'),
        ],
        dir,
      );
      expect(cc.status, cc.stderr).toBe(0);
      const r = run(join(dir, 'hdr'), []);
      expect(r.stdout.trim()).toBe(`OK ${blob.length}`);
    }
    // C++ (Arduino sketches): the arrays are aligned too, without a warning
    const cpp = `#include <stdint.h>
#include "har_model.h"
#include "runtime_wasm.h"
int main() { return ((uintptr_t)har_model % 16 == 0 && (uintptr_t)kw_runtime_wasm % 16 == 0) ? 0 : 1; }
`;
    writeFileSync(join(dir, 'hdr.cpp'), cpp);
    for (const std of ['-std=c++11', '-std=gnu++17']) {
      const cc = run('g++', ['-Wall', '-Wextra', '-Werror', std, `-I${dir}`, join(dir, 'hdr.cpp'), '-o', join(dir, 'hdrpp')], dir);
      expect(cc.status, cc.stderr).toBe(0);
      expect(run(join(dir, 'hdrpp'), []).status).toBe(0);
    }
    expect(p.io.inputs[0].dims).toEqual([1, 2, 3]);
    expect(h).toContain('#define HAR_MODEL_INPUT0_DIMS {1, 2, 3}');
  });
});
