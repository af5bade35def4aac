/**
 * --quiet and --json on every command (child processes of the bin scripts): --quiet prints
 * nothing on stdout and keeps the exit code; --json prints one JSON document on stdout, a
 * failure included ({error, code} with the exit code).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from '../helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-quiet-json-'));
const ex = (p: string) => resolve(repoRoot, 'examples', p);
const blob = join(dir, 'm.blob');

function cli(tool: 'convert' | 'run' | 'verify' | 'summary' | 'wasm2h', args: string[]) {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools', tool), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** stdout is exactly one JSON document */
function json(stdout: string): any {
  expect(stdout.trim().length).toBeGreaterThan(0);
  return JSON.parse(stdout);
}

beforeAll(() => {
  expect(cli('convert', [ex('model/model.json'), '--calibration', ex('calibration.npy'), '-o', blob, '--quiet']).code).toBe(0);
}, 120_000);

describe('--quiet and --json', () => {
  it('convert', () => {
    expect(statSync(blob).size).toBeGreaterThan(0);
    const q = cli('convert', [ex('model/model.json'), '--calibration', ex('calibration.npy'), '-o', join(dir, 'q.blob'), '--quiet']);
    expect([q.code, q.stdout, q.stderr]).toEqual([0, '', '']);
    const j = cli('convert', [ex('model/model.json'), '--calibration', ex('calibration.npy'), '-o', join(dir, 'j.blob'), '--json']);
    expect(j.code).toBe(0);
    const rep = json(j.stdout);
    expect(rep.flash.blobBytes).toBe(readFileSync(join(dir, 'j.blob')).length);
    expect(rep.ops.length).toBe(6);
    const bad = cli('convert', [join(dir, 'missing.h5'), '-o', join(dir, 'x.blob'), '--json']);
    expect(bad.code).toBe(3);
    expect(json(bad.stdout)).toEqual({ error: expect.stringContaining('missing.h5'), code: 3 });
    const usage = cli('convert', [ex('model/model.json'), '-o', join(dir, 'y.blob'), '--batch', '0', '--json']);
    expect(usage.code).toBe(2);
    expect(json(usage.stdout)).toEqual({ error: expect.stringContaining('--batch'), code: 2 });
    expect(existsSync(join(dir, 'y.blob'))).toBe(false);
  }, 120_000);

  it('run', () => {
    const q = cli('run', [blob, '--input', ex('test-inputs.npy'), '-o', join(dir, 'q.npy'), '--quiet']);
    expect([q.code, q.stdout]).toEqual([0, '']);
    const j = cli('run', [blob, '--input', ex('test-inputs.npy'), '-o', join(dir, 'j.npy'), '--json']);
    expect(j.code).toBe(0);
    const r = json(j.stdout);
    expect(r).toMatchObject({ samples: 256, invocations: 256, stateful: false, outputs: [{ file: join(dir, 'j.npy'), shape: [256, 4] }] });
    expect(r.clipped[0]).toMatchObject({ input: 'conv1_input', values: 256 * 32 * 3 });
    const bad = cli('run', [ex('model/model.json'), '--input', ex('test-inputs.npy'), '-o', join(dir, 'z.npy'), '--json']);
    expect(bad.code).toBe(3);
    expect(json(bad.stdout).code).toBe(3);
  }, 120_000);

  it('verify', () => {
    const q = cli('verify', [blob, '--quiet']);
    expect([q.code, q.stdout]).toEqual([0, '']);
    // a failed check keeps its exit code under --quiet
    const tight = cli('verify', [blob, '--ram', '1K', '--quiet']);
    expect([tight.code, tight.stdout]).toEqual([6, '']);
    const j = cli('verify', [blob, '--ram', '1K', '--json']);
    expect(j.code).toBe(6);
    expect(json(j.stdout)).toMatchObject({ ok: false, exitCode: 6 });
    const bad = cli('verify', [join(dir, 'missing.blob'), '--json']);
    expect(bad.code).toBe(3);
    expect(json(bad.stdout)).toEqual({ error: expect.stringContaining('missing.blob'), code: 3 });
    expect(json(cli('verify', ['--list-boards', '--json']).stdout).length).toBeGreaterThan(5);
  }, 120_000);

  it('summary', () => {
    const q = cli('summary', [ex('model/model.json'), '--quiet']);
    expect([q.code, q.stdout]).toEqual([0, '']);
    const j = cli('summary', [ex('model/model.json'), '--json']);
    expect(j.code).toBe(0);
    expect(json(j.stdout).totals.params).toBe(628);
    const bad = cli('summary', [join(dir, 'missing.keras'), '--json']);
    expect(bad.code).toBe(3);
    expect(json(bad.stdout).code).toBe(3);
  });

  it('wasm2h', () => {
    const runtime = resolve(repoRoot, 'build/runtime.wasm');
    const q = cli('wasm2h', [runtime, '-o', join(dir, 'q.h'), '--quiet']);
    expect([q.code, q.stdout]).toEqual([0, '']);
    const j = cli('wasm2h', [blob, '-o', join(dir, 'm.h'), '--json']);
    expect(j.code).toBe(0);
    const w = json(j.stdout);
    expect(w).toEqual({ output: join(dir, 'm.h'), kind: 'blob', bytes: statSync(blob).size, name: expect.any(String) });
    expect(readFileSync(join(dir, 'm.h'), 'utf8')).toContain(`${w.name}[`);
    // a usage error from the option parser
    const usage = cli('wasm2h', [runtime, '--json']);
    expect(usage.code).toBe(2);
    expect(json(usage.stdout)).toEqual({ error: expect.stringContaining('--output'), code: 2 });
  });
});
