/**
 * Runs a runtime fuzz campaign in worker threads with hang detection: each worker publishes the
 * index of the case it is running; when the number of cases done has not moved for `caseTimeoutMs`,
 * the worker is terminated, the case is recorded as a hang (seed, index) and a new worker
 * resumes after it.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { emptySummary, mergeSummary, fuzzCase, prepareSeeds, type CampaignSummary, type SeedBlob } from './fuzz-runtime.ts';

const WORKER = fileURLToPath(new URL('./fuzz-worker-boot.mjs', import.meta.url));

export interface PoolOptions {
  seeds: SeedBlob[];
  seed: number;
  cases: number;
  workers?: number;
  chunk?: number;
  caseTimeoutMs?: number;
  memoryLimit?: number;
  /** self-check: make case `hangAt` spin forever (the pool must report it as a hang) */
  hangAt?: number;
  onChunk?: (total: CampaignSummary) => void;
}

export async function runPool(o: PoolOptions): Promise<CampaignSummary> {
  const total = emptySummary();
  const t0 = Date.now();
  const nw = Math.max(1, o.workers ?? 2);
  const chunk = o.chunk ?? 1000;
  const timeout = o.caseTimeoutMs ?? 10000;
  const seedsData = o.seeds.map((s) => ({ name: s.name, blob: s.blob }));
  const prepared = prepareSeeds(o.seeds);
  // split [0, cases) into nw contiguous ranges
  const per = Math.ceil(o.cases / nw);
  const ranges = Array.from({ length: nw }, (_, k) => [k * per, Math.min(o.cases, (k + 1) * per)] as const).filter(([a, b]) => b > a);

  const runRange = (start: number, end: number, skip: number[] = []): Promise<void> =>
    new Promise((resolve, reject) => {
      const progress = new SharedArrayBuffer(8);
      const p = new Int32Array(progress);
      Atomics.store(p, 0, start);
      const w = new Worker(WORKER, {
        workerData: { seeds: seedsData, seed: o.seed, start, count: end - start, chunk, progress, memoryLimit: o.memoryLimit, hangAt: o.hangAt, skip },
      });
      let lastBeat = -1;
      let lastMove = Date.now();
      let moved = 0; // heartbeats seen (the first one comes after the worker has loaded)
      let doneInChunks = 0;
      let finished = false;
      const timer = setInterval(
        () => {
          const beat = Atomics.load(p, 0) * 4096 + (doneInChunks % 4096);
          if (beat !== lastBeat) {
            lastBeat = beat;
            lastMove = Date.now();
            moved++;
            return;
          }
          // worker startup (tsx + tfjs-free imports) gets extra slack before the first case
          if (Date.now() - lastMove > (moved > 1 ? timeout : timeout + 10000)) {
            const idx = Atomics.load(p, 0);
            // the hanging chunk's finished cases were never reported: run them again, minus the hang
            const chunkStart = idx - Atomics.load(p, 1);
            clearInterval(timer);
            finished = true;
            void w.terminate();
            const { base, mutant } = fuzzCase(prepared, o.seed, idx);
            const hang: CampaignSummary = {
              cases: 1,
              ms: 0,
              outcomes: { hang: 1 },
              failureCounts: { hang: 1 },
              failures: [{ seed: o.seed, index: idx, base: base.name, kind: 'hang', detail: `no progress for ${timeout} ms`, mutations: mutant.ops }],
            };
            mergeSummary(total, hang);
            o.onChunk?.(total);
            runRange(chunkStart, end, [...skip, idx]).then(resolve, reject);
          }
        },
        Math.min(1000, timeout / 4),
      );
      w.on('message', (m: any) => {
        if (m.type === 'chunk') {
          doneInChunks += m.summary.cases;
          mergeSummary(total, m.summary);
          total.ms = Date.now() - t0;
          o.onChunk?.(total);
        } else if (m.type === 'done') {
          finished = true;
          clearInterval(timer);
          void w.terminate();
          resolve();
        }
      });
      w.on('error', (e) => {
        if (finished) return;
        finished = true;
        clearInterval(timer);
        reject(e);
      });
      w.on('exit', (code) => {
        if (!finished) {
          finished = true;
          clearInterval(timer);
          reject(new Error(`fuzz worker exited with code ${code}`));
        }
      });
    });

  await Promise.all(ranges.map(([a, b]) => runRange(a, b)));
  total.ms = Date.now() - t0;
  return total;
}
