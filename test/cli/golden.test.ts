/**
 * Every blob the converter writes for the fixtures and the example stays byte-identical, and
 * every refusal keeps its exit code and message (golden.json, npm run golden:record).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GOLDEN_CASES, GOLDEN_FILE, haveFixtureDir, runGoldenCase, type GoldenResult } from './golden-cases.ts';
import { fixturesSkipReason } from '../helpers/fixtures.ts';

const golden: Record<string, GoldenResult> = JSON.parse(readFileSync(GOLDEN_FILE, 'utf8'));

describe('converted blobs are byte-identical to the recorded ones', () => {
  if (!haveFixtureDir) console.warn(fixturesSkipReason);
  for (const c of GOLDEN_CASES) {
    it.skipIf(c.needsFixtures && !haveFixtureDir)(
      c.id,
      async () => {
        const got = await runGoldenCase(c);
        expect(golden[c.id]).toBeDefined();
        expect(got).toEqual(golden[c.id]);
      },
      120_000,
    );
  }
});
