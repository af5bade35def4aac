/**
 * The TFLite reader under the readers' fuzz harness: mutated MLPerf Tiny .tflite files and a
 * written MEAN model (bytes flipped near the header and anywhere, truncations, insertions) end
 * every case in a one-line UserError or a correct read/convert, in a worker with a per-case timeout
 * and bounded memory.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { haveTflite, tfliteDir, tfliteSkipReason } from '../../helpers/fixtures.ts';
import { cleanupCases, readerCase, runReaderPool, tfliteBases } from '../../helpers/fuzz-readers.ts';

const SEED = 20261204;
const CASES = 120;

describe.skipIf(!haveTflite)('mutated .tflite files (fixed seed)', () => {
  afterAll(() => cleanupCases());
  it(`${CASES} cases end in one-line UserErrors or correct results`, async () => {
    const bases = tfliteBases(tfliteDir);
    expect(bases.length).toBe(4);
    const s = await runReaderPool({ bases, seed: SEED, cases: CASES, workers: 1, chunk: 40, caseTimeoutMs: 30000, convertEvery: 4 });
    expect(s.cases).toBe(CASES);
    expect(s.failures.map((f) => `[${f.kind}] #${f.index} ${f.base}: ${f.detail} | ${f.mutations.join('; ')}`)).toEqual([]);
    // both ends are exercised: clean refusals and successful reads
    expect(s.outcomes['user:3'] ?? 0).toBeGreaterThan(10);
    expect((s.outcomes['ok:graph'] ?? 0) + (s.outcomes['ok:convert'] ?? 0)).toBeGreaterThan(5);
    expect(s.outcomes.hang ?? 0).toBe(0);
  }, 300000);

  it('cases are reproducible from (seed, index)', () => {
    const bases = tfliteBases(tfliteDir);
    const a = readerCase(bases, 1, 7);
    const b = readerCase(bases, 1, 7);
    expect(b.ops).toEqual(a.ops);
    expect(Buffer.compare(b.files['m.tflite'], a.files['m.tflite'])).toBe(0);
  });
});
if (!haveTflite) console.warn(tfliteSkipReason);
