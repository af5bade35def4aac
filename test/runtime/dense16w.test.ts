/**
 * DENSE layout 3 and CONV2D layout 2 (int16 weights on int16 activations, assembly/ops/dense16w.ts,
 * wide.ts): outputs must be
 * BIT-IDENTICAL to the integer reference on random shapes (4-row blocks, remainder rows, odd
 * inDim for the k pairs), at the bounds the exactness proof rests on (x = -32768 with |w| = 32767,
 * |bias| = 2^46, inDim = 65536), and equal to layout 0/1 int8-weight DENSE when the int16
 * weights are int8 values times 256 with the bias scaled to match; prepare refuses every blob
 * outside those bounds, with the same code in parseBlob.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { DTYPE, ERR } from '../../tools/blob/spec.ts';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { refDense } from '../../tools/quantize/reference.ts';
import { blockRows4 } from '../../tools/quantize/reference-rnn.ts';
import { randConvW16, randDenseW16, rng } from '../helpers/opgen.ts';
import { caseRng } from '../helpers/fuzz.ts';
import { RuntimeHarness, prepareSeeds, runCampaign, streamable } from '../helpers/fuzz-runtime.ts';

let sim: DeviceSim;
beforeAll(async () => {
  sim = await DeviceSim.load();
});

interface W16Case {
  inDim: number;
  outDim: number;
  /** row-major [outDim][inDim] */
  w: Int16Array;
  bias: bigint[] | null;
  shift: number;
  layout?: number;
  /** byte alignment of the bias const */
  biasAlign?: number;
}

/** one-op DENSE blob on int16 tensors; layout 3 takes int16 weights and int64 bias */
function blob16(c: W16Case, validate = true): Uint8Array {
  const { inDim, outDim } = c;
  const layout = c.layout ?? 3;
  const b = new BlobBuilder();
  const tin = b.addTensor({ dtype: DTYPE.INT16, offset: 0, bytes: 2 * inDim });
  const tout = b.addTensor({ dtype: DTYPE.INT16, offset: Math.ceil((2 * inDim) / 16) * 16, bytes: 2 * outDim });
  const wq = blockRows4(c.w, outDim, inDim);
  const weights = layout === 3 ? b.addConst(wq, 2) : b.addConst(Int8Array.from(layout === 1 ? wq : c.w, (v) => v >> 8));
  let bias = -1;
  if (c.bias && layout === 3) {
    // one byte on an 8-byte boundary first: a 4-aligned bias then sits 4 bytes off an 8-byte boundary
    b.addConst(new Uint8Array(1), 8);
    bias = b.addConst(new Uint8Array(BigInt64Array.from(c.bias).buffer), c.biasAlign ?? 8);
  } else if (c.bias) bias = b.addConstI32(c.bias.map((v) => Number(v >> 8n)));
  b.addOp('DENSE', {
    in: tin,
    out: tout,
    rows: 1,
    inDim,
    outDim,
    weights,
    bias,
    mult: b.addConstI32(new Array(outDim).fill(1 << 30)),
    shift: b.addConstI8(new Array(outDim).fill(c.shift)),
    zpOut: 0,
    actMin: -32768,
    actMax: 32767,
    lut: -1,
    layout,
  });
  b.setIO([{ tensor: tin, dims: [1, inDim], scale: 1, zeroPoint: 0 }], [{ tensor: tout, dims: [1, outDim], scale: 1, zeroPoint: 0 }]);
  b.setPlan({ arenaSize: Math.ceil((2 * inDim) / 16) * 16 + 2 * outDim, stateSize: 0, scratchSize: 0, batch: 1 });
  return b.build({ validate });
}

/** runtime output, checked bit for bit against the reference */
function run(blob: Uint8Array, x: Int16Array): number[] {
  sim.initOrThrow(blob);
  const got = Array.from(sim.run([x])[0]);
  const p = parseBlob(blob);
  expect(got).toEqual(Array.from(refDense(p.ops[0].params, x, p.consts)));
  return got;
}

describe('int16 weights (16x16): DENSE layout 3, CONV2D layout 2', () => {
  it('random shapes, weights, biases, multipliers and LUTs: bit-identical to the reference', () => {
    const r = rng(0x16_16);
    const distinct = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const op = randDenseW16(r);
      expect(sim.init(op.blob), `case ${i}: ${sim.lastError}`).toBe(ERR.OK);
      op.inputs.forEach((x, k) => sim.setInputRaw(k, x));
      expect(sim.invoke()).toBe(ERR.OK);
      const got = sim.getOutputRaw(0);
      const ref = runBlobReference(op.blob, op.inputs)[0];
      expect(got).toBeInstanceOf(Int16Array);
      expect(Array.from(got), `case ${i}`).toEqual(Array.from(ref));
      for (const v of got) distinct.add(v);
    }
    // outputs spread over the int16 range, not only saturated
    expect(distinct.size).toBeGreaterThan(1000);
  });

  it('CONV2D layout 2: refuses groups 2, int8 tensors, kH*kW*inC > 65536 and a weight of -32768', () => {
    const conv = (o: { inC?: number; groups?: number; dtype?: number; w0?: number }) => {
      const { inC = 2, groups = 1, dtype = DTYPE.INT16, w0 = 1 } = o;
      const outC = 2;
      const K = inC / groups;
      const size = dtype === DTYPE.INT16 ? 2 : 1;
      const b = new BlobBuilder();
      const tin = b.addTensor({ dtype, offset: 0, bytes: size * 3 * inC });
      const outOff = Math.ceil((size * 3 * inC) / 16) * 16;
      const tout = b.addTensor({ dtype, offset: outOff, bytes: size * 3 * outC });
      const w = new Int16Array(outC * K).fill(3);
      w[0] = w0;
      b.addOp('CONV2D', {
        in: tin,
        out: tout,
        batch: 1,
        inH: 1,
        inW: 3,
        inC,
        outH: 1,
        outW: 3,
        outC,
        kH: 1,
        kW: 1,
        strideH: 1,
        strideW: 1,
        dilH: 1,
        dilW: 1,
        padTop: 0,
        padLeft: 0,
        zpIn: 0,
        weights: b.addConst(w, 2),
        bias: b.addConst(new Uint8Array(BigInt64Array.from([5n, -5n]).buffer), 8),
        mult: b.addConstI32([1 << 30, 1 << 30]),
        shift: b.addConstI8([-8, -8]),
        zpOut: 0,
        actMin: dtype === DTYPE.INT16 ? -32768 : -128,
        actMax: dtype === DTYPE.INT16 ? 32767 : 127,
        lut: -1,
        groups,
        layout: 2,
      });
      b.setIO([{ tensor: tin, dims: [1, 3 * inC], scale: 1, zeroPoint: 0 }], [{ tensor: tout, dims: [1, 3 * outC], scale: 1, zeroPoint: 0 }]);
      b.setPlan({ arenaSize: outOff + size * 3 * outC, stateSize: 0, scratchSize: 0, batch: 1 });
      return b.build({ validate: false });
    };
    expect(sim.init(conv({}))).toBe(ERR.OK);
    expect(sim.init(conv({ inC: 65536 }))).toBe(ERR.OK);
    for (const [what, blob] of [
      ['groups 2', conv({ groups: 2 })],
      ['int8 tensors', conv({ dtype: DTYPE.INT8 })],
      ['K 65537', conv({ inC: 65537 })],
      ['weight -32768', conv({ w0: -32768 })],
    ] as [string, Uint8Array][]) {
      expect(sim.init(blob), what).toBe(ERR.BAD_PARAMS);
      expect(() => parseBlob(blob), what).toThrow(expect.objectContaining({ code: ERR.BAD_PARAMS }));
    }
  });

  it('CONV2D layout 2 (int16 weights): random geometries bit-identical to the reference', () => {
    const r = rng(0xc16);
    const distinct = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const op = randConvW16(r);
      expect(sim.init(op.blob), `case ${i}: ${sim.lastError}`).toBe(ERR.OK);
      op.inputs.forEach((x, k) => sim.setInputRaw(k, x));
      expect(sim.invoke()).toBe(ERR.OK);
      const got = sim.getOutputRaw(0);
      expect(Array.from(got), `case ${i}`).toEqual(Array.from(runBlobReference(op.blob, op.inputs)[0]));
      for (const v of got) distinct.add(v);
    }
    expect(distinct.size).toBeGreaterThan(1000);
  });

  it('at the bounds of the exactness proof: x = -32768, |w| = 32767, |bias| = 2^46, inDim = 65536', () => {
    for (const [inDim, outDim] of [
      [65536, 1],
      [65535, 5],
      [3, 9],
    ]) {
      for (const sign of [1, -1]) {
        const w = new Int16Array(inDim * outDim).fill(32767 * sign);
        const bias = Array.from({ length: outDim }, (_, o) => (o % 2 ? -1n : 1n) * 2n ** 46n);
        // |acc| reaches 2^47 - 2^31 (the sum and the bias of one sign) and the product with the
        // reduced multiplier about 2^61: bit-exact with the reference's arbitrary-precision integers
        run(blob16({ inDim, outDim, w, bias, shift: -31 }), new Int16Array(inDim).fill(-32768));
        run(blob16({ inDim, outDim, w, bias, shift: -20 }), new Int16Array(inDim).fill(-32768));
      }
    }
  });

  it('int8 weights times 256 (bias times 256): the same outputs as the 16x8 layouts 0 and 1', () => {
    const r = rng(0x256);
    for (let i = 0; i < 40; i++) {
      const inDim = 1 + Math.floor(r() * 70);
      const outDim = 1 + Math.floor(r() * 13);
      const w8 = Int8Array.from({ length: inDim * outDim }, () => Math.floor(r() * 255) - 127);
      const bias = Array.from({ length: outDim }, () => BigInt(Math.floor(r() * 2 ** 20) - 2 ** 19) * 256n);
      const x = Int16Array.from({ length: inDim }, () => Math.floor(r() * 65536) - 32768);
      const shift = -Math.min(31, Math.ceil(Math.log2(inDim * 2 ** 22)) - 14);
      const w = Int16Array.from(w8, (v) => v * 256);
      // layout 3 with shift s - 8 equals 16x8 with shift s: (acc * 256 * red) >> (15 - s + 8)
      const wide = run(blob16({ inDim, outDim, w, bias, shift: shift - 8 }), x);
      for (const layout of [0, 1]) expect(run(blob16({ inDim, outDim, w, bias, shift, layout }), x)).toEqual(wide);
    }
  });

  it('refuses a weight of -32768, |bias| > 2^46, inDim > 65536, a misaligned bias and layout 3 on int8 tensors', () => {
    const base = { inDim: 6, outDim: 5, w: new Int16Array(30).fill(7), bias: [1n, 2n, 3n, 4n, 5n], shift: -10 };
    expect(sim.init(blob16(base))).toBe(ERR.OK);
    const bad: [string, Uint8Array, number][] = [
      ['weight -32768', blob16({ ...base, w: base.w.map((v, i) => (i === 29 ? -32768 : v)) }, false), ERR.BAD_PARAMS],
      ['bias 2^46 + 1', blob16({ ...base, bias: [1n, 2n, 2n ** 46n + 1n, 4n, 5n] }, false), ERR.BAD_PARAMS],
      ['bias -2^46 - 1', blob16({ ...base, bias: [-(2n ** 46n) - 1n, 2n, 3n, 4n, 5n] }, false), ERR.BAD_PARAMS],
      ['inDim 65537', blob16({ ...base, inDim: 65537, outDim: 1, w: new Int16Array(65537), bias: null }, false), ERR.BAD_PARAMS],
      ['bias 4-aligned', blob16({ ...base, biasAlign: 4 }, false), ERR.BAD_CONST],
    ];
    for (const [what, blob, code] of bad) {
      expect(sim.init(blob), what).toBe(code);
      expect(() => parseBlob(blob), what).toThrow(expect.objectContaining({ code }));
    }
    // layout 3 on int8 tensors
    const b = new BlobBuilder();
    const tin = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: 4 });
    const tout = b.addTensor({ dtype: DTYPE.INT8, offset: 16, bytes: 4 });
    b.addOp('DENSE', {
      in: tin,
      out: tout,
      rows: 1,
      inDim: 4,
      outDim: 4,
      weights: b.addConst(new Int16Array(16), 2),
      bias: -1,
      mult: b.addConstI32([1 << 30, 1 << 30, 1 << 30, 1 << 30]),
      shift: b.addConstI8([-8, -8, -8, -8]),
      zpOut: 0,
      actMin: -128,
      actMax: 127,
      lut: -1,
      layout: 3,
    });
    b.setIO([{ tensor: tin, dims: [1, 4], scale: 1, zeroPoint: 0 }], [{ tensor: tout, dims: [1, 4], scale: 1, zeroPoint: 0 }]);
    b.setPlan({ arenaSize: 32, stateSize: 0, scratchSize: 0, batch: 1 });
    expect(sim.init(b.build({ validate: false }))).toBe(ERR.BAD_PARAMS);
  });

  it('1500 mutants of DENSE layout 3 and CONV2D layout 2 blobs, copied in and streamed: only error codes or runs equal to the reference', async () => {
    const base = [
      ...Array.from({ length: 6 }, (_, k) => ({ name: `DENSE_W16#${k}`, blob: randDenseW16(rng(0x3161 + k)).blob })),
      ...Array.from({ length: 4 }, (_, k) => ({ name: `CONV2D_W16#${k}`, blob: randConvW16(rng(0x3171 + k)).blob })),
    ];
    for (const streamed of [false, true]) {
      const seeds = prepareSeeds(streamed ? base.map((b) => ({ ...b, blob: streamable(b.blob) })) : base);
      const h = await RuntimeHarness.create({ memoryLimit: 8 << 20, streamed });
      for (const sd of seeds) expect(h.runBlob(sd.blob, caseRng(7, 0)).outcome, sd.name).toMatch(/^run:OK/);
      const s = await runCampaign(h, seeds, 0x3163 + (streamed ? 1 : 0), 0, 750);
      expect(s.failures.map((f) => `[${f.kind}] ${f.index} (${f.base}): ${f.detail}`)).toEqual([]);
      expect(s.outcomes['init:BAD_PARAMS'] ?? 0).toBeGreaterThan(20);
      expect(s.outcomes['run:OK'] ?? 0).toBeGreaterThan(50);
    }
  }, 120_000);
});
