/** Rewrites test/cli/golden.json from the current converter (npm run golden:record). */
import { writeFileSync } from 'node:fs';
import { GOLDEN_CASES, GOLDEN_FILE, runGoldenCase, type GoldenResult } from './golden-cases.ts';

const results: Record<string, GoldenResult> = {};
let next = 0;
async function worker() {
  while (next < GOLDEN_CASES.length) {
    const c = GOLDEN_CASES[next++];
    results[c.id] = await runGoldenCase(c);
    process.stderr.write(`${c.id}: exit ${results[c.id].exit}\n`);
  }
}
await Promise.all([worker(), worker()]);
const ordered = Object.fromEntries(GOLDEN_CASES.map((c) => [c.id, results[c.id]]));
writeFileSync(GOLDEN_FILE, JSON.stringify(ordered, null, 2) + '\n');
