/** Dense, identity layers (Dropout & friends), activation layers and BatchNormalization. */
import type { FloatTensor, IRNode } from '../../graph/ir.ts';
import type { LayerFn } from '../types.ts';
import { applyActivation } from '../activations.ts';
import { normAxis, size, strides, unsupportedOpt } from '../tensor.ts';

export function weight(node: IRNode, name: string, optional = false): FloatTensor | undefined {
  const w = node.weights[name];
  if (!w && !optional) throw new Error(`float forward: node '${node.name}' (${node.className}) has no weight '${name}'`);
  return w;
}

/** y = x . kernel + bias along the last axis (any rank), float64 accumulation. */
export function matmulLast(x: FloatTensor, kernel: FloatTensor, bias?: FloatTensor): FloatTensor {
  const [nin, nout] = kernel.shape;
  const rows = x.data.length / nin;
  if (x.shape[x.shape.length - 1] !== nin) {
    throw new Error(`float forward: input last dim ${x.shape[x.shape.length - 1]} != kernel rows ${nin}`);
  }
  const out = new Float32Array(rows * nout);
  const acc = new Float64Array(nout);
  const K = kernel.data;
  for (let r = 0; r < rows; r++) {
    if (bias) for (let j = 0; j < nout; j++) acc[j] = bias.data[j];
    else acc.fill(0);
    const xo = r * nin;
    for (let i = 0; i < nin; i++) {
      const xv = x.data[xo + i];
      if (xv === 0) continue;
      const ko = i * nout;
      for (let j = 0; j < nout; j++) acc[j] += xv * K[ko + j];
    }
    for (let j = 0; j < nout; j++) out[r * nout + j] = acc[j];
  }
  return { shape: [...x.shape.slice(0, -1), nout], data: out };
}

export const dense: LayerFn = (node, [x]) => {
  const c = node.config;
  const y = matmulLast(x, weight(node, 'kernel')!, c.use_bias === false ? undefined : weight(node, 'bias', true));
  return [applyActivation(c.activation, y)];
};

export const identity: LayerFn = (_node, [x]) => [x];

export const activation: LayerFn = (node, [x]) => [applyActivation(node.config.activation, x)];

function mapEl(x: FloatTensor, f: (v: number) => number): FloatTensor {
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]);
  return { shape: [...x.shape], data: out };
}

/** Keras ReLU layer: x >= max_value -> max_value; x >= threshold -> x; else negative_slope * (x - threshold). */
export const reluLayer: LayerFn = (node, [x]) => {
  const c = node.config;
  const mx = c.max_value ?? null;
  const slope = c.negative_slope ?? 0;
  const th = c.threshold ?? 0;
  return [
    mapEl(x, (v) => {
      let y = v >= th ? v : slope * (v - th);
      if (mx !== null && y > mx) y = mx;
      return y;
    }),
  ];
};

export const leakyRelu: LayerFn = (node, [x]) => {
  const a = node.config.alpha ?? node.config.negative_slope ?? 0.3;
  return [mapEl(x, (v) => (v >= 0 ? v : a * v))];
};

export const eluLayer: LayerFn = (node, [x]) => {
  const a = node.config.alpha ?? 1;
  return [mapEl(x, (v) => (v > 0 ? v : a * Math.expm1(v)))];
};

export const thresholdedRelu: LayerFn = (node, [x]) => {
  const th = node.config.theta ?? 1;
  return [mapEl(x, (v) => (v > th ? v : 0))];
};

export const softmaxLayer: LayerFn = (node, [x]) => [applyActivation('softmax', x, node.config.axis ?? -1)];

/** PReLU: alpha has the input shape without batch (shared axes of size 1, broadcast). */
export const prelu: LayerFn = (node, [x]) => {
  const alpha = weight(node, 'alpha')!;
  const inner = x.shape.slice(1);
  const aStr = strides(alpha.shape);
  const iStr = strides(inner);
  const per = size(inner);
  // map each inner index to an alpha index (broadcast size-1 axes)
  const amap = new Int32Array(per);
  for (let i = 0; i < per; i++) {
    let rem = i;
    let ai = 0;
    for (let d = 0; d < inner.length; d++) {
      const idx = Math.floor(rem / iStr[d]);
      rem -= idx * iStr[d];
      if (alpha.shape[d] !== 1) ai += idx * aStr[d];
    }
    amap[i] = ai;
  }
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i];
    out[i] = v >= 0 ? v : alpha.data[amap[i % per]] * v;
  }
  return [{ shape: [...x.shape], data: out }];
};

/** Inference BatchNormalization over one axis (config.axis number or [number]), the layer's epsilon. */
export const batchNorm: LayerFn = (node, [x]) => {
  const c = node.config;
  const axes: number[] = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
  if (axes.length !== 1) throw unsupportedOpt(node.name, node.className, 'axis', c.axis, 'a single axis');
  const ax = normAxis(axes[0], x.shape.length);
  const eps = c.epsilon ?? 1e-3;
  const n = x.shape[ax];
  const gamma = weight(node, 'gamma', true);
  const beta = weight(node, 'beta', true);
  const mean = weight(node, 'moving_mean')!;
  const variance = weight(node, 'moving_variance')!;
  const scale = new Float64Array(n);
  const shift = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // tf: x * (gamma * rsqrt(var + eps)) + (beta - mean * gamma * rsqrt(var + eps))
    const inv = (gamma ? gamma.data[i] : 1) / Math.sqrt(variance.data[i] + eps);
    scale[i] = inv;
    shift[i] = (beta ? beta.data[i] : 0) - mean.data[i] * inv;
  }
  const inner = size(x.shape.slice(ax + 1));
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const ch = Math.floor(i / inner) % n;
    out[i] = x.data[i] * scale[ch] + shift[ch];
  }
  return [{ shape: [...x.shape], data: out }];
};

/** LayerNormalization over the given axes (default last), inference. */
export const layerNorm: LayerFn = (node, [x]) => {
  const c = node.config;
  const axes: number[] = (Array.isArray(c.axis) ? c.axis : [c.axis ?? -1]).map((a: number) => normAxis(a, x.shape.length));
  const sorted = [...axes].sort((a, b) => a - b);
  const r = x.shape.length;
  const contiguous = sorted[sorted.length - 1] === r - 1 && sorted.every((a, i) => i === 0 || a === sorted[i - 1] + 1);
  if (!contiguous) throw unsupportedOpt(node.name, node.className, 'axis', c.axis, 'trailing axes');
  const eps = c.epsilon ?? 1e-3;
  const n = size(sorted.map((a) => x.shape[a]));
  const gamma = c.scale === false ? undefined : weight(node, 'gamma', true);
  const beta = c.center === false ? undefined : weight(node, 'beta', true);
  const out = new Float32Array(x.data.length);
  for (let o = 0; o < x.data.length; o += n) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x.data[o + i];
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x.data[o + i] - m) ** 2;
    v /= n;
    const inv = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < n; i++) {
      out[o + i] = (x.data[o + i] - m) * inv * (gamma ? gamma.data[i] : 1) + (beta ? beta.data[i] : 0);
    }
  }
  return [{ shape: [...x.shape], data: out }];
};
