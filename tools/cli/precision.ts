/** convert --precision: the activation precision of every layer (int8, or int16 with int8 weights: TFLite's 16x8), or auto. */
import type { Graph } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';
import { uniformPrecision } from '../pipeline.ts';
import type { Precision } from '../quantize/qparams.ts';
import { WEIGHT_PRECISIONS, type WeightPrecision } from '../quantize/weights16.ts';
import type { AutoPrecisionOptions } from '../precision-auto.ts';
import { findBoard } from '../boards.ts';
import { parseBytes } from './verify-checks.ts';

export type PrecisionMode = Precision | 'auto';
export const PRECISIONS: readonly PrecisionMode[] = ['int8', 'int16', 'auto'];

/** auto's default end-to-end target (dB). */
export const DEFAULT_TARGET_SQNR = 30;

/** The value of --precision, checked (one line listing the allowed ones on a bad value). */
export function checkPrecision(value: string | undefined): PrecisionMode {
  const p = (value ?? 'int8') as PrecisionMode;
  if (!PRECISIONS.includes(p)) throw new UserError(`--precision must be one of ${PRECISIONS.join(', ')}, got '${value}'`, EXIT.USAGE);
  return p;
}

export const WEIGHT_PRECISION_HELP =
  'Dense and Conv weights on int16 activations: int8 (TFLite 16x8) or int16 (16x16: twice the weight flash, int64 bias; DepthwiseConv, grouped convs and int8 layers keep int8)';

/** The value of --weight-precision, checked (one line listing the allowed ones on a bad value). */
export function checkWeightPrecision(value: string | undefined): WeightPrecision {
  const p = (value ?? 'int8') as WeightPrecision;
  if (!WEIGHT_PRECISIONS.includes(p)) throw new UserError(`--weight-precision must be one of ${WEIGHT_PRECISIONS.join(', ')}, got '${value}'`, EXIT.USAGE);
  return p;
}

/** The per-layer precision map convertGraph takes: every layer at `p` (none for the int8 default and for auto). */
export function precisionMap(g: Graph, p: PrecisionMode): Map<string, Precision> | undefined {
  return p === 'int8' || p === 'auto' ? undefined : uniformPrecision(g, p);
}

/** The options of --precision auto as given (strings from the CLI, numbers from the API). */
export interface AutoFlags {
  targetSqnr?: string | number;
  board?: string;
  ram?: string | number;
  flash?: string | number;
  allowBelow?: boolean;
}

function targetSqnr(v: string | number | undefined): number {
  if (v === undefined) return DEFAULT_TARGET_SQNR;
  const x = typeof v === 'number' ? v : /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(x) || x <= 0 || x > 200) throw new UserError(`--target-sqnr must be a number of dB in (0, 200], got '${v}'`, EXIT.USAGE);
  return x;
}

const bytes = (v: string | number, opt: string) => {
  const n = typeof v === 'number' ? v : parseBytes(v, opt);
  if (!Number.isSafeInteger(n) || n < 1) throw new UserError(`${opt} must be a positive byte count, got '${v}'`, EXIT.USAGE);
  return n;
};

/** auto's options checked; null for int8/int16, where every auto option is refused in one line. */
export function autoOptions(p: PrecisionMode, f: AutoFlags): AutoPrecisionOptions | null {
  const given = (['targetSqnr', 'board', 'ram', 'flash', 'allowBelow'] as const).filter((k) => f[k] !== undefined && f[k] !== false);
  const flag = (k: string) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  if (p !== 'auto') {
    if (given.length) throw new UserError(`${given.map(flag).join(', ')}: only valid with --precision auto`, EXIT.USAGE);
    return null;
  }
  const board = f.board !== undefined ? findBoard(f.board) : undefined;
  const ramBytes = f.ram !== undefined ? bytes(f.ram, '--ram') : board?.ramUsable;
  const flashBytes = f.flash !== undefined ? bytes(f.flash, '--flash') : board?.flashUsable;
  const parts = [
    ...(board ? [`board ${board.name}`] : []),
    ...(f.ram !== undefined ? [`--ram ${ramBytes}`] : []),
    ...(f.flash !== undefined ? [`--flash ${flashBytes}`] : []),
  ];
  return {
    targetSqnrDb: targetSqnr(f.targetSqnr),
    budget: { ramBytes, flashBytes },
    budgetName: parts.length ? `the budget (${parts.join(', ')})` : 'the budget',
    allowBelow: !!f.allowBelow,
  };
}
