import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { UserError } from '../../tools/errors.ts';
import { readArray, writeNpy, npyBytes } from '../../tools/readers/npy.ts';
import { fixture, haveFixtures } from '../helpers/fixtures.ts';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'kw-npy-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A .npy written by hand the way numpy does (any version, any header text, raw data bytes). */
function npy(header: string, data: Uint8Array, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  const h = header.padEnd(total - pre - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, h.length, true);
  else dv.setUint32(8, h.length, true);
  out.set(strToU8(h), pre);
  out.set(data, total);
  return out;
}
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function put(name: string, bytes: Uint8Array | string): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

function expectUserError(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).not.toContain('\n');
  expect((err as Error).message).toMatch(re);
}

describe('npy', () => {
  it('round-trips float32 and int32 through writeNpy (atomic, no temp left)', () => {
    const f = join(tmp, 'a.npy');
    const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.25 - 3);
    writeNpy(f, data, [2, 3, 4]);
    const r = readArray(f);
    expect(r.shape).toEqual([2, 3, 4]);
    expect(r.dtype).toBe('f4');
    expect(r.data).toEqual(data);
    const bytes = readFileSync(f);
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    expect((10 + bytes.readUInt16LE(8)) % 64).toBe(0);
    expect(bytes.toString('latin1', 10, 128)).toContain("'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }");
    const g = join(tmp, 'b.npy');
    writeNpy(g, Int32Array.from([-5, 0, 2147483647]), [3]);
    const ri = readArray(g);
    expect(ri.data).toBeInstanceOf(Int32Array);
    expect(Array.from(ri.data)).toEqual([-5, 0, 2147483647]);
    expect(ri.shape).toEqual([3]);
    expect(readFileSync(g).toString('latin1')).toContain("'shape': (3,)");
    expect(readdirSync(tmp).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(() => writeNpy(join(tmp, 'c.npy'), new Float32Array(5), [2, 2])).toThrow(UserError);
    expect(existsSync(join(tmp, 'c.npy'))).toBe(false);
  });

  it('parses numpy-style headers for every numeric dtype', () => {
    const cases: [string, ArrayBufferView, number[]][] = [
      ['<f8', Float64Array.from([1.5, -2.25, 1e-3]), [1.5, -2.25, Math.fround(1e-3)]],
      ['<f2', Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x0001]), [1, -2, Math.fround(0.333251953125), 2 ** -24]],
      ['|i1', Int8Array.from([-128, 127, 0]), [-128, 127, 0]],
      ['<i2', Int16Array.from([-32768, 32767]), [-32768, 32767]],
      ['<i4', Int32Array.from([-7, 7]), [-7, 7]],
      ['<i8', BigInt64Array.from([-3n, 2147483647n]), [-3, 2147483647]],
      ['|u1', Uint8Array.from([0, 255]), [0, 255]],
      ['<u2', Uint16Array.from([65535, 1]), [65535, 1]],
      ['<u4', Uint32Array.from([4000, 2147483647]), [4000, 2147483647]],
      ['|b1', Uint8Array.from([1, 0, 1]), [1, 0, 1]],
    ];
    for (const [descr, arr, want] of cases) {
      const n = want.length;
      const p = put(`d${descr.slice(1)}.npy`, npy(`{'descr': '${descr}', 'fortran_order': False, 'shape': (${n},), }`, bytesOf(arr)));
      const r = readArray(p);
      expect(r.shape, descr).toEqual([n]);
      expect(r.dtype, descr).toBe(descr.slice(1));
      expect(Array.from(r.data), descr).toEqual(want);
      expect(r.data instanceof Float32Array, descr).toBe(descr.includes('f'));
    }
  });

  it('fortran_order is transposed to C order; 0-d, version 2 and "=" byte order parse', () => {
    // C array [[0,1,2],[3,4,5]] stored column-major: 0,3,1,4,2,5
    const p = put('fo.npy', npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", bytesOf(Float32Array.from([0, 3, 1, 4, 2, 5]))));
    expect(Array.from(readArray(p).data)).toEqual([0, 1, 2, 3, 4, 5]);
    // 3-d: shape (2,2,2), C value = 4i+2j+k stored with i fastest
    const fd: number[] = [];
    for (let k = 0; k < 2; k++) for (let j = 0; j < 2; j++) for (let i = 0; i < 2; i++) fd.push(4 * i + 2 * j + k);
    const p3 = put('fo3.npy', npy("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 2, 2), }", bytesOf(Int32Array.from(fd))));
    expect(Array.from(readArray(p3).data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const p0 = put('zero.npy', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", bytesOf(Float32Array.from([42]))));
    expect(readArray(p0)).toMatchObject({ shape: [] });
    expect(Array.from(readArray(p0).data)).toEqual([42]);
    const p2 = put('v2.npy', npy("{'descr': '=f4', 'fortran_order': False, 'shape': (2,), }", bytesOf(Float32Array.from([1, 2])), 2));
    expect(Array.from(readArray(p2).data)).toEqual([1, 2]);
  });

  it('refuses big-endian, structured, object, truncated and out-of-range data with one line', () => {
    expectUserError(() => readArray(put('be.npy', npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)))), /big-endian/);
    expectUserError(() => readArray(put('st.npy', npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)))), /structured/);
    expectUserError(() => readArray(put('obj.npy', npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)))), /not supported/);
    expectUserError(() => readArray(put('tr.npy', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }", new Uint8Array(8)))), /truncated/);
    expectUserError(
      () => readArray(put('big.npy', npy("{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }", bytesOf(Uint32Array.from([4294967295]))))),
      /does not fit in int32/,
    );
    expectUserError(
      () => readArray(put('huge.npy', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }", new Uint8Array(4)))),
      /refusing/,
    );
    expectUserError(() => readArray(put('hdr.npy', new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 200, 0, 0x7b]))), /header is truncated/);
    expectUserError(() => readArray(join(tmp, 'missing.npy')), /no such file/);
    expectUserError(() => readArray(put('bin.dat', new Uint8Array([1, 0, 2, 3]))), /binary content/);
  });

  it.skipIf(!haveFixtures)('reads the real numpy files of the conv2d fixture', () => {
    const x = readArray(fixture('dl4j_conv2d_batchnorm/input.npy'));
    expect(x.shape).toEqual([5, 10, 10, 3]);
    expect(x.dtype).toBe('f8');
    const y = readArray(fixture('dl4j_conv2d_batchnorm/predictions.npy'));
    expect(y.shape).toEqual([5, 1]);
    // MANIFEST lists the predictions rounded to 8 significant digits
    [-0.0520611, 0.04986075, 0.16297522, 0.15389983, 0.15537278].forEach((v, i) => expect(y.data[i]).toBeCloseTo(v, 7));
    expect(y.dtype).toBe('f4');
  });
});

describe('npz', () => {
  it('reads the first array, or a named one with file.npz:name', () => {
    const a = npyBytes(Float32Array.from([1, 2, 3, 4]), [2, 2]);
    const b = npyBytes(Int32Array.from([9, 8, 7]), [3]);
    const p = put('x.npz', zipSync({ 'arr_0.npy': a, 'labels.npy': b }));
    const first = readArray(p);
    expect(first.shape).toEqual([2, 2]);
    expect(Array.from(first.data)).toEqual([1, 2, 3, 4]);
    const named = readArray(`${p}:labels`);
    expect(Array.from(named.data)).toEqual([9, 8, 7]);
    expect(Array.from(readArray(`${p}:labels.npy`).data)).toEqual([9, 8, 7]);
    expectUserError(() => readArray(`${p}:nope`), /no array named 'nope'/);
    expectUserError(() => readArray(put('empty.npz', zipSync({ 'readme.txt': strToU8('hi') }))), /holds no \.npy arrays/);
    const bad = Buffer.from(zipSync({ 'arr_0.npy': a }));
    expectUserError(() => readArray(put('trunc.npz', bad.subarray(0, bad.length - 30))), /corrupt or truncated zip/);
  });
});

describe('csv', () => {
  it('numbers one sample per row, header skipped, ragged and non-numeric rows refused', () => {
    const r = readArray(put('a.csv', 'x,y,z\n1,2,3\n4.5,-6,7e-1\n'));
    expect(r.shape).toEqual([2, 3]);
    expect(Array.from(r.data)).toEqual([1, 2, 3, 4.5, -6, Math.fround(0.7)]);
    expect(readArray(put('b.csv', '1;2\n3;4\n')).shape).toEqual([2, 2]);
    expect(readArray(put('c.csv', '1 2 3\n')).shape).toEqual([1, 3]);
    expectUserError(() => readArray(put('d.csv', '1,2\n3\n')), /row 2 has 1 values; expected 2/);
    expectUserError(() => readArray(put('e.csv', 'a,b\n1,2\n3,x\n')), /row 3 column 2: 'x' is not a number/);
    expectUserError(() => readArray(put('f.csv', '\n\n')), /no rows/);
    expectUserError(() => readArray(put('g.csv', 'a,b\n')), /header but no data rows/);
  });
});
