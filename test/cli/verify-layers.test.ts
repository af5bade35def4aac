/**
 * verify --layers: the bundled example converted with --report, then each layer of the blob
 * against the float model, in text and --json; the first layer below the threshold is named;
 * bad combinations and a report of another blob are one-line errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-verify-layers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ex = (f: string) => resolve(repoRoot, 'examples', f);
const model = ex('model/model.json');

function run(cmd: string, args: string[]) {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools', cmd), ...args], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const blob = join(dir, 'ex.blob');
const report = join(dir, 'ex.json');
const base = () => [blob, '--model', model, '--data', ex('test-inputs.npy'), '--max-samples', '64', '--layers'];

beforeAll(() => {
  const c = run('convert', [model, '--calibration', ex('calibration.npy'), '-o', blob, '--report', report]);
  expect(c.code, c.err).toBe(0);
  run('convert', [model, '--calibration', ex('test-inputs.npy'), '-o', join(dir, 'other.blob'), '--report', join(dir, 'other.json')]);
}, 120_000);

describe('verify --layers', () => {
  it('prints each layer with SQNR and max abs error, in --json the layerErrors shape', () => {
    const t = run('verify', [...base(), '--convert-report', report]);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/PASS layers: 5 layer outputs on 64 sample\(s\), all at or above 30 dB/);
    expect(t.out).toMatch(/relu1\s+Activation\s+int8\s+\d+\.\d/);
    const j = run('verify', [...base(), '--convert-report', report, '--json']);
    const layers = JSON.parse(j.out).checks.find((c: any) => c.name === 'layers');
    expect(layers.figures.layers.map((l: any) => l.layer)).toEqual(['relu1', 'pool1', 'conv2', 'gap', 'classes']);
    for (const l of layers.figures.layers) {
      expect(Object.keys(l).sort()).toEqual(['className', 'layer', 'maxAbsError', 'precision', 'sqnrDb']);
      expect(l.sqnrDb).toBeGreaterThan(30);
    }
    expect(layers.figures.firstBelow).toBeNull();
  }, 60_000);

  it('names the first layer below --min-sqnr (a WARN: the numbers check judges the outputs)', () => {
    const j = run('verify', [...base(), '--convert-report', report, '--min-sqnr', '200', '--metric', 'top1', '--json']);
    const layers = JSON.parse(j.out).checks.find((c: any) => c.name === 'layers');
    expect(layers.status).toBe('WARN');
    expect(layers.figures.firstBelow).toBe('relu1');
    expect(layers.summary).toMatch(/^first layer below 200 dB: 'relu1' \(Activation, int8\) at \d+\.\d dB/);
  }, 60_000);

  it('refuses --layers without the convert report, a report of another blob, and --convert-report alone', () => {
    const a = run('verify', base());
    expect(a.code).toBe(2);
    expect(a.err.trim().split('\n')).toHaveLength(1);
    expect(a.err).toMatch(/--layers needs the JSON report convert wrote with this blob/);
    const b = run('verify', [...base(), '--convert-report', join(dir, 'other.json')]);
    expect(b.code).toBe(3);
    expect(b.err).toMatch(/other\.json describes another blob/);
    const c = run('verify', [blob, '--convert-report', report]);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/--convert-report goes with --layers/);
    const d = run('verify', [blob, '--layers', '--convert-report', report]);
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/--layers goes with --model and --data/);
  }, 60_000);
});
