/**
 * Per-op scratch of CONV2D's two-position pass (assembly/ops/conv2d.ts, dense.ts densePairs):
 * an int8 CONV2D in layout 1 with dilW 1, outC % 4 == 0 and K = kH*kW*inC <= 2^17 packs the
 * input pairs x[k] + 2^32 * x'[k] of two neighbouring output positions into the header's
 * scratch region, 8 bytes per tap with K rounded up to a multiple of 4 (zero pairs), and runs
 * that pass only when the region is large enough (with a smaller one, as in blobs without it,
 * every position runs on its own).
 */

/** The params of a CONV2D op record that decide the pass (numbers as in the blob). */
export interface ConvPairParams {
  layout: number;
  dilW: number;
  outC: number;
  outW: number;
  kH: number;
  kW: number;
  inC: number;
}

/** Largest K of the pass (each lane's sum of |x * w| <= 2^14 stays inside int32). */
const PAIR_MAX_TAPS = 131072;

/** Scratch bytes the CONV2D op needs for the two-position pass, 0 when it cannot take it. */
export function convPairScratch(p: ConvPairParams, int8: boolean): number {
  const K = p.kH * p.kW * p.inC;
  if (!int8 || p.layout !== 1 || p.dilW !== 1 || p.outC % 4 !== 0 || p.outW < 2 || K > PAIR_MAX_TAPS) return 0;
  return 8 * (Math.ceil(K / 4) * 4);
}

/** Header scratchSize of a program: the largest need of its CONV2D ops. */
export function opsScratch(ops: { name: string; params: Record<string, unknown> }[], int8: (tensor: number) => boolean): number {
  let bytes = 0;
  for (const op of ops) {
    if (op.name !== 'CONV2D') continue;
    const p = op.params as unknown as ConvPairParams & { in: number };
    bytes = Math.max(bytes, convPairScratch(p, int8(p.in)));
  }
  return bytes;
}
