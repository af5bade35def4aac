/**
 * Runtime robustness (issue 7): a short fixed-seed fuzz campaign over mutated blobs through the
 * real build/runtime.wasm (every case ends in an error code or a valid run: no trap, no write
 * outside arena/state/scratch, no disagreement with parseBlob or the integer reference), the
 * worker-thread hang detector, and calls in the wrong order / with wrong sizes.
 * The long campaign is `tsx bench/fuzz-long.ts` (a million cases).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { ERR, HEADER } from '../../tools/blob/spec.ts';
import { crc32 } from '../../tools/blob/crc32.ts';
import { caseRng, mapBlob, mutateBlob, mutateBytes, mulberry32 } from '../helpers/fuzz.ts';
import { RuntimeHarness, generatedSeeds, prepareSeeds, runCampaign, fuzzCase, streamable, type PreparedSeed, type SeedBlob } from '../helpers/fuzz-runtime.ts';
import { fixtureSeeds } from '../helpers/fuzz-seeds.ts';
import { runPool } from '../helpers/fuzz-pool.ts';
import { GENERATORS, rng } from '../helpers/opgen.ts';

const SEED = 0x5eed0007;

describe('mutation engine', () => {
  it('is reproducible from (seed, index) and independent between cases', () => {
    const a = caseRng(1, 5);
    const b = caseRng(1, 5);
    const xs = Array.from({ length: 8 }, () => a.u32());
    expect(Array.from({ length: 8 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => caseRng(1, 6).u32())).not.toEqual(xs);
    expect(Array.from({ length: 8 }, () => caseRng(2, 5).u32())).not.toEqual(xs);
    // mulberry32(1): the first value is the well-known 0.6270739405881613 * 2^32
    const m = mulberry32(1);
    expect([m.u32(), m.u32(), m.u32()]).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('structure-aware mutants are replayable, and recomputed CRCs get past the checksum', () => {
    const blob = GENERATORS.DENSE(rng(1)).blob;
    const map = mapBlob(blob);
    expect(map.ops).toHaveLength(1);
    expect(map.ops[0].names.slice(0, 3)).toEqual(['in', 'out', 'rows']);
    expect(map.qArrays.map((q) => q.kind).sort()).toEqual(['bias', 'mult', 'shift']);
    let fixed = 0;
    for (let i = 0; i < 300; i++) {
      const m1 = mutateBlob(blob, map, caseRng(9, i));
      const m2 = mutateBlob(blob, map, caseRng(9, i));
      expect(m2.bytes).toEqual(m1.bytes);
      expect(m2.ops).toEqual(m1.ops);
      if (m1.crcFixed && m1.bytes.length >= 16) {
        expect(new DataView(m1.bytes.buffer).getUint32(HEADER.crc32, true)).toBe(crc32(m1.bytes, 16, m1.bytes.length));
        fixed++;
      }
    }
    expect(fixed).toBeGreaterThan(150);
    // generic mutations never touch the input
    const copy = blob.slice();
    mutateBytes(blob, caseRng(3, 3), 5);
    expect(blob).toEqual(copy);
  });
});

describe('runtime fuzz campaign (fixed seed)', () => {
  let seeds: PreparedSeed[];
  let h: RuntimeHarness;
  beforeAll(async () => {
    const fx = await fixtureSeeds([
      'tfjs_node_abalone_mlp/model.json',
      'mltk_autoencoder_nested_sequential/autoencoder_example.h5',
      'dl4j_conv1d_pool1d_stack/cnn_1d_doublecount.h5.h5',
    ]);
    seeds = prepareSeeds([...(await generatedSeeds(2)), ...fx]);
    h = await RuntimeHarness.create({ memoryLimit: 8 << 20 });
  }, 60000);

  it('every seed blob runs cleanly unmutated', () => {
    for (const s of seeds) {
      const res = h.runBlob(s.blob, caseRng(SEED, 0));
      expect(res.failure, `${s.name}: ${res.failure?.detail}`).toBeUndefined();
      expect(res.outcome, s.name).toMatch(/^(run:OK|invoke:BAD_INPUT_VALUE)/);
    }
  });

  it('2000 mutated blobs: only error codes or valid runs, memory outside the plan untouched', async () => {
    const s = await runCampaign(h, seeds, SEED, 0, 2000);
    const report = s.failures.map((f) => `[${f.kind}] index ${f.index} (${f.base}): ${f.detail} | ${f.mutations.join('; ')}`);
    expect(report).toEqual([]);
    expect(s.cases).toBe(2000);
    // the campaign reaches deep: every validation stage refuses something, and many mutants still run
    for (const k of ['BAD_SIZE', 'BAD_CRC', 'BAD_HEADER', 'BAD_TENSOR', 'BAD_OP', 'BAD_PARAMS', 'BAD_CONST', 'BAD_IO']) {
      expect(s.outcomes[`init:${k}`] ?? 0, k).toBeGreaterThan(5);
    }
    const runs = Object.entries(s.outcomes)
      .filter(([k]) => k.startsWith('run:'))
      .reduce((a, [, v]) => a + v, 0);
    expect(runs).toBeGreaterThan(150);
    // replay: case index 1234 gives the same outcome alone
    const { mutant, r } = fuzzCase(seeds, SEED, 1234);
    const again = (await RuntimeHarness.create({ memoryLimit: 8 << 20 })).runBlob(mutant.bytes, r);
    expect(again.failure).toBeUndefined();
  }, 60000);
});

describe('runtime fuzz campaign, streamed (the mutated blob served through kw.read_blob)', () => {
  it('1000 mutated blobs: only error codes or valid runs, memory outside the plan untouched, verdicts as the copy-in validator', async () => {
    const fx = await fixtureSeeds(['tfjs_node_abalone_mlp/model.json', 'dl4j_conv1d_pool1d_stack/cnn_1d_doublecount.h5.h5']);
    const seeds = prepareSeeds([...(await generatedSeeds(1)), ...fx].map((s) => ({ ...s, blob: streamable(s.blob) })));
    const h = await RuntimeHarness.create({ memoryLimit: 8 << 20, streamed: true });
    for (const sd of seeds) expect(h.runBlob(sd.blob, caseRng(SEED, 0)).outcome, sd.name).toMatch(/^(run:OK|invoke:BAD_INPUT_VALUE)/);
    const s = await runCampaign(h, seeds, SEED + 1, 0, 1000);
    const report = s.failures.map((f) => `[${f.kind}] index ${f.index} (${f.base}): ${f.detail} | ${f.mutations.join('; ')}`);
    expect(report).toEqual([]);
    expect(s.cases).toBe(1000);
    console.log(`streamed fuzz: ${s.cases} cases, outcomes ${JSON.stringify(s.outcomes)}`);
    for (const k of ['BAD_CRC', 'BAD_HEADER', 'BAD_OP', 'BAD_PARAMS']) expect(s.outcomes[`init:${k}`] ?? 0, k).toBeGreaterThan(3);
    expect(s.outcomes['run:OK'] ?? 0).toBeGreaterThan(50);
  }, 120000);
});

describe('hang detection in worker threads', () => {
  it('a case that never returns is reported with its (seed, index) and the run goes on', async () => {
    const seeds: SeedBlob[] = (await generatedSeeds(1)).slice(0, 6);
    const s = await runPool({ seeds, seed: 77, cases: 300, workers: 2, chunk: 50, caseTimeoutMs: 1500, hangAt: 120 });
    expect(s.failureCounts).toEqual({ hang: 1 });
    expect(s.failures).toHaveLength(1);
    expect(s.failures[0]).toMatchObject({ kind: 'hang', seed: 77, index: 120 });
    expect(s.cases).toBe(300);
  }, 60000);
});

describe('calls in the wrong order, wrong sizes, repeated init', () => {
  const A = GENERATORS.DENSE(rng(3));
  const B = GENERATORS.CONV2D(rng(4));

  it('invoke / reset / self-test / I/O before any blob or init', async () => {
    const d = await DeviceSim.load();
    const e = d.exports;
    expect(e.kw_invoke()).toBe(ERR.NOT_READY);
    expect(e.kw_reset_state()).toBe(ERR.NOT_READY);
    expect(e.kw_self_test()).toBe(ERR.NOT_READY);
    expect(e.kw_input_ptr(0)).toBe(0);
    expect(e.kw_last_error()).toBe(ERR.NOT_READY);
    expect(e.kw_output_size(0)).toBe(0);
    expect(e.kw_num_inputs()).toBe(0);
    expect(e.kw_init()).toBe(ERR.NO_BLOB);
    expect(e.kw_blob_buffer(0)).toBe(0);
    expect(e.kw_last_error()).toBe(ERR.NO_BLOB);
    expect(e.kw_blob_buffer(-5)).toBe(0);
    expect(e.kw_init()).toBe(ERR.NO_BLOB);
    // a buffer that is reserved but never filled: all zero -> bad magic, not a trap
    expect(e.kw_blob_buffer(4096)).toBeGreaterThan(0);
    expect(e.kw_init()).toBe(ERR.BAD_MAGIC);
    expect(e.kw_invoke()).toBe(ERR.NOT_READY);
  });

  it('after a failed init nothing runs, and a later good init works', async () => {
    const d = await DeviceSim.load();
    expect(d.init(A.blob)).toBe(ERR.OK);
    d.setInputRaw(0, A.inputs[0]);
    expect(d.invoke()).toBe(ERR.OK);
    const bad = A.blob.slice();
    bad[bad.length - 1] ^= 1;
    expect(d.init(bad)).toBe(ERR.BAD_CRC);
    // the previous model is gone: nothing may run on half-replaced memory
    expect(d.invoke()).toBe(ERR.NOT_READY);
    expect(d.exports.kw_input_ptr(0)).toBe(0);
    expect(d.exports.kw_num_outputs()).toBe(0);
    expect(d.selfTest()).toBe(ERR.NOT_READY);
    expect(d.init(A.blob)).toBe(ERR.OK);
    expect(d.run(A.inputs)[0].length).toBe(d.exports.kw_output_size(0));
  });

  it('repeated init with another blob switches models (sizes follow the new blob)', async () => {
    const d = await DeviceSim.load();
    const ref = await DeviceSim.load();
    expect(ref.init(B.blob)).toBe(ERR.OK);
    const want = ref.run(B.inputs);
    expect(d.init(A.blob)).toBe(ERR.OK);
    const sizeA = d.exports.kw_input_size(0);
    d.run(A.inputs);
    expect(d.init(B.blob)).toBe(ERR.OK);
    expect(d.exports.kw_input_size(0)).toBe(B.inputs[0].byteLength);
    expect(d.exports.kw_input_size(0) === sizeA).toBe(A.inputs[0].byteLength === B.inputs[0].byteLength);
    expect(Array.from(d.run(B.inputs)[0])).toEqual(Array.from(want[0]));
    // and back, twice in a row
    expect(d.init(A.blob)).toBe(ERR.OK);
    expect(d.init(A.blob)).toBe(ERR.OK);
    expect(d.run(A.inputs)[0].length).toBe(d.exports.kw_output_size(0));
  });

  it('inputs of the wrong length are refused by the host API without touching memory; bad indices give BAD_INDEX', async () => {
    const d = await DeviceSim.load();
    expect(d.init(A.blob)).toBe(ERR.OK);
    const n = d.exports.kw_input_size(0);
    const before = new Uint8Array(d.memory.buffer).slice();
    expect(() => d.setInputRaw(0, new Int8Array(n + 1))).toThrow(RangeError);
    expect(() => d.setInputRaw(0, new Int8Array(Math.max(0, n - 1)))).toThrow(RangeError);
    expect(() => d.setInputFloat(0, new Float32Array(n + 3))).toThrow(RangeError);
    expect(Buffer.compare(new Uint8Array(d.memory.buffer), before)).toBe(0);
    expect(d.exports.kw_input_ptr(1)).toBe(0);
    expect(d.exports.kw_last_error()).toBe(ERR.BAD_INDEX);
    expect(d.exports.kw_output_ptr(-1)).toBe(0);
    expect(d.exports.kw_last_error()).toBe(ERR.BAD_INDEX);
    expect(() => d.setInputRaw(3, new Int8Array(n))).toThrow(/kw_input_ptr\(3\) failed/);
  });

  it('memory limit: a buffer beyond the limit is refused with OUT_OF_MEMORY, memory does not grow past it', async () => {
    const d = await DeviceSim.load(undefined, { memoryLimitBytes: 256 << 10 });
    expect(d.exports.kw_blob_buffer(1 << 20)).toBe(0);
    expect(d.exports.kw_last_error()).toBe(ERR.OUT_OF_MEMORY);
    expect(d.memoryBytes).toBeLessThanOrEqual(256 << 10);
    expect(d.exports.kw_init()).toBe(ERR.NO_BLOB);
    // an arena bigger than the limit: patched header, CRC fixed -> OUT_OF_MEMORY at init
    const big = A.blob.slice();
    new DataView(big.buffer).setUint32(HEADER.arenaSize, 1 << 20, true);
    new DataView(big.buffer).setUint32(HEADER.crc32, crc32(big, 16, big.length), true);
    expect(d.init(big)).toBe(ERR.OUT_OF_MEMORY);
    expect(d.memoryBytes).toBeLessThanOrEqual(256 << 10);
    expect(d.init(A.blob)).toBe(ERR.OK);
  });
});
