/**
 * The blob's rounding mode (header flags, docs/FORMAT.md): the runtime's requantization in both
 * modes bit for bit against an independent BigInt transcription of TFLite's formulas
 * (test/helpers/tflite-requant.ts) over many (x, multiplier, shift) triples with edge cases; every
 * op in single rounding bit-identical to the integer reference; invalid modes rejected at init.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { blockRows8u } from '../../tools/quantize/reference-rnn.ts';
import { DTYPE, ERR, STORAGE, type Rounding as BlobRounding } from '../../tools/blob/spec.ts';

/** The integer modes (mode float changes only DENSE/CONV2D/DEPTHWISE outputs: test/graph/tflite-exact.test.ts). */
type Rounding = Exclude<BlobRounding, 'float'>;
import { runBlobReference } from '../../tools/blob/reference.ts';
import { GENERATORS, rng, rint, type Rng } from '../helpers/opgen.ts';
import { requant } from '../helpers/tflite-requant.ts';
import { withRoundingField } from '../helpers/blob-rounding.ts';
import { fixture, haveFixtures } from '../helpers/fixtures.ts';
import { graphFromFile } from '../helpers/convert-harness.ts';
import { convertGraph } from '../../tools/pipeline.ts';
import { parseBlob } from '../../tools/blob/parse.ts';

let sim: DeviceSim;
beforeAll(async () => {
  sim = await DeviceSim.load();
});

type Triple = [x: number, mult: number, shift: number];
const MAXM = 2147483647;

/** Triples whose result mostly lands in [-128, 127] (so the int8 output shows every bit), plus edges. */
function triples(r: Rng, n: number): Triple[] {
  const out: Triple[] = [];
  for (const x of [-2147483648, 2147483647, -1, 0, 1]) for (const m of [1 << 30, MAXM]) out.push([x, m, -31], [x, m, -24]);
  out.push([0, 0, 0], [12345, 0, -5], [1, MAXM, 6], [-1, MAXM, 6], [3, 1 << 30, 5], [-3, 1 << 30, 5]);
  while (out.length < n) {
    const mult = r() < 0.25 ? 1 << 30 : rint(r, 1 << 30, MAXM);
    const shift = r() < 0.1 ? rint(r, 1, 7) : rint(r, -31, 0);
    const span = Math.min(2147483647, Math.floor((127.5 * 2 ** (31 - shift)) / mult));
    let x = rint(r, -span, span);
    // exact halves: with mult = 2^30 and shift <= 0, x = (2k+1) * 2^-shift sits on a tie
    if (mult === 1 << 30 && shift <= 0 && r() < 0.5) x = Math.max(-2147483648, Math.min(2147483647, (2 * rint(r, -64, 63) + 1) * 2 ** -shift));
    out.push([x, mult, shift]);
  }
  return out;
}

/** One DENSE op, inDim 1 with a zero weight: output o = clamp(MBQM(bias[o], mult[o], shift[o])). */
function denseBlob(ts: Triple[], layout: number, rounding: BlobRounding): Uint8Array {
  const b = new BlobBuilder();
  const n = ts.length;
  const tin = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 0, bytes: 1 });
  const tout = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 16, bytes: n });
  b.addOp('DENSE', {
    in: tin,
    out: tout,
    rows: 1,
    inDim: 1,
    outDim: n,
    weights: b.addConst(layout === 2 ? blockRows8u(new Int8Array(n), n, 1)! : new Int8Array(n)),
    bias: b.addConstI32(ts.map((t) => t[0])),
    mult: b.addConstI32(ts.map((t) => t[1])),
    shift: b.addConstI8(ts.map((t) => t[2])),
    zpOut: 0,
    actMin: -128,
    actMax: 127,
    lut: -1,
    layout,
  });
  b.setIO([{ tensor: tin, dims: [1, 1], scale: 1, zeroPoint: 0, name: 'x' }], [{ tensor: tout, dims: [1, n], scale: 1, zeroPoint: 0, name: 'y' }]);
  b.setRounding(rounding);
  return b.build();
}

const clamp8 = (v: number) => Math.max(-128, Math.min(127, v));

/** XNNPACK's fp32 requantization in float32 arithmetic: round-half-even(f32(f32(x) · f32(S))). */
function xnnpackRequant(x: number, mult: number, shift: number): number {
  const v = Math.fround(Math.fround(x) * Math.fround(mult * 2 ** (shift - 31)));
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

describe('runtime requantization = independent TFLite transcription', () => {
  it('float: DENSE outputs = float32 arithmetic (XNNPACK) over 6000 triples with 24-bit multipliers, weight layouts 0, 1 and 2', () => {
    const r = rng(0xf1);
    for (let chunk = 0; chunk < 12; chunk++) {
      // the converter writes float32 scales: at most 24 significant bits
      const ts = triples(r, 500).map(([x, m, s]): Triple => [x, m & ~0x7f, s]);
      expect(sim.init(denseBlob(ts, chunk % 3, 'float')), sim.lastError).toBe(ERR.OK);
      sim.setInputRaw(0, new Int8Array(1));
      expect(sim.invoke()).toBe(ERR.OK);
      const got = sim.getOutputRaw(0);
      ts.forEach(([x, m, s], i) => {
        const want = clamp8(xnnpackRequant(x, m, s));
        if (got[i] !== want) expect(`fp32(${x}, ${m}, ${s}) = ${got[i]}`).toBe(`fp32(${x}, ${m}, ${s}) = ${want}`);
      });
    }
  });

  for (const mode of ['double', 'single'] as Rounding[]) {
    it(`${mode}: DENSE per-channel requantization over 6000 triples, weight layouts 0, 1 and 2`, () => {
      const r = rng(mode === 'single' ? 0x51 : 0xd0);
      let inRange = 0;
      let total = 0;
      for (let chunk = 0; chunk < 12; chunk++) {
        const ts = triples(r, 500);
        expect(sim.init(denseBlob(ts, chunk % 3, mode)), sim.lastError).toBe(ERR.OK);
        sim.setInputRaw(0, new Int8Array(1));
        expect(sim.invoke()).toBe(ERR.OK);
        const got = sim.getOutputRaw(0);
        ts.forEach(([x, m, s], i) => {
          const want = requant(mode, x, m, s);
          if (got[i] !== clamp8(want)) expect(`MBQM(${x}, ${m}, ${s}) = ${got[i]}`).toBe(`MBQM(${x}, ${m}, ${s}) = ${clamp8(want)}`);
          if (want === clamp8(want)) inRange++;
        });
        total += ts.length;
      }
      // the comparison sees the unclamped result for most triples
      expect(inRange / total).toBeGreaterThan(0.9);
    });
  }

  /**
   * One DEPTHWISE_CONV2D 3x3 op on a 1x2 image with zero weights: both outputs of channel c are
   * clamp(MBQM(bias[c], mult[c], shift[c]) + zpOut, actMin, actMax). With C % 4 == 0 the
   * 4-channel blocks run dw4's requantisation (bias in the i64 lanes, zpOut in the rounding
   * constant, no sign term when actMin >= zpOut) where all 4 triples allow it, else the general path.
   */
  function depthwiseBlob(ts: Triple[], rounding: Rounding, zpOut: number, actMin: number, actMax: number): Uint8Array {
    const b = new BlobBuilder();
    const C = ts.length;
    const tin = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 0, bytes: 2 * C });
    const tout = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: Math.ceil((2 * C) / 16) * 16, bytes: 2 * C });
    const g = { batch: 1, inH: 1, inW: 2, inC: C, outH: 1, outW: 2, depthMult: 1, kH: 3, kW: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1 };
    b.addOp('DEPTHWISE_CONV2D', {
      in: tin,
      out: tout,
      ...g,
      padTop: 1,
      padLeft: 1,
      zpIn: 5,
      weights: b.addConst(new Int8Array(9 * C)),
      bias: b.addConstI32(ts.map((t) => t[0])),
      mult: b.addConstI32(ts.map((t) => t[1])),
      shift: b.addConstI8(ts.map((t) => t[2])),
      zpOut,
      actMin,
      actMax,
      lut: -1,
    });
    b.setIO([{ tensor: tin, dims: [1, 2 * C], scale: 1, zeroPoint: 0, name: 'x' }], [{ tensor: tout, dims: [1, 2 * C], scale: 1, zeroPoint: 0, name: 'y' }]);
    b.setRounding(rounding);
    return b.build();
  }

  for (const mode of ['double', 'single'] as Rounding[]) {
    it(`${mode}: DEPTHWISE_CONV2D requantization in 4-channel blocks (dw4 and the general path), ReLU and full bounds`, () => {
      const r = rng(mode === 'single' ? 0xd51 : 0xdd0);
      // dw4's domain first, so most 4-channel blocks take it
      const inDw4 = (t: Triple) => t[1] >= 0 && t[2] <= 0 && t[2] >= -22 && Math.abs(t[0]) <= 2 ** 30;
      let fast = 0;
      for (let chunk = 0; chunk < 12; chunk++) {
        const ts = triples(r, 400).sort((a, b) => Number(inDw4(b)) - Number(inDw4(a)));
        fast += ts.filter(inDw4).length;
        const zpOut = rint(r, -20, 20);
        const relu = chunk % 2 === 0;
        const actMin = relu ? zpOut + rint(r, 0, 3) : -128;
        const actMax = rint(r, 100, 127);
        expect(sim.init(depthwiseBlob(ts, mode, zpOut, actMin, actMax)), sim.lastError).toBe(ERR.OK);
        sim.setInputRaw(
          0,
          Int8Array.from({ length: 2 * ts.length }, () => rint(r, -128, 127)),
        );
        expect(sim.invoke()).toBe(ERR.OK);
        const got = sim.getOutputRaw(0);
        ts.forEach(([x, m, s], c) => {
          const want = Math.max(actMin, Math.min(actMax, requant(mode, x, m, s) + zpOut));
          for (const k of [c, ts.length + c])
            if (got[k] !== want) expect(`MBQM(${x}, ${m}, ${s}) + ${zpOut} in [${actMin}, ${actMax}] = ${got[k]}`).toBe(`= ${want}`);
        });
      }
      expect(fast).toBeGreaterThan(2000);
    });
  }

  it('the two modes differ where TFLite says they do (exact halves of negative values, double rounding)', () => {
    // 2^30 * x / 2^32 for x = -6: -1.5 -> double: RDPOT(-3, 1) = -2 (away from zero); single: floor(-1.5 + 0.5) = -1
    expect(requant('double', -6, 1 << 30, -1)).toBe(-2);
    expect(requant('single', -6, 1 << 30, -1)).toBe(-1);
    for (const mode of ['double', 'single'] as Rounding[]) {
      expect(sim.init(denseBlob([[-6, 1 << 30, -1]], 0, mode))).toBe(ERR.OK);
      sim.setInputRaw(0, new Int8Array(1));
      expect(sim.invoke()).toBe(ERR.OK);
      expect(sim.getOutputRaw(0)[0]).toBe(mode === 'double' ? -2 : -1);
    }
  });
});

describe('every op honours the rounding mode', () => {
  for (const [name, gen] of Object.entries(GENERATORS)) {
    it(`${name}: single rounding, runtime = integer reference`, () => {
      const r = rng(0x5151 ^ name.charCodeAt(0) ^ (name.length << 8));
      for (let i = 0; i < 40; i++) {
        const op = gen(r);
        if (op.badInput) continue;
        const blob = withRoundingField(op.blob, 1);
        expect(sim.init(blob), `${name} case ${i}: ${sim.lastError}`).toBe(ERR.OK);
        const got = sim.run(op.inputs)[0];
        expect(Array.from(got), `${name} case ${i}`).toEqual(Array.from(runBlobReference(blob, op.inputs)[0]));
      }
    });
  }
});

describe('rounding field validation', () => {
  it('mode 3 is rejected with BAD_HEADER, never a trap; modes 1 and 2 load', () => {
    const op = GENERATORS.DENSE(rng(7));
    expect(sim.init(withRoundingField(op.blob, 3))).toBe(ERR.BAD_HEADER);
    for (const v of [1, 2]) expect(sim.init(withRoundingField(op.blob, v))).toBe(ERR.OK);
  });
});

describe('recurrent layers honour the rounding mode (real Keras files)', () => {
  const models = ['dl4j_simple_rnn/simple_rnn_tf_keras_2_model.h5', 'cdt406_keras3_gru_stack/gru_model.keras', 'dl4j_keras1_lstm/lstm_tensorflow_1.h5'];
  for (const file of models) {
    it.skipIf(!haveFixtures)(
      `${file}: runtime = integer reference in both modes, and the modes differ`,
      async () => {
        const g = await graphFromFile(fixture(file));
        const outs: Record<string, number[]> = {};
        for (const rounding of ['double', 'single'] as Rounding[]) {
          const { blob } = await convertGraph(g, { rounding, syntheticCount: 8, weights: 'ram' });
          const r = rng(0x77);
          const got: number[] = [];
          expect(sim.init(blob), sim.lastError).toBe(ERR.OK);
          for (let k = 0; k < 30; k++) {
            const inputs = parseBlob(blob).io.inputs.map((io) => Int8Array.from({ length: io.bytes }, () => rint(r, -128, 127)));
            const y = Array.from(sim.run(inputs)[0]);
            expect(y, `${rounding} input ${k}`).toEqual(Array.from(runBlobReference(blob, inputs)[0]));
            got.push(...y);
          }
          outs[rounding] = got;
        }
        // the flag reaches the recurrent requantization: some outputs move by an LSB
        expect(outs.double).not.toEqual(outs.single);
      },
      120_000,
    );
  }
});
