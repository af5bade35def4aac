/**
 * DENSE layout 2 (packed weight pairs, assembly/ops/dense.ts densePairs): outputs must be
 * BIT-IDENTICAL to the integer reference and to layout 1 on the same weights, across the
 * runtime's chunk boundaries (508 k per k x4 chunk, a k tail of < 4), remainder rows
 * (outDim % 8), and extreme values (x = -128, |w| = 127 or lane-0 weights of -128, where the
 * 24-bit lane is closest to its bound); prepare refuses words outside the lane-0 range.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { ERR } from '../../tools/blob/spec.ts';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { refDense } from '../../tools/quantize/reference.ts';
import { blockRows4, packPairs8, unpackPairs8 } from '../../tools/quantize/reference-rnn.ts';
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
function denseBlob(inDim: number, outDim: number, weights: Uint8Array | Int8Array, layout: number, bias: number[], validate = true): Uint8Array {
  const b = new BlobBuilder();
  const tin = b.addTensor({ dtype: 1, offset: 0, bytes: inDim });
  const tout = b.addTensor({ dtype: 1, offset: Math.ceil(inDim / 16) * 16, bytes: outDim });
  const shift = -Math.min(31, Math.ceil(Math.log2(inDim * 16384)) - 7);
  b.addOp('DENSE', {
    in: tin,
    out: tout,
    rows: 1,
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
  b.setIO([{ tensor: tin, dims: [1, inDim], scale: 1, zeroPoint: 0 }], [{ tensor: tout, dims: [1, outDim], scale: 1, zeroPoint: 5 }]);
  return b.build({ validate });
}

function run(blob: Uint8Array, x: Int8Array): number[] {
  sim.initOrThrow(blob);
  const got = Array.from(sim.run([x])[0]);
  const p = parseBlob(blob);
  expect(got).toEqual(Array.from(refDense(p.ops[0].params, x, p.consts)));
  return got;
}

describe('DENSE layout 2 (packed weight pairs)', () => {
  it('packPairs8 and unpackPairs8 are inverse; a weight of -128 or K > 2^17 keeps layout 1', () => {
    const r = rng(7);
    for (const [rows, K] of [
      [8, 1],
      [13, 5],
      [24, 33],
      [3, 9],
    ]) {
      const w = Int8Array.from({ length: rows * K }, () => Math.floor(r() * 255) - 127);
      const c = packPairs8(w, rows, K)!;
      expect(c.length).toBe((rows - (rows % 8)) * K * 2 + (rows % 8) * K);
      const pad = new Uint8Array(c.length + 16);
      pad.set(c, 16);
      expect(Array.from(unpackPairs8(pad, 16, rows, K))).toEqual(Array.from(w));
    }
    expect(packPairs8(Int8Array.from([1, -128, 3, 4, 5, 6, 7, 8]), 8, 1)).toBeNull();
    expect(packPairs8(new Int8Array(8), 8, 131073)).toBeNull();
  });

  it('equals the reference and layout 1 across chunk boundaries, k tails, remainder rows and extreme values', () => {
    const r = rng(0x2a1);
    let cases = 0;
    for (const inDim of [1, 3, 4, 7, 16, 100, 507, 508, 509, 511, 512, 513, 640, 1017, 1100])
      for (const outDim of [8, 13, 16, 5])
        for (const mode of ['random', 'max', 'min']) {
          const w = Int8Array.from({ length: outDim * inDim }, (_, i) =>
            mode === 'random' ? Math.floor(r() * 255) - 127 : mode === 'max' ? 127 : i % 2 ? -127 : 127,
          );
          const x = Int8Array.from({ length: inDim }, () => (mode === 'random' ? Math.floor(r() * 256) - 128 : -128));
          const bias = Array.from({ length: outDim }, () => Math.floor(r() * 2000) - 1000);
          const pairs = run(denseBlob(inDim, outDim, packPairs8(w, outDim, inDim)!, 2, bias), x);
          const blocked = run(denseBlob(inDim, outDim, blockRows4(w, outDim, inDim), 1, bias), x);
          expect(pairs, `${inDim} x ${outDim} ${mode}`).toEqual(blocked);
          cases++;
        }
    expect(cases).toBe(180);
  });

  it('lane-0 weights of -128 (valid words, not emitted by the converter) stay exact at 511 k per chunk', () => {
    const inDim = 1100,
      outDim = 8;
    const words = new Int32Array(inDim * 4).fill(-128 + 127 * 2 ** 24);
    const x = new Int8Array(inDim).fill(-128);
    run(denseBlob(inDim, outDim, new Uint8Array(words.buffer), 2, new Array(outDim).fill(0)), x);
  });

  it('prepare refuses a word whose lane 0 is outside [-128, 127], and inDim > 2^17', () => {
    const words = new Int32Array(4 * 4).fill(3);
    words[9] = 200; // lane 0 = 200
    expect(sim.init(denseBlob(4, 8, new Uint8Array(words.buffer), 2, new Array(8).fill(0), false))).toBe(ERR.BAD_PARAMS);
    expect(sim.init(denseBlob(131073, 1, new Int8Array(131073), 2, [0], false))).toBe(ERR.BAD_PARAMS);
    expect(sim.init(denseBlob(131072, 1, new Int8Array(131072), 2, [0]))).toBe(ERR.OK);
  });
});

describe('convert --dense-pairs on a real model', () => {
  const file = join(fixturesDir, 'mltk_autoencoder_nested_sequential/autoencoder_example.h5');
  const have = existsSync(file);
  it.skipIf(!have)('gives byte-identical outputs to layout 1 in both weight modes (flash: 8-row tiles), at about twice the weight bytes', async () => {
    const graph = await buildGraph(await readModel(file), {});
    const runRaw = (blob: Uint8Array, inputs: Uint8Array[]) =>
      runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice());
    const r = rng(11);
    const n = prod(graph.tensors[graph.inputs[0]].shape.map((d) => d ?? 1));
    const inputs = Array.from({ length: 3 }, () => [Uint8Array.from({ length: n }, () => Math.floor(r() * 256))]);
    const outs: Record<string, string[]> = {};
    for (const weights of ['ram', 'flash'] as const)
      for (const densePairs of [false, true]) {
        const res = await convertGraph(graph, { runRaw, weights, densePairs });
        const dense = res.lowered.ops.filter((o) => o.name === 'DENSE');
        expect(dense.length).toBeGreaterThan(0);
        if (densePairs) expect(dense.some((o) => o.params.layout === 2)).toBe(true);
        const s = await DeviceSim.load(undefined, { weights });
        expect(s.init(res.blob), s.lastError).toBe(ERR.OK);
        expect(s.selfTest()).toBe(ERR.OK);
        outs[`${weights} ${densePairs}`] = inputs.map((set) => {
          const got = s.run(set).map((o) => Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString('hex'));
          const ref = runBlobReference(res.blob, set).map((o) => Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString('hex'));
          expect(got).toEqual(ref);
          return got.join('|');
        });
        outs[`bytes ${weights} ${densePairs}`] = [String(res.constBytes)];
      }
    // a small staging area splits the layout-2 ops into tiles of multiples of 8 rows, the last
    // tile of the 36-unit layer with its 4 remainder rows
    const tiled = await convertGraph(graph, { runRaw, weights: 'flash', densePairs: true, staging: 2400 });
    const tiles = tiled.lowered.ops.filter((o) => o.name === 'DENSE' && o.params.layout === 2).map((o) => Number(o.params.outDim));
    expect(tiles.length).toBeGreaterThan(8);
    expect(tiles.some((n) => n % 8 !== 0)).toBe(true);
    const st = await DeviceSim.load(undefined, { weights: 'flash' });
    expect(st.init(tiled.blob), st.lastError).toBe(ERR.OK);
    outs['flash tiled'] = inputs.map((set) =>
      st
        .run(set)
        .map((o) => Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString('hex'))
        .join('|'),
    );
    expect(outs['flash tiled']).toEqual(outs['ram false']);
    expect(outs['ram true']).toEqual(outs['ram false']);
    expect(outs['flash true']).toEqual(outs['ram false']);
    expect(outs['flash false']).toEqual(outs['ram false']);
    const ratio = Number(outs['bytes ram true'][0]) / Number(outs['bytes ram false'][0]);
    expect(ratio).toBeGreaterThan(1.5);
  });
});
