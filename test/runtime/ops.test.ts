/**
 * Every op: seeded random one-op blobs (shapes, strides, paddings, dilations, zero points,
 * per-channel multipliers) run in build/runtime.wasm through DeviceSim must be BIT-IDENTICAL to
 * tools/quantize/reference.ts. Dense/Conv/Depthwise int32 accumulators are also checked against
 * onnxruntime-web MatMulInteger / ConvInteger (independent, bit-exact for int8).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { ERR } from '../../tools/blob/spec.ts';
import { refConvAcc, refDenseAcc, refDense, refLut } from '../../tools/quantize/reference.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { GENERATORS, GENERATORS16, rng, rint, pick, randI8, randMS } from '../helpers/opgen.ts';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { DTYPE } from '../../tools/blob/spec.ts';
import { blockRows4 } from '../../tools/quantize/reference-rnn.ts';
import { convPairScratch } from '../../tools/blob/conv-scratch.ts';

let sim: DeviceSim;
beforeAll(async () => {
  sim = await DeviceSim.load();
});

const CASES: Record<string, number> = { DENSE: 150, CONV2D: 120, DEPTHWISE_CONV2D: 120 };

/**
 * A one-op CONV2D layout 1 blob of geometry g with random weights, bias, multipliers and zero
 * points. The header scratch is what the converter gives (conv-scratch.ts) unless `scratch` says
 * otherwise; dilW is `dW` (default 1).
 */
function conv2dLayout1(
  r: () => number,
  g: Record<'inH' | 'inW' | 'inC' | 'outH' | 'outW' | 'outC' | 'kH' | 'kW' | 'sH' | 'sW' | 'dH' | 'padT' | 'padL', number>,
  opts: { scratch?: number; dW?: number } = {},
) {
  const nIn = g.inH * g.inW * g.inC,
    nOut = g.outH * g.outW * g.outC,
    K = g.kH * g.kW * g.inC;
  const b = new BlobBuilder();
  const tin = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: nIn });
  const tout = b.addTensor({ dtype: DTYPE.INT8, offset: Math.ceil(nIn / 16) * 16, bytes: nOut });
  const w = Int8Array.from({ length: g.outC * K }, () => rint(r, -127, 127));
  const ms = Array.from({ length: g.outC }, () => randMS(r));
  b.addOp('CONV2D', {
    in: tin,
    out: tout,
    batch: 1,
    inH: g.inH,
    inW: g.inW,
    inC: g.inC,
    outH: g.outH,
    outW: g.outW,
    outC: g.outC,
    kH: g.kH,
    kW: g.kW,
    strideH: g.sH,
    strideW: g.sW,
    dilH: g.dH,
    dilW: opts.dW ?? 1,
    padTop: g.padT,
    padLeft: g.padL,
    zpIn: rint(r, -128, 127),
    weights: b.addConst(blockRows4(w, g.outC, K)),
    bias: r() < 0.8 ? b.addConstI32(Array.from({ length: g.outC }, () => rint(r, -50000, 50000))) : -1,
    mult: b.addConstI32(ms.map((m) => m.mult)),
    shift: b.addConstI8(ms.map((m) => Math.max(-14, Math.min(1, m.shift)))),
    zpOut: rint(r, -20, 20),
    actMin: -128,
    actMax: 127,
    lut: r() < 0.2 ? b.addConst(randI8(r, 256)) : -1,
    groups: 1,
    layout: 1,
  });
  b.setIO([{ tensor: tin, dims: [1, nIn], scale: 1, zeroPoint: 0 }], [{ tensor: tout, dims: [1, nOut], scale: 1, zeroPoint: 0 }]);
  const dilW = opts.dW ?? 1;
  const scratchSize = opts.scratch ?? convPairScratch({ layout: 1, dilW, outC: g.outC, outW: g.outW, kH: g.kH, kW: g.kW, inC: g.inC }, true);
  b.setPlan({ arenaSize: Math.ceil(nIn / 16) * 16 + nOut, stateSize: 0, scratchSize, batch: 1 });
  return { blob: b.build(), nIn };
}

describe('runtime ops are bit-identical to the integer reference', () => {
  for (const [name, gen] of Object.entries(GENERATORS)) {
    it(`${name}: seeded random cases`, () => {
      const r = rng(0xc0ffee ^ (name.length * 7919) ^ name.charCodeAt(0));
      const n = CASES[name] ?? 150;
      let outputs = 0;
      const distinct = new Set<number>();
      let badInputs = 0;
      for (let i = 0; i < n; i++) {
        const op = gen(r);
        expect(sim.init(op.blob), `${name} case ${i}: ${sim.lastError}`).toBe(ERR.OK);
        op.inputs.forEach((x, k) => sim.setInputRaw(k, x));
        const rc = sim.invoke();
        if (op.badInput) {
          expect(rc).toBe(ERR.BAD_INPUT_VALUE);
          expect(sim.errorOp).toBe(0);
          expect(() => runBlobReference(op.blob, op.inputs)).toThrow(/error 13/);
          badInputs++;
          continue;
        }
        expect(rc).toBe(ERR.OK);
        const ref = runBlobReference(op.blob, op.inputs);
        const got = sim.getOutputRaw(0);
        expect(got.constructor).toBe(ref[0].constructor);
        expect(got.length).toBe(ref[0].length);
        // bit-identical
        for (let k = 0; k < got.length; k++)
          if (got[k] !== ref[0][k]) expect(`${name} case ${i} [${k}]: ${got[k]}`).toBe(`${name} case ${i} [${k}]: ${ref[0][k]}`);
        outputs += got.length;
        for (const v of got) distinct.add(v);
        // invoking again gives the same result (no hidden state)
        expect(sim.invoke()).toBe(ERR.OK);
        expect(Array.from(sim.getOutputRaw(0))).toEqual(Array.from(got));
      }
      expect(outputs).toBeGreaterThan(n);
      // the cases exercise the value range, not just saturation
      expect(distinct.size).toBeGreaterThan(name === 'GATHER' || name === 'LUT' ? 100 : 60);
      if (name === 'GATHER') expect(badInputs).toBeGreaterThan(5);
    });
  }

  // int16 activations (TFLite 16x8): the same ops with int16 tensors, int64 accumulators,
  // reduced-multiplier requantisation and the interpolated int16 LUT
  for (const [name, gen] of Object.entries(GENERATORS16)) {
    it(`${name} on int16: seeded random cases`, () => {
      const r = rng(0x16b ^ (name.length * 7919) ^ name.charCodeAt(0));
      const distinct = new Set<number>();
      for (let i = 0; i < 120; i++) {
        const op = gen(r);
        expect(sim.init(op.blob), `${name} int16 case ${i}: ${sim.lastError}`).toBe(ERR.OK);
        op.inputs.forEach((x, k) => sim.setInputRaw(k, x));
        expect(sim.invoke()).toBe(ERR.OK);
        const ref = runBlobReference(op.blob, op.inputs)[0];
        const got = sim.getOutputRaw(0);
        expect(got).toBeInstanceOf(Int16Array);
        expect(Array.from(got), `${name} int16 case ${i}`).toEqual(Array.from(ref));
        for (const v of got) distinct.add(v);
      }
      // int16 outputs spread over the range, far beyond int8's 256 values
      expect(distinct.size).toBeGreaterThan(500);
    });
  }

  // The blocked kernels (issue 6): DENSE layout 1 runs 4 outputs x k16/k8 passes plus per-k and
  // per-row remainders; CONV2D layout 1 with kH = 1, dilW = 1 runs every output position as one
  // DENSE vector with padding taps at zpIn (borders) or none (interior). Cover every remainder.
  it('blocked DENSE (outDim % 4, inDim % 16 / % 8 remainders) and CONV2D layout 1 interior/border outputs', () => {
    const r = rng(0x1e6);
    let cases = 0;
    const check = (blob: Uint8Array, inputs: Int8Array[], what: string) => {
      expect(sim.init(blob), `${what}: ${sim.lastError}`).toBe(ERR.OK);
      inputs.forEach((x, k) => sim.setInputRaw(k, x));
      expect(sim.invoke()).toBe(ERR.OK);
      const ref = runBlobReference(blob, inputs)[0];
      expect(Array.from(sim.getOutputRaw(0)), what).toEqual(Array.from(ref));
      cases++;
    };
    for (const inDim of [1, 7, 8, 9, 15, 16, 17, 24, 31, 33, 64, 80]) {
      for (const outDim of [1, 3, 4, 5, 6, 7, 8, 13]) {
        const b = new BlobBuilder();
        const tin = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: 2 * inDim });
        const tout = b.addTensor({ dtype: DTYPE.INT8, offset: 2 * inDim + 16, bytes: 2 * outDim });
        const w = Array.from({ length: outDim * inDim }, () => rint(r, -127, 127));
        const ms = Array.from({ length: outDim }, () => randMS(r));
        b.addOp('DENSE', {
          in: tin,
          out: tout,
          rows: 2,
          inDim,
          outDim,
          weights: b.addConst(blockRows4(Int8Array.from(w), outDim, inDim)),
          bias: r() < 0.8 ? b.addConstI32(Array.from({ length: outDim }, () => rint(r, -5000, 5000))) : -1,
          mult: b.addConstI32(ms.map((m) => m.mult)),
          shift: b.addConstI8(ms.map((m) => Math.max(-12, Math.min(2, m.shift)))),
          zpOut: rint(r, -20, 20),
          actMin: -128,
          actMax: 127,
          lut: -1,
          layout: 1,
        });
        b.setIO([{ tensor: tin, dims: [2, inDim], scale: 1, zeroPoint: 0 }], [{ tensor: tout, dims: [2, outDim], scale: 1, zeroPoint: 0 }]);
        b.setPlan({ arenaSize: 2 * inDim + 16 + 2 * outDim, stateSize: 0, scratchSize: 0, batch: 1 });
        check(b.build(), [randI8(r, 2 * inDim)], `DENSE ${inDim}->${outDim}`);
      }
    }
    // Conv1D-like: H 1 (or 2 with kH 1), stride 1..2, 'same'/'causal'/valid padding, inC 1..17, outC 1..9
    for (let i = 0; i < 60; i++) {
      const inH = rint(r, 1, 2),
        inW = rint(r, 3, 20),
        inC = pick(r, [1, 2, 3, 5, 8, 16, 17]);
      const outC = rint(r, 1, 9),
        kW = rint(r, 1, 5),
        sW = rint(r, 1, 2);
      const padL = rint(r, 0, kW - 1),
        padR = rint(r, 0, kW - 1);
      const outW = Math.floor((inW + padL + padR - kW) / sW) + 1;
      if (outW < 1) continue;
      const { blob, nIn } = conv2dLayout1(r, { inH, inW, inC, outH: inH, outW, outC, kH: 1, kW, sH: 1, sW, dH: 1, padT: 0, padL });
      check(blob, [randI8(r, nIn)], `CONV2D layout 1 case ${i}`);
    }
    expect(cases).toBeGreaterThan(120);
  });

  // CONV2D layout 1 with kH > 1 (issue 14): each output runs as one DENSE vector over its kH
  // kernel-row runs (rows above/below the input and columns left/right of it at zpIn), two
  // neighbouring interior positions per i64 multiply. Cover strides, dilH, 'same'/valid
  // padding, inC with and without a multiple of 4 per kernel row, outC with and without blocks.
  it('CONV2D layout 1 with several kernel rows: border, interior and two-position outputs', () => {
    const r = rng(0x2d14);
    let cases = 0;
    for (let i = 0; i < 80; i++) {
      const inC = pick(r, [1, 2, 3, 4, 8, 16]),
        outC = pick(r, [1, 3, 4, 5, 8, 12]);
      const kH = rint(r, 2, 4),
        kW = rint(r, 1, 4),
        sH = rint(r, 1, 2),
        sW = rint(r, 1, 2),
        dH = rint(r, 1, 2);
      const inH = rint(r, 1, 9),
        inW = rint(r, 2, 10);
      const padT = rint(r, 0, (kH - 1) * dH),
        padB = rint(r, 0, (kH - 1) * dH),
        padL = rint(r, 0, kW - 1),
        padR = rint(r, 0, kW - 1);
      const outH = Math.floor((inH + padT + padB - (kH - 1) * dH - 1) / sH) + 1;
      const outW = Math.floor((inW + padL + padR - kW) / sW) + 1;
      if (outH < 1 || outW < 1) continue;
      const { blob, nIn } = conv2dLayout1(r, { inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, padT, padL });
      const x = randI8(r, nIn);
      expect(sim.init(blob), sim.lastError).toBe(ERR.OK);
      sim.setInputRaw(0, x);
      expect(sim.invoke()).toBe(ERR.OK);
      const what = `CONV2D ${inH}x${inW}x${inC} k${kH}x${kW} s${sH}x${sW} d${dH} pad ${padT},${padL} -> ${outC}`;
      expect(Array.from(sim.getOutputRaw(0)), what).toEqual(Array.from(runBlobReference(blob, [x])[0]));
      cases++;
    }
    expect(cases).toBeGreaterThan(50);
  });

  // CONV2D layout 1, two positions per i64 multiply from the packed pairs in the header scratch
  // (dense.ts densePairs, conv-scratch.ts): 8 channels per pass and the outC % 8 == 4 pass, K
  // not a multiple of 4 (zero pairs up to the x4 steps), odd and even position counts, border positions, strides; and
  // the same geometry with a scratch one pair short or dilW 2, which run every position alone.
  it('CONV2D layout 1 two-position pass from the scratch: channel blocks, K tails, fallbacks', () => {
    const r = rng(0x5c7a);
    const run = (blob: Uint8Array, nIn: number, what: string) => {
      const x = randI8(r, nIn);
      expect(sim.init(blob), `${what}: ${sim.lastError}`).toBe(ERR.OK);
      sim.setInputRaw(0, x);
      expect(sim.invoke()).toBe(ERR.OK);
      expect(Array.from(sim.getOutputRaw(0)), what).toEqual(Array.from(runBlobReference(blob, [x])[0]));
    };
    let cases = 0;
    for (let i = 0; i < 90; i++) {
      const inC = pick(r, [1, 2, 3, 5, 7, 16]),
        outC = pick(r, [4, 8, 12, 16, 20, 28]);
      const kH = pick(r, [1, 1, 1, 2]),
        kW = rint(r, 1, 5),
        sW = rint(r, 1, 2);
      const inH = kH,
        inW = rint(r, kW + 1, 21);
      const padL = rint(r, 0, kW - 1),
        padR = rint(r, 0, kW - 1);
      const outW = Math.floor((inW + padL + padR - kW) / sW) + 1;
      if (outW < 2) continue;
      const g = { inH, inW, inC, outH: 1, outW, outC, kH, kW, sH: 1, sW, dH: 1, padT: 0, padL };
      const what = `CONV2D ${inH}x${inW}x${inC} k${kH}x${kW} s${sW} padL ${padL} -> ${outC}`;
      const need = convPairScratch({ layout: 1, dilW: 1, outC, outW, kH, kW, inC }, true);
      run(conv2dLayout1(r, g).blob, inH * inW * inC, what);
      run(conv2dLayout1(r, g, { scratch: need - 8 }).blob, inH * inW * inC, `${what}, scratch short`);
      if (kW > 1 && inW >= 2 * kW) {
        const d = { ...g, outW: Math.floor((inW + padL + padR - 2 * (kW - 1) - 1) / sW) + 1 };
        run(conv2dLayout1(r, d, { dW: 2 }).blob, inH * inW * inC, `${what}, dilW 2`);
      }
      cases++;
    }
    expect(cases).toBeGreaterThan(60);
    // a long K (2048 taps, 512 x4 steps per pass) through both lanes
    const big = { inH: 1, inW: 4, inC: 1024, outH: 1, outW: 3, outC: 8, kH: 1, kW: 2, sH: 1, sW: 1, dH: 1, padT: 0, padL: 0 };
    run(conv2dLayout1(r, big).blob, 4 * 1024, 'CONV2D K 2048');
  });

  // DEPTHWISE_CONV2D 3x3, depthMult 1, widthwise stride 1 or 2 (issue 14): one channel at a
  // time, two outputs per i64 multiply, border pairs with rows/columns at zpIn, the
  // requantisation terms hoisted per channel (4 channels per pass where C % 4 == 0). Every
  // rounding mode, odd and even output widths. dw4's requantisation (bias in both lanes, zp in
  // the rounding constant, no sign term under a lower bound >= zpOut) covers shifts in
  // [-22, 0] and |bias| <= 2^30: the cases also draw shifts outside it, biases near the int32
  // ends (the general path), ReLU-like bounds (actMin >= zpOut) and the LUT pass.
  it('DEPTHWISE_CONV2D 3x3 two-output path: borders, strides, rounding modes', () => {
    const r = rng(0xd33);
    let cases = 0;
    for (let i = 0; i < 160; i++) {
      // C % 4 == 0: 4 channels per pass (dw4) at stride_w 1 and 2, other blocks one channel at a time
      // the first cases: 4-channel blocks whose biases are so near the int32 ends that bias + lane
      // wraps (dw4 refuses them: the general path)
      const wrap = i < 8;
      const C = wrap ? 8 : pick(r, [1, 2, 3, 4, 5, 8, 12]),
        sH = rint(r, 1, 3),
        sW = rint(r, 1, 2);
      const inH = rint(r, 1, 9),
        inW = rint(r, 1, 11);
      const padT = rint(r, 0, 2),
        padB = rint(r, 0, 2),
        padL = rint(r, 0, 2),
        padR = rint(r, 0, 2);
      const outH = Math.floor((inH + padT + padB - 3) / sH) + 1;
      const outW = Math.floor((inW + padL + padR - 3) / sW) + 1;
      if (outH < 1 || outW < 1) continue;
      const batch = rint(r, 1, 2);
      const nIn = batch * inH * inW * C,
        nOut = batch * outH * outW * C;
      const b = new BlobBuilder();
      b.setRounding(wrap ? pick(r, ['double', 'single'] as const) : pick(r, ['double', 'single', 'float'] as const));
      const tin = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: nIn });
      const tout = b.addTensor({ dtype: DTYPE.INT8, offset: Math.ceil(nIn / 16) * 16, bytes: nOut });
      // small weights and biases, mult 2^30 and a small shift: outputs inside the int8 range and
      // frequent rounding ties
      const ties = r() < 0.3;
      const ms = Array.from({ length: C }, () => (ties ? { mult: 2 ** 30, shift: rint(r, -6, -3) } : wrap ? { mult: 2 ** 30, shift: -8 } : randMS(r)));
      const bigBias = r() < 0.2;
      const zpOut = rint(r, -20, 20);
      // ReLU-like: the lower bound at or above zpOut
      const relu = r() < 0.4;
      const actMin = relu ? rint(r, zpOut, zpOut + 10) : rint(r, -128, -100);
      b.addOp('DEPTHWISE_CONV2D', {
        in: tin,
        out: tout,
        batch,
        inH,
        inW,
        inC: C,
        outH,
        outW,
        depthMult: 1,
        kH: 3,
        kW: 3,
        strideH: sH,
        strideW: sW,
        dilH: 1,
        dilW: 1,
        padTop: padT,
        padLeft: padL,
        zpIn: rint(r, -128, 127),
        weights: b.addConst(randI8(r, 9 * C, ties ? -4 : -128, ties ? 4 : 127)),
        bias: wrap
          ? b.addConstI32(Array.from({ length: C }, () => pick(r, [-1, 1]) * (2 ** 31 - rint(r, 1, 2e4))))
          : r() < 0.8
            ? b.addConstI32(
                Array.from({ length: C }, () =>
                  bigBias && r() < 0.5
                    ? pick(r, [-1, 1]) * (r() < 0.5 ? rint(r, 2 ** 30 - 4, 2 ** 30 + 4) : 2 ** 31 - rint(r, 1, 3e5))
                    : rint(r, ties ? -500 : -50000, ties ? 500 : 50000),
                ),
              )
            : -1,
        mult: b.addConstI32(ms.map((m) => m.mult)),
        // a bias near the int32 ends with a left shift overflows int32 before the multiply (out of contract)
        shift: b.addConstI8(ms.map((m) => Math.max(-31, Math.min(bigBias || wrap ? 0 : 8, m.shift)))),
        zpOut,
        actMin,
        actMax: rint(r, Math.max(actMin, 100), 127),
        lut: r() < 0.2 ? b.addConst(randI8(r, 256)) : -1,
      });
      b.setIO([{ tensor: tin, dims: [1, nIn], scale: 1, zeroPoint: 0 }], [{ tensor: tout, dims: [1, nOut], scale: 1, zeroPoint: 0 }]);
      b.setPlan({ arenaSize: Math.ceil(nIn / 16) * 16 + nOut, stateSize: 0, scratchSize: 0, batch: 1 });
      const blob = b.build();
      const x = randI8(r, nIn);
      expect(sim.init(blob), sim.lastError).toBe(ERR.OK);
      sim.setInputRaw(0, x);
      expect(sim.invoke()).toBe(ERR.OK);
      const what = `DEPTHWISE_CONV2D ${batch}x${inH}x${inW}x${C} s${sH}x${sW} pad ${padT},${padL} act ${actMin}`;
      expect(Array.from(sim.getOutputRaw(0)), what).toEqual(Array.from(runBlobReference(blob, [x])[0]));
      cases++;
    }
    expect(cases).toBeGreaterThan(80);
  });

  it('DENSE layout 0 and layout 1 give the same result for the same weights', async () => {
    const { BlobBuilder } = await import('../../tools/blob/writer.ts');
    const r = rng(99);
    for (const outDim of [1, 3, 4, 7, 8, 13]) {
      const inDim = 1 + Math.floor(r() * 40);
      const w = Int8Array.from({ length: outDim * inDim }, () => Math.floor(r() * 255) - 127);
      // interleave blocks of 4 rows: [outDim/4][inDim][4], remainder row-major
      const wi = new Int8Array(w.length);
      const blocks = Math.floor(outDim / 4);
      for (let b = 0; b < blocks; b++) for (let k = 0; k < inDim; k++) for (let j = 0; j < 4; j++) wi[b * inDim * 4 + k * 4 + j] = w[(b * 4 + j) * inDim + k];
      wi.set(w.subarray(blocks * 4 * inDim), blocks * 4 * inDim);
      const x = Int8Array.from({ length: inDim }, () => Math.floor(r() * 256) - 128);
      const outs = [0, 1].map((layout) => {
        const b = new BlobBuilder();
        const tin = b.addTensor({ dtype: 1, offset: 0, bytes: inDim });
        const tout = b.addTensor({ dtype: 1, offset: Math.ceil(inDim / 16) * 16, bytes: outDim });
        b.addOp('DENSE', {
          in: tin,
          out: tout,
          rows: 1,
          inDim,
          outDim,
          weights: b.addConst(layout ? wi : w),
          bias: b.addConstI32(new Array(outDim).fill(77)),
          mult: b.addConstI32(new Array(outDim).fill(1 << 30)),
          shift: b.addConstI8(new Array(outDim).fill(-6)),
          zpOut: -3,
          actMin: -128,
          actMax: 127,
          lut: -1,
          layout,
        });
        b.setIO([{ tensor: tin, dims: [1, inDim], scale: 1, zeroPoint: 0 }], [{ tensor: tout, dims: [1, outDim], scale: 1, zeroPoint: -3 }]);
        const blob = b.build();
        sim.initOrThrow(blob);
        const got = sim.run([x])[0];
        const p = parseBlob(blob);
        expect(Array.from(got)).toEqual(Array.from(refDense(p.ops[0].params, x, p.consts)));
        return Array.from(got);
      });
      expect(outs[0]).toEqual(outs[1]);
    }
  });

  it('MUL with b broadcast (nB dividing count) equals MUL with b tiled to count; nB not dividing count is refused', () => {
    const r = rng(0x5e);
    const mulBlob = (count: number, nB: number, validate = true) => {
      const b = new BlobBuilder();
      const ta = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: count });
      const tb = b.addTensor({ dtype: DTYPE.INT8, offset: 64, bytes: nB });
      const tout = b.addTensor({ dtype: DTYPE.INT8, offset: 128, bytes: count });
      b.addOp('MUL', { a: ta, b: tb, out: tout, count, zpA: 3, zpB: -7, zpOut: 5, mult: 1518500250, shift: -6, actMin: -128, actMax: 127 });
      b.setIO(
        [
          { tensor: ta, dims: [1, count], scale: 1, zeroPoint: 0 },
          { tensor: tb, dims: [1, nB], scale: 1, zeroPoint: 0 },
        ],
        [{ tensor: tout, dims: [1, count], scale: 1, zeroPoint: 0 }],
      );
      b.setPlan({ arenaSize: 192, stateSize: 0, scratchSize: 0, batch: 1 });
      return b.build({ validate });
    };
    for (const nB of [1, 4, 8, 12]) {
      // a [1, 2, 3, 4]-like tensor of 24 and b of nB: b repeats every nB outputs
      const a = randI8(r, 24);
      const bSmall = randI8(r, nB);
      const tiled = Int8Array.from({ length: 24 }, (_, i) => bSmall[i % nB]);
      sim.initOrThrow(mulBlob(24, 24));
      const want = Array.from(sim.run([a, tiled])[0]);
      sim.initOrThrow(mulBlob(24, nB));
      expect(Array.from(sim.run([a, bSmall])[0])).toEqual(want);
      expect(Array.from(runBlobReference(mulBlob(24, nB), [a, bSmall])[0])).toEqual(want);
    }
    expect(new Set(Array.from(sim.run([randI8(r, 24), randI8(r, 12)])[0])).size).toBeGreaterThan(10);
    for (const nB of [5, 7, 25]) expect(sim.init(mulBlob(24, nB, false)), `nB ${nB}`).toBe(ERR.BAD_PARAMS);
  });

  it('LUT op output equals table lookup', () => {
    const op = GENERATORS.LUT(rng(5));
    const p = parseBlob(op.blob);
    sim.initOrThrow(op.blob);
    const got = sim.run(op.inputs)[0];
    expect(Array.from(got)).toEqual(Array.from(refLut(p.ops[0].params, op.inputs[0] as Int8Array, p.consts)));
    const x = op.inputs[0] as Int8Array;
    for (let i = 0; i < x.length; i++) expect(got[i]).toBe((p.consts[p.ops[0].params.table + x[i] + 128] << 24) >> 24);
  });
});

describe('int32 accumulators against onnxruntime-web (MatMulInteger / ConvInteger)', () => {
  let ort: any;
  let onnx: any;
  beforeAll(async () => {
    ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    onnx = (await import('onnx-proto')).default.onnx;
  });
  const DT = () => onnx.TensorProto.DataType;
  const vi = (name: string, t: number, dims: number[]) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: t, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const init = (name: string, t: number, dims: number[], v: ArrayLike<number>) =>
    onnx.TensorProto.create({ name, dataType: t, dims, int32Data: Array.from(v) });
  const model = (node: any, inputs: any[], outputs: any[], inits: any[]) =>
    onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 7,
        opsetImport: [{ domain: '', version: 13 }],
        graph: { name: 'g', node: [node], input: inputs, output: outputs, initializer: inits },
      }),
    ).finish();

  it('DENSE: acc - bias == MatMulInteger(x, W^T)', async () => {
    const r = rng(11);
    let checked = 0;
    for (let i = 0; i < 15; i++) {
      const op = GENERATORS.DENSE(r);
      const p = parseBlob(op.blob).ops[0].params;
      const c = parseBlob(op.blob).consts;
      const x = op.inputs[0] as Int8Array;
      const acc = refDenseAcc(p, x, c);
      // W^T [inDim][outDim] from either layout, recovered via unit vectors through the reference
      const { rows, inDim, outDim } = p;
      const wt = new Int8Array(inDim * outDim);
      const zeroBias = { ...p, bias: -1 };
      for (let k = 0; k < inDim; k++) {
        const e = new Int8Array(inDim);
        e[k] = 1;
        const col = refDenseAcc({ ...zeroBias, rows: 1 }, e, c);
        for (let o = 0; o < outDim; o++) wt[k * outDim + o] = col[o];
      }
      const bytes = model(
        onnx.NodeProto.create({ opType: 'MatMulInteger', input: ['X', 'W'], output: ['Y'] }),
        [vi('X', DT().INT8, [rows, inDim])],
        [vi('Y', DT().INT32, [rows, outDim])],
        [init('W', DT().INT8, [inDim, outDim], wt)],
      );
      const sess = await ort.InferenceSession.create(bytes);
      const { Y } = await sess.run({ X: new ort.Tensor('int8', x, [rows, inDim]) });
      const bias = p.bias === -1 ? new Int32Array(outDim) : new Int32Array(c.slice(p.bias, p.bias + 4 * outDim).buffer);
      for (let k = 0; k < acc.length; k++) expect(acc[k] - bias[k % outDim]).toBe(Y.data[k]);
      checked += acc.length;
    }
    expect(checked).toBeGreaterThan(50);
  });

  for (const depthwise of [false, true]) {
    it(`${depthwise ? 'DEPTHWISE_CONV2D' : 'CONV2D'}: acc - bias - zpIn*sum(w) == ConvInteger(x, W, zpIn)`, async () => {
      const r = rng(depthwise ? 21 : 22);
      let checked = 0;
      for (let i = 0; i < 15; i++) {
        const op = GENERATORS[depthwise ? 'DEPTHWISE_CONV2D' : 'CONV2D'](r);
        const parsed = parseBlob(op.blob);
        const p = parsed.ops[0].params;
        const c = parsed.consts;
        const x = op.inputs[0] as Int8Array;
        const acc = refConvAcc(p, x, c, depthwise);
        const { batch, inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft, zpIn } = p;
        const outC = depthwise ? inC * p.depthMult : p.outC;
        const groups = depthwise ? inC : (p.groups as unknown as number);
        const icg = inC / groups;
        // weights to OIHW
        const wsrc = new Int8Array(c.buffer, c.byteOffset + p.weights, depthwise ? kH * kW * outC : outC * kH * kW * icg);
        const w = new Int8Array(outC * icg * kH * kW);
        const wsum = new Array(outC).fill(0);
        for (let o = 0; o < outC; o++)
          for (let ic = 0; ic < icg; ic++)
            for (let a = 0; a < kH; a++)
              for (let b2 = 0; b2 < kW; b2++) {
                const K = kH * kW * icg;
                const k = (a * kW + b2) * icg + ic;
                // CONV2D layout 1: the [outC][K] matrix in 4-row blocks interleaved [outC/4][K][4]
                const blk = !depthwise && p.layout === 1 && o < outC - (outC % 4);
                const v = depthwise ? wsrc[(a * kW + b2) * outC + o] : blk ? wsrc[(o >> 2) * K * 4 + k * 4 + (o & 3)] : wsrc[o * K + k];
                w[((o * icg + ic) * kH + a) * kW + b2] = v;
                wsum[o] += v;
              }
        // input to NCHW
        const xn = new Int8Array(x.length);
        for (let n = 0; n < batch; n++)
          for (let h = 0; h < inH; h++)
            for (let ww = 0; ww < inW; ww++)
              for (let ch = 0; ch < inC; ch++) xn[((n * inC + ch) * inH + h) * inW + ww] = x[((n * inH + h) * inW + ww) * inC + ch];
        const pB = Math.max(0, (outH - 1) * strideH + (kH - 1) * dilH + 1 - inH - padTop);
        const pR = Math.max(0, (outW - 1) * strideW + (kW - 1) * dilW + 1 - inW - padLeft);
        const oH = Math.floor((inH + padTop + pB - (kH - 1) * dilH - 1) / strideH) + 1;
        const oW = Math.floor((inW + padLeft + pR - (kW - 1) * dilW - 1) / strideW) + 1;
        const ints = (name: string, v: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
        const bytes = model(
          onnx.NodeProto.create({
            opType: 'ConvInteger',
            input: ['X', 'W', 'xzp'],
            output: ['Y'],
            attribute: [
              ints('pads', [padTop, padLeft, pB, pR]),
              ints('strides', [strideH, strideW]),
              ints('dilations', [dilH, dilW]),
              ints('kernel_shape', [kH, kW]),
              { name: 'group', type: onnx.AttributeProto.AttributeType.INT, i: groups },
            ],
          }),
          [vi('X', DT().INT8, [batch, inC, inH, inW])],
          [vi('Y', DT().INT32, [batch, outC, oH, oW])],
          [init('W', DT().INT8, [outC, icg, kH, kW], w), init('xzp', DT().INT8, [], [zpIn])],
        );
        const sess = await ort.InferenceSession.create(bytes);
        const { Y } = await sess.run({ X: new ort.Tensor('int8', xn, [batch, inC, inH, inW]) });
        const bias = p.bias === -1 ? new Int32Array(outC) : new Int32Array(c.slice(p.bias, p.bias + 4 * outC).buffer);
        for (let n = 0; n < batch; n++)
          for (let h = 0; h < outH; h++)
            for (let ww = 0; ww < outW; ww++)
              for (let o = 0; o < outC; o++) {
                const ours = acc[((n * outH + h) * outW + ww) * outC + o] - bias[o] - zpIn * wsum[o];
                expect(ours).toBe(Y.data[((n * outC + o) * oH + h) * oW + ww]);
                checked++;
              }
      }
      expect(checked).toBeGreaterThan(100);
    });
  }
});
