/**
 * convert --calibration-method: each method on the bundled example (the report says which method
 * set each tensor's range), auto's measured choice, and the one-line errors (unknown method, too
 * few samples for the method).
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.ts';
import { readArray, writeNpy } from '../../tools/readers/npy.ts';
import { convertWithAutoCalibration } from '../../tools/calibration-search.ts';
import { graphFromFile } from '../helpers/convert-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-cal-method-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ex = (f: string) => resolve(repoRoot, 'examples', f);
const model = ex('model/model.json');

function convert(args: string[]) {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools/convert'), model, ...args], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('convert --calibration-method', () => {
  it('writes the method of every tensor into the report', () => {
    for (const m of ['minmax', 'percentile', 'mse']) {
      const out = join(dir, `${m}.blob`);
      const r = convert(['--calibration', ex('calibration.npy'), '--calibration-method', m, '-o', out, '--report', join(dir, `${m}.json`)]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`(128 samples, ${m})`);
      const rep = JSON.parse(readFileSync(join(dir, `${m}.json`), 'utf8'));
      expect(rep.calibration.method).toBe(m);
      const methods = Object.values(rep.quantization).map((q: any) => q.method);
      expect(methods.filter((x) => x !== null).every((x) => x === m)).toBe(true);
    }
  }, 120_000);

  it('an unknown method is a usage error listing the allowed ones; too few samples names the minimum', () => {
    const a = convert(['--calibration', ex('calibration.npy'), '--calibration-method', 'kl', '-o', join(dir, 'x.blob')]);
    expect(a.code).toBe(2);
    expect(a.err).toBe('error: --calibration-method kl: expected one of minmax, percentile, mse, auto\n');
    const few = join(dir, 'few.npy');
    const cal = readArray(ex('calibration.npy'));
    writeNpy(few, Float32Array.from(cal.data as ArrayLike<number>).subarray(0, 8 * 32 * 3), [8, 32, 3]);
    const b = convert(['--calibration', few, '--calibration-method', 'percentile', '-o', join(dir, 'y.blob')]);
    expect(b.code).toBe(3);
    expect(b.err).toBe('error: calibration: --calibration-method percentile needs at least 32 calibration samples, 8 given (minmax works from 1)\n');
    expect(existsSync(join(dir, 'y.blob'))).toBe(false);
    // the default: auto from 32 samples, min/max below that (said in a note) and for synthetic samples
    const z = convert(['--calibration', few, '-o', join(dir, 'z.blob')]);
    expect(z.code).toBe(0);
    expect(z.out).toContain('(8 samples, minmax)');
    expect(z.out).toContain('note: calibration: 8 samples, fewer than the 32 the default (auto) measures on: min/max ranges');
    const d = convert(['--calibration', ex('calibration.npy'), '-o', join(dir, 'd.blob')]);
    expect(d.out).toContain('(128 samples, auto)');
    expect(d.out).toMatch(/note: calibration method auto: output SQNR on the calibration samples minmax .*; wrote (minmax|percentile|mse|per-tensor)/);
    expect(convert(['-o', join(dir, 's.blob')]).out).toMatch(/synthetic \(64 samples, minmax\)/);
    const c = convert(['--calibration-method', 'auto', '-o', join(dir, 'w.blob')]);
    expect(c.code).toBe(2);
    expect(c.err).toBe('error: --calibration-method auto measures each method on the calibration samples: give --calibration\n');
  }, 120_000);

  it('auto measures every method and the per-tensor mix, and writes the best at the outputs', async () => {
    const g = await graphFromFile(model);
    const cal = readArray(ex('calibration.npy'));
    const a = await convertWithAutoCalibration(g, { calibration: [{ shape: cal.shape, data: Float32Array.from(cal.data as ArrayLike<number>) }] });
    expect(a.trials.map((t) => t.method)).toEqual(['minmax', 'percentile', 'mse', 'per-tensor']);
    const best = Math.max(...a.trials.map((t) => Math.round(10 * t.outputSqnrDb)));
    expect(Math.round(10 * a.trials.find((t) => t.method === a.chosen)!.outputSqnrDb)).toBe(best);
    expect(Object.keys(a.byLayer)).toEqual(['relu1', 'pool1', 'conv2', 'gap', 'classes']);
    expect(a.result.notes.some((n) => n.startsWith('calibration method auto: output SQNR on the calibration samples minmax'))).toBe(true);
  }, 120_000);
});
