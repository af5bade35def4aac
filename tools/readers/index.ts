/**
 * readModel: sniff the file's CONTENT (not its extension) and dispatch:
 *   PK\x03\x04           -> Keras 3 .keras zip
 *   \x89HDF\r\n\x1a\n    -> legacy Keras HDF5 (full model, or weights-only + --config)
 *   '{' (JSON)           -> TensorFlow.js layers-model model.json
 *   'TFL3' at bytes 4..8 -> int8 TensorFlow Lite flatbuffer (also any *.tflite, whose
 *                           identifier the TFLite reader then checks)
 * Every failure caused by the input is a one-line UserError naming the file.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { badFile, EXIT, UserError } from '../errors.ts';
import { parseJson } from './config.ts';
import { parseConfigJson, readH5, type ExternalConfig } from './keras-h5.ts';
import { readKeras3Zip } from './keras3.ts';
import { readTfjs } from './tfjs.ts';
import { readTflite } from './tflite/read.ts';
import { oneLine } from './zip.ts';
import type { RawModel } from './types.ts';

export type { RawModel } from './types.ts';
export { readArray } from './npy.ts';

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_JSON_BYTES = 256 * 1024 * 1024;

export type Sniffed = 'zip' | 'hdf5' | 'json' | 'tflite' | 'unknown' | 'empty';

export function sniff(head: Uint8Array): Sniffed {
  if (head.length === 0) return 'empty';
  if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5) && (head[3] === 4 || head[3] === 6)) return 'zip';
  if (HDF5_MAGIC.every((b, i) => head[i] === b)) return 'hdf5';
  if (head[4] === 0x54 && head[5] === 0x46 && head[6] === 0x4c && head[7] === 0x33) return 'tflite';
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (head[i] === 0x7b) return 'json';
  return 'unknown';
}

function readHead(path: string, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(n);
    const got = readSync(fd, b, 0, n, 0);
    return new Uint8Array(b.subarray(0, got));
  } finally {
    closeSync(fd);
  }
}

function loadConfig(configPath: string): ExternalConfig {
  if (!existsSync(configPath)) throw new UserError(`${configPath}: --config file not found`, EXIT.USAGE);
  if (statSync(configPath).size > MAX_JSON_BYTES) throw badFile(configPath, 'architecture JSON larger than 256 MiB; refusing');
  return parseConfigJson(readFileSync(configPath, 'utf8'), configPath);
}

function tfliteRaw(file: string, m: ReturnType<typeof readTflite>): RawModel {
  return { file, format: 'tflite', dialect: 'tflite', kerasVersion: null, config: null, weights: new Map(), notes: [], tflite: m };
}

/** Refuse NaN/Inf weights, naming the layer and weight. */
function checkFinite(m: RawModel): void {
  for (const [layer, ws] of m.weights) {
    for (const w of ws) {
      const d = w.data;
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i])) {
          let bad = 0;
          for (let j = i; j < d.length; j++) if (!Number.isFinite(d[j])) bad++;
          throw badFile(
            m.file,
            `layer '${layer}' weight '${w.name}' has ${bad} NaN/Inf value${bad === 1 ? '' : 's'} (first at flat index ${i}); the model is not usable`,
          );
        }
      }
    }
  }
}

async function readModelInner(file: string, opts: { config?: string }): Promise<RawModel> {
  if (!existsSync(file)) throw badFile(file, 'no such file');
  let path = file;
  let st = statSync(path);
  if (st.isDirectory()) {
    path = join(file, 'model.json');
    if (!existsSync(path)) throw badFile(file, 'is a directory without model.json; give a .keras, .h5 or model.json file');
    st = statSync(path);
  }
  if (!st.isFile()) throw badFile(file, 'is not a regular file');
  let kind = sniff(readHead(path, 64));
  if (kind === 'unknown' && /\.tflite$/i.test(path)) kind = 'tflite';
  const config = opts.config ? loadConfig(opts.config) : null;
  switch (kind) {
    case 'empty':
      throw badFile(file, 'file is empty');
    case 'zip':
      if (config) throw new UserError(`${file}: --config is only for weights-only .h5 files; a .keras archive carries its own config`, EXIT.USAGE);
      return readKeras3Zip(file, path);
    case 'hdf5':
      return readH5(file, path, config);
    case 'json': {
      if (st.size > MAX_JSON_BYTES) throw badFile(file, 'JSON larger than 256 MiB; refusing');
      const j = parseJson(readFileSync(path, 'utf8'), file, 'JSON');
      return readTfjs(file, path, j);
    }
    case 'tflite':
      if (config) throw new UserError(`${file}: --config is only for weights-only .h5 files; a .tflite file carries its own graph`, EXIT.USAGE);
      return tfliteRaw(file, readTflite(file, new Uint8Array(readFileSync(path))));
    default:
      throw badFile(
        file,
        'not a Keras model: expected a .keras zip archive, an HDF5 .h5 file, a TensorFlow.js model.json or an int8 .tflite file (checked the content, not the extension)',
      );
  }
}

/**
 * Read a Keras/tfjs model file into a RawModel (architecture + float32 weights per layer).
 * `opts.config`: architecture JSON for weights-only HDF5 files.
 */
export async function readModel(file: string, opts: { config?: string } = {}): Promise<RawModel> {
  let m: RawModel;
  try {
    m = await readModelInner(file, opts);
  } catch (e) {
    if (e instanceof UserError) {
      // names read from a damaged file may hold control bytes: keep the message one clean line
      if (/[\x00-\x1f\x7f\ufffd]/.test(e.message)) throw new UserError(e.message.replace(/[\x00-\x1f\x7f\ufffd]/g, '?'), e.exitCode, e.details);
      throw e;
    }
    const code = (e as any)?.code;
    if (code === 'EACCES' || code === 'EISDIR' || code === 'ENOENT') throw badFile(file, `cannot read (${code})`);
    // An exception from a parsing library on malformed input: summarise, never a stack.
    throw badFile(file, `unreadable or corrupt model file (${oneLine(e)})`);
  }
  checkFinite(m);
  return m;
}
