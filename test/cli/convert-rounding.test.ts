/**
 * convert --rounding: the mode lands in the blob header, the embedded self-test (integer
 * reference) passes on the runtime in both modes, and the blobs differ only in the header.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { HEADER, roundingOfFlags } from '../../tools/blob/spec.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-rounding-'));
const ex = (p: string) => resolve(repoRoot, 'examples', p);

describe('convert --rounding', () => {
  it('double (default) and single: header field set, self-test passes, nothing else in the header or constants differs', () => {
    const blobs: Record<string, Uint8Array> = {};
    for (const mode of ['default', 'double', 'single']) {
      const out = join(dir, `${mode}.blob`);
      const args = [ex('model/model.json'), '--calibration', ex('calibration.npy'), '-o', out, ...(mode === 'default' ? [] : ['--rounding', mode])];
      const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools/convert'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      blobs[mode] = new Uint8Array(readFileSync(out));
      expect(roundingOfFlags(parseBlob(blobs[mode]).header.flags)).toBe(mode === 'single' ? 'single' : 'double');
    }
    expect(blobs.default).toEqual(blobs.double);
    const [d, s] = [parseBlob(blobs.double), parseBlob(blobs.single)];
    expect({ ...s.header, flags: 0, crc32: 0 }).toEqual({ ...d.header, flags: 0, crc32: 0 });
    expect(s.consts).toEqual(d.consts);
    // only the flags word, the CRC and possibly the self-test's expected outputs differ
    const differing = blobs.double.reduce((n: number[], b, i) => (b !== blobs.single[i] ? [...n, i] : n), []);
    const st = d.header.selfTestOff;
    expect(differing.filter((i) => !(i >= HEADER.flags && i < HEADER.flags + 4) && !(i >= HEADER.crc32 && i < HEADER.crc32 + 4) && i < st)).toEqual([]);
  }, 240_000);

  it('float: header field 2, the self-test passes in the runtime (verify), Dense multipliers are float32 scales', () => {
    const out = join(dir, 'float.blob');
    const args = [ex('model/model.json'), '--calibration', ex('calibration.npy'), '-o', out, '--rounding', 'float'];
    const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools/convert'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(roundingOfFlags(parseBlob(new Uint8Array(readFileSync(out))).header.flags)).toBe('float');
    const v = spawnSync(process.execPath, [resolve(repoRoot, 'tools/verify'), out], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(v.status, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/PASS self-test/);
  }, 240_000);
});
