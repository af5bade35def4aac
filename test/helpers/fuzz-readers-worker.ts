/**
 * Worker thread for reader/converter fuzz campaigns (see fuzz-readers.ts, runReaderPool).
 * workerData: { bases, seed, start, count, chunk, progress: SharedArrayBuffer, convertEvery }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { cleanupCases, runReaderCampaign, type ReaderBase } from './fuzz-readers.ts';

const job = workerData as { bases: ReaderBase[]; seed: number; start: number; count: number; chunk: number; progress: SharedArrayBuffer; convertEvery: number };
const progress = new Int32Array(job.progress);
try {
  for (let i = job.start; i < job.start + job.count; i += job.chunk) {
    const n = Math.min(job.chunk, job.start + job.count - i);
    const summary = await runReaderCampaign(job.bases, job.seed, i, n, progress, job.convertEvery);
    parentPort!.postMessage({ type: 'chunk', summary });
  }
} finally {
  cleanupCases();
}
parentPort!.postMessage({ type: 'done' });
