/** Regularization layers: the identity at inference (Dropout and its kin, ActivityRegularization). */
import { identity } from '../graph/shapes.ts';
import * as core from '../float/layers/core.ts';
import { keepConfig, type LayerEntry, type Normalize } from './entry.ts';

const normalizeRate: Normalize = (c) => {
  c.rate = Number(c.rate ?? 0);
};

const normalizeGaussianNoise: Normalize = (c) => {
  c.stddev = Number(c.stddev ?? 0);
};

const normalizeActivityRegularization: Normalize = (c) => {
  c.l1 = Number(c.l1 ?? 0);
  c.l2 = Number(c.l2 ?? 0);
};

function entry(className: string, normalize: Normalize, passesMask = true): LayerEntry {
  return {
    className,
    aliases: [],
    normalize,
    rule: identity,
    float: core.identity,
    passesMask,
    quant: { weights: 'none', output: "the input's" },
    lower: { alias: true },
  };
}

export const REGULARIZATION: LayerEntry[] = [
  entry('Dropout', normalizeRate),
  entry('SpatialDropout1D', normalizeRate),
  entry('SpatialDropout2D', keepConfig, false),
  entry('GaussianNoise', normalizeGaussianNoise),
  entry('GaussianDropout', normalizeRate),
  entry('AlphaDropout', normalizeRate),
  entry('ActivityRegularization', normalizeActivityRegularization),
];
