/**
 * DENSE layout 2 (offset-binary bytes in 8-row blocks, assembly/ops/dense.ts denseU8): outputs
 * must be BIT-IDENTICAL to the integer reference and to layout 1 on the same weights, across k
 * tails (< 4), remainder rows (outDim % 8), the input sum's 8-byte loads and tail, rows > 1, and
 * extreme values (x = -128 with w = -128 or 127 at inDim 65535, where a 32-bit lane is closest to
 * its bound); prepare refuses inDim > 65535. The input sum is computed once for ops in a row over
 * the same input (flash tiles), and again after anything else ran.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { ERR } from '../../tools/blob/spec.ts';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { refDense } from '../../tools/quantize/reference.ts';
import { blockRows4, blockRows8u, unblockRows8u } from '../../tools/quantize/reference-rnn.ts';
import { rng } from '../helpers/opgen.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir } from '../helpers/fixtures.ts';
import { readModel } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import { convertGraph } from '../../tools/pipeline.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { prod } from '../../tools/quantize/lower-util.ts';

let sim: DeviceSim;
beforeAll(async () => {
  sim = await DeviceSim.load();
});

/** one-op DENSE blob; shift chosen so that |acc| up to inDim * 2^14 stays unsaturated */
function denseBlob(inDim: number, outDim: number, weights: Uint8Array | Int8Array, layout: number, bias: number[], validate = true, rows = 1): Uint8Array {
  const b = new BlobBuilder();
  const tin = b.addTensor({ dtype: 1, offset: 0, bytes: rows * inDim });
  const tout = b.addTensor({ dtype: 1, offset: Math.ceil((rows * inDim) / 16) * 16, bytes: rows * outDim });
  const shift = -Math.min(31, Math.ceil(Math.log2(inDim * 16384)) - 7);
  b.addOp('DENSE', {
    in: tin,
    out: tout,
    rows,
    inDim,
    outDim,
    weights: b.addConst(weights),
    bias: b.addConstI32(bias),
    mult: b.addConstI32(new Array(outDim).fill(1 << 30)),
    shift: b.addConstI8(new Array(outDim).fill(shift)),
    zpOut: 5,
    actMin: -128,
    actMax: 127,
    lut: -1,
    layout,
  });
  b.setIO([{ tensor: tin, dims: [rows, inDim], scale: 1, zeroPoint: 0 }], [{ tensor: tout, dims: [rows, outDim], scale: 1, zeroPoint: 5 }]);
  return b.build({ validate });
}

function run(blob: Uint8Array, x: Int8Array): number[] {
  sim.initOrThrow(blob);
  const got = Array.from(sim.run([x])[0]);
  const p = parseBlob(blob);
  expect(got).toEqual(Array.from(refDense(p.ops[0].params, x, p.consts)));
  return got;
}

describe('DENSE layout 2 (offset-binary 8-row blocks)', () => {
  it('blockRows8u and unblockRows8u are inverse, one byte per weight; K > 65535 keeps layout 1', () => {
    const r = rng(7);
    for (const [rows, K] of [
      [8, 1],
      [13, 5],
      [24, 33],
      [3, 9],
    ]) {
      const w = Int8Array.from({ length: rows * K }, () => Math.floor(r() * 256) - 128);
      const c = blockRows8u(w, rows, K)!;
      expect(c.length).toBe(rows * K);
      const pad = new Uint8Array(c.length + 16);
      pad.set(c, 16);
      expect(Array.from(unblockRows8u(pad, 16, rows, K))).toEqual(Array.from(w));
    }
    // block 0, k 0: rows 0..7 as u = w + 128
    expect(Array.from(blockRows8u(Int8Array.from([-128, 127, 0, -1, 1, 5, -5, 64]), 8, 1)!)).toEqual([0, 255, 128, 127, 129, 133, 123, 192]);
    expect(blockRows8u(new Int8Array(8), 8, 65536)).toBeNull();
  });

  it('equals the reference and layout 1 across k tails, input-sum tails, remainder rows, rows > 1 and extreme values', () => {
    const r = rng(0x2a1);
    let cases = 0;
    for (const inDim of [1, 3, 4, 7, 8, 9, 16, 100, 511, 640, 1017])
      for (const outDim of [8, 13, 16, 5, 24])
        for (const mode of ['random', 'max', 'min']) {
          const rows = mode === 'random' && inDim % 2 ? 3 : 1;
          const w = Int8Array.from({ length: outDim * inDim }, (_, i) =>
            mode === 'random' ? Math.floor(r() * 256) - 128 : mode === 'max' ? 127 : i % 2 ? -128 : 127,
          );
          const x = Int8Array.from({ length: rows * inDim }, () => (mode === 'random' ? Math.floor(r() * 256) - 128 : -128));
          const bias = Array.from({ length: outDim }, () => Math.floor(r() * 2000) - 1000);
          const u8 = run(denseBlob(inDim, outDim, blockRows8u(w, outDim, inDim)!, 2, bias, true, rows), x);
          const blocked = run(denseBlob(inDim, outDim, blockRows4(w, outDim, inDim), 1, bias, true, rows), x);
          expect(u8, `${rows} x ${inDim} x ${outDim} ${mode}`).toEqual(blocked);
          cases++;
        }
    expect(cases).toBe(165);
  });

  it('stays exact at the lane bound: inDim 65535, x = -128, every weight 127 (u = 255: lane sums of -128 * 255 * 65535 = -2^31 + 2^23) or -128', () => {
    const inDim = 65535;
    for (const wv of [-128, 127]) {
      const w = new Int8Array(8 * inDim).fill(wv);
      const x = new Int8Array(inDim).fill(-128);
      // acc = 65535 * -128 * wv: the shift of denseBlob keeps it unsaturated
      run(denseBlob(inDim, 8, blockRows8u(w, 8, inDim)!, 2, new Array(8).fill(0)), x);
    }
  });

  it('prepare refuses inDim > 65535', () => {
    expect(sim.init(denseBlob(65536, 8, new Uint8Array(8 * 65536), 2, new Array(8).fill(0), false))).toBe(ERR.BAD_PARAMS);
    expect(sim.init(denseBlob(65535, 8, new Uint8Array(8 * 65535), 2, new Array(8).fill(0)))).toBe(ERR.OK);
  });
});

/** Two DENSE ops over the same input tensor (as flash tiles are), then one over another tensor. */
function twoOpBlob(inDim: number, w1: Int8Array, w2: Int8Array, outDim: number): Uint8Array {
  const b = new BlobBuilder();
  const pad = (n: number) => Math.ceil(n / 16) * 16;
  const tin = b.addTensor({ dtype: 1, offset: 0, bytes: inDim });
  const t1 = b.addTensor({ dtype: 1, offset: pad(inDim), bytes: outDim });
  const t2 = b.addTensor({ dtype: 1, offset: pad(inDim) + pad(outDim), bytes: outDim });
  const t3 = b.addTensor({ dtype: 1, offset: pad(inDim) + 2 * pad(outDim), bytes: outDim });
  const op = (i: number, o: number, w: Int8Array, K: number) =>
    b.addOp('DENSE', {
      in: i,
      out: o,
      rows: 1,
      inDim: K,
      outDim,
      weights: b.addConst(blockRows8u(w, outDim, K)!),
      bias: -1,
      mult: b.addConstI32(new Array(outDim).fill(1 << 30)),
      shift: b.addConstI8(new Array(outDim).fill(-9)),
      zpOut: 0,
      actMin: -128,
      actMax: 127,
      lut: -1,
      layout: 2,
    });
  op(tin, t1, w1, inDim);
  op(tin, t2, w2, inDim);
  op(t1, t3, w2.subarray(0, outDim * outDim), outDim);
  b.setIO(
    [{ tensor: tin, dims: [1, inDim], scale: 1, zeroPoint: 0 }],
    [t1, t2, t3].map((t) => ({ tensor: t, dims: [1, outDim], scale: 1, zeroPoint: 0 })),
  );
  return b.build();
}

describe('DENSE layout 2 input sum across ops and invokes', () => {
  it('ops in a row over one input, the next op over another, and new inputs on every invoke give the reference outputs', () => {
    const r = rng(0x51);
    const inDim = 40,
      outDim = 16;
    const w1 = Int8Array.from({ length: outDim * inDim }, () => Math.floor(r() * 256) - 128);
    const w2 = Int8Array.from({ length: outDim * inDim }, () => Math.floor(r() * 256) - 128);
    const blob = twoOpBlob(inDim, w1, w2, outDim);
    sim.initOrThrow(blob);
    for (let t = 0; t < 4; t++) {
      const x = Int8Array.from({ length: inDim }, () => Math.floor(r() * 256) - 128);
      const got = sim.run([x]).map((o) => Array.from(o));
      const want = runBlobReference(blob, [new Uint8Array(x.buffer)]).map((o) => Array.from(new Int8Array(o.buffer, o.byteOffset, o.byteLength)));
      expect(got, `invoke ${t}`).toEqual(want);
    }
  });
});

describe('layout 2 on a real model', () => {
  const file = join(fixturesDir, 'mltk_autoencoder_nested_sequential/autoencoder_example.h5');
  const have = existsSync(file);
  it.skipIf(!have)(
    'is what convert writes for Dense layers of 8 or more units (layout 1 for WAMR classic), with the reference outputs in both weight modes and in 8-row flash tiles',
    async () => {
      const graph = await buildGraph(await readModel(file), {});
      const runRaw = (blob: Uint8Array, inputs: Uint8Array[]) =>
        runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice());
      const r = rng(11);
      const n = prod(graph.tensors[graph.inputs[0]].shape.map((d) => d ?? 1));
      const inputs = Array.from({ length: 3 }, () => [Uint8Array.from({ length: n }, () => Math.floor(r() * 256))]);
      const hex = (o: ArrayBufferView) => Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString('hex');
      const outs: Record<string, string[]> = {};
      // a small staging area splits the layout-2 ops into tiles of multiples of 8 rows, the last
      // tile of the 36-unit layer with its 4 remainder rows
      for (const [key, opts] of [
        ['ram', { weights: 'ram' }],
        ['flash', { weights: 'flash' }],
        ['tiled', { weights: 'flash', staging: 2400 }],
        // tuned for WAMR's classic interpreter: every Dense layer at layout 1, the same outputs
        ['classic', { weights: 'ram', interpreter: 'wamr-classic' }],
      ] as const) {
        const res = await convertGraph(graph, { runRaw, ...opts });
        const dense = res.lowered.ops.filter((o) => o.name === 'DENSE');
        const layout2 = (outDim: number) => key !== 'classic' && (outDim >= 8 || key === 'tiled');
        for (const o of dense) expect(o.params.layout, `${key} outDim ${o.params.outDim}`).toBe(layout2(Number(o.params.outDim)) ? 2 : 1);
        if (key === 'tiled') {
          const tiles = dense.map((o) => Number(o.params.outDim));
          expect(tiles.length).toBeGreaterThan(8);
          expect(tiles.some((t) => t % 8 !== 0)).toBe(true);
        }
        const s = await DeviceSim.load(undefined, { weights: opts.weights });
        expect(s.init(res.blob), s.lastError).toBe(ERR.OK);
        expect(s.selfTest()).toBe(ERR.OK);
        outs[key] = inputs.map((set) => {
          const got = s.run(set).map(hex);
          expect(got).toEqual(runBlobReference(res.blob, set).map(hex));
          return got.join('|');
        });
      }
      expect(outs.flash).toEqual(outs.ram);
      expect(outs.tiled).toEqual(outs.ram);
      expect(outs.classic).toEqual(outs.ram);
    },
  );
});
