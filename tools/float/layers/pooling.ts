/** Max/Average pooling 1D/2D (valid/same; same-average counts only valid cells) and global pooling. */
import type { FloatTensor } from '../../graph/ir.ts';
import type { LayerFn } from '../types.ts';
import { toChannelsFirst, toChannelsLast, tuple, unsupportedOpt } from '../tensor.ts';
import { padInfo } from './conv.ts';

function makePool(rank: 1 | 2, max: boolean): LayerFn {
  return (node, [x0]) => {
    const c = node.config;
    const cf = c.data_format === 'channels_first';
    const x = cf ? toChannelsLast(x0) : x0;
    const padding = String(c.padding ?? 'valid').toLowerCase();
    if (padding !== 'valid' && padding !== 'same') throw unsupportedOpt(node.name, node.className, 'padding', c.padding, 'valid, same');
    const ps = tuple(c.pool_size ?? 2, rank, `${node.name}.pool_size`);
    const st = c.strides == null ? ps : tuple(c.strides, rank, `${node.name}.strides`);
    let B: number, H: number, W: number, C: number, kh: number, kw: number, sh: number, sw: number;
    if (rank === 1) {
      [B, W, C] = x.shape;
      H = 1;
      kh = 1;
      kw = ps[0];
      sh = 1;
      sw = st[0];
    } else {
      [B, H, W, C] = x.shape;
      [kh, kw] = ps;
      [sh, sw] = st;
    }
    const ph = padInfo(H, kh, sh, 1, rank === 1 ? 'valid' : padding);
    const pw = padInfo(W, kw, sw, 1, padding);
    const OH = ph.out,
      OW = pw.out;
    const out = new Float32Array(B * OH * OW * C);
    for (let b = 0; b < B; b++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const o = ((b * OH + oh) * OW + ow) * C;
          for (let ch = 0; ch < C; ch++) {
            let acc = max ? -Infinity : 0;
            let cnt = 0;
            for (let i = 0; i < kh; i++) {
              const ih = oh * sh - ph.before + i;
              if (ih < 0 || ih >= H) continue;
              for (let j = 0; j < kw; j++) {
                const iw = ow * sw - pw.before + j;
                if (iw < 0 || iw >= W) continue;
                const v = x.data[((b * H + ih) * W + iw) * C + ch];
                if (max) acc = v > acc ? v : acc;
                else acc += v;
                cnt++;
              }
            }
            out[o + ch] = max ? acc : acc / cnt;
          }
        }
      }
    }
    const y: FloatTensor = { shape: rank === 1 ? [B, OW, C] : [B, OH, OW, C], data: out };
    return [cf ? toChannelsFirst(y) : y];
  };
}

export const maxPool1d = makePool(1, true);
export const maxPool2d = makePool(2, true);
export const avgPool1d = makePool(1, false);
export const avgPool2d = makePool(2, false);

function makeGlobal(max: boolean): LayerFn {
  return (node, [x0], ctx) => {
    const c = node.config;
    const x = c.data_format === 'channels_first' ? toChannelsLast(x0) : x0;
    // Keras GlobalAveragePooling1D averages only the unmasked steps (Embedding(mask_zero) -> GAP)
    const mask = !max && x0.shape.length === 3 && c.data_format !== 'channels_first' ? (ctx.inMasks[0] ?? null) : null;
    if (mask) {
      const [B, T, C] = x.shape;
      const out = new Float32Array(B * C);
      for (let b = 0; b < B; b++) {
        let n = 0;
        const acc = new Float64Array(C);
        for (let t = 0; t < T; t++) {
          if (!mask.data[b * T + t]) continue;
          n++;
          for (let ch = 0; ch < C; ch++) acc[ch] += x.data[(b * T + t) * C + ch];
        }
        for (let ch = 0; ch < C; ch++) out[b * C + ch] = acc[ch] / n;
      }
      return [{ shape: c.keepdims ? [B, 1, C] : [B, C], data: out }];
    }
    const B = x.shape[0];
    const C = x.shape[x.shape.length - 1];
    const S = x.data.length / (B * C);
    const out = new Float32Array(B * C);
    for (let b = 0; b < B; b++) {
      for (let ch = 0; ch < C; ch++) {
        let acc = max ? -Infinity : 0;
        for (let s = 0; s < S; s++) {
          const v = x.data[(b * S + s) * C + ch];
          if (max) acc = v > acc ? v : acc;
          else acc += v;
        }
        out[b * C + ch] = max ? acc : acc / S;
      }
    }
    let shape = [B, C];
    if (c.keepdims) {
      const ones = new Array(x0.shape.length - 2).fill(1);
      shape = c.data_format === 'channels_first' ? [B, C, ...ones] : [B, ...ones, C];
    }
    return [{ shape, data: out }];
  };
}

export const globalMaxPool = makeGlobal(true);
export const globalAvgPool = makeGlobal(false);
