/**
 * The runtime against a real TFLite interpreter (tfjs-tflite, test/helpers/tflite-interpreter.ts)
 * on a real int8 .tflite: MLPerf Tiny's anomaly-detection autoencoder (ad01, ten FULLY_CONNECTED
 * layers). The test builds its own blob of DENSE ops from the file's tensors (scales, zero points,
 * int8 weights, int32 biases; multipliers by TFLite's QuantizeMultiplier) and runs 100 seeded
 * random int8 inputs:
 *   single rounding: runtime = interpreter, bit for bit (its kernels use TFLITE_SINGLE_ROUNDING);
 *   double rounding: runtime = an independent TS transcription of TFLite's reference arithmetic,
 *   bit for bit, and every layer within 1 LSB of single rounding on the same layer input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { DTYPE, ERR, STORAGE, type Rounding as BlobRounding } from '../../tools/blob/spec.ts';

/** The integer modes (mode float changes only DENSE/CONV2D/DEPTHWISE outputs: test/graph/tflite-exact.test.ts). */
type Rounding = Exclude<BlobRounding, 'float'>;
import { blockRows4 } from '../../tools/quantize/reference-rnn.ts';
import { repoRoot } from '../helpers/fixtures.ts';
import { rng, rint } from '../helpers/opgen.ts';
import { readFcModel, type FcLayer } from '../helpers/tflite-fc-model.ts';
import { loadTflite, type TfliteInterpreter } from '../helpers/tflite-interpreter.ts';
import { quantizeMultiplierRef, requant } from '../helpers/tflite-requant.ts';

const file = resolve(repoRoot, '../shared/fixtures/tflite/ad01_int8.tflite');
const have = existsSync(file);
if (!have) console.warn(`${file} not found: skipping the TFLite interpreter tests`);

const RELU = 1;
const actRange = (l: FcLayer): [number, number] => [l.activation === RELU ? Math.max(-128, l.outZp) : -128, 127];
const multShift = (l: FcLayer, o: number) => quantizeMultiplierRef((l.inScale * l.wScales[l.wScales.length > 1 ? o : 0]) / l.outScale);

/** One FULLY_CONNECTED layer as TFLite's reference computes it, with the independent requantization. */
function fcRef(l: FcLayer, x: Int8Array, mode: Rounding): Int8Array {
  const [lo, hi] = actRange(l);
  const y = new Int8Array(l.outDim);
  for (let o = 0; o < l.outDim; o++) {
    let acc = l.bias[o];
    for (let k = 0; k < l.inDim; k++) acc += (x[k] - l.inZp) * l.weights[o * l.inDim + k];
    const { mult, shift } = multShift(l, o);
    y[o] = Math.max(lo, Math.min(hi, requant(mode, acc, mult, shift) + l.outZp));
  }
  return y;
}

/** The model as a blob of DENSE ops (weights in layout 1, the zero point folded into the bias). */
function fcBlob(layers: FcLayer[], rounding: Rounding): Uint8Array {
  const b = new BlobBuilder();
  let off = 0;
  const tensor = (n: number) => {
    const t = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: off, bytes: n });
    off += Math.ceil(n / 16) * 16;
    return t;
  };
  const tin = tensor(layers[0].inDim);
  let x = tin;
  for (const l of layers) {
    const y = tensor(l.outDim);
    const ms = Array.from({ length: l.outDim }, (_, o) => multShift(l, o));
    const bias = Array.from(l.bias, (v, o) => v - l.inZp * l.weights.subarray(o * l.inDim, (o + 1) * l.inDim).reduce((s, w) => s + w, 0));
    const [actMin, actMax] = actRange(l);
    b.addOp('DENSE', {
      in: x,
      out: y,
      rows: 1,
      inDim: l.inDim,
      outDim: l.outDim,
      weights: b.addConst(blockRows4(l.weights, l.outDim, l.inDim), 16),
      bias: b.addConstI32(bias),
      mult: b.addConstI32(ms.map((m) => m.mult)),
      shift: b.addConstI8(ms.map((m) => m.shift)),
      zpOut: l.outZp,
      actMin,
      actMax,
      lut: -1,
      layout: 1,
    });
    x = y;
  }
  const last = layers[layers.length - 1];
  b.setIO(
    [{ tensor: tin, dims: [1, layers[0].inDim], scale: layers[0].inScale, zeroPoint: layers[0].inZp, name: 'input_1' }],
    [{ tensor: x, dims: [1, last.outDim], scale: last.outScale, zeroPoint: last.outZp, name: 'Identity' }],
  );
  b.setPlan({ arenaSize: off, stateSize: 0, scratchSize: 0, batch: 1 });
  b.setRounding(rounding);
  return b.build();
}

describe.skipIf(!have)('ad01 (MLPerf Tiny autoencoder) against the TFLite interpreter', () => {
  let layers: FcLayer[];
  let tfl: TfliteInterpreter;
  let sim: DeviceSim;
  let inputs: Int8Array[];
  beforeAll(async () => {
    const bytes = new Uint8Array(readFileSync(file));
    layers = readFcModel(bytes);
    tfl = await loadTflite(bytes);
    sim = await DeviceSim.load();
    const r = rng(0xad01);
    inputs = Array.from({ length: 100 }, () => Int8Array.from({ length: layers[0].inDim }, () => rint(r, -128, 127)));
  }, 60_000);
  afterAll(() => tfl?.close());

  it('the interpreter sees the model the test reads (one int8 input and output of the file shapes)', () => {
    expect(tfl.inputs).toEqual([{ name: 'input_1', dtype: 'int8', shape: [1, 640] }]);
    expect(tfl.outputs.map((o) => o.shape)).toEqual([[1, layers[layers.length - 1].outDim]]);
    expect(layers).toHaveLength(10);
  });

  it('single rounding: runtime = interpreter bit for bit on 100 inputs', () => {
    expect(sim.init(fcBlob(layers, 'single')), sim.lastError).toBe(ERR.OK);
    let distinct = new Set<number>();
    for (const x of inputs) {
      const want = tfl.run([x])[0];
      const got = sim.run([x])[0];
      expect(Array.from(got)).toEqual(Array.from(want));
      distinct = new Set([...distinct, ...want]);
    }
    // the outputs are not saturated constants
    expect(distinct.size).toBeGreaterThan(50);
  });

  it('double rounding: runtime = independent TFLite reference arithmetic; each layer within 1 LSB of single', () => {
    expect(sim.init(fcBlob(layers, 'double')), sim.lastError).toBe(ERR.OK);
    let differ = 0;
    let total = 0;
    let maxEnd = 0;
    for (const x of inputs) {
      let a = x;
      for (const l of layers) {
        const d = fcRef(l, a, 'double');
        const s = fcRef(l, a, 'single');
        d.forEach((v, i) => expect(Math.abs(v - s[i])).toBeLessThanOrEqual(1));
        differ += d.filter((v, i) => v !== s[i]).length;
        total += d.length;
        a = d;
      }
      expect(Array.from(sim.run([x])[0])).toEqual(Array.from(a));
      const t = tfl.run([x])[0];
      maxEnd = Math.max(maxEnd, ...a.map((v, i) => Math.abs(v - t[i])));
    }
    // the modes really differ on this model (or the check above proves nothing)
    expect(differ).toBeGreaterThan(0);
    console.log(`ad01 double vs single: ${differ} of ${total} layer outputs differ by 1 LSB; end to end vs the interpreter: max |diff| ${maxEnd} LSB`);
  });
});
