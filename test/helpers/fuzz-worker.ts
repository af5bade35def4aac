/**
 * Worker thread for runtime fuzz campaigns: runs cases in chunks and reports summaries. The
 * parent reads the case being run from shared memory (slot 0) and the number done (slot 1), and
 * terminates the worker when a case takes longer than its timeout (a hang).
 *
 * workerData: { seeds: SeedBlob[], seed, start, count, chunk, progress: SharedArrayBuffer, memoryLimit? }
 * messages out: { type: 'chunk', summary } ... { type: 'done' }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RuntimeHarness, prepareSeeds, runCampaign, type SeedBlob } from './fuzz-runtime.ts';

interface Job {
  seeds: SeedBlob[];
  seed: number;
  start: number;
  count: number;
  chunk: number;
  progress: SharedArrayBuffer;
  memoryLimit?: number;
  hangAt?: number;
  skip?: number[];
}

const job = workerData as Job;
const seeds = prepareSeeds(job.seeds.map((s) => ({ name: s.name, blob: new Uint8Array(s.blob) })));
const progress = new Int32Array(job.progress);
const h = await RuntimeHarness.create({ memoryLimit: job.memoryLimit });
for (let i = job.start; i < job.start + job.count; i += job.chunk) {
  const n = Math.min(job.chunk, job.start + job.count - i);
  const summary = await runCampaign(h, seeds, job.seed, i, n, progress, 20, job.hangAt ?? -1, job.skip ?? []);
  parentPort!.postMessage({ type: 'chunk', summary });
}
parentPort!.postMessage({ type: 'done' });
