/** Small helpers over a Keras architecture config (any dialect), used by all readers. */
import { badFile, EXIT, UserError } from '../errors.ts';
import type { Dialect } from './types.ts';

/** The layer list of a model config (`config.layers`, or the bare list of old Sequential). */
export function layerList(model: any): any[] | null {
  if (!model || typeof model !== 'object') return null;
  const c = model.config;
  if (Array.isArray(c)) return c;
  if (c && Array.isArray(c.layers)) return c.layers;
  return null;
}

export function layerName(l: any): string {
  return String(l?.config?.name ?? l?.name ?? '');
}

/** Keras 3 naming.to_snake_case (used for `layers/<name>` paths in model.weights.h5). */
export function toSnakeCase(name: string): string {
  let s = name.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  s = s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return s;
}

/** Keras 3 writes `batch_shape`, `DTypePolicy` objects and `__keras_tensor__` nodes. */
function looksKeras3(node: any, depth = 0): boolean {
  if (depth > 64 || node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some((x) => looksKeras3(x, depth + 1));
  if (node.class_name === '__keras_tensor__' || node.class_name === 'DTypePolicy') return true;
  if ('batch_shape' in node) return true;
  return Object.values(node).some((x) => looksKeras3(x, depth + 1));
}

/** Keras 1 configs use `output_dim`/`init`/`inner_activation` style keys. */
function looksKeras1(model: any): boolean {
  const ls = layerList(model) ?? [];
  return ls.some(
    (l) =>
      l?.config &&
      ('init' in l.config || 'inner_activation' in l.config || 'consume_less' in l.config || ('output_dim' in l.config && l.class_name === 'Dense')),
  );
}

export function dialectFromVersion(v: string | null, model: any): Dialect {
  if (v) {
    if (/^tfjs/i.test(v)) return 'tfjs';
    if (/^1\./.test(v)) return 'keras1';
    if (/^3\./.test(v)) return 'keras3';
    if (/^2\./.test(v)) return 'keras2';
  }
  if (looksKeras3(model)) return 'keras3';
  if (looksKeras1(model)) return 'keras1';
  return 'keras2';
}

/**
 * Refuse configs that carry no layer graph (subclassed models) and things that are not a model
 * config at all. Message is one line naming the file.
 */
export function checkHasLayerGraph(file: string, model: any): void {
  if (!model || typeof model !== 'object' || typeof model.class_name !== 'string') {
    throw badFile(file, 'model config has no class_name; not a Keras model architecture');
  }
  if (layerList(model) === null) {
    throw new UserError(
      `${file}: subclassed model '${model.class_name}' has no layer graph in its config; save a Sequential or Functional model`,
      EXIT.UNSUPPORTED,
    );
  }
}

/** All layer names in the tree: name -> top-level layer name that contains it. */
export function nestedNameMap(model: any): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (l: any, top: string, depth: number) => {
    if (depth > MAX_CONFIG_DEPTH) return;
    const inner = layerList(l);
    if (inner)
      for (const c of inner) {
        const n = layerName(c);
        if (n && !out.has(n)) out.set(n, top);
        visit(c, top, depth + 1);
      }
    const wrapped = l?.config?.layer;
    if (wrapped && typeof wrapped === 'object') {
      const n = layerName(wrapped);
      if (n && !out.has(n)) out.set(n, top);
      visit(wrapped, top, depth + 1);
    }
  };
  for (const l of layerList(model) ?? []) {
    const n = layerName(l);
    out.set(n, n);
  }
  for (const l of layerList(model) ?? []) visit(l, layerName(l), 1);
  return out;
}

const MAX_CONFIG_DEPTH = 32;

/** Parse JSON text with a one-line error. */
export function parseJson(text: string, file: string, what = 'JSON'): any {
  try {
    return JSON.parse(text);
  } catch (e) {
    const m = (e instanceof Error ? e.message.split('\n')[0] : String(e)).replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
    throw badFile(file, `invalid ${what} (${m})`);
  }
}
