/**
 * Convolutions (channels_last internally; channels_first inputs are transposed in and out):
 * Conv1D/2D (valid/same/causal, strides, dilation, groups), DepthwiseConv1D/2D, SeparableConv1D/2D.
 * 1-D layers run as 2-D with H = 1 (kernels [k, ...] viewed as [1, k, ...]).
 */
import type { FloatTensor, IRNode } from '../../graph/ir.ts';
import type { LayerFn } from '../types.ts';
import { applyActivation } from '../activations.ts';
import { toChannelsFirst, toChannelsLast, tuple, unsupportedOpt } from '../tensor.ts';
import { matmulLast, weight } from './core.ts';

export interface PadInfo {
  out: number;
  before: number;
}

/** Output length and leading pad of one spatial dim, TF style (same: extra pad at the end). */
export function padInfo(n: number, k: number, s: number, d: number, mode: string): PadInfo {
  const dk = (k - 1) * d + 1;
  if (mode === 'valid') return { out: Math.max(Math.floor((n - dk) / s) + 1, 0), before: 0 };
  if (mode === 'same') {
    const out = Math.ceil(n / s);
    const total = Math.max((out - 1) * s + dk - n, 0);
    return { out, before: Math.floor(total / 2) };
  }
  if (mode === 'causal') return { out: Math.floor((n - 1) / s) + 1, before: dk - 1 };
  throw new Error(`padding ${mode}`);
}

interface Geom {
  B: number;
  H: number;
  W: number;
  C: number;
  kh: number;
  kw: number;
  ph: PadInfo;
  pw: PadInfo;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
}

function geometry(x: FloatTensor, kh: number, kw: number, str: number[], dil: number[], pad: string[]): Geom {
  const [B, H, W, C] = x.shape;
  return {
    B,
    H,
    W,
    C,
    kh,
    kw,
    ph: padInfo(H, kh, str[0], dil[0], pad[0]),
    pw: padInfo(W, kw, str[1], dil[1], pad[1]),
    sh: str[0],
    sw: str[1],
    dh: dil[0],
    dw: dil[1],
  };
}

/** Grouped conv: x [B,H,W,C], kernel [kh,kw,C/groups,F]. */
function conv2dCore(x: FloatTensor, kernel: FloatTensor, g: Geom, groups: number, bias?: FloatTensor): FloatTensor {
  const { B, H, W, C, kh, kw, ph, pw, sh, sw, dh, dw } = g;
  const cpg = kernel.shape[2];
  const F = kernel.shape[3];
  if (cpg * groups !== C) throw new Error(`conv: kernel in-channels ${cpg}*${groups} != input channels ${C}`);
  const fpg = F / groups;
  const OH = ph.out,
    OW = pw.out;
  const out = new Float32Array(B * OH * OW * F);
  const acc = new Float64Array(F);
  const K = kernel.data;
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        if (bias) for (let f = 0; f < F; f++) acc[f] = bias.data[f];
        else acc.fill(0);
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh - ph.before + i * dh;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < kw; j++) {
            const iw = ow * sw - pw.before + j * dw;
            if (iw < 0 || iw >= W) continue;
            const xo = ((b * H + ih) * W + iw) * C;
            const ko = (i * kw + j) * cpg * F;
            for (let gi = 0; gi < groups; gi++) {
              for (let c = 0; c < cpg; c++) {
                const xv = x.data[xo + gi * cpg + c];
                if (xv === 0) continue;
                const kr = ko + c * F + gi * fpg;
                for (let f = 0; f < fpg; f++) acc[gi * fpg + f] += xv * K[kr + f];
              }
            }
          }
        }
        out.set(acc, ((b * OH + oh) * OW + ow) * F);
      }
    }
  }
  return { shape: [B, OH, OW, F], data: out };
}

/**
 * Depthwise conv: x [B,H,W,C], kernel [kh,kw,C,dm] -> [B,OH,OW,C*dm] (channel c*dm+m). It is the
 * grouped conv with groups = C: the kernel viewed as [kh,kw,1,C*dm] has the same memory layout.
 */
function depthwiseCore(x: FloatTensor, kernel: FloatTensor, g: Geom, bias?: FloatTensor): FloatTensor {
  const [kh, kw, C, dm] = kernel.shape;
  return conv2dCore(x, { shape: [kh, kw, 1, C * dm], data: kernel.data }, g, C, bias);
}

type Kind = 'conv' | 'depthwise' | 'separable';

function makeConv(rank: 1 | 2, kind: Kind): LayerFn {
  return (node: IRNode, [x0]) => {
    const c = node.config;
    const cf = c.data_format === 'channels_first';
    let x = cf ? toChannelsLast(x0) : x0;
    const padding: string = String(c.padding ?? 'valid').toLowerCase();
    if (padding === 'causal' && rank !== 1) throw unsupportedOpt(node.name, node.className, 'padding', padding, 'valid, same');
    if (!['valid', 'same', 'causal'].includes(padding)) {
      throw unsupportedOpt(node.name, node.className, 'padding', c.padding, 'valid, same, causal (1-D)');
    }
    const ks = tuple(c.kernel_size, rank, `${node.name}.kernel_size`);
    const st = tuple(c.strides ?? 1, rank, `${node.name}.strides`);
    const dl = tuple(c.dilation_rate ?? 1, rank, `${node.name}.dilation_rate`);
    let kh: number, kw: number, str: number[], dil: number[], pads: string[];
    if (rank === 1) {
      x = { shape: [x.shape[0], 1, x.shape[1], x.shape[2]], data: x.data };
      kh = 1;
      kw = ks[0];
      str = [1, st[0]];
      dil = [1, dl[0]];
      pads = ['valid', padding];
    } else {
      [kh, kw] = ks;
      str = st;
      dil = dl;
      pads = [padding, padding];
    }
    const g = geometry(x, kh, kw, str, dil, pads);
    const useBias = c.use_bias !== false;
    const bias = useBias ? weight(node, 'bias', true) : undefined;
    const view4 = (k: FloatTensor) => (rank === 1 ? { shape: [1, ...k.shape], data: k.data } : k);
    let y: FloatTensor;
    if (kind === 'conv') {
      y = conv2dCore(x, view4(weight(node, 'kernel')!), g, c.groups ?? 1, bias);
    } else if (kind === 'depthwise') {
      y = depthwiseCore(x, view4(weight(node, 'depthwise_kernel')!), g, bias);
    } else {
      const d = depthwiseCore(x, view4(weight(node, 'depthwise_kernel')!), g);
      const pk = weight(node, 'pointwise_kernel')!;
      const F = pk.shape[pk.shape.length - 1];
      y = matmulLast(d, { shape: [pk.data.length / F, F], data: pk.data }, bias);
    }
    if (rank === 1) y = { shape: [y.shape[0], y.shape[2], y.shape[3]], data: y.data };
    y = applyActivation(c.activation, y);
    return [cf ? toChannelsFirst(y) : y];
  };
}

export const conv1d = makeConv(1, 'conv');
export const conv2d = makeConv(2, 'conv');
export const depthwiseConv1d = makeConv(1, 'depthwise');
export const depthwiseConv2d = makeConv(2, 'depthwise');
export const separableConv1d = makeConv(1, 'separable');
export const separableConv2d = makeConv(2, 'separable');
