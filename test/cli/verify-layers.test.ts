/**
 * verify --layers: the bundled example converted, then each layer of the blob against the float
 * model (scales from the blob's metadata section), in text and --json; the first layer below the
 * threshold is named; bad combinations and a blob without tensor metadata are one-line errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.ts';
import { fixCrc } from '../../tools/blob/writer.ts';
import { HEADER } from '../../tools/blob/spec.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-verify-layers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ex = (f: string) => resolve(repoRoot, 'examples', f);
const model = ex('model/model.json');

function run(cmd: string, args: string[]) {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools', cmd), ...args], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const blob = join(dir, 'ex.blob');
const base = () => [blob, '--model', model, '--data', ex('test-inputs.npy'), '--max-samples', '64', '--layers'];

beforeAll(() => {
  const c = run('convert', [model, '--calibration', ex('calibration.npy'), '-o', blob]);
  expect(c.code, c.err).toBe(0);
}, 120_000);

describe('verify --layers', () => {
  it('prints each layer with SQNR and max abs error, in --json the layerErrors shape', () => {
    const t = run('verify', base());
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/PASS layers: 5 layer outputs on 64 sample\(s\), all at or above 30 dB/);
    expect(t.out).toMatch(/relu1\s+Activation\s+int8\s+\d+\.\d/);
    const j = run('verify', [...base(), '--json']);
    const layers = JSON.parse(j.out).checks.find((c: any) => c.name === 'layers');
    expect(layers.figures.layers.map((l: any) => l.layer)).toEqual(['relu1', 'pool1', 'conv2', 'gap', 'classes']);
    for (const l of layers.figures.layers) {
      expect(Object.keys(l).sort()).toEqual(['className', 'layer', 'maxAbsError', 'precision', 'sqnrDb']);
      expect(l.sqnrDb).toBeGreaterThan(30);
    }
    expect(layers.figures.firstBelow).toBeNull();
  }, 60_000);

  it('names the first layer below --min-sqnr (a WARN: the numbers check judges the outputs)', () => {
    const j = run('verify', [...base(), '--min-sqnr', '200', '--metric', 'top1', '--json']);
    const layers = JSON.parse(j.out).checks.find((c: any) => c.name === 'layers');
    expect(layers.status).toBe('WARN');
    expect(layers.figures.firstBelow).toBe('relu1');
    expect(layers.summary).toMatch(/^first layer below 200 dB: 'relu1' \(Activation, int8\) at \d+\.\d dB/);
  }, 60_000);

  it('refuses a blob without tensor metadata, and --layers without --model and --data', () => {
    const bytes = readFileSync(blob);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    dv.setUint32(HEADER.metaOff, 0, true);
    dv.setUint32(HEADER.metaSize, 0, true);
    const bare = join(dir, 'bare.blob');
    writeFileSync(bare, fixCrc(new Uint8Array(bytes)));
    const a = run('verify', [bare, ...base().slice(1)]);
    expect(a.code).toBe(3);
    expect(a.err.trim().split('\n')).toHaveLength(1);
    expect(a.err).toMatch(/--layers: the blob has no tensor metadata/);
    const d = run('verify', [blob, '--layers']);
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/--layers goes with --model and --data/);
  }, 60_000);
});
