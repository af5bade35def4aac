/**
 * --quiet and --json on every command (child processes of the bin scripts): --quiet prints
 * nothing on stdout and keeps the exit code; --json prints one JSON document on stdout, a
 * failure included ({error, code} with the exit code).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot, haveFixtures, fixture } from '../helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-quiet-json-'));
const ex = (p: string) => resolve(repoRoot, 'examples', p);
const blob = join(dir, 'm.blob');

function cli(tool: 'convert' | 'run' | 'verify' | 'summary' | 'wasm2h', args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(process.execPath, [resolve(repoRoot, 'tools', tool), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    ),
  );
}

/** stdout is exactly one JSON document */
function json(stdout: string): any {
  expect(stdout.trim().length).toBeGreaterThan(0);
  return JSON.parse(stdout);
}

beforeAll(async () => {
  expect((await cli('convert', [ex('model/model.json'), '--calibration', ex('calibration.npy'), '-o', blob, '--quiet'])).code).toBe(0);
}, 120_000);

describe('--quiet and --json', () => {
  it('convert', async () => {
    expect(statSync(blob).size).toBeGreaterThan(0);
    const q = await cli('convert', [ex('model/model.json'), '--calibration', ex('calibration.npy'), '-o', join(dir, 'q.blob'), '--quiet']);
    expect([q.code, q.stdout, q.stderr]).toEqual([0, '', '']);
    const j = await cli('convert', [ex('model/model.json'), '--calibration', ex('calibration.npy'), '-o', join(dir, 'j.blob'), '--json']);
    expect(j.code).toBe(0);
    const rep = json(j.stdout);
    expect(rep.flash.blobBytes).toBe(readFileSync(join(dir, 'j.blob')).length);
    expect(rep.ops.length).toBe(6);
    const bad = await cli('convert', [join(dir, 'missing.h5'), '-o', join(dir, 'x.blob'), '--json']);
    expect(bad.code).toBe(3);
    expect(json(bad.stdout)).toEqual({ error: expect.stringContaining('missing.h5'), code: 3 });
    const usage = await cli('convert', [ex('model/model.json'), '-o', join(dir, 'y.blob'), '--batch', '0', '--json']);
    expect(usage.code).toBe(2);
    expect(json(usage.stdout)).toEqual({ error: expect.stringContaining('--batch'), code: 2 });
    expect(existsSync(join(dir, 'y.blob'))).toBe(false);
  }, 120_000);

  it('run', async () => {
    const q = await cli('run', [blob, '--input', ex('test-inputs.npy'), '-o', join(dir, 'q.npy'), '--quiet']);
    expect([q.code, q.stdout]).toEqual([0, '']);
    const j = await cli('run', [blob, '--input', ex('test-inputs.npy'), '-o', join(dir, 'j.npy'), '--json']);
    expect(j.code).toBe(0);
    const r = json(j.stdout);
    expect(r).toMatchObject({ samples: 256, invocations: 256, stateful: false, outputs: [{ file: join(dir, 'j.npy'), shape: [256, 4] }] });
    expect(r.clipped[0]).toMatchObject({ input: 'conv1_input', values: 256 * 32 * 3 });
    const bad = await cli('run', [ex('model/model.json'), '--input', ex('test-inputs.npy'), '-o', join(dir, 'z.npy'), '--json']);
    expect(bad.code).toBe(3);
    expect(json(bad.stdout).code).toBe(3);
  }, 120_000);

  it('verify', async () => {
    const q = await cli('verify', [blob, '--quiet']);
    expect([q.code, q.stdout]).toEqual([0, '']);
    // a failed check keeps its exit code under --quiet
    const tight = await cli('verify', [blob, '--ram', '1K', '--quiet']);
    expect([tight.code, tight.stdout]).toEqual([6, '']);
    const j = await cli('verify', [blob, '--ram', '1K', '--json']);
    expect(j.code).toBe(6);
    expect(json(j.stdout)).toMatchObject({ ok: false, exitCode: 6 });
    const bad = await cli('verify', [join(dir, 'missing.blob'), '--json']);
    expect(bad.code).toBe(3);
    expect(json(bad.stdout)).toEqual({ error: expect.stringContaining('missing.blob'), code: 3 });
    expect(json((await cli('verify', ['--list-boards', '--json'])).stdout).length).toBeGreaterThan(5);
  }, 120_000);

  it('summary', async () => {
    const q = await cli('summary', [ex('model/model.json'), '--quiet']);
    expect([q.code, q.stdout]).toEqual([0, '']);
    const j = await cli('summary', [ex('model/model.json'), '--json']);
    expect(j.code).toBe(0);
    expect(json(j.stdout).totals.params).toBe(628);
    const bad = await cli('summary', [join(dir, 'missing.keras'), '--json']);
    expect(bad.code).toBe(3);
    expect(json(bad.stdout).code).toBe(3);
    if (!haveFixtures) return;
    // a model it cannot convert: the table (with its problems) is the one document, exit 4
    const unsupported = await cli('summary', [fixture('dl4j_concat_attention/keras-attention.h5'), '--json']);
    expect(unsupported.code).toBe(4);
    expect(json(unsupported.stdout).problems).toEqual(expect.arrayContaining([expect.stringContaining("'attention' (Attention)")]));
    const quiet = await cli('summary', [fixture('dl4j_concat_attention/keras-attention.h5'), '--quiet']);
    expect([quiet.code, quiet.stdout]).toEqual([4, '']);
  });

  it('wasm2h', async () => {
    const runtime = resolve(repoRoot, 'build/runtime.wasm');
    const q = await cli('wasm2h', [runtime, '-o', join(dir, 'q.h'), '--quiet']);
    expect([q.code, q.stdout]).toEqual([0, '']);
    const j = await cli('wasm2h', [blob, '-o', join(dir, 'm.h'), '--json']);
    expect(j.code).toBe(0);
    const w = json(j.stdout);
    expect(w).toEqual({ output: join(dir, 'm.h'), kind: 'blob', bytes: statSync(blob).size, name: expect.any(String) });
    expect(readFileSync(join(dir, 'm.h'), 'utf8')).toContain(`${w.name}[`);
    // a usage error from the option parser
    const usage = await cli('wasm2h', [runtime, '--json']);
    expect(usage.code).toBe(2);
    expect(json(usage.stdout)).toEqual({ error: expect.stringContaining('--output'), code: 2 });
  });
});
