import { describe, expect, it } from 'vitest';
import { BlobBuilder, fixCrc } from '../../tools/blob/writer.ts';
import { parseBlob, BlobError } from '../../tools/blob/parse.ts';
import { crc32 } from '../../tools/blob/crc32.ts';
import { DTYPE, ERR, FORMAT_VERSION, HEADER, HEADER_SIZE, IO, MAGIC, OP_HEADER_SIZE, STORAGE } from '../../tools/blob/spec.ts';
import { frexp, mbqm, mbqmBig, quantize, quantizeMultiplier, roundHalfAwayFromZero, perTensorScale } from '../../tools/fixedpoint.ts';
import { UserError } from '../../tools/errors.ts';
import { rng, rint } from '../helpers/opgen.ts';
import { crc32 as zcrc } from 'node:zlib';

function denseBlob(selfTest = false): Uint8Array {
  const b = new BlobBuilder();
  const tin = b.addTensor({ dtype: DTYPE.INT8, offset: 0, bytes: 4 }, { name: 'input_layer_with_a_long_name', scale: 0.5, zeroPoint: 0 });
  const tout = b.addTensor(
    { dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 16, bytes: 2 },
    { name: 'dense', scale: 0.25, zeroPoint: 3, writer: 0, layerOutput: true },
  );
  b.addOp('DENSE', {
    in: tin,
    out: tout,
    rows: 1,
    inDim: 4,
    outDim: 2,
    weights: b.addConst(Int8Array.from([1, 2, 3, 4, -1, -2, -3, -4])),
    bias: b.addConstI32([10, -10]),
    mult: b.addConstI32([1 << 30, 1 << 30]),
    shift: b.addConstI8([1, 0]),
    zpOut: 3,
    actMin: -128,
    actMax: 127,
    lut: -1,
    layout: 0,
  });
  b.setIO(
    [{ tensor: tin, dims: [1, 4], scale: 0.5, zeroPoint: 0, name: 'input_layer_with_a_long_name' }],
    [{ tensor: tout, dims: [1, 2], scale: 0.25, zeroPoint: 3, name: 'dense' }],
  );
  if (selfTest) b.setSelfTest([Int8Array.from([1, 1, 1, 1])], [Int8Array.from([20, -7])]);
  b.setPlan({ arenaSize: 32, batch: 1 });
  return b.build();
}

describe('fixedpoint (offline math)', () => {
  it('mbqm equals the BigInt gemmlowp oracle on 100k seeded cases incl. edge values', () => {
    const r = rng(1);
    const special = [0, 1, -1, 2147483647, -2147483648, 1 << 30, -(1 << 30), 12345, -12345];
    let n = 0;
    for (let i = 0; i < 100000; i++) {
      const x = i < 81 ? special[i % 9] : rint(r, -2147483648, 2147483647);
      const m = i < 81 ? special[Math.floor(i / 9)] : rint(r, -2147483648, 2147483647);
      const s = rint(r, -31, 30);
      expect(mbqm(x, m, s)).toBe(mbqmBig(x, m, s));
      n++;
    }
    expect(n).toBe(100000);
    expect(mbqm(-2147483648, -2147483648, 0)).toBe(2147483647);
    // double rounding: SRDHM(5, 0.5) = 2.5 -> 3 (half up), then 3/2 = 1.5 -> 2 (half away from zero)
    expect(mbqm(5, 1 << 30, -1)).toBe(2);
    expect(mbqm(-5, 1 << 30, 0)).toBe(-2); // SRDHM rounds -2.5 toward +inf
    expect(mbqm(6, 1 << 30, -2)).toBe(1); // 3 / 4 = 0.75 -> 1
    expect(mbqm(-6, 1 << 30, -2)).toBe(-1); // -3 / 4 -> -1
    expect(mbqm(-2, 1 << 30, -2)).toBe(0); // -1 / 4 -> 0
    expect(mbqm(-4, 1 << 30, -2)).toBe(-1); // -2 / 4 = -0.5 -> -1 (half away from zero)
    expect(mbqm(3, 1 << 30, 2)).toBe(6); // left shift
  });
  it('quantizeMultiplier matches TFLite incl. 2^31 rounding and shift < -31', () => {
    expect(quantizeMultiplier(0)).toEqual({ mult: 0, shift: 0 });
    expect(quantizeMultiplier(0.5)).toEqual({ mult: 1 << 30, shift: 0 });
    expect(quantizeMultiplier(1)).toEqual({ mult: 1 << 30, shift: 1 });
    expect(quantizeMultiplier(0.75)).toEqual({ mult: 1610612736, shift: 0 });
    // q*2^31 rounds to 2^31 -> halve and shift+1
    expect(quantizeMultiplier(1 - 2 ** -40)).toEqual({ mult: 1 << 30, shift: 1 });
    expect(quantizeMultiplier(2 ** -31)).toEqual({ mult: 1 << 30, shift: -30 });
    expect(quantizeMultiplier(2 ** -32)).toEqual({ mult: 1 << 30, shift: -31 });
    expect(quantizeMultiplier(2 ** -33)).toEqual({ mult: 0, shift: 0 });
    expect(quantizeMultiplier(0.0031)).toEqual({ mult: 1704243023, shift: -8 });
    const r = rng(2);
    for (let i = 0; i < 2000; i++) {
      const d = Math.exp((r() - 0.5) * 40);
      const { mult, shift } = quantizeMultiplier(d);
      if (mult === 0) continue;
      expect(mult).toBeGreaterThanOrEqual(2 ** 30);
      expect(mult).toBeLessThan(2 ** 31);
      expect(Math.abs((mult / 2 ** 31) * 2 ** shift - d) / d).toBeLessThan(2 ** -30);
      const f = frexp(d);
      expect(f.q * 2 ** f.e).toBe(d);
    }
    expect(perTensorScale(0.1, 0.2, 0.3)).toBe(Math.fround(0.1 * 0.2) / 0.3);
  });
  it('roundHalfAwayFromZero and quantize', () => {
    expect([2.5, -2.5, 0.5, -0.5, 1.49, -1.5].map(roundHalfAwayFromZero)).toEqual([3, -3, 1, -1, 1, -2]);
    expect(quantize(1.0, 0.5, 3)).toBe(5);
    expect(quantize(1000, 0.5, 3)).toBe(127);
    expect(quantize(-1000, 0.5, 3)).toBe(-128);
    expect(quantize(-0.25, 0.5, 0)).toBe(-1);
  });
});

describe('crc32', () => {
  it('matches zlib', () => {
    const r = rng(3);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    for (let i = 0; i < 20; i++) {
      const b = Uint8Array.from({ length: rint(r, 0, 3000) }, () => rint(r, 0, 255));
      expect(crc32(b)).toBe(zcrc(b) >>> 0);
    }
  });
});

describe('BlobBuilder / parseBlob', () => {
  it('round-trips header, tensors, I/O, ops, consts and self-test', () => {
    const blob = denseBlob(true);
    const p = parseBlob(blob);
    expect(p.header.magic).toBe(MAGIC);
    expect(p.header.totalSize).toBe(blob.length);
    expect(p.header.headerSize).toBe(HEADER_SIZE);
    expect(p.header.nTensors).toBe(2);
    expect(p.header.nOps).toBe(1);
    expect(p.header.opMask0).toBe(1 << 1);
    expect(p.header.constsOff % 16).toBe(0);
    expect(p.tensors[1]).toEqual({
      dtype: 1,
      storage: 0,
      offset: 16,
      bytes: 2,
      elements: 2,
      meta: { name: 'dense', scale: 0.25, zeroPoint: 3, writer: 0, layerOutput: true },
    });
    expect(p.tensors[0].meta).toEqual({ name: 'input_layer_with_a_long_name', scale: 0.5, zeroPoint: 0, writer: -1, layerOutput: false });
    // the whole name from the metadata section; the descriptor keeps its first 16 bytes
    expect(p.io.inputs[0].name).toBe('input_layer_with_a_long_name');
    const d = blob.subarray(p.header.ioOff + IO.name, p.header.ioOff + IO.name + 16);
    expect(new TextDecoder().decode(d)).toBe('input_layer_with');
    expect(p.header.metaOff).toBeGreaterThanOrEqual(p.header.constsOff + p.header.constsSize);
    expect(p.io.inputs[0].dims).toEqual([1, 4]);
    expect(p.io.outputs[0].scale).toBe(0.25);
    expect(p.io.outputs[0].zeroPoint).toBe(3);
    expect(p.ops[0].name).toBe('DENSE');
    expect(p.ops[0].params.inDim).toBe(4);
    expect(p.ops[0].params.shift).toBe(40); // int8 shifts (format 2), byte-aligned after the mult array
    expect(Array.from(p.selfTest!.outputs[0])).toEqual([20, 249]);
    expect(p.header.flags & 1).toBe(1);
  });
  it('reads a metadata section that ends early as far as it goes: names kept, no tensor records', () => {
    const blob = denseBlob();
    const p = parseBlob(blob);
    const cut = blob.slice();
    new DataView(cut.buffer).setUint32(HEADER.metaSize, p.header.metaSize - 1, true);
    const q = parseBlob(fixCrc(cut));
    expect(q.io.inputs[0].name).toBe('input_layer_with_a_long_name');
    expect(q.ops[0].layer).toBe(p.ops[0].layer);
    expect(q.tensors.every((t) => t.meta === undefined)).toBe(true);
    // the tensor records start 4-aligned after the names
    const recs = p.header.metaOff + p.header.metaSize - 2 * 12;
    expect(recs % 4).toBe(0);
    expect(new DataView(blob.buffer).getFloat32(recs + 12, true)).toBe(0.25);
  });
  it('accepts repeat groups as an array under the count param or as groups', () => {
    const mk = (form: 0 | 1) => {
      const b = new BlobBuilder();
      const t = [0, 1, 2].map((i) => b.addTensor({ dtype: DTYPE.INT8, offset: 16 * i, bytes: 4 }));
      const groups = [0, 1].map((i) => ({ tensor: t[i], zp: 0, mult: 1 << 30, shift: 1 }));
      b.addOp(
        'MAXMIN',
        form === 0
          ? { out: t[2], count: 4, isMin: 0, zpOut: 0, actMin: -128, actMax: 127, n: groups }
          : { out: t[2], count: 4, isMin: 0, zpOut: 0, actMin: -128, actMax: 127, n: 2, groups },
      );
      b.setIO(
        [
          { tensor: t[0], dims: [4], scale: 1, zeroPoint: 0 },
          { tensor: t[1], dims: [4], scale: 1, zeroPoint: 0 },
        ],
        [{ tensor: t[2], dims: [2, 2], scale: 1, zeroPoint: 0 }],
      );
      return b.build();
    };
    expect(mk(0)).toEqual(mk(1));
    const p = parseBlob(mk(0));
    expect(p.ops[0].params.n).toBe(2);
    expect(p.ops[0].params.groups).toEqual([
      { tensor: 0, zp: 0, mult: 1 << 30, shift: 1 },
      { tensor: 1, zp: 0, mult: 1 << 30, shift: 1 },
    ]);
  });
  it('addOp rejects unknown ops, unknown or missing params', () => {
    const b = new BlobBuilder();
    expect(() => b.addOp('FOO', {})).toThrow(/unknown op FOO/);
    expect(() => b.addOp('LUT', { in: 0, out: 0, count: 1 })).toThrow(/param 'table'/);
    expect(() => b.addOp('LUT', { in: 0, out: 0, count: 1, table: 0, bogus: 1 })).toThrow(/unknown param 'bogus'/);
    expect(() => b.addOp('ADD_N', { out: 0, count: 1, zpOut: 0, actMin: 0, actMax: 0, leftShift: 0, outMult: 0, outShift: 0, n: 1 })).toThrow(/repeat group/);
  });
  it('throws BlobError (a UserError) with the runtime code', () => {
    const blob = denseBlob();
    const cases: [(b: Uint8Array) => void, number][] = [
      [(b) => (b[0] ^= 1), ERR.BAD_MAGIC],
      [(b) => (b[HEADER.version] = FORMAT_VERSION + 1), ERR.BAD_VERSION],
      [(b) => (b[HEADER.totalSize] += 1), ERR.BAD_SIZE],
      [(b) => (b[200 % b.length] ^= 0x10), ERR.BAD_CRC],
    ];
    for (const [mut, code] of cases) {
      const b = blob.slice();
      mut(b);
      try {
        parseBlob(b);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        expect(e).toBeInstanceOf(BlobError);
        expect((e as BlobError).code).toBe(code);
        expect((e as Error).message.split('\n').length).toBe(1);
      }
    }
    const short = blob.slice(0, 50);
    expect(() => parseBlob(short)).toThrow(/size mismatch/);
    // a param error after fixing the CRC
    const b = blob.slice();
    const p = parseBlob(b);
    new DataView(b.buffer).setInt32(p.ops[0].offset + OP_HEADER_SIZE + 4 * 2, 3, true); // rows = 3
    fixCrc(b);
    expect(() => parseBlob(b)).toThrow(/inconsistent with tensors/);
  });
});
