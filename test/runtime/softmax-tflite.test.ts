/**
 * SOFTMAX_TFLITE (TFLite's int8 reference softmax) in the runtime, bit for bit against a separate
 * TypeScript transcription of TFLite's reference kernel (test/helpers/tflite-softmax.ts, BigInt
 * gemmlowp fixed point written apart from the AssemblyScript kernel) and against the converter's
 * integer reference: every pair of int8 logits (depth 2, all 65,536 patterns), constant rows and
 * seeded random rows of depth 3..1000, for several input scales and both rounding modes. No TFLite
 * model with a SOFTMAX is run here: the interpreter's int8 SOFTMAX is its optimised LUT kernel,
 * not the reference one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { DTYPE, ERR, STORAGE, type Rounding as BlobRounding } from '../../tools/blob/spec.ts';

/** The integer modes (mode float changes only DENSE/CONV2D/DEPTHWISE outputs: test/graph/tflite-exact.test.ts). */
type Rounding = Exclude<BlobRounding, 'float'>;
import { runBlobReference } from '../../tools/blob/reference.ts';
import { softmaxTfliteParams } from '../../tools/quantize/softmax-tflite.ts';
import { rng, rint } from '../helpers/opgen.ts';
import { softmaxParamsRef, softmaxRowRef } from '../helpers/tflite-softmax.ts';

let sim: DeviceSim;
beforeAll(async () => {
  sim = await DeviceSim.load();
});

function blob(rows: number, depth: number, scale: number, rounding: Rounding): Uint8Array {
  const b = new BlobBuilder();
  const n = rows * depth;
  const tin = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 0, bytes: n });
  const tout = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: Math.ceil(n / 16) * 16, bytes: n });
  b.addOp('SOFTMAX_TFLITE', { in: tin, out: tout, rows, depth, ...softmaxTfliteParams(1, scale) });
  b.setIO(
    [{ tensor: tin, dims: [rows, depth], scale, zeroPoint: 0, name: 'x' }],
    [{ tensor: tout, dims: [rows, depth], scale: 1 / 256, zeroPoint: -128, name: 'y' }],
  );
  b.setRounding(rounding);
  return b.build();
}

function check(x: Int8Array, rows: number, depth: number, scale: number, rounding: Rounding): void {
  const bl = blob(rows, depth, scale, rounding);
  expect(sim.init(bl), sim.lastError).toBe(ERR.OK);
  const got = sim.run([x])[0];
  expect(Array.from(got)).toEqual(Array.from(runBlobReference(bl, [x])[0]));
  const p = softmaxParamsRef(1, scale);
  for (let r = 0; r < rows; r++) {
    const want = softmaxRowRef(x.subarray(r * depth, (r + 1) * depth), p, rounding);
    const row = Array.from(got.subarray(r * depth, (r + 1) * depth));
    if (row.join() !== want.join()) expect(`row ${Array.from(x.subarray(r * depth, (r + 1) * depth))}: ${row}`).toBe(`row: ${want}`);
  }
}

// input scales: typical logits (0.05..0.2), fine (1/256, 1e-3) and coarse ones (1, 16: radius 0)
const SCALES = [0.1, 0.05, 0.2, 1 / 256, 1e-3, 1, 16];

describe('SOFTMAX_TFLITE = TFLite reference softmax', () => {
  it('Prepare: the converter derives the parameters TFLite derives', () => {
    for (const s of SCALES) {
      const a = softmaxTfliteParams(1, s);
      const b = softmaxParamsRef(1, s);
      expect({ ...a, inputLeftShift: b.inputLeftShift > 30 ? 31 : a.inputLeftShift }).toEqual(b);
    }
  });
  for (const rounding of ['double', 'single'] as Rounding[]) {
    it(`${rounding}: all 65,536 pairs of logits, every scale`, () => {
      const x = new Int8Array(2 * 65536);
      for (let i = 0; i < 65536; i++) {
        x[2 * i] = (i & 255) - 128;
        x[2 * i + 1] = (i >> 8) - 128;
      }
      for (const s of SCALES) check(x, 65536, 2, s, rounding);
    }, 300_000);
    it(`${rounding}: constant rows and random rows of depth 3..1000`, () => {
      const r = rng(rounding === 'single' ? 5 : 6);
      for (const s of SCALES) {
        for (const depth of [3, 10, 12, 100, 1000]) {
          const rows = depth >= 100 ? 3 : 40;
          const x = Int8Array.from({ length: rows * depth }, (_, i) => (i < depth ? 17 : rint(r, -128, 127)));
          check(x, rows, depth, s, rounding);
        }
      }
    }, 300_000);
  }
  it('parameters outside what TFLite derives are refused at init', () => {
    const good = softmaxTfliteParams(1, 0.1);
    for (const bad of [{ inputLeftShift: 31 }, { inputLeftShift: -1 }, { inputMult: 12345 }, { diffMin: 1 }, { diffMin: -255, inputLeftShift: 30 }]) {
      const b = new BlobBuilder();
      const tin = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 0, bytes: 4 });
      const tout = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 16, bytes: 4 });
      b.addOp('SOFTMAX_TFLITE', { in: tin, out: tout, rows: 1, depth: 4, ...good, ...bad });
      b.setIO(
        [{ tensor: tin, dims: [1, 4], scale: 0.1, zeroPoint: 0, name: 'x' }],
        [{ tensor: tout, dims: [1, 4], scale: 1 / 256, zeroPoint: -128, name: 'y' }],
      );
      expect(() => b.build(), JSON.stringify(bad)).toThrow(/op parameters inconsistent/);
    }
  });
});
