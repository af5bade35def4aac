/**
 * TensorFlow.js layers-model: model.json (modelTopology + weightsManifest) and binary shards.
 * Shards of one group are concatenated and sliced in manifest order. float32 weights are taken
 * as-is; tfjs weight quantisation (uint8/uint16 with scale/min, float16) is dequantised;
 * int32/bool/string weights are refused.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { badFile, EXIT, UserError } from '../errors.ts';
import { checkHasLayerGraph, dialectFromVersion, nestedNameMap } from './config.ts';
import { MAX_DATASET_ELEMENTS, MAX_TOTAL_ELEMENTS } from './h5.ts';
import type { RawModel, RawWeight } from './types.ts';

const MAX_SHARD_TOTAL = 1024 * 1024 * 1024;

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Classify a parsed JSON document; throws the refusals for non-layers-model JSON. */
function checkTfjsJson(file: string, j: any): void {
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw badFile(file, 'JSON file is not a model (expected a TensorFlow.js model.json object)');
  const topo = j.modelTopology;
  if (j.format === 'graph-model' || (topo && typeof topo === 'object' && Array.isArray(topo.node))) {
    throw new UserError(
      `${file}: a TensorFlow.js graph model (a TF graph, not a Keras layers model) cannot be converted; export the Keras model as .keras/.h5 or as a tfjs layers model`,
      EXIT.UNSUPPORTED,
    );
  }
  if (!topo) {
    if (typeof j.class_name === 'string' && 'config' in j) {
      throw new UserError(`${file}: a Keras architecture JSON without weights; give the weights .h5 as the model and this file with --config`, EXIT.BAD_INPUT);
    }
    throw badFile(file, 'JSON file has no modelTopology; not a TensorFlow.js layers model');
  }
  if (!Array.isArray(j.weightsManifest)) throw badFile(file, 'model.json has no weightsManifest (no weights)');
}

export function readTfjs(file: string, path: string, j: any): RawModel {
  checkTfjsJson(file, j);
  let model = j.modelTopology;
  let kv: string | null = typeof model.keras_version === 'string' ? model.keras_version : null;
  if (model.model_config) model = model.model_config;
  if (!kv && typeof j.generatedBy === 'string') {
    const m = /tfjs-layers v?([\w.\-]+)/i.exec(j.generatedBy);
    if (m) kv = `tfjs-layers ${m[1]}`;
  }
  checkHasLayerGraph(file, model);
  const dialect = kv === null ? 'tfjs' : dialectFromVersion(kv, model);
  const dir = dirname(resolve(path));
  const names = nestedNameMap(model);
  const weights = new Map<string, RawWeight[]>();
  const notes: string[] = [];
  let totalElems = 0;
  let totalBytes = 0;

  j.weightsManifest.forEach((group: any, gi: number) => {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) throw badFile(file, `weightsManifest[${gi}] needs 'paths' and 'weights' lists`);
    const parts: Buffer[] = [];
    for (const p of group.paths) {
      if (typeof p !== 'string' || isAbsolute(p) || /^[a-z]+:\/\//i.test(p))
        throw badFile(file, `weight shard path ${JSON.stringify(p)} must be relative to model.json`);
      const sp = resolve(dir, decodeURIComponent(p));
      const rel = relative(dir, sp);
      if (rel.startsWith('..') || isAbsolute(rel)) throw badFile(file, `weight shard path '${p}' points outside the model folder`);
      if (!existsSync(sp) || !statSync(sp).isFile()) throw badFile(file, `weight shard '${p}' is missing (looked in ${dir})`);
      totalBytes += statSync(sp).size;
      if (totalBytes > MAX_SHARD_TOTAL) throw badFile(file, `weight shards exceed ${MAX_SHARD_TOTAL} bytes; refusing`);
      parts.push(readFileSync(sp));
    }
    const buf = Buffer.concat(parts);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let off = 0;
    for (const spec of group.weights) {
      const wname = String(spec?.name ?? '');
      const shape: number[] = Array.isArray(spec?.shape) ? spec.shape : [];
      if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw badFile(file, `weight '${wname}' has an invalid shape ${JSON.stringify(spec?.shape)}`);
      const n = shape.reduce((a, b) => a * b, 1);
      totalElems += n;
      if (n > MAX_DATASET_ELEMENTS)
        throw badFile(file, `weight '${wname}' has ${n} elements; refusing more than ${MAX_DATASET_ELEMENTS} (MAX_DATASET_ELEMENTS) per weight`);
      if (totalElems > MAX_TOTAL_ELEMENTS)
        throw badFile(
          file,
          `weight '${wname}' brings the weights to ${totalElems} elements; refusing more than ${MAX_TOTAL_ELEMENTS} (MAX_TOTAL_ELEMENTS) in total`,
        );
      const q = spec.quantization;
      const data = new Float32Array(n);
      const need = (bytes: number) => {
        if (off + bytes > buf.length) {
          throw badFile(
            file,
            `weight '${wname}' needs bytes ${off}..${off + bytes} but the shards of group ${gi} hold only ${buf.length}; manifest and shards disagree`,
          );
        }
      };
      if (q) {
        const qd = q.dtype;
        if (qd === 'uint8' || qd === 'uint16') {
          const sz = qd === 'uint8' ? 1 : 2;
          need(n * sz);
          const scale = Number(q.scale);
          const min = Number(q.min);
          if (!Number.isFinite(scale) || !Number.isFinite(min)) throw badFile(file, `weight '${wname}': quantization needs numeric scale and min`);
          for (let i = 0; i < n; i++) data[i] = (sz === 1 ? dv.getUint8(off + i) : dv.getUint16(off + 2 * i, true)) * scale + min;
          off += n * sz;
        } else if (qd === 'float16') {
          need(n * 2);
          for (let i = 0; i < n; i++) data[i] = halfToFloat(dv.getUint16(off + 2 * i, true));
          off += n * 2;
        } else {
          throw badFile(file, `weight '${wname}' uses quantization dtype '${qd}'; supported: uint8, uint16, float16`);
        }
        if (spec.dtype && spec.dtype !== 'float32') throw badFile(file, `weight '${wname}' has dtype ${spec.dtype}; only float weights are supported`);
      } else {
        const dt = spec.dtype ?? 'float32';
        if (dt !== 'float32') throw badFile(file, `weight '${wname}' has dtype ${dt}; only float32 weights are supported`);
        need(n * 4);
        for (let i = 0; i < n; i++) data[i] = dv.getFloat32(off + 4 * i, true);
        off += n * 4;
      }
      // group by top-level layer
      const slash = wname.indexOf('/');
      const head = slash > 0 ? wname.slice(0, slash) : wname;
      let layer = names.get(head);
      let rel = slash > 0 ? wname.slice(slash + 1) : wname;
      if (layer === undefined) {
        // a name with a scope prefix (e.g. 'model/dense/kernel'): find the first known layer component
        const comps = wname.split('/');
        const k = comps.findIndex((c) => names.has(c));
        if (k < 0 || k === comps.length - 1) throw badFile(file, `weight '${wname}' belongs to no layer of the modelTopology`);
        layer = names.get(comps[k])!;
        rel = comps.slice(k + 1).join('/');
        if (layer !== comps[k]) rel = comps.slice(k).join('/');
      } else if (layer !== head) {
        rel = wname; // a layer nested inside top-level layer `layer`
      }
      if (!weights.has(layer)) weights.set(layer, []);
      weights.get(layer)!.push({ name: rel, shape, data });
    }
    if (off !== buf.length) {
      throw badFile(file, `weights manifest group ${gi} declares ${off} bytes but its shards hold ${buf.length}; manifest and shards disagree`);
    }
  });
  return { file, format: 'tfjs', dialect, kerasVersion: kv, config: model, weights, notes };
}
