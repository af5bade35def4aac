/** Bidirectional merge modes: concat (last axis), sum, mul, ave, null (two outputs). */
import type { FloatTensor } from '../../graph/ir.ts';
import { UserError, EXIT } from '../../errors.ts';
import { concatAxis } from '../tensor.ts';

export function applyMergeMode(mode: string | null, a: FloatTensor, b: FloatTensor): FloatTensor[] {
  if (mode === null || mode === 'none') return [a, b];
  if (mode === 'concat') return [concatAxis([a, b], a.shape.length - 1)];
  const f =
    mode === 'sum'
      ? (x: number, y: number) => x + y
      : mode === 'mul'
        ? (x: number, y: number) => x * y
        : mode === 'ave'
          ? (x: number, y: number) => (x + y) / 2
          : null;
  if (!f) throw new UserError(`Bidirectional merge_mode '${mode}' not supported; supported: concat, sum, mul, ave, None`, EXIT.UNSUPPORTED);
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[i], b.data[i]);
  return [{ shape: [...a.shape], data: out }];
}
