import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import binaryen from 'binaryen';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { DTYPE, STORAGE, HEADER } from '../../tools/blob/spec.ts';
import { verify, checkShapes, type VerifyResult } from '../../tools/cli/verify-checks.ts';
import { parseShape } from '../../tools/cli/verify.ts';
import { compareOutputs } from '../../tools/cli/verify-numbers.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { countLoadAndInference } from '../../tools/blob/count.ts';
import { findBoard, INTERPRETERS, memoryBudget, BOARDS } from '../../tools/boards.ts';
import { UserError } from '../../tools/errors.ts';
import { blockRows8u } from '../../tools/quantize/reference-rnn.ts';
import { repoRoot, haveFixtures, fixture, fixturesSkipReason } from '../helpers/fixtures.ts';

const RUNTIME = resolve(repoRoot, 'build/runtime.wasm');
const dir = mkdtempSync(join(tmpdir(), 'kw-verify-'));

/** 1x4 -> 1x3 DENSE blob; arenaExtra grows the planned arena (to test budgets); self-test from DeviceSim. */
async function denseBlob(arenaExtra = 0): Promise<Uint8Array> {
  const make = (st?: { i: Int8Array; o: Int8Array }) => {
    const b = new BlobBuilder();
    const tin = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: 4 });
    const tout = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 16, bytes: 3 });
    b.addOp('DENSE', {
      in: tin,
      out: tout,
      rows: 1,
      inDim: 4,
      outDim: 3,
      weights: b.addConst(Int8Array.from([1, 2, 3, 4, -1, -2, -3, -4, 5, 0, -5, 0])),
      bias: b.addConstI32([10, -10, 0]),
      mult: b.addConstI32([1 << 30, 1 << 30, 1 << 30]),
      shift: b.addConstI8([1, 0, 0]),
      zpOut: 3,
      actMin: -128,
      actMax: 127,
      lut: -1,
      layout: 0,
    });
    b.setIO(
      [{ tensor: tin, dims: [1, 4], scale: 0.5, zeroPoint: 0, name: 'sensor_in' }],
      [{ tensor: tout, dims: [1, 3], scale: 0.25, zeroPoint: 3, name: 'scores' }],
    );
    if (st) b.setSelfTest([st.i], [st.o]);
    b.setPlan({ arenaSize: 32 + arenaExtra, batch: 1 });
    return b.build();
  };
  const plain = make();
  const sim = await DeviceSim.load(RUNTIME);
  expect(sim.init(plain)).toBe(0);
  const i = Int8Array.from([3, -7, 20, 1]);
  const [o] = sim.run([i]);
  return make({ i, o: Int8Array.from(o) });
}

/** 1x16 -> 1x8 DENSE blob in layout 2 (offset-binary bytes in 8-row blocks, two rows per i64 multiply). */
function denseU8Blob(): Uint8Array {
  const b = new BlobBuilder();
  const tin = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: 16 });
  const tout = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 16, bytes: 8 });
  const w = Int8Array.from({ length: 128 }, (_, i) => ((i * 37) % 255) - 127);
  b.addOp('DENSE', {
    in: tin,
    out: tout,
    rows: 1,
    inDim: 16,
    outDim: 8,
    weights: b.addConst(blockRows8u(w, 8, 16)!, 16),
    bias: b.addConstI32(new Array(8).fill(0)),
    mult: b.addConstI32(new Array(8).fill(1 << 30)),
    shift: b.addConstI8(new Array(8).fill(-6)),
    zpOut: 0,
    actMin: -128,
    actMax: 127,
    lut: -1,
    layout: 2,
  });
  b.setIO([{ tensor: tin, dims: [1, 16], scale: 1, zeroPoint: 0 }], [{ tensor: tout, dims: [1, 8], scale: 1, zeroPoint: 0 }]);
  b.setPlan({ arenaSize: 32, batch: 1 });
  return b.build();
}

function write(name: string, bytes: Uint8Array | string): string {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
}

const byName = (r: VerifyResult, n: string) => r.checks.find((c) => c.name === n)!;

/** The real runtime with its exported op mask ANDed to drop DENSE (a build without that op). */
function runtimeWithoutDense(): string {
  const mod = binaryen.readBinary(readFileSync(RUNTIME));
  const exp = mod.getExport('kw_op_mask');
  const internal = binaryen.getExportInfo(exp).value;
  mod.addFunction(
    'mask_without_dense',
    binaryen.createType([binaryen.i32]),
    binaryen.i32,
    [],
    mod.i32.and(
      mod.call(internal, [mod.local.get(0, binaryen.i32)], binaryen.i32),
      mod.select(mod.i32.eqz(mod.local.get(0, binaryen.i32)), mod.i32.const(~(1 << 1)), mod.i32.const(-1)),
    ),
  );
  mod.removeExport('kw_op_mask');
  mod.addFunctionExport('mask_without_dense', 'kw_op_mask');
  expect(mod.validate()).toBeTruthy();
  const out = mod.emitBinary();
  mod.dispose();
  return write('runtime-no-dense.wasm', out);
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools/verify'), ...args], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('verify', () => {
  let good: string;
  let goodBytes: Uint8Array;
  beforeAll(async () => {
    goodBytes = await denseBlob();
    good = write('good.blob', goodBytes);
  });

  it('passes a good blob: every check with real figures', async () => {
    const r = await verify({ blobFile: good, inputShapes: [[1, 4]], outputShapes: [[1, 3]], board: 'esp32' });
    expect(r.checks.map((c) => [c.name, c.status])).toEqual([
      ['integrity', 'PASS'],
      ['runtime', 'PASS'],
      ['shapes', 'PASS'],
      ['memory', 'PASS'],
      ['self-test', 'PASS'],
    ]);
    expect(r.ok).toBe(true);
    expect(r.exitCode).toBe(0);
    const mem = byName(r, 'memory').figures as any;
    // independent measurement: DeviceSim's linear memory after init
    const sim = await DeviceSim.load(RUNTIME);
    expect(sim.init(goodBytes)).toBe(0);
    expect(mem.pages).toBe(sim.memoryBytes / 65536);
    expect(mem.linearMemoryBytes).toBe(sim.memoryUsed);
    expect(mem.staticBytes).toBe(sim.blobAddress);
    expect(mem.flash.total).toBe(goodBytes.length + readFileSync(RUNTIME).length + INTERPRETERS.wasm3.codeFlash + INTERPRETERS.wasm3.glueFlash);
    // under a page, wasm3's glue caps linear memory at what the runtime uses
    const linear = Math.ceil(sim.memoryUsed / 16) * 16;
    const w3 = INTERPRETERS.wasm3;
    const cc = w3.compiledCode!;
    // wasm3 compiles lazily: the module RAM follows the function bodies that init + self-test + one inference run
    const p = parseBlob(goodBytes);
    const { code } = await countLoadAndInference(RUNTIME, goodBytes, p.selfTest?.inputs ?? p.io.inputs.map((t) => new Uint8Array(t.bytes)));
    const wasmBytes = readFileSync(RUNTIME).length;
    expect(mem.moduleModel).toBe('compiled functions');
    expect(mem.ram.total).toBe(
      linear + cc.base + Math.ceil(code.bodyBytes * cc.perByte) + Math.ceil(wasmBytes * cc.perWasmByte) + w3.valueStack + findBoard('esp32').nativeStack,
    );
    expect(byName(r, 'memory').details.join('\n')).toContain('wasm3 RAM model: compiled functions');
    // no budget: the functions are not counted and the runtime-size bound is used
    const plain = byName(await verify({ blobFile: good }), 'memory');
    expect((plain.figures as any).moduleModel).toBe('runtime size');
    expect((plain.figures as any).ram.total).toBe(linear + w3.baseRam + Math.ceil(wasmBytes * w3.moduleRamFactor) + w3.valueStack + 4096);
    expect(plain.details.join('\n')).toContain('wasm3 RAM model: runtime size');
    const wamr = byName(await verify({ blobFile: good, board: 'esp32', interpreter: 'wamr' }), 'memory').figures as any;
    expect(Object.keys(wamr.ram.parts)[0]).toBe('linear memory (1 x 64 KiB pages)');
    expect(byName(r, 'runtime').summary).toContain('DENSE');
  });

  it('detects a corrupted CRC (exit 5, integrity FAIL) and refuses a non-blob (exit 3)', async () => {
    const bad = goodBytes.slice();
    bad[bad.length - 20] ^= 0x10;
    const f = write('crc.blob', bad);
    const r = await verify({ blobFile: f });
    expect(byName(r, 'integrity').status).toBe('FAIL');
    expect(byName(r, 'integrity').summary).toMatch(/CRC mismatch: blob corrupted \(stored 0x[0-9a-f]+, computed 0x[0-9a-f]+\)/);
    expect(r.exitCode).toBe(5);
    expect(r.checks).toHaveLength(1);
    const c = cli([f, '--json']);
    expect(c.code).toBe(5);
    const j = JSON.parse(c.out);
    expect(j.ok).toBe(false);
    expect(j.checks[0].figures.errorCode).toBe(5);
    const notBlob = cli([RUNTIME]);
    expect(notBlob.code).toBe(3);
    expect(notBlob.err).toMatch(/bad magic/);
    expect(cli([]).code).toBe(2);
    await expect(verify({ blobFile: join(dir, 'missing.blob') })).rejects.toMatchObject({ exitCode: 3, message: expect.stringContaining('no such file') });
    expect(() => findBoard('esp99')).toThrow(/unknown board; known: esp32/);
    expect(() => parseShape('1,x', '--input-shape')).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(parseShape('1, 50,3', '--input-shape')).toEqual([1, 50, 3]);
  });

  it('notes Dense layers at layout 2 under --interpreter wamr-classic, and only there', async () => {
    const u8 = write('u8.blob', denseU8Blob());
    const note = /^Dense layers op 0: layout 2, which WAMR's classic interpreter runs .* convert with --interpreter wamr-classic for layout 1$/;
    const details = async (blobFile: string, interpreter: string) => {
      const r = await verify({ blobFile, interpreter });
      expect(r.ok, `${blobFile} ${interpreter}`).toBe(true);
      return byName(r, 'memory').details;
    };
    expect((await details(u8, 'wamr-classic')).filter((d) => note.test(d))).toHaveLength(1);
    expect((await details(u8, 'wamr')).some((d) => /layout 2/.test(d))).toBe(false);
    expect((await details(good, 'wamr-classic')).some((d) => /layout 2/.test(d))).toBe(false);
  });

  it('detects an op missing from the runtime build', async () => {
    const rt = runtimeWithoutDense();
    const r = await verify({ blobFile: good, runtimeFile: rt });
    const c = byName(r, 'runtime');
    expect(c.status).toBe('FAIL');
    expect(c.summary).toBe('ops used by the blob but not in this runtime build: DENSE (1 op, first #0)');
    expect((c.figures as any).missingOps).toEqual(['DENSE']);
    expect(byName(r, 'self-test').status).toBe('SKIP');
    expect(r.exitCode).toBe(5);
    const text = cli([good, '--runtime', rt]);
    expect(text.code).toBe(5);
    expect(text.out).toContain('FAIL runtime: ops used by the blob but not in this runtime build: DENSE');
  });

  it('reports shape mismatches in Keras terms', async () => {
    const r = await verify({ blobFile: good, inputShapes: [[1, 5]], outputShapes: [[2, 3]] });
    const c = byName(r, 'shapes');
    expect(c.status).toBe('FAIL');
    expect(c.summary).toBe(
      "input 0 'sensor_in': firmware expects [1, 5], blob has [1, 4] (int8); the blob was built with batch 1 from Keras batch_input_shape [None, 4]",
    );
    expect(c.details[0]).toContain("output 0 'scores': firmware expects [2, 3], blob has [1, 3] (int8)");
    expect(c.details[0]).toContain('only the batch differs: reconvert with --batch 2');
    expect(r.exitCode).toBe(5);
    // the same through a firmware manifest, plus a count mismatch
    const man = write('fw.json', JSON.stringify({ inputs: [{ shape: [1, 4], dtype: 'int8' }, { shape: [1, 2] }], outputs: [[1, 3]] }));
    const m = await verify({ blobFile: good, manifestFile: man });
    expect(byName(m, 'shapes').summary).toBe("firmware expects 2 input(s), the blob has 1: 'sensor_in' [1, 4]");
    const ok = await verify({
      blobFile: good,
      manifestFile: write('ok.json', JSON.stringify({ inputs: [{ shape: [1, 4] }], outputs: [{ shape: [1, 3] }], board: 'nrf52840' })),
    });
    expect(byName(ok, 'shapes').status).toBe('PASS');
    expect((byName(ok, 'memory').figures as any).board).toBe('nrf52840');
    expect(() => checkShapes(parseBlob(goodBytes), {})).not.toThrow();
  });

  it('fails budgets on a small board, says by how much and what dominates', async () => {
    const big = await denseBlob(150 * 1024); // arena 150 KiB -> 3 pages of linear memory
    const f = write('big.blob', big);
    const r = await verify({ blobFile: f, board: 'stm32f411' });
    const c = byName(r, 'memory');
    const fig = c.figures as any;
    const sim = await DeviceSim.load(RUNTIME);
    expect(sim.init(big)).toBe(0);
    expect(fig.pages).toBe(sim.memoryBytes / 65536);
    expect(fig.pages).toBe(3);
    const need = fig.ram.total;
    const over = need - findBoard('stm32f411').ramUsable;
    expect(c.status).toBe('FAIL');
    expect(c.summary).toContain(`RAM over by ${(over / 1024).toFixed(over % 1024 === 0 ? 0 : 1)} KiB`);
    expect(c.summary).toContain('stm32f411 has 112 KiB usable');
    expect(c.summary).toContain('largest part of linear memory: arena 150.0 KiB');
    expect(c.summary).toMatch(/the arena is dominated by tensor \d/);
    // the full runtime carries ops the blob does not use: verify points to a runtime with only its ops
    const rt = byName(r, 'runtime').figures as any;
    const unused = rt.runtimeOps.filter((n: string) => !rt.blobOps.includes(n)).length;
    expect(unused).toBeGreaterThan(0);
    expect(c.summary).toContain(`the runtime carries ${unused} ops this model does not use: build one with only its ops (convert --runtime OUT.wasm`);
    // ESP32: enough total RAM but no 192 KiB contiguous block
    const e = await verify({ blobFile: f, board: 'esp32' });
    const em = byName(e, 'memory');
    expect([em.summary, ...em.details].join('\n')).toContain('needs ONE block of 192 KiB, the largest block on esp32 is about 110 KiB (over by 82 KiB)');
    // custom budget under WAMR: flash over
    const w = await verify({ blobFile: good, ram: 1 << 20, flash: 40 * 1024, interpreter: 'wamr' });
    expect(byName(w, 'memory').summary).toMatch(
      /^flash over by [\d.]+ KiB: needs [\d.]+ KiB \(blob \d+ B \+ runtime [\d.]+ KiB \+ wamr [\d.]+ KiB \+ glue [\d.]+ KiB\), the given budget has 40 KiB/,
    );
    // memory is the only failed check: does not fit (6)
    expect(w.exitCode).toBe(6);
    expect(r.exitCode).toBe(6);
  });

  it('computes error metrics correctly', () => {
    const ref = Float32Array.from([1, 0, 0, 0, 2, 0]);
    const got = Float32Array.from([0.5, 0, 0, 0, 2, 1]);
    const m = compareOutputs(ref, got, 3);
    expect(m.maxAbsErr).toBe(1);
    expect(m.rmse).toBeCloseTo(Math.sqrt(1.25 / 6), 12);
    expect(m.sqnrDb).toBeCloseTo(10 * Math.log10(5 / 1.25), 12);
    expect(m.cosine).toBeCloseTo(4.5 / Math.sqrt(5 * 5.25), 12);
    expect(m.top1).toBe(1);
    expect(compareOutputs(ref, Float32Array.from([0, 1, 0, 0, 2, 0]), 3).top1).toBe(0.5);
  });

  it('board profiles are complete and memoryBudget adds up', () => {
    for (const n of ['esp32', 'esp32-s3', 'esp32-c3', 'nrf52840', 'stm32f4', 'stm32f411', 'stm32f446', 'rp2040'])
      expect(findBoard(n).ramUsable).toBeGreaterThan(0);
    expect(findBoard('STM32F4').name).toBe('stm32f411');
    for (const b of BOARDS) {
      expect(b.ramUsable).toBeLessThanOrEqual(b.ramTotal + (b.psram ?? 0));
      expect(b.flashUsable).toBeLessThanOrEqual(b.flashTotal);
      expect(b.source.length).toBeGreaterThan(10);
    }
    const m = memoryBudget({ blobBytes: 1000, runtimeWasmBytes: 20000, linearPages: 2, pagesBeforeLastGrow: 1 }, INTERPRETERS.wamr, findBoard('rp2040'));
    const wamr = INTERPRETERS.wamr;
    expect(m.ram.total).toBe(2 * 65536 + wamr.baseRam + Math.ceil(20000 * wamr.moduleRamFactor) + wamr.valueStack + 8192 + 65536);
    expect(m.flash.total).toBe(1000 + 20000 + wamr.codeFlash + wamr.glueFlash);
    expect(m.flash.parts['kerawasm glue']).toBe(wamr.glueFlash);
    expect(() => findBoard('nope')).toThrow(UserError);
  });
});

describe.skipIf(!haveFixtures)(
  'verify numbers against the float model (real Keras file)',
  () => {
    const model = fixture('dl4j_dense_leakyrelu', 'LeakyReLU_0_model.h5');
    let blob: string;
    let data: string;
    beforeAll(async () => {
      blob = join(dir, 'leaky.blob');
      // calibration and test data: seeded uniform [-1, 1], shape [N, 16]
      const { writeNpy } = await import('../../tools/readers/npy.ts');
      let s = 7;
      const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
      const cal = Float32Array.from({ length: 64 * 16 }, rnd);
      const test = Float32Array.from({ length: 40 * 16 }, rnd);
      writeNpy(join(dir, 'cal.npy'), cal, [64, 16]);
      data = join(dir, 'test.npy');
      writeNpy(data, test, [40, 16]);
      const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools/convert'), model, '--calibration', join(dir, 'cal.npy'), '-o', blob], {
        encoding: 'utf8',
        cwd: repoRoot,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(blob)).toBe(true);
    });

    it('passes with default thresholds and fails a strict one with the figures', async () => {
      const r = await verify({ blobFile: blob, model, data: [data] });
      const c = byName(r, 'numbers');
      expect(c.status).toBe('PASS');
      const o = (c.figures as any).outputs[0];
      expect((c.figures as any).samples).toBe(40);
      expect(o.sqnrDb).toBeGreaterThan(25);
      expect(o.cosine).toBeGreaterThan(0.99);
      expect(o.maxAbsErr).toBeGreaterThan(0); // int8 is not exact
      expect(o.top1).toBeGreaterThanOrEqual(0.9);
      // a LeakyReLU head is no classifier: judged by SQNR and max relative error, which pass by default
      expect(o.metric).toBe('sqnr');
      expect(o.why).toBe('LeakyReLU head (not softmax or sigmoid), so a regressor or autoencoder');
      expect(o.maxRelErr).toBeLessThan(0.1);
      const strict = await verify({ blobFile: blob, model, data: [data], thresholds: { minSqnr: 80, maxAbsErr: 1e-6 } });
      const s = byName(strict, 'numbers');
      expect(s.status).toBe('FAIL');
      expect(s.summary).toMatch(/^output 'leaky_re_lu_1': max abs error [\d.]+ > --max-abs-err 0.000001$/);
      expect(s.details[0]).toMatch(/SQNR [\d.]+ dB < --min-sqnr 80/);
      // numbers is the only failed check: numeric check failed (7)
      expect(strict.exitCode).toBe(7);
    });
  },
  120_000,
);

if (!haveFixtures) console.warn(fixturesSkipReason);
void HEADER;
