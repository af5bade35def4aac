/**
 * The runtime never traps on any blob: corrupted blobs (truncated, bit flips with and without a
 * fixed CRC, edited header fields, offsets, op codes and params) make kw_init return an error
 * code -- the SAME code parseBlob gives -- or init succeeds and invoke completes. Memory outside
 * static/blob/arena/state/scratch is untouched and the blob is never written. Wrong call order
 * gives NOT_READY; the memory limit holds; the build is MVP-only with no imports.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { DeviceSim, DEFAULT_WASM, FLASH_WASM } from '../../firmware-host/node/host.ts';
import { parseBlob, BlobError } from '../../tools/blob/parse.ts';
import { fixCrc, BlobBuilder } from '../../tools/blob/writer.ts';
import { ABI_VERSION, DTYPE, ERR, EXPORTS, FORMAT_VERSION, HEADER, HEADER_SIZE, IMPORT_READ_BLOB, OP_HEADER_SIZE, OPS } from '../../tools/blob/spec.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { GENERATORS, rng, rint, pick, type Rng } from '../helpers/opgen.ts';
import { MVP_ONLY } from '../helpers/mvp.ts';

function expectedCode(blob: Uint8Array): number {
  try {
    parseBlob(blob);
    return ERR.OK;
  } catch (e) {
    if (e instanceof BlobError) return e.code;
    throw e;
  }
}

const PATTERN = 0xa5;

/** init + (if ok) invoke with random inputs; asserts no trap, same code as parseBlob, memory hygiene */
function tryBlob(sim: DeviceSim, blob: Uint8Array, r: Rng, label: string): number {
  const want = expectedCode(blob);
  const addr = sim.call('kw_blob_buffer', blob.length);
  if (addr === 0) return -1;
  const mem0 = new Uint8Array(sim.memory.buffer);
  mem0.set(blob, addr);
  // poison everything after the blob: init may only write arena/state/scratch
  mem0.fill(PATTERN, addr + blob.length);
  let rc: number;
  try {
    rc = sim.call('kw_init');
  } catch (e) {
    throw new Error(`${label}: kw_init trapped: ${(e as Error).message}`);
  }
  // OUT_OF_MEMORY is the runtime's own (parseBlob knows no memory limit): header sizes up to 1 GiB are valid
  if (rc !== ERR.OUT_OF_MEMORY) expect(rc, `${label}: runtime code vs parseBlob code`).toBe(want);
  if (rc !== ERR.OK) {
    expect(sim.call('kw_invoke'), label).toBe(ERR.NOT_READY);
    expect(sim.call('kw_input_ptr', 0)).toBe(0);
    expect(sim.call('kw_self_test')).toBe(ERR.NOT_READY);
    return rc;
  }
  const used = sim.call('kw_memory_used');
  const mem = new Uint8Array(sim.memory.buffer);
  const before = mem.length;
  // fill the inputs with random bytes (any bit pattern is a valid input value except GATHER ids)
  for (let i = 0; i < sim.call('kw_num_inputs'); i++) {
    const p = sim.call('kw_input_ptr', i);
    const n = sim.call('kw_input_size', i);
    for (let k = 0; k < n; k++) mem[p + k] = rint(r, 0, 255);
  }
  let ir: number;
  try {
    ir = sim.call('kw_invoke');
    sim.call('kw_self_test');
  } catch (e) {
    throw new Error(`${label}: kw_invoke trapped: ${(e as Error).message}`);
  }
  expect([ERR.OK, ERR.BAD_INPUT_VALUE, ERR.SELFTEST_MISMATCH]).toContain(ir);
  const after = new Uint8Array(sim.memory.buffer);
  expect(after.length).toBe(before); // no growth during invoke
  // blob untouched
  for (let k = 0; k < blob.length; k++) if (after[addr + k] !== blob[k]) throw new Error(`${label}: blob byte ${k} modified`);
  // everything past kw_memory_used untouched (only what existed before init was poisoned)
  for (let k = used; k < Math.min(before, mem0.length); k++)
    if (after[k] !== PATTERN) throw new Error(`${label}: byte ${k} past memory_used (${used}) modified`);
  return rc;
}

let sim: DeviceSim;
beforeAll(async () => {
  // a 16 MiB cap keeps corrupted-but-valid huge arenas from taking seconds to zero
  sim = await DeviceSim.load(undefined, { memoryLimitBytes: 16 << 20 });
});

function validBlobs(r: Rng, n: number): Uint8Array[] {
  const names = Object.keys(GENERATORS);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(GENERATORS[names[i % names.length]](r).blob);
  return out;
}

describe('corrupted blobs: error code or a completed run, never a trap', () => {
  it('truncations, bit flips, header/offset/op-code/param edits (seeded, several hundred cases)', () => {
    const r = rng(Number(process.env.KW_FUZZ_SEED ?? 2024));
    const blobs = validBlobs(r, Number(process.env.KW_FUZZ_BLOBS ?? 45));
    const codes = new Map<number, number>();
    let cases = 0;
    const dvOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (const [bi, blob] of blobs.entries()) {
      const parsed = parseBlob(blob);
      const muts: [string, (b: Uint8Array) => Uint8Array][] = [
        ['truncate', (b) => b.slice(0, rint(r, 0, b.length - 1))],
        [
          'extend',
          (b) => {
            const c = new Uint8Array(b.length + rint(r, 1, 40));
            c.set(b);
            return c;
          },
        ],
        [
          'flip',
          (b) => {
            b[rint(r, 0, b.length - 1)] ^= 1 << rint(r, 0, 7);
            return b;
          },
        ],
        [
          'flip+crc',
          (b) => {
            for (let k = rint(r, 1, 3); k > 0; k--) b[rint(r, 16, b.length - 1)] ^= 1 << rint(r, 0, 7);
            return fixCrc(b);
          },
        ],
        [
          'header field+crc',
          (b) => {
            const f = pick(
              r,
              Object.entries(HEADER).filter(([k]) => !['magic', 'crc32', 'totalSize', 'version', 'headerSize'].includes(k)),
            );
            const dv = dvOf(b);
            const v = pick(r, [0, 1, 2, 3, 15, 16, 17, 95, 96, 0xffff, 0x7fffffff, 0xffffffff, b.length, b.length - 4, rint(r, 0, b.length)]);
            if (['version', 'headerSize', 'nTensors', 'nOps', 'nInputs', 'nOutputs'].includes(f[0])) dv.setUint16(f[1], v & 0xffff, true);
            else dv.setUint32(f[1], v >>> 0, true);
            return fixCrc(b);
          },
        ],
        [
          'tensor entry+crc',
          (b) => {
            const h = parsed.header;
            const t = rint(r, 0, h.nTensors - 1);
            const dv = dvOf(b);
            const fld = pick(r, [0, 1, 2, 4, 8, 12]);
            const v = pick(r, [0, 1, 2, 3, 4, 7, 255, 0xffff, 0x7fffffff, 0xffffffff, rint(r, 0, 4096)]);
            const o = h.tensorsOff + 16 * t + fld;
            if (fld < 2) dv.setUint8(o, v & 0xff);
            else if (fld === 2) dv.setUint16(o, v & 0xffff, true);
            else dv.setUint32(o, v >>> 0, true);
            return fixCrc(b);
          },
        ],
        [
          'io entry+crc',
          (b) => {
            const h = parsed.header;
            const i = rint(r, 0, h.nInputs + h.nOutputs - 1);
            const dv = dvOf(b);
            const fld = pick(r, [0, 2, 3, 4, 8, 12, 24, 28]);
            const o = h.ioOff + 48 * i + fld;
            const v = pick(r, [0, 1, 2, 5, 6, 255, 0xffff, 0x7f800000, 0x7fc00000, 0xbf800000, 0xffffffff, rint(r, 0, 1000)]);
            if (fld === 0) dv.setUint16(o, v & 0xffff, true);
            else if (fld < 4) dv.setUint8(o, v & 0xff);
            else dv.setUint32(o, v >>> 0, true);
            return fixCrc(b);
          },
        ],
        [
          'op code+crc',
          (b) => {
            const op = pick(r, parsed.ops);
            dvOf(b).setUint16(op.offset, pick(r, [0, 16, 17, 18, 31, 32, 63, 64, 0xffff, rint(r, 1, 15)]), true);
            return fixCrc(b);
          },
        ],
        [
          'op nParams+crc',
          (b) => {
            const op = pick(r, parsed.ops);
            dvOf(b).setUint16(op.offset + 2, pick(r, [0, 1, op.raw.length - 1, op.raw.length + 1, 0xffff, rint(r, 0, 60)]), true);
            return fixCrc(b);
          },
        ],
        [
          'op param+crc',
          (b) => {
            const op = pick(r, parsed.ops);
            const k = rint(r, 0, op.raw.length - 1);
            const old = op.raw[k];
            const v = pick(r, [
              0,
              1,
              -1,
              2,
              -2,
              3,
              4,
              16,
              31,
              32,
              -31,
              -32,
              127,
              128,
              -129,
              255,
              256,
              65535,
              65536,
              1 << 30,
              2147483647,
              -2147483648,
              old + 1,
              old - 1,
              old * 2,
              old + 16,
              rint(r, -1000, 1000),
            ]);
            dvOf(b).setInt32(op.offset + OP_HEADER_SIZE + 4 * k, v | 0, true);
            return fixCrc(b);
          },
        ],
        [
          'const bytes+crc',
          (b) => {
            const h = parsed.header;
            if (h.constsSize === 0) return b;
            for (let k = rint(r, 1, 8); k > 0; k--) b[h.constsOff + rint(r, 0, h.constsSize - 1)] = rint(r, 0, 255);
            return fixCrc(b);
          },
        ],
      ];
      for (const [name, mut] of muts) {
        const reps = name.includes('param') ? 4 : name.startsWith('header') ? 2 : 1;
        for (let rep = 0; rep < reps; rep++) {
          const b = mut(blob.slice());
          const rc = tryBlob(sim, b, r, `blob ${bi} ${name} #${rep}`);
          codes.set(rc, (codes.get(rc) ?? 0) + 1);
          cases++;
        }
      }
    }
    console.log(`corruption cases: ${cases}; codes: ${JSON.stringify([...codes].sort((a, b) => a[0] - b[0]))}`);
    expect(cases).toBeGreaterThanOrEqual(500);
    // the corruptions reach every validation stage
    for (const c of [ERR.OK, ERR.BAD_SIZE, ERR.BAD_CRC, ERR.BAD_HEADER, ERR.BAD_TENSOR, ERR.BAD_OP, ERR.BAD_PARAMS, ERR.BAD_CONST, ERR.BAD_IO]) {
      expect(codes.get(c) ?? 0, `error code ${c} never produced: ${JSON.stringify([...codes])}`).toBeGreaterThan(0);
    }
  });

  it('random garbage with a valid-looking header', () => {
    const r = rng(77);
    for (let i = 0; i < 100; i++) {
      const n = rint(r, HEADER_SIZE, 600);
      const b = Uint8Array.from({ length: n }, () => rint(r, 0, 255));
      const dv = new DataView(b.buffer);
      dv.setUint32(0, 0x4e4e574b, true);
      dv.setUint16(4, 1, true);
      dv.setUint16(6, HEADER_SIZE, true);
      dv.setUint32(8, n, true);
      if (r() < 0.5) for (let k = 16; k < HEADER_SIZE; k += 4) dv.setUint32(k, rint(r, 0, 300), true);
      fixCrc(b);
      tryBlob(sim, b, r, `garbage ${i}`);
    }
  });
});

describe('call order and ABI', () => {
  it('invoke before init, after a failed init, and other calls return NOT_READY', async () => {
    const s = await DeviceSim.load();
    expect(s.call('kw_invoke')).toBe(ERR.NOT_READY);
    expect(s.call('kw_last_error')).toBe(ERR.NOT_READY);
    expect(s.call('kw_reset_state')).toBe(ERR.NOT_READY);
    expect(s.call('kw_self_test')).toBe(ERR.NOT_READY);
    expect(s.call('kw_input_ptr', 0)).toBe(0);
    expect(s.call('kw_output_size', 0)).toBe(0);
    expect(s.call('kw_num_inputs')).toBe(0);
    expect(s.call('kw_init')).toBe(ERR.NO_BLOB);
    const good = GENERATORS.DENSE(rng(1));
    expect(s.init(good.blob)).toBe(ERR.OK);
    expect(s.invoke()).toBe(ERR.OK);
    const bad = good.blob.slice();
    bad[0] ^= 1;
    expect(s.init(bad)).toBe(ERR.BAD_MAGIC);
    expect(s.lastError).toMatch(/bad magic/);
    expect(s.invoke()).toBe(ERR.NOT_READY);
    // a new buffer invalidates the previous init
    expect(s.init(good.blob)).toBe(ERR.OK);
    s.call('kw_blob_buffer', good.blob.length);
    expect(s.invoke()).toBe(ERR.NOT_READY);
    expect(s.init(good.blob)).toBe(ERR.OK);
    expect(s.call('kw_input_ptr', 5)).toBe(0);
    expect(s.call('kw_last_error')).toBe(ERR.BAD_INDEX);
    expect(s.call('kw_output_ptr', -1)).toBe(0);
    expect(s.call('kw_blob_buffer', 0)).toBe(0);
    expect(s.call('kw_blob_buffer', -5)).toBe(0);
  });

  it('versions, op mask, export list, error op index', async () => {
    const s = await DeviceSim.load();
    expect(s.call('kw_abi_version')).toBe(ABI_VERSION);
    expect(s.call('kw_format_version')).toBe(FORMAT_VERSION);
    // every op code the format defines is implemented
    const m0 = s.call('kw_op_mask', 0) >>> 0;
    const m1 = s.call('kw_op_mask', 1) >>> 0;
    const defined = OPS.reduce((m, o) => m | (1 << o.code), 0) >>> 0;
    expect(m0).toBe(defined);
    expect(m1).toBe(0);
    const mod = new WebAssembly.Module(readFileSync(DEFAULT_WASM));
    const exp = WebAssembly.Module.exports(mod)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name)
      .sort();
    expect(exp).toEqual(
      EXPORTS.filter((e) => !e.flashOnly)
        .map((e) => e.name)
        .sort(),
    );
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
    // runtime-flash.wasm: every export, and the one import kw.read_blob
    const flash = new WebAssembly.Module(readFileSync(FLASH_WASM));
    const flashExp = WebAssembly.Module.exports(flash).filter((e) => e.kind === 'function');
    expect(flashExp.map((e) => e.name).sort()).toEqual(EXPORTS.map((e) => e.name).sort());
    expect(WebAssembly.Module.imports(flash)).toEqual([{ module: IMPORT_READ_BLOB.module, name: IMPORT_READ_BLOB.name, kind: 'function' }]);
    // error op index: a bad param in op 0
    const op = GENERATORS.MUL(rng(3));
    const p = parseBlob(op.blob);
    const b = op.blob.slice();
    new DataView(b.buffer).setInt32(p.ops[0].offset + OP_HEADER_SIZE + 4 * 3, 999, true);
    fixCrc(b);
    expect(s.init(b)).toBe(ERR.BAD_PARAMS);
    expect(s.errorOp).toBe(0);
    expect(s.init(op.blob)).toBe(ERR.OK);
    expect(s.errorOp).toBe(-1);
  });

  it('self-test: OK, mismatch, no self-test; state reset around it', async () => {
    const s = await DeviceSim.load();
    const op = GENERATORS.CONV2D(rng(8));
    const p = parseBlob(op.blob);
    const expected = runBlobReference(p, op.inputs)[0];
    const mk = (exp: Int8Array) => {
      const b = new BlobBuilder();
      for (const t of p.tensors) b.addTensor(t);
      const o = p.ops[0];
      b.addConst(p.consts, 16);
      b.addOp(o.name, o.params as any);
      b.setIO(
        p.io.inputs.map((i) => ({ ...i })),
        p.io.outputs.map((i) => ({ ...i })),
      );
      b.setSelfTest([op.inputs[0] as Int8Array], [exp]);
      b.setPlan({ arenaSize: p.header.arenaSize, stateSize: 16, scratchSize: 32 });
      return b.build();
    };
    expect(s.init(mk(expected as Int8Array))).toBe(ERR.OK);
    expect(s.selfTest()).toBe(ERR.OK);
    const wrong = (expected as Int8Array).slice();
    wrong[0] ^= 1;
    expect(s.init(mk(wrong))).toBe(ERR.OK);
    expect(s.selfTest()).toBe(ERR.SELFTEST_MISMATCH);
    expect(s.init(op.blob)).toBe(ERR.OK);
    expect(s.selfTest()).toBe(ERR.NO_SELFTEST);
    expect(s.resetState()).toBe(ERR.OK);
  });

  it('float I/O: quantize on the way in, dequantize on the way out', async () => {
    const s = await DeviceSim.load();
    const b = new BlobBuilder();
    const tin = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: 4 });
    const tout = b.addTensor({ dtype: DTYPE.INT8, offset: 16, bytes: 4 });
    const m = (1 << 30) | 0;
    b.addOp('REQUANT', { in: tin, out: tout, count: 4, zpIn: 2, zpOut: -1, mult: m, shift: 1, outMin: -128, outMax: 127 });
    b.setIO([{ tensor: tin, dims: [1, 4], scale: 0.5, zeroPoint: 2, name: 'x' }], [{ tensor: tout, dims: [1, 4], scale: 0.5, zeroPoint: -1, name: 'y' }]);
    s.initOrThrow(b.build());
    expect(s.inputInfo(0).name).toBe('x');
    expect(s.outputInfo(0).dims).toEqual([1, 4]);
    s.setInputFloat(0, [1.0, -1.25, 100, 0.25]);
    expect(s.invoke()).toBe(ERR.OK);
    // q = round_half_away(x/0.5) + 2 = [4, -1 (=-2.5->-3 +2), 127 (clamped), 3 (0.5->1 +2)]
    expect(Array.from(s.getOutputRaw(0))).toEqual([3 - 1 + 0, -3 - 1, 125 - 1, 1 - 1].map((v, i) => [2 + -1, -3 + -1, 125 + -1, 1 + -1][i]));
    expect(Array.from(s.getOutputFloat(0))).toEqual([1.0, -1.5, 62.5, 0.5]);
  });
});

describe('memory', () => {
  it('respects kw_set_memory_limit and never grows during invoke', async () => {
    const op = GENERATORS.DENSE(rng(4));
    const p = parseBlob(op.blob);
    // a big arena that does not fit in 2 pages
    const b = new BlobBuilder();
    for (const t of p.tensors) b.addTensor(t);
    b.addConst(p.consts, 16);
    b.addOp('DENSE', p.ops[0].params as any);
    b.setIO(
      p.io.inputs.map((i) => ({ ...i })),
      p.io.outputs.map((i) => ({ ...i })),
    );
    b.setPlan({ arenaSize: 200_000, stateSize: 0, scratchSize: 0 });
    const big = b.build();
    const s = await DeviceSim.load(undefined, { memoryLimitBytes: 131072 });
    expect(s.init(big)).toBe(ERR.OUT_OF_MEMORY);
    expect(s.memoryBytes).toBeLessThanOrEqual(131072);
    expect(s.init(op.blob)).toBe(ERR.OK);
    expect(s.memoryBytes).toBeLessThanOrEqual(131072);
    const s2 = await DeviceSim.load(undefined, { memoryLimitBytes: 65536 * 8 });
    expect(s2.init(big)).toBe(ERR.OK);
    const used = s2.memoryUsed;
    expect(used).toBeGreaterThan(200_000 + big.length);
    expect(s2.memoryBytes).toBeGreaterThanOrEqual(used);
    expect(s2.memoryBytes).toBeLessThanOrEqual(65536 * 8);
    const before = s2.memoryBytes;
    s2.run(op.inputs);
    expect(s2.memoryBytes).toBe(before);
    // a blob buffer over the limit
    expect(s.call('kw_blob_buffer', 1 << 20)).toBe(0);
    expect(s.call('kw_last_error')).toBe(ERR.OUT_OF_MEMORY);
  });
});

describe('build', () => {
  it('validates with every post-MVP feature disabled, imports nothing, and is small', () => {
    execFileSync('wasm-validate', [...MVP_ONLY, DEFAULT_WASM]);
    const mod = new WebAssembly.Module(readFileSync(DEFAULT_WASM));
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
    const size = statSync(DEFAULT_WASM).size;
    console.log(`build/runtime.wasm: ${size} bytes`);
    // a guard against accidental growth, not a goal: every op and precision is in this build
    // (42.6 KB on 2026-12-04, docs/PERFORMANCE.md lists what each part costs); firmware flashes
    // the per-model runtime (convert --runtime), 9-15 KB for the examples
    expect(size).toBeLessThan(43_000);
    // no float instructions and no unreachable in the code
    const dump = execFileSync('wasm-objdump', ['-d', DEFAULT_WASM], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(dump).not.toMatch(/\b(f32|f64)\.[a-z]/);
    expect(dump).not.toMatch(/\bunreachable\b/);
    // memory declared with 1 initial page
    const hdr = execFileSync('wasm-objdump', ['-x', DEFAULT_WASM], { encoding: 'utf8' });
    expect(hdr).toMatch(/memory\[0\] pages: initial=1/);
  });
});
