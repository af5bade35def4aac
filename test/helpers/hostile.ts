/**
 * Hand-crafted hostile model files (issue 7): each builds its files in memory (or, for HDF5,
 * with h5wasm in a temp folder) and names the one-line error the converter must give.
 */
import { strToU8, zipSync } from 'fflate';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HostileCase {
  name: string;
  files: () => Promise<Record<string, Uint8Array>> | Record<string, Uint8Array>;
  model: string;
  config?: string;
  calibration?: string;
  /** expected: a UserError with this exit code whose message matches, or 'ok' */
  expect: { exit: number; message: RegExp; details?: RegExp } | 'ok';
  /** also convert (calibration cases) */
  convert?: boolean;
}

// ---------------------------------------------------------------- tfjs layers-model builder

function f32(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** A 2-layer Dense model as model.json + weights.bin, with knobs for hostility. */
export function tfjsDense(
  o: {
    units?: unknown;
    inDim?: unknown;
    kernel?: number[];
    kernelShape?: number[];
    dtype?: string;
    bin?: Uint8Array;
    paths?: string[];
    layerOverride?: Record<string, unknown>;
    extraLayers?: unknown[];
    topology?: unknown;
  } = {},
): Record<string, Uint8Array> {
  const inDim = (o.inDim ?? 3) as number;
  const units = (o.units ?? 4) as number;
  const kShape = o.kernelShape ?? [inDim, units];
  const nK = typeof kShape[0] === 'number' && typeof kShape[1] === 'number' && kShape[0] * kShape[1] < 1e6 ? kShape[0] * kShape[1] : 12;
  const nB = typeof units === 'number' && units > 0 && units < 1e6 ? units : 4;
  const kernel = o.kernel ?? Array.from({ length: nK }, (_, i) => ((i % 7) - 3) / 10);
  const layer = {
    class_name: 'Dense',
    config: { name: 'd1', units, activation: 'relu', use_bias: true, batch_input_shape: [null, inDim], dtype: 'float32', ...(o.layerOverride ?? {}) },
  };
  const topology = o.topology ?? {
    class_name: 'Sequential',
    config: { name: 's', layers: [layer, ...(o.extraLayers ?? [])] },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  const model = {
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [
      {
        paths: o.paths ?? ['weights.bin'],
        weights: [
          { name: 'd1/kernel', shape: kShape, dtype: o.dtype ?? 'float32' },
          { name: 'd1/bias', shape: [nB], dtype: o.dtype ?? 'float32' },
        ],
      },
    ],
  };
  return {
    'model.json': strToU8(JSON.stringify(model)),
    'weights.bin': o.bin ?? f32([...kernel, ...Array.from({ length: nB }, () => 0.1)]),
  };
}

// ---------------------------------------------------------------- zip helpers

/** Patch every declared uncompressed size (local header + central directory) of entry `name`. */
export function patchZipSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice();
  const dv = new DataView(out.buffer);
  const nb = strToU8(name);
  for (let i = 0; i + 46 <= out.length; i++) {
    const sig = dv.getUint32(i, true);
    if (sig === 0x04034b50) {
      const n = dv.getUint16(i + 26, true);
      if (n === nb.length && out.subarray(i + 30, i + 30 + n).every((b, k) => b === nb[k])) dv.setUint32(i + 22, size, true);
    } else if (sig === 0x02014b50) {
      const n = dv.getUint16(i + 28, true);
      if (n === nb.length && out.subarray(i + 46, i + 46 + n).every((b, k) => b === nb[k])) dv.setUint32(i + 24, size, true);
    }
  }
  return out;
}

export function keras3Zip(config: unknown, weightsH5: Uint8Array | null, extra: Record<string, Uint8Array> = {}): Uint8Array {
  const entries: Record<string, Uint8Array> = {
    'metadata.json': strToU8(JSON.stringify({ keras_version: '3.9.2', date_saved: '2025-01-01@00:00:00' })),
    ...extra,
  };
  if (config !== undefined) entries['config.json'] = strToU8(JSON.stringify(config));
  if (weightsH5) entries['model.weights.h5'] = weightsH5;
  return zipSync(entries);
}

// ---------------------------------------------------------------- HDF5 helpers

/** Find the dataspace dims [a, b] (u64 LE pairs) of a dataset and replace them. */
export function patchH5Dims(h5: Uint8Array, from: number[], to: number[]): { bytes: Uint8Array; hits: number } {
  const out = h5.slice();
  const dv = new DataView(out.buffer);
  let hits = 0;
  const w = 8 * from.length;
  for (let i = 0; i + w <= out.length; i += 1) {
    let ok = true;
    for (let k = 0; k < from.length && ok; k++) ok = dv.getUint32(i + 8 * k, true) === from[k] && dv.getUint32(i + 8 * k + 4, true) === 0;
    if (!ok) continue;
    for (let k = 0; k < to.length; k++) dv.setBigUint64(i + 8 * k, BigInt(to[k]), true);
    hits++;
    i += w - 1;
  }
  return { bytes: out, hits };
}

/** Build an HDF5 file with h5wasm (callback gets the open File) and return its bytes. */
export async function h5File(build: (f: any, h5: any) => void): Promise<Uint8Array> {
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  const dir = mkdtempSync(join(tmpdir(), 'kwfuzz-h5-'));
  const p = join(dir, 'x.h5');
  try {
    const f = new h5wasm.File(p, 'w');
    try {
      build(f, h5wasm);
    } finally {
      f.close();
    }
    return new Uint8Array(readFileSync(p));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function npy(descr: string, shape: number[], data: Uint8Array, fortran = false): Uint8Array {
  let h = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + h.length + 1) % 64) h += ' ';
  h += '\n';
  const out = new Uint8Array(10 + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(strToU8(h), 10);
  out.set(data, 10 + h.length);
  return out;
}
