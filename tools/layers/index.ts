/**
 * THE table of Keras layer classes the converter serves, one entry per class (entry.ts says what
 * an entry holds). The graph builder, lint, summary, the float reference, calibration, the
 * graph rewrites and the lowering all read it; the supported set is its list of keys.
 */
import { UserError, EXIT } from '../errors.ts';
import { ACTIVATIONS } from './activations.ts';
import { CONVOLUTIONAL } from './convolutional.ts';
import { CORE, INPUT_LAYER } from './core.ts';
import type { LayerEntry } from './entry.ts';
import { MERGING } from './merging.ts';
import { NORMALIZATION } from './normalization.ts';
import { POOLING } from './pooling.ts';
import { REGULARIZATION } from './regularization.ts';
import { RESHAPING } from './reshaping.ts';
import { RNN } from './rnn.ts';
import { TIME_VIEWS, timeDistributed } from './wrappers.ts';

const table = new Map<string, LayerEntry>();
const lookup = (className: string) => table.get(className);
/** Keras's classes and the internal views that rewrites introduce. */
const withViews = new Map<string, LayerEntry>();

/** The Keras classes, in the order messages list them. */
export const LAYERS: readonly LayerEntry[] = [
  ...CORE,
  ...ACTIVATIONS,
  ...CONVOLUTIONAL,
  ...POOLING,
  ...RESHAPING,
  ...MERGING,
  ...NORMALIZATION,
  ...REGULARIZATION,
  ...RNN,
  timeDistributed(lookup),
];
for (const e of LAYERS) table.set(e.className, e);
for (const e of [...LAYERS, ...TIME_VIEWS]) withViews.set(e.className, e);

/** Every stored spelling of a class (Keras 1 names, short aliases) -> Keras's class name. */
const CANONICAL = new Map<string, string>([['Model', 'Functional'], ...LAYERS.flatMap((e) => e.aliases.map((a): [string, string] => [a, e.className]))]);

export function canonicalClassName(stored: string): string {
  return CANONICAL.get(stored) ?? stored;
}

/** The entry of a Keras class; undefined when the converter does not serve it. */
export function entryOf(className: string): LayerEntry | undefined {
  return table.get(className);
}

/** The entry of a node's class (a Keras class, or an internal view that a rewrite introduced). */
export function entryFor(className: string, where: string): LayerEntry {
  const e = withViews.get(className);
  if (!e) throw new UserError(`${where}: layer class ${className} is not supported; supported: ${SUPPORTED_CLASSES.join(', ')}`, EXIT.UNSUPPORTED);
  return e;
}

export const SUPPORTED_CLASSES: readonly string[] = LAYERS.map((e) => e.className);

export { INPUT_LAYER };
export { isRecurrent, RECURRENT_LAYERS } from './rnn.ts';
export type { LayerEntry, RewriteKit } from './entry.ts';
