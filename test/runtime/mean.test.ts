/**
 * Op MEAN in the runtime, with the converter's parameters (tools/quantize/mean-tflite.ts), bit for
 * bit against implementations written in test/ apart from both: TFLite's reference
 * QuantizedMeanOrSum in BigInt (test/helpers/tflite-mean.ts) for double and single rounding, and
 * XNNPACK's float32 global average pooling for mode float. Seeded random shapes, scales and zero
 * points, inputs drawn uniformly or pinned at the int8 ends (saturation), equal scales (ties).
 * Parameters outside what the op accepts are refused when the blob is built (the runtime's own
 * prepare code).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { DTYPE, STORAGE, type Rounding } from '../../tools/blob/spec.ts';
import { meanTfliteParams } from '../../tools/quantize/mean-tflite.ts';
import { rng, rint, pick } from '../helpers/opgen.ts';
import { meanRef } from '../helpers/tflite-mean.ts';

let sim: DeviceSim;
beforeAll(async () => {
  sim = await DeviceSim.load();
});

interface Case {
  batch: number;
  H: number;
  W: number;
  C: number;
  si: number;
  zi: number;
  so: number;
  zo: number;
}

function blob(k: Case, params: { mult: number; shift: number }, rounding?: Rounding): Uint8Array {
  const b = new BlobBuilder();
  const n = k.batch * k.H * k.W * k.C;
  const tin = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 0, bytes: n });
  const tout = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: Math.ceil(n / 16) * 16, bytes: k.batch * k.C });
  b.addOp('MEAN', { in: tin, out: tout, batch: k.batch, inH: k.H, inW: k.W, channels: k.C, zpIn: k.zi, zpOut: k.zo, ...params });
  // the I/O descriptors keep an int8 zero point, so that a bad op zero point reaches the op's own checks
  const zp8 = (z: number) => Math.max(-128, Math.min(127, z));
  b.setIO(
    [{ tensor: tin, dims: [k.batch, k.H, k.W, k.C], scale: k.si, zeroPoint: zp8(k.zi), name: 'x' }],
    [{ tensor: tout, dims: [k.batch, k.C], scale: k.so, zeroPoint: zp8(k.zo), name: 'y' }],
  );
  b.setPlan({ arenaSize: Math.ceil(n / 16) * 16 + Math.ceil((k.batch * k.C) / 16) * 16, stateSize: 0, scratchSize: 0, batch: k.batch });
  if (rounding) b.setRounding(rounding);
  return b.build();
}

/** XNNPACK's qs8 global average pooling: round-half-even(f32(acc) · f32(s_in / f32(s_out·n))) + zp_out, clamped. */
function xnnpackMean(x: Int8Array, n: number, C: number, k: Case): Int8Array {
  const f32 = Math.fround;
  const scale = f32(k.si / f32(k.so * n));
  const y = new Int8Array(x.length / n);
  for (let o = 0; o < y.length; o++) {
    const [b, c] = [Math.floor(o / C), o % C];
    let acc = -k.zi * n;
    for (let i = 0; i < n; i++) acc += x[(b * n + i) * C + c];
    const v = f32(f32(acc) * scale);
    const r = Math.round(v);
    y[o] = Math.max(-128, Math.min(127, (r - v === 0.5 && r % 2 !== 0 ? r - 1 : r) + k.zo));
  }
  return y;
}

describe('op MEAN', () => {
  for (const rounding of ['double', 'single', 'float'] as const) {
    it(`${rounding}: equal to the test's own implementation, seeded random cases`, () => {
      const r = rng(rounding === 'double' ? 21 : rounding === 'single' ? 22 : 23);
      let outputs = 0;
      for (let t = 0; t < 150; t++) {
        const f32 = Math.fround;
        const si = f32(0.001 + r() * 0.3);
        const k: Case = {
          batch: rint(r, 1, 2),
          H: pick(r, [1, 2, 3, 7, rint(r, 1, 20)]),
          W: pick(r, [1, 3, 5, rint(r, 1, 20)]),
          C: rint(r, 1, 24),
          si,
          zi: pick(r, [-128, 0, 127, rint(r, -128, 127)]),
          so: pick(r, [si, f32(si * (0.1 + r() * 3)), f32(0.001 + r() * 0.3)]),
          zo: pick(r, [-128, 0, rint(r, -128, 127)]),
        };
        const n = k.H * k.W;
        const size = k.batch * n * k.C;
        const ends = r() < 0.15 ? pick(r, [-128, 127]) : null;
        const x = Int8Array.from({ length: size }, () => ends ?? rint(r, -128, 127));
        expect(sim.init(blob(k, meanTfliteParams(k.si, k.so, n, rounding), rounding)), JSON.stringify(k)).toBe(0);
        const got = sim.run([x])[0];
        const qi = { s: k.si, zp: k.zi };
        const qo = { s: k.so, zp: k.zo };
        const want = rounding === 'float' ? xnnpackMean(x, n, k.C, k) : meanRef(x, n, k.C, qi, qo, rounding);
        expect(Array.from(got), JSON.stringify(k)).toEqual(Array.from(want));
        outputs += got.length;
      }
      expect(outputs).toBeGreaterThan(1000);
    });
  }

  it('parameters outside what the op accepts are refused when the blob is built', () => {
    const k: Case = { batch: 1, H: 3, W: 3, C: 4, si: 0.1, zi: 0, so: 0.05, zo: 0 };
    const good = meanTfliteParams(k.si, k.so, 9, 'double');
    expect(good.mult).toBeLessThan(2 ** 30); // TFLite's readapted multiplier is accepted below 2^30
    expect(() => blob(k, good)).not.toThrow();
    const bad: [Partial<Case>, { mult: number; shift: number }][] = [
      [{}, { ...good, mult: -1 }],
      [{}, { ...good, shift: 31 }],
      [{}, { ...good, shift: -32 }],
      [{ zi: 128 }, good],
      [{ zo: -129 }, good],
    ];
    for (const [kc, p] of bad) expect(() => blob({ ...k, ...kc }, p), JSON.stringify([kc, p])).toThrow(/op parameters inconsistent/);
  });
});
