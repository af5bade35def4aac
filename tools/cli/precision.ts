/** convert --precision: the activation precision of every layer (int8, or int16 with int8 weights: TFLite's 16x8). */
import type { Graph } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';
import { uniformPrecision } from '../pipeline.ts';
import type { Precision } from '../quantize/qparams.ts';

export const PRECISIONS: readonly Precision[] = ['int8', 'int16'];

/** The value of --precision, checked (one line listing the allowed ones on a bad value). */
export function checkPrecision(value: string | undefined): Precision {
  const p = (value ?? 'int8') as Precision;
  if (!PRECISIONS.includes(p)) throw new UserError(`--precision must be one of ${PRECISIONS.join(', ')}, got '${value}'`, EXIT.USAGE);
  return p;
}

/** The per-layer precision map convertGraph takes: every layer at `p` (none for the int8 default). */
export function precisionMap(g: Graph, p: Precision): Map<string, Precision> | undefined {
  return p === 'int8' ? undefined : uniformPrecision(g, p);
}
