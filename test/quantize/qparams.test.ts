import { describe, expect, it } from 'vitest';
import { activationRange, asymmetricQParams, buildLut, foldBias, quantizeWeightsPerChannel, softmaxTable } from '../../tools/quantize/qparams.ts';

describe('quantisation parameters (TFLite legacy quantizer)', () => {
  it('activations: range widened to 0, scale (max-min)/255 in float32, zp = round(-128 - min/scale)', () => {
    const q = asymmetricQParams(-1, 3);
    expect(q.scale).toBe(Math.fround(4 / 255));
    expect(q.zeroPoint).toBe(-64); // -128 + 1/(4/255) = -64.25 -> -64
    const pos = asymmetricQParams(0.5, 2); // widened to [0, 2]
    expect(pos.scale).toBe(Math.fround(2 / 255));
    expect(pos.zeroPoint).toBe(-128);
    const neg = asymmetricQParams(-6, -1); // widened to [-6, 0]
    expect(neg.zeroPoint).toBe(127);
    expect(asymmetricQParams(0, 0)).toEqual({ scale: 1 / 256, zeroPoint: 0 });
    // zero is exactly representable
    for (const [a, b] of [
      [-0.37, 5.1],
      [-12, 0.01],
      [-1, 1],
    ]) {
      const p = asymmetricQParams(a, b);
      expect(Number.isInteger(p.zeroPoint)).toBe(true);
      expect(p.zeroPoint).toBeGreaterThanOrEqual(-128);
      expect(p.zeroPoint).toBeLessThanOrEqual(127);
    }
  });

  it('weights: symmetric per channel in [-127, 127]', () => {
    const w = [0.5, -1, 0.25, /* ch1 */ 2, 0, -0.5, /* ch2 */ 0, 0, 0];
    const { q, scales } = quantizeWeightsPerChannel(w, 3);
    expect(Array.from(q)).toEqual([64, -127, 32, 127, 0, -32, 0, 0, 0]);
    expect(scales[0]).toBe(Math.fround(1 / 127));
    expect(scales[1]).toBe(Math.fround(2 / 127));
    expect(scales[2]).toBe(1);
  });

  it('bias: round(b/(sIn*sW)) - zpIn*sum(w), int32 wrap', () => {
    const wq = Int8Array.from([10, -20, 30, 1, 1, 1]);
    const scales = Float64Array.from([0.01, 0.02]);
    const b = foldBias([0.5, -0.25], wq, scales, 0.1, -5);
    expect(Array.from(b)).toEqual([Math.round(0.5 / 0.001) + 5 * 20, -125 + 5 * 3]);
    const wrap = foldBias(null, Int8Array.from([127, 127]), Float64Array.from([1]), 1, -(2 ** 24));
    expect(wrap[0]).toBe((2 ** 24 * 254) | 0);
  });

  it('activation clamp ranges', () => {
    const q = { scale: 0.05, zeroPoint: -100 };
    expect(activationRange('linear', q)).toEqual([-128, 127]);
    expect(activationRange('relu', q)).toEqual([-100, 127]);
    expect(activationRange('relu6', q)).toEqual([-100, 20]);
    expect(activationRange({ min: 0, max: 2 }, q)).toEqual([-100, -60]);
  });

  it('LUT and softmax table', () => {
    const inQ = { scale: 0.1, zeroPoint: 0 };
    const outQ = { scale: 1 / 256, zeroPoint: -128 };
    const t = buildLut((x) => 1 / (1 + Math.exp(-x)), inQ, outQ);
    expect(t[128]).toBe(0); // sigmoid(0) = 0.5 -> 128 - 128
    expect(t[0]).toBe(-128 + Math.round(256 / (1 + Math.exp(12.8))));
    expect(t[255]).toBe(127); // clamps
    const s = softmaxTable(0.1);
    expect(s[0]).toBe(1 << 20);
    expect(s[10]).toBe(Math.round(2 ** 20 * Math.exp(-1)));
  });
});
