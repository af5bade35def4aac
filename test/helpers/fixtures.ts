import { existsSync, readFileSync } from 'node:fs';
import h5wasm from 'h5wasm/node';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Real Keras/tfjs files from public repositories (see its MANIFEST.md). Read in place, never copied. */
export const fixturesDir = resolve(repoRoot, '../shared/fixtures/keras');
export const haveFixtures = existsSync(resolve(fixturesDir, 'manifest.json'));
export const fixturesSkipReason = `shared fixtures not found at ${fixturesDir} (a clone outside the workplace has none): skipping real-file tests`;
if (!haveFixtures) console.warn(fixturesSkipReason);

export function fixture(...parts: string[]): string {
  return resolve(fixturesDir, ...parts);
}

export function fixtureManifest(): any {
  return JSON.parse(readFileSync(resolve(fixturesDir, 'manifest.json'), 'utf8'));
}

/** Float datasets of an HDF5 file (fixture test vectors), as FloatTensors. */
export async function h5Arrays(file: string, names: string[]): Promise<{ shape: number[]; data: Float32Array }[]> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  try {
    return names.map((n) => {
      const ds = f.get(n) as any;
      if (!ds) throw new Error(`${file}: no dataset ${n}`);
      return { shape: [...ds.shape], data: Float32Array.from(ds.value as ArrayLike<number>) };
    });
  } finally {
    f.close();
  }
}

/** Real int8 .tflite files (MLPerf Tiny reference models; see its MANIFEST.md). Read in place, never copied. */
export const tfliteDir = resolve(repoRoot, '../shared/fixtures/tflite');
export const haveTflite = existsSync(resolve(tfliteDir, 'manifest.json'));
export const tfliteSkipReason = `shared .tflite fixtures not found at ${tfliteDir}: skipping the real-file tests`;
if (!haveTflite) console.warn(tfliteSkipReason);
