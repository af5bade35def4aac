/** Float kernels of Embedding (mask_zero), Masking and the time views of the TimeDistributed rewrite. */
import { UserError, EXIT } from '../../errors.ts';
import type { LayerFn, TimeMask } from '../types.ts';
import { weight } from './core.ts';

export const embedding: LayerFn = (node, [x], ctx) => {
  const E = weight(node, 'embeddings')!;
  const [V, D] = E.shape;
  const n = x.data.length;
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const id = Math.trunc(x.data[i]);
    if (!(id >= 0 && id < V)) {
      throw new UserError(`layer '${node.name}' (Embedding): token id ${x.data[i]} outside [0, ${V - 1}]`, EXIT.BAD_INPUT);
    }
    out.set(E.data.subarray(id * D, (id + 1) * D), i * D);
  }
  let mask: TimeMask | null = null;
  if (node.config.mask_zero && x.shape.length === 2) {
    const [B, T] = x.shape;
    mask = { batch: B, steps: T, data: Uint8Array.from(x.data, (v) => (Math.trunc(v) !== 0 ? 1 : 0)) };
  }
  ctx.outMasks = [mask];
  return [{ shape: [...x.shape, D], data: out }];
};

/** Masking: steps whose features all equal mask_value are zeroed and masked. */
export const masking: LayerFn = (node, [x], ctx) => {
  const mv = node.config.mask_value ?? 0;
  const [B, T] = x.shape;
  const F = x.data.length / (B * T);
  const m = new Uint8Array(B * T);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < B * T; i++) {
    let any = 0;
    for (let f = 0; f < F; f++) if (x.data[i * F + f] !== mv) any = 1;
    m[i] = any;
    if (any) out.set(x.data.subarray(i * F, (i + 1) * F), i * F);
  }
  ctx.outMasks = [{ batch: B, steps: T, data: m }];
  return [{ shape: [...x.shape], data: out }];
};

/**
 * Internal nodes of the converter's TimeDistributed rewrite (tools/quantize/prepare.ts):
 * `_MergeTime` views [B, T, ...] as [B*T, ...] and `_SplitTime` views [B*T, ...] as
 * [B, T, ...] (config.steps = T). Both are pure views: same data, new shape.
 */
export const mergeTime: LayerFn = (_node, [x]) => [{ shape: [x.shape[0] * x.shape[1], ...x.shape.slice(2)], data: x.data }];
export const splitTime: LayerFn = (node, [x]) => {
  const T = Number(node.config.steps);
  return [{ shape: [x.shape[0] / T, T, ...x.shape.slice(1)], data: x.data }];
};
