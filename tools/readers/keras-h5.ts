/**
 * Legacy Keras HDF5: full model (root attr model_config + model_weights group) and weights-only
 * files (layer_names at root; architecture from --config). Keras 1, tf.keras 2.x and Keras 3's
 * legacy h5 all share this layout. Also Keras 3 `.weights.h5` (layers/<name>/vars) + --config.
 */
import { badFile, EXIT, UserError } from '../errors.ts';
import { checkHasLayerGraph, dialectFromVersion, parseJson } from './config.ts';
import { child, isDataset, isGroup, readFloatDataset, strAttr, strListAttr, withH5 } from './h5.ts';
import { readKeras3Layers } from './keras3.ts';
import type { RawModel, RawWeight } from './types.ts';

/** 'conv0_5/kernel:0' in layer 'conv0' -> 'kernel'; nested 'dense/kernel:0' in 'sequential' stays 'dense/kernel'. */
export function legacyWeightName(layer: string, weightName: string): string {
  let n = weightName.replace(/:\d+$/, '');
  const slash = n.indexOf('/');
  if (slash > 0) {
    const head = n.slice(0, slash);
    if (head === layer || (head.startsWith(layer + '_') && /^\d+$/.test(head.slice(layer.length + 1)))) n = n.slice(slash + 1);
  }
  return n;
}

function readLayerNamesGroup(file: string, g: any, where: string): Map<string, RawWeight[]> {
  let layerNames: string[] | null;
  try {
    layerNames = strListAttr(g, 'layer_names');
  } catch {
    throw badFile(file, `${where} attribute layer_names is not a list of names`);
  }
  if (!layerNames) throw badFile(file, `${where} has no layer_names attribute`);
  const out = new Map<string, RawWeight[]>();
  const budget = { total: 0 };
  for (const ln of layerNames) {
    const lg = child(g, ln);
    if (!isGroup(lg)) throw badFile(file, `layer '${ln}' is listed in layer_names but has no weight group`);
    let wnames: string[] | null;
    try {
      wnames = strListAttr(lg, 'weight_names');
    } catch {
      throw badFile(file, `layer '${ln}': attribute weight_names is not a list of names`);
    }
    if (wnames === null) throw badFile(file, `layer '${ln}' has no weight_names attribute`);
    const ws: RawWeight[] = [];
    for (const wn of wnames) {
      const name = legacyWeightName(ln, wn);
      const what = `layer '${ln}' weight '${name}'`;
      const ds = child(lg, wn);
      if (!isDataset(ds)) throw badFile(file, `${what} is listed in weight_names but its dataset '${wn}' is missing`);
      const { shape, data } = readFloatDataset(ds, { file, what, budget }); // checks budget.total + n before reading
      ws.push({ name, shape, data });
    }
    if (ws.length) out.set(ln, ws);
  }
  return out;
}

export interface ExternalConfig {
  path: string;
  model: any;
  kerasVersion: string | null;
}

/** Read an architecture JSON given with --config (model.to_json(), or a tfjs model.json). */
export function parseConfigJson(text: string, path: string): ExternalConfig {
  const j = parseJson(text, path, 'architecture JSON');
  let model = j;
  if (j && typeof j === 'object' && j.modelTopology) model = j.modelTopology;
  if (model && typeof model === 'object' && model.model_config) model = model.model_config;
  if (!model || typeof model !== 'object' || typeof model.class_name !== 'string') {
    throw new UserError(`${path}: --config must be a Keras architecture JSON (model.to_json()) with class_name and config`, EXIT.USAGE);
  }
  const kv = typeof j.keras_version === 'string' ? j.keras_version : typeof model.keras_version === 'string' ? model.keras_version : null;
  return { path, model, kerasVersion: kv };
}

export async function readH5(file: string, path: string, config: ExternalConfig | null): Promise<RawModel> {
  return withH5(path, file, ({ root }) => {
    const notes: string[] = [];
    const rootVersion = strAttr(root, 'keras_version');
    const modelConfigText = strAttr(root, 'model_config');
    const keys: string[] = root.keys();

    if (modelConfigText !== null) {
      let model = parseJson(modelConfigText, file, 'model_config attribute');
      if (model && typeof model === 'object' && model.model_config) model = model.model_config;
      if (config) {
        notes.push(`architecture taken from --config ${config.path} (the file's own model_config was ignored)`);
        model = config.model;
      }
      checkHasLayerGraph(file, model);
      const mw = child(root, 'model_weights');
      if (!isGroup(mw)) throw badFile(file, 'has model_config but no model_weights group (the file holds no weights)');
      const kv = rootVersion ?? strAttr(mw, 'keras_version') ?? (typeof model.keras_version === 'string' ? model.keras_version : null);
      if (keys.includes('optimizer_weights')) notes.push('optimizer weights ignored');
      const weights = readLayerNamesGroup(file, mw, 'model_weights');
      return { file, format: 'h5', dialect: dialectFromVersion(kv, model), kerasVersion: kv, config: model, weights, notes };
    }

    const weightsOnlyLegacy = strListAttrSafe(root, 'layer_names') !== null;
    const weightsOnlyK3 = keys.includes('layers') && isGroup(child(root, 'layers'));
    if (!weightsOnlyLegacy && !weightsOnlyK3) {
      throw badFile(file, 'HDF5 file is not a Keras model (no model_config attribute, no layer_names, no layers/ group)');
    }
    if (!config) {
      throw new UserError(`${file}: weights-only HDF5 file (no architecture inside); give the architecture JSON with --config <model.json>`, EXIT.USAGE);
    }
    checkHasLayerGraph(config.path, config.model);
    if (weightsOnlyLegacy) {
      const kv = rootVersion ?? config.kerasVersion;
      const weights = readLayerNamesGroup(file, root, 'file root');
      return { file, format: 'h5-weights', dialect: dialectFromVersion(kv, config.model), kerasVersion: kv, config: config.model, weights, notes };
    }
    const weights = readKeras3Layers(file, root, config.model, notes);
    return { file, format: 'h5-weights', dialect: 'keras3', kerasVersion: config.kerasVersion, config: config.model, weights, notes };
  });
}

function strListAttrSafe(g: any, name: string): string[] | null {
  try {
    return strListAttr(g, name);
  } catch {
    return null;
  }
}
