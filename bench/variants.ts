/**
 * What-if blobs for kernel measurements: the same model with a different (already supported)
 * weight layout, so the benchmark can measure a kernel path the converter does not emit yet.
 * Outputs must stay bit-identical (run.ts checks before counting).
 */
import { parseBlob } from '../tools/blob/parse.ts';
import { crc32 } from '../tools/blob/crc32.ts';
import { HEADER } from '../tools/blob/spec.ts';

/**
 * Every DENSE op with layout 0 ([outDim][inDim]) rewritten to layout 1: blocks of 4 output rows
 * interleaved [outDim/4][inDim][4], remainder rows row-major after the blocks (tools/blob/spec.ts).
 * Returns null when no op changes.
 */
export function denseBlockedVariant(blob: Uint8Array): Uint8Array | null {
  const m = parseBlob(blob);
  const out = blob.slice();
  const dv = new DataView(out.buffer);
  const constsOff = dv.getUint32(HEADER.constsOff, true);
  let changed = 0;
  for (const op of m.ops) {
    if (op.name !== 'DENSE') continue;
    const p = op.params as Record<string, number>;
    if (p.layout !== 0 || p.outDim < 4) continue;
    const K = p.inDim,
      N = p.outDim;
    const w0 = constsOff + p.weights;
    const src = blob.subarray(w0, w0 + N * K);
    const dst = out.subarray(w0, w0 + N * K);
    const blocks = N >> 2;
    for (let b = 0; b < blocks; b++) for (let k = 0; k < K; k++) for (let j = 0; j < 4; j++) dst[b * 4 * K + k * 4 + j] = src[(b * 4 + j) * K + k];
    dst.set(src.subarray(blocks * 4 * K), blocks * 4 * K);
    const layoutIdx = 13; // DENSE params: ... 'lut', 'layout'
    dv.setInt32(op.offset + 4 + layoutIdx * 4, 1, true);
    changed++;
  }
  if (!changed) return null;
  const total = dv.getUint32(HEADER.totalSize, true);
  dv.setUint32(HEADER.crc32, crc32(out, 16, total), true);
  return out;
}
