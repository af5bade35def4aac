/**
 * The search behind `convert --precision auto`: start with every layer in int8, then promote
 * layers to int16 one at a time, the layer that loses the most first, until the model's output
 * reaches the target SQNR or the budget stops it.
 *
 * "Loses the most" is measured, not guessed: each trial converts the model with a per-layer
 * precision map and reports every layer's SQNR against the float model (tools/blob/layer-error.ts,
 * in the order the blob computes the layers). A layer's loss is the SQNR it drops below the layer
 * computed before it (the first layer: below FIRST_LAYER_DB). A promotion whose RAM or flash
 * exceeds the budget is undone and that layer is not tried again.
 *
 * The converter is a parameter, so the search is tested with a fake one (and the pipeline hands
 * it the real conversion).
 */

type LayerPrecision = 'int8' | 'int16';
/** Layers not named are int8. */
export type PrecisionMap = Record<string, LayerPrecision>;

/** One layer's figures in a trial (the fields of layerErrors' result the search reads). */
interface TrialLayer {
  layer: string;
  sqnrDb: number;
  precision: LayerPrecision;
}

/** What converting with a precision map gives. */
export interface Trial {
  layers: TrialLayer[];
  /** the lowest SQNR over the model's outputs */
  outputSqnrDb: number;
  ramBytes: number;
  flashBytes: number;
  /** executed wasm instructions per inference */
  instructions: number;
}

export interface Budget {
  ramBytes?: number;
  flashBytes?: number;
}

interface Promotion {
  layer: string;
  /** the layer's SQNR and the output SQNR before and after its promotion */
  layerSqnrDb: [number, number];
  outputSqnrDb: [number, number];
  /** what the promotion cost */
  ramBytes: number;
  flashBytes: number;
  instructions: number;
}

export interface SearchResult {
  map: PrecisionMap;
  /** the trial of `map` */
  trial: Trial;
  promoted: Promotion[];
  /** layers whose promotion exceeded the budget */
  overBudget: string[];
  met: boolean;
  stoppedBy: 'target' | 'budget' | 'all-int16';
}

/** The SQNR a layer's input is taken to have when it is computed first (int16 input quantization). */
const FIRST_LAYER_DB = 90;

const fits = (t: Trial, b: Budget) => (b.ramBytes === undefined || t.ramBytes <= b.ramBytes) && (b.flashBytes === undefined || t.flashBytes <= b.flashBytes);

/** The int8 layers not yet refused, the largest SQNR drop first (ties: the earlier layer). */
export function rankLosses(layers: TrialLayer[], skip: Set<string>): string[] {
  const loss = layers.map((l, i) => ({ l, drop: (i === 0 ? FIRST_LAYER_DB : layers[i - 1].sqnrDb) - l.sqnrDb, i }));
  return loss
    .filter((x) => x.l.precision === 'int8' && !skip.has(x.l.layer))
    .sort((a, b) => b.drop - a.drop || a.i - b.i)
    .map((x) => x.l.layer);
}

export async function searchPrecision(convert: (map: PrecisionMap) => Promise<Trial>, o: { targetSqnrDb: number; budget?: Budget }): Promise<SearchResult> {
  const budget = o.budget ?? {};
  let map: PrecisionMap = {};
  let trial = await convert(map);
  const promoted: Promotion[] = [];
  const overBudget = new Set<string>();
  while (trial.outputSqnrDb < o.targetSqnrDb) {
    const next = rankLosses(trial.layers, overBudget)[0];
    if (next === undefined) break;
    const tryMap = { ...map, [next]: 'int16' as const };
    const t = await convert(tryMap);
    if (!fits(t, budget)) {
      overBudget.add(next);
      continue;
    }
    const before = trial.layers.find((l) => l.layer === next)!.sqnrDb;
    const after = t.layers.find((l) => l.layer === next)?.sqnrDb ?? NaN;
    promoted.push({
      layer: next,
      layerSqnrDb: [before, after],
      outputSqnrDb: [trial.outputSqnrDb, t.outputSqnrDb],
      ramBytes: t.ramBytes - trial.ramBytes,
      flashBytes: t.flashBytes - trial.flashBytes,
      instructions: t.instructions - trial.instructions,
    });
    map = tryMap;
    trial = t;
  }
  const met = trial.outputSqnrDb >= o.targetSqnrDb;
  return { map, trial, promoted, overBudget: [...overBudget], met, stoppedBy: met ? 'target' : overBudget.size ? 'budget' : 'all-int16' };
}
