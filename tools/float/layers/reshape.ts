/** Flatten, Reshape, Permute, RepeatVector, ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D. */
import type { FloatTensor } from '../../graph/ir.ts';
import type { LayerFn } from '../types.ts';
import { size, toChannelsFirst, toChannelsLast, transpose, tuple, unsupportedOpt } from '../tensor.ts';

/** Keras Flatten; channels_first inputs are moved to channels_last first, as Keras does. */
export const flatten: LayerFn = (node, [x0]) => {
  const x = node.config.data_format === 'channels_first' && x0.shape.length >= 3 ? toChannelsLast(x0) : x0;
  return [{ shape: [x.shape[0], x.data.length / x.shape[0]], data: x.data }];
};

export const reshapeLayer: LayerFn = (node, [x]) => {
  const B = x.shape[0];
  const tgt: number[] = [...node.config.target_shape];
  const known = tgt.filter((d) => d !== -1 && d !== null).reduce((a, b) => a * b, 1);
  const per = x.data.length / B;
  const shape = tgt.map((d) => (d === -1 || d === null ? per / known : d));
  if (size(shape) !== per) throw new Error(`Reshape '${node.name}': cannot reshape [${x.shape}] to [${tgt}]`);
  return [{ shape: [B, ...shape], data: x.data }];
};

export const permute: LayerFn = (node, [x]) => [transpose(x, [0, ...node.config.dims])];

export const repeatVector: LayerFn = (node, [x]) => {
  const n = node.config.n;
  const [B, F] = x.shape;
  const out = new Float32Array(B * n * F);
  for (let b = 0; b < B; b++) for (let t = 0; t < n; t++) out.set(x.data.subarray(b * F, (b + 1) * F), (b * n + t) * F);
  return [{ shape: [B, n, F], data: out }];
};

/** Pairs [[before, after], ...] for `rank` spatial dims from any Keras spelling. */
export function pairs(v: any, rank: number, what: string): [number, number][] {
  if (typeof v === 'number') return Array.from({ length: rank }, () => [v, v]);
  if (Array.isArray(v)) {
    if (v.length === rank && v.every((p) => Array.isArray(p))) return v.map((p: number[]) => (p.length === 1 ? [p[0], p[0]] : [p[0], p[1]]));
    if (rank === 1 && v.length === 2 && v.every((p) => typeof p === 'number')) return [[v[0], v[1]]];
    if (rank === 1 && v.length === 1 && typeof v[0] === 'number') return [[v[0], v[0]]];
    if (v.length === rank && v.every((p) => typeof p === 'number')) return v.map((p: number) => [p, p]);
    if (v.length === 2 * rank && v.every((p) => typeof p === 'number')) return Array.from({ length: rank }, (_, i) => [v[2 * i], v[2 * i + 1]]);
  }
  throw new Error(`${what}: cannot read ${JSON.stringify(v)}`);
}

/** Pad (positive) or crop (negative) the spatial dims of a channels_last tensor. */
function padCrop(x: FloatTensor, pp: [number, number][], sign: 1 | -1): FloatTensor {
  const B = x.shape[0];
  const C = x.shape[x.shape.length - 1];
  const sp = x.shape.slice(1, -1);
  const osp = sp.map((d, i) => d + sign * (pp[i][0] + pp[i][1]));
  const out = new Float32Array(B * size(osp) * C);
  const H = sp.length === 2 ? sp[0] : 1,
    W = sp[sp.length - 1];
  const OH = osp.length === 2 ? osp[0] : 1,
    OW = osp[osp.length - 1];
  const ph = sp.length === 2 ? pp[0][0] : 0,
    pw = pp[sp.length - 1][0];
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const ih = oh - sign * ph;
      if (ih < 0 || ih >= H) continue;
      for (let ow = 0; ow < OW; ow++) {
        const iw = ow - sign * pw;
        if (iw < 0 || iw >= W) continue;
        const src = ((b * H + ih) * W + iw) * C;
        out.set(x.data.subarray(src, src + C), ((b * OH + oh) * OW + ow) * C);
      }
    }
  }
  return { shape: [B, ...osp, C], data: out };
}

function makePadCrop(rank: 1 | 2, key: 'padding' | 'cropping'): LayerFn {
  return (node, [x0]) => {
    const cf = node.config.data_format === 'channels_first';
    const x = cf ? toChannelsLast(x0) : x0;
    const pp = pairs(node.config[key] ?? 1, rank, `${node.name}.${key}`);
    const y = padCrop(x, pp, key === 'padding' ? 1 : -1);
    return [cf ? toChannelsFirst(y) : y];
  };
}

export const zeroPad1d = makePadCrop(1, 'padding');
export const zeroPad2d = makePadCrop(2, 'padding');
export const crop1d = makePadCrop(1, 'cropping');
export const crop2d = makePadCrop(2, 'cropping');

function makeUpsample(rank: 1 | 2): LayerFn {
  return (node, [x0]) => {
    const c = node.config;
    if (rank === 2 && c.interpolation && c.interpolation !== 'nearest') {
      throw unsupportedOpt(node.name, node.className, 'interpolation', c.interpolation, 'nearest');
    }
    const cf = c.data_format === 'channels_first';
    const x = cf ? toChannelsLast(x0) : x0;
    const s = tuple(c.size ?? 2, rank, `${node.name}.size`);
    const B = x.shape[0],
      C = x.shape[x.shape.length - 1];
    const H = rank === 2 ? x.shape[1] : 1,
      W = x.shape[rank];
    const sh = rank === 2 ? s[0] : 1,
      sw = s[rank - 1];
    const OH = H * sh,
      OW = W * sw;
    const out = new Float32Array(B * OH * OW * C);
    for (let b = 0; b < B; b++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const src = ((b * H + Math.floor(oh / sh)) * W + Math.floor(ow / sw)) * C;
          out.set(x.data.subarray(src, src + C), ((b * OH + oh) * OW + ow) * C);
        }
    const y = { shape: rank === 2 ? [B, OH, OW, C] : [B, OW, C], data: out };
    return [cf ? toChannelsFirst(y) : y];
  };
}
export const upsample1d = makeUpsample(1);
export const upsample2d = makeUpsample(2);
