/**
 * Keras 3 `.keras` archives: config.json + metadata.json + model.weights.h5.
 *
 * In model.weights.h5 a top-level layer's variables live at `layers/<key>/vars/<i>` where
 * <key> is NOT the layer name: Keras's saving_lib names container members by
 * to_snake_case(class name) plus a per-class counter (`dense`, `dense_1`, ...), in the order of
 * `model.layers`. We rebuild that mapping from the config. Nested saveables follow saving_lib's
 * walk order: own `vars` first, then `layers` (for nested models), then attributes sorted by
 * name with private (`_x`) ones last — e.g. Bidirectional saves backward_layer before forward_layer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badFile } from '../errors.ts';
import { checkHasLayerGraph, layerList, layerName, parseJson, toSnakeCase } from './config.ts';
import { child, isDataset, isGroup, readFloatDataset, strAttr, withH5, MAX_GROUP_DEPTH } from './h5.ts';
import { unzipSafe } from './zip.ts';
import type { RawModel, RawWeight } from './types.ts';

/** Container keys Keras uses for `layers` members, in order, paired with their configs. */
export function keras3LayerKeys(model: any): { key: string; name: string; cfg: any }[] {
  const ls = layerList(model) ?? [];
  const isSequential = model?.class_name === 'Sequential';
  const used = new Map<string, number>();
  const out: { key: string; name: string; cfg: any }[] = [];
  ls.forEach((l, i) => {
    // Sequential.layers hides its InputLayer; Functional.layers includes input layers.
    if (isSequential && i === 0 && l?.class_name === 'InputLayer') return;
    let key = toSnakeCase(String(l?.class_name ?? 'layer'));
    if (used.has(key)) {
      const n = used.get(key)! + 1;
      used.set(key, n);
      key = `${key}_${n}`;
    } else used.set(key, 0);
    out.push({ key, name: layerName(l), cfg: l });
  });
  return out;
}

function nameKey(n: string): string {
  return n.startsWith('_') ? '~' + n : n;
}

function naturalKey(a: string, b: string): number {
  const ma = /^(.*?)(?:_(\d+))?$/.exec(a)!;
  const mb = /^(.*?)(?:_(\d+))?$/.exec(b)!;
  if (ma[1] !== mb[1]) return ma[1] < mb[1] ? -1 : 1;
  return Number(ma[2] ?? -1) - Number(mb[2] ?? -1);
}

/** Read every weight under a Keras 3 saveable group, in Keras's save order. */
function collectGroup(file: string, g: any, prefix: string, layer: string, cfg: any, out: RawWeight[], depth: number, budget: { total: number }): void {
  if (depth > MAX_GROUP_DEPTH) throw badFile(file, `layer '${layer}': weight groups nested deeper than ${MAX_GROUP_DEPTH} (cyclic links?)`);
  const keys: string[] = g.keys();
  if (keys.includes('vars')) {
    const vg = child(g, 'vars');
    if (isGroup(vg)) {
      const vkeys: string[] = vg.keys();
      const idx = vkeys.map((k) => (/^\d+$/.test(k) ? Number(k) : NaN));
      if (idx.some((x) => Number.isNaN(x))) {
        throw badFile(file, `layer '${layer}': unexpected entry in ${prefix}vars (${vkeys.find((k) => !/^\d+$/.test(k))}); expected 0, 1, ...`);
      }
      idx.sort((a, b) => a - b);
      idx.forEach((v, i) => {
        if (v !== i) throw badFile(file, `layer '${layer}': ${prefix}vars has indices ${idx.join(',')}; variable ${i} is missing`);
      });
      for (const i of idx) {
        const name = `${prefix}vars/${i}`;
        const ds = child(vg, String(i));
        const what = `layer '${layer}' weight '${name}'`;
        if (!isDataset(ds)) throw badFile(file, `${what} is not a dataset`);
        const { shape, data } = readFloatDataset(ds, { file, what, budget }); // checks budget.total + n before reading
        out.push({ name, shape, data });
      }
    }
  }
  const rest = keys.filter((k) => k !== 'vars');
  rest.sort((a, b) => (a === 'layers' ? -1 : b === 'layers' ? 1 : nameKey(a) < nameKey(b) ? -1 : nameKey(a) > nameKey(b) ? 1 : 0));
  for (const k of rest) {
    const cg = child(g, k);
    if (!isGroup(cg)) continue;
    if (k === 'layers') {
      // a nested model: members named like the top level, ordered by its config when we have it
      const nestedKeys = layerList(cfg) ? keras3LayerKeys(cfg) : [];
      const members: string[] = cg.keys();
      const ordered = nestedKeys.map((x) => x.key).filter((x) => members.includes(x));
      const extra = members.filter((m) => !ordered.includes(m)).sort(naturalKey);
      for (const m of [...ordered, ...extra]) {
        const mg = child(cg, m);
        if (!isGroup(mg)) continue;
        const mcfg = nestedKeys.find((x) => x.key === m)?.cfg;
        collectGroup(file, mg, `${prefix}layers/${m}/`, layer, mcfg, out, depth + 1, budget);
      }
    } else {
      collectGroup(file, cg, `${prefix}${k}/`, layer, cfg?.config?.layer ?? null, out, depth + 1, budget);
    }
  }
}

/** Weights of all top-level layers from a Keras 3 weights file's root group. */
export function readKeras3Layers(file: string, root: any, model: any, notes: string[]): Map<string, RawWeight[]> {
  const weights = new Map<string, RawWeight[]>();
  const lg = child(root, 'layers');
  if (!lg) return weights;
  if (!isGroup(lg)) throw badFile(file, "'layers' in the weights file is not a group");
  const keys = keras3LayerKeys(model);
  const present: string[] = lg.keys();
  const budget = { total: 0 };
  const seen = new Set<string>();
  for (const { key, name, cfg } of keys) {
    if (!present.includes(key)) continue;
    seen.add(key);
    const g = child(lg, key);
    if (!isGroup(g)) continue;
    const own = child(g, 'vars');
    const stored = own ? strAttr(own, 'name') : null;
    if (stored && stored !== name) notes.push(`weights group layers/${key} says name '${stored}'; matched to layer '${name}' by Keras's save order`);
    const ws: RawWeight[] = [];
    collectGroup(file, g, '', name, cfg, ws, 1, budget);
    if (ws.length) weights.set(name, ws);
  }
  for (const key of present) {
    if (seen.has(key)) continue;
    const g = child(lg, key);
    const ws: RawWeight[] = [];
    if (isGroup(g)) collectGroup(file, g, '', key, null, ws, 1, budget);
    if (ws.length) throw badFile(file, `weights group layers/${key} matches no layer in the config (${ws.length} weights)`);
  }
  if (present.length === 0 && keys.length) notes.push('weights file has no layer weights');
  return weights;
}

const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

export async function readKeras3Zip(file: string, path: string): Promise<RawModel> {
  const bytes = new Uint8Array(readFileSync(path));
  const entries = unzipSafe(bytes, file, (n) => n === 'config.json' || n === 'metadata.json' || n === 'model.weights.h5' || n === 'model.weights.npz');
  if (!entries['config.json']) throw badFile(file, 'zip archive has no config.json; not a Keras 3 .keras model');
  if (entries['config.json'].length > MAX_CONFIG_BYTES) throw badFile(file, 'config.json is larger than 64 MiB; refusing');
  const td = new TextDecoder();
  const model = parseJson(td.decode(entries['config.json']), file, 'config.json');
  let meta: any = {};
  if (entries['metadata.json']) meta = parseJson(td.decode(entries['metadata.json']), file, 'metadata.json');
  const kerasVersion = typeof meta?.keras_version === 'string' ? meta.keras_version : null;
  checkHasLayerGraph(file, model);
  const notes: string[] = [];
  const wbytes = entries['model.weights.h5'];
  if (!wbytes) {
    if (entries['model.weights.npz']) throw badFile(file, "weights are stored as model.weights.npz; only the default 'h5' weights format is supported");
    throw badFile(file, 'zip archive has no model.weights.h5 (the model has no saved weights)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'kerawasm-keras3-'));
  const tmp = join(dir, 'model.weights.h5');
  try {
    writeFileSync(tmp, wbytes);
    const weights = await withH5(tmp, `${file}:model.weights.h5`, ({ root }) => {
      const ks: string[] = root.keys();
      if (ks.includes('optimizer')) notes.push('optimizer weights ignored');
      return readKeras3Layers(file, root, model, notes);
    });
    return { file, format: 'keras3', dialect: 'keras3', kerasVersion, config: model, weights, notes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
