/**
 * Long runtime fuzz campaign (issue 7): `npm run fuzz` (tsx bench/fuzz-long.ts).
 *
 *   tsx bench/fuzz-long.ts [--cases 1000000] [--seed 20240601] [--workers 2] [--timeout 10000] [--json out.json]
 *
 * Mutates valid blobs (generated one-op blobs for every op + blobs converted from the shared
 * fixtures), runs each through the real build/runtime.wasm in worker threads, and prints cases/s,
 * outcomes by error code and every failure with the (seed, index) that replays it:
 *   fuzzCase(seeds, seed, index) in test/helpers/fuzz-runtime.ts.
 * Exit code 0 when no case failed, 1 otherwise.
 */
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import { runPool } from '../test/helpers/fuzz-pool.ts';
import { allSeeds } from '../test/helpers/fuzz-seeds.ts';

const program = new Command('fuzz-long')
  .option('--cases <n>', 'number of cases', '1000000')
  .option('--seed <n>', 'campaign seed', '20240601')
  .option('--workers <n>', 'worker threads', String(Math.max(1, Math.min(4, availableParallelism()))))
  .option('--timeout <ms>', 'per-case hang timeout', '10000')
  .option('--json <file>', 'write the summary as JSON')
  .parse();
const o = program.opts();
const cases = Number(o.cases);
const seed = Number(o.seed);

const seeds = await allSeeds({ perOp: 3, log: (m) => process.stderr.write(`${m}\n`) });
process.stderr.write(`${seeds.length} seed blobs; ${cases} cases, seed ${seed}, ${o.workers} workers\n`);

const bar = new cliProgress.SingleBar(
  {
    format: 'fuzz [{bar}] {percentage}% | {value}/{total} cases | {rate} cases/s | failures {fails} | eta {eta_formatted}',
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 15000,
  },
  cliProgress.Presets.shades_classic,
);
const t0 = Date.now();
bar.start(cases, 0, { rate: 0, fails: 0 });
const total = await runPool({
  seeds,
  seed,
  cases,
  workers: Number(o.workers),
  chunk: 2000,
  caseTimeoutMs: Number(o.timeout),
  onChunk: (s) =>
    bar.update(s.cases, { rate: Math.round(s.cases / ((Date.now() - t0) / 1000)), fails: Object.values(s.failureCounts).reduce((a, b) => a + b, 0) }),
});
bar.stop();

const secs = (Date.now() - t0) / 1000;
const nFail = Object.values(total.failureCounts).reduce((a, b) => a + b, 0);
const lines: string[] = [];
lines.push(
  `runtime fuzz: ${total.cases} cases in ${secs.toFixed(1)} s = ${Math.round(total.cases / secs)} cases/s (seed ${seed}, ${seeds.length} seed blobs, ${o.workers} workers)`,
);
lines.push('outcomes:');
for (const [k, v] of Object.entries(total.outcomes).sort((a, b) => b[1] - a[1]))
  lines.push(`  ${k.padEnd(34)} ${String(v).padStart(9)}  ${((100 * v) / total.cases).toFixed(2)}%`);
lines.push(`failures: ${nFail}`);
for (const [k, v] of Object.entries(total.failureCounts)) lines.push(`  ${k}: ${v}`);
for (const f of total.failures)
  lines.push(`  [${f.kind}] seed ${f.seed} index ${f.index} (${f.base}): ${f.detail}\n      mutations: ${f.mutations.join('; ')}`);
process.stdout.write(lines.join('\n') + '\n');
if (o.json) writeFileSync(o.json, JSON.stringify({ seed, seconds: secs, seeds: seeds.map((s) => s.name), ...total }, null, 2) + '\n');
process.exit(nFail ? 1 : 0);
