/**
 * Activation functions of the float reference, by canonical name (tools/graph/ir.ts).
 * `ACTIVATIONS` holds the element-wise ones as plain `(x: number) => number` in float64, so the
 * quantizer can build lookup tables from exactly the functions used for calibration.
 * softmax / log_softmax work along an axis and are only available through applyActivation.
 */
import type { FloatTensor } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';
import { normAxis, size } from './tensor.ts';

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** erf in float64: Taylor series for |x| < 2.5, continued fraction for erfc beyond (|err| < 1e-15). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...)))))
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}
const relu6 = (x: number) => Math.min(Math.max(x, 0), 6);
const hardSigmoidK3 = (x: number) => Math.min(Math.max(x / 6 + 0.5, 0), 1);

/** Element-wise activations (float64 in, float64 out). */
export const ACTIVATIONS: Readonly<Record<string, (x: number) => number>> = {
  linear: (x) => x,
  relu: (x) => (x > 0 ? x : 0),
  relu6,
  leaky_relu: (x) => (x >= 0 ? x : 0.2 * x),
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  selu: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
  sigmoid,
  hard_sigmoid: (x) => Math.min(Math.max(0.2 * x + 0.5, 0), 1),
  hard_sigmoid_k3: hardSigmoidK3,
  tanh: Math.tanh,
  swish: (x) => x * sigmoid(x),
  silu: (x) => x * sigmoid(x),
  softplus,
  softsign: (x) => x / (1 + Math.abs(x)),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
  exponential: Math.exp,
  hard_swish: (x) => x * hardSigmoidK3(x),
  hard_silu: (x) => x * hardSigmoidK3(x),
  mish: (x) => x * Math.tanh(softplus(x)),
};

/** The element-wise function for `name` (throws for softmax/log_softmax and unknown names). */
export function activationFn(name: string): (x: number) => number {
  const f = ACTIVATIONS[name];
  if (!f) {
    throw new UserError(
      `activation '${name}' is not element-wise or not supported; supported: ${Object.keys(ACTIVATIONS).join(', ')}, softmax, log_softmax`,
      EXIT.UNSUPPORTED,
    );
  }
  return f;
}

/** Softmax (or log-softmax) along `axis` (possibly negative), max-subtracted, float64 sums. */
function softmax(t: FloatTensor, axis = -1, log = false): FloatTensor {
  const a = normAxis(axis, t.shape.length);
  const n = t.shape[a];
  const inner = size(t.shape.slice(a + 1));
  const outer = size(t.shape.slice(0, a));
  const out = new Float32Array(t.data.length);
  const tmp = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let mx = -Infinity;
      for (let k = 0; k < n; k++) mx = Math.max(mx, t.data[base + k * inner]);
      let s = 0;
      for (let k = 0; k < n; k++) {
        tmp[k] = Math.exp(t.data[base + k * inner] - mx);
        s += tmp[k];
      }
      if (log) {
        const ls = Math.log(s);
        for (let k = 0; k < n; k++) out[base + k * inner] = t.data[base + k * inner] - mx - ls;
      } else {
        for (let k = 0; k < n; k++) out[base + k * inner] = tmp[k] / s;
      }
    }
  }
  return { shape: [...t.shape], data: out };
}

/** Apply a named activation to a whole tensor (softmax along `axis`, default last). */
export function applyActivation(name: string | null | undefined, t: FloatTensor, axis: number | number[] = -1): FloatTensor {
  if (!name || name === 'linear') return t;
  if (name === 'softmax' || name === 'log_softmax') {
    const axes = Array.isArray(axis) ? axis : [axis];
    if (axes.length !== 1) {
      throw new UserError(`softmax over several axes ${JSON.stringify(axis)} is not supported; supported: one axis`, EXIT.UNSUPPORTED);
    }
    return softmax(t, axes[0], name === 'log_softmax');
  }
  const f = activationFn(name);
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(t.data[i]);
  return { shape: [...t.shape], data: out };
}
