/**
 * Valid seed blobs for the runtime fuzzers: generated one-op blobs for every op (always) plus
 * blobs converted from the real shared fixtures (multi-op models; when the fixtures exist).
 * Converted blobs are cached in os.tmpdir() keyed by the fixture's size and mtime.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { fixturesDir, haveFixtures } from './fixtures.ts';
import { generatedSeeds, type SeedBlob } from './fuzz-runtime.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { FORMAT_VERSION } from '../../tools/blob/spec.ts';

/** fixtures the converter accepts, smallest first (resnet is 87 KB and slow to convert) */
const FIXTURE_MODELS = [
  'tfjs_node_abalone_mlp/model.json',
  'mltk_autoencoder_nested_sequential/autoencoder_example.h5',
  'dl4j_conv1d_pool1d_stack/cnn_1d_doublecount.h5.h5',
  'dl4j_dense_leakyrelu/LeakyReLU_0_model.h5',
  'dl4j_conv2d_batchnorm/cnn_batch_norm.h5',
  'dl4j_conv1d_k3_s2_valid/conv1d_k3_s2_d1_cl_valid_model.h5',
  'mlperf_tiny_resnet_add/pretrainedResnet.h5',
];

export async function fixtureSeeds(models = FIXTURE_MODELS, log: (m: string) => void = () => {}): Promise<SeedBlob[]> {
  if (!haveFixtures) return [];
  const { graphFromFile, convertWithSelfTest } = await import('./convert-harness.ts');
  const cache = join(tmpdir(), 'kerawasm-fuzz-seeds');
  mkdirSync(cache, { recursive: true });
  const out: SeedBlob[] = [];
  for (const m of models) {
    const file = join(fixturesDir, m);
    if (!existsSync(file)) continue;
    const st = statSync(file);
    const key = join(cache, `v${FORMAT_VERSION}-${m.replace(/[/.]/g, '_')}-${st.size}-${Math.floor(st.mtimeMs)}.blob`);
    try {
      let blob: Uint8Array;
      let cached: Uint8Array | null = existsSync(key) ? new Uint8Array(readFileSync(key)) : null;
      if (cached) {
        try {
          parseBlob(cached); // a stale cache (format changed under us) is converted again
        } catch {
          cached = null;
        }
      }
      if (cached) blob = cached;
      else {
        const r = await convertWithSelfTest(await graphFromFile(file), null);
        blob = r.blob;
        writeFileSync(key, blob);
      }
      out.push({ name: basename(m), blob });
      log(`seed ${basename(m)}: ${blob.length} bytes`);
    } catch (e) {
      log(`seed ${m}: conversion failed (${(e as Error).message.split('\n')[0].slice(0, 120)}); skipped`);
    }
  }
  return out;
}

export async function allSeeds(opts: { perOp?: number; fixtures?: string[]; log?: (m: string) => void } = {}): Promise<SeedBlob[]> {
  return [...(await generatedSeeds(opts.perOp ?? 3)), ...(await fixtureSeeds(opts.fixtures, opts.log))];
}
