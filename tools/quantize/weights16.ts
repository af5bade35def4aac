/**
 * int16 weights (16x16, `convert --weight-precision int16`): per-channel symmetric int16
 * weights and the int64 bias of DENSE layout 3 (tools/blob/spec.ts). Used only where the layer's
 * activations are int16 too; the accumulator is then exact in int64 (assembly/ops/dense16w.ts).
 */
import type { ConstRef, LOp } from './lower-util.ts';

/** round half away from zero (TFLite's TfLiteRound) */
const roundHalfAway = (v: number): number => Math.sign(v) * Math.round(Math.abs(v));

/** The weight precision `convert --weight-precision` takes. */
export type WeightPrecision = 'int8' | 'int16';
export const WEIGHT_PRECISIONS: readonly WeightPrecision[] = ['int8', 'int16'];

/** |bias| bound of DENSE layout 3 (the runtime's init check; with inDim <= 65536 no int64 wraps). */
const BIAS64_LIMIT = 2 ** 46;
/** inDim bound of DENSE layout 3. */
export const W16_MAX_IN = 65536;

export interface PerChannelWeights16 {
  q: Int16Array;
  scales: Float64Array;
}

/** Per-output-channel symmetric int16: scale = max|w| / 32767, q in [-32767, 32767] (w as quantizeWeightsPerChannel takes it). */
export function quantizeWeights16(w: ArrayLike<number>, channels: number): PerChannelWeights16 {
  const per = w.length / channels;
  const q = new Int16Array(w.length);
  const scales = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(w[c * per + i]));
    const scale = m > 0 ? m / 32767 : 1;
    scales[c] = scale;
    for (let i = 0; i < per; i++) {
      const v = roundHalfAway(w[c * per + i] / scale);
      q[c * per + i] = v < -32767 ? -32767 : v > 32767 ? 32767 : v;
    }
  }
  return { q, scales };
}

/** The int64 bias round(b / (sIn * sW[c])), saturated to +-2^46 (zero points are 0: nothing folded); null bias: zeros. */
export function bias64(bias: ArrayLike<number> | null, scales: Float64Array, sIn: number): BigInt64Array {
  return BigInt64Array.from(scales, (s, c) => {
    const b = bias ? roundHalfAway(bias[c] / (sIn * s)) : 0;
    return BigInt(Math.max(-BIAS64_LIMIT, Math.min(BIAS64_LIMIT, b)));
  });
}

export function constI64(a: BigInt64Array, what: string): ConstRef {
  const b = new Uint8Array(a.length * 8);
  const dv = new DataView(b.buffer);
  a.forEach((v, i) => dv.setBigInt64(i * 8, v, true));
  return { kind: 'const', bytes: b, align: 16, what };
}

/** Flash bytes int16 weights add over int8 weights: one per weight, four per bias. */
export function w16ExtraBytes(inDim: number, units: number): number {
  return inDim * units + 4 * units;
}

/** Whether op has int16 weights: DENSE layout 3, CONV2D layout 2. */
export function hasW16(op: LOp): boolean {
  return (op.name === 'DENSE' && op.params.layout === 3) || (op.name === 'CONV2D' && op.params.layout === 2);
}

/** [channels, weights per channel] of a DENSE or CONV2D op */
function matrixOf(op: LOp): [number, number] {
  const p = op.params as Record<string, number>;
  return op.name === 'DENSE' ? [p.outDim, p.inDim] : [p.outC, p.kH * p.kW * p.inC];
}

const KiB = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

/**
 * convert's notes for --weight-precision int16: which ops got int16 weights and the flash they add,
 * and which Dense/Conv layers kept int8 weights (int8 activations, groups, depthwise, more than 65536
 * products per output).
 */
export function weightNotes(ops: LOp[]): string[] {
  const cand = ops.filter((o) => o.name === 'DENSE' || o.name === 'CONV2D' || o.name === 'DEPTHWISE_CONV2D');
  const wide = cand.filter(hasW16);
  const extra = wide.reduce((a, o) => {
    const [ch, per] = matrixOf(o);
    return a + w16ExtraBytes(per, ch);
  }, 0);
  const notes: string[] = [];
  if (wide.length) notes.push(`int16 weights (16x16) in ${wide.length} Dense/Conv op(s): +${KiB(extra)} of flash (2 bytes a weight, int64 bias)`);
  const kept = cand.filter((o) => !hasW16(o)).map((o) => `'${o.layer}'`);
  if (kept.length)
    notes.push(`int16 weights asked, int8 kept (int8 activations, grouped or depthwise conv, or over ${W16_MAX_IN} products per output): ${kept.join(', ')}`);
  return notes;
}
