/**
 * The package as users get it: `npm pack`, then `npm install --omit=dev` of the tarball. The
 * literal commands (`npx tools/convert` and the `./` form, run, verify, summary) and the
 * package bin (`npx kerawasm convert`) work without any test oracle installed, and pass the
 * command's exit code through.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.ts';

let dir = '';
let pkg = '';
let tarball = '';
const npmQuiet = ['--no-audit', '--no-fund', '--loglevel=error'];

const npx = (cwd: string, args: string[]) => spawnSync('npx', args, { cwd, encoding: 'utf8', timeout: 120_000 });

// --ignore-scripts: the tarball takes build/runtime.wasm as `npm test` built it (prepack would rebuild it
// under the feet of the other test files).
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-pack-'));
  const name = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, ...npmQuiet], { cwd: repoRoot, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  tarball = join(dir, name);
  execFileSync('tar', ['xzf', tarball, '-C', dir]);
  pkg = join(dir, 'package');
  execFileSync('npm', ['install', '--omit=dev', ...npmQuiet], { cwd: pkg });
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack + npm install --omit=dev', () => {
  it('installs no test oracle and ships the runtime .wasm', () => {
    expect(existsSync(join(pkg, 'build/runtime.wasm'))).toBe(true);
    const installed = readdirSync(join(pkg, 'node_modules'));
    for (const oracle of ['@tensorflow', 'onnxruntime-web', 'onnx-proto', 'vitest']) expect(installed).not.toContain(oracle);
  });

  it('npx tools/convert, npx ./tools/convert, tools/summary, tools/run and tools/verify run on the bundled example', () => {
    const model = 'examples/model/model.json';
    for (const [cmd, out] of [
      ['tools/convert', 'a.blob'],
      ['./tools/convert', 'b.blob'],
    ]) {
      const r = npx(pkg, [cmd, model, '--calibration', 'examples/calibration.npy', '-o', out]);
      expect(r.status, `${cmd}: ${r.stderr}`).toBe(0);
      expect(existsSync(join(pkg, out))).toBe(true);
    }
    const summary = npx(pkg, ['tools/summary', model]);
    expect(summary.status, summary.stderr).toBe(0);
    expect(summary.stdout).toMatch(/Total params/);
    const run = npx(pkg, ['tools/run', 'a.blob', '--input', 'examples/test-inputs.npy', '-o', 'out.npy']);
    expect(run.status, run.stderr).toBe(0);
    const verify = npx(pkg, ['tools/verify', 'a.blob', '--board', 'esp32', '--model', model, '--data', 'examples/test-inputs.npy']);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
  });

  it('passes the exit code and the one-line message of a user error through', () => {
    const r = npx(pkg, ['tools/convert', 'missing.keras', '-o', 'x.blob']);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/missing\.keras/);
  });

  it('a project that depends on the tarball runs `npx kerawasm convert`', () => {
    const consumer = join(dir, 'consumer');
    mkdirSync(consumer);
    execFileSync('npm', ['init', '-y'], { cwd: consumer, stdio: 'ignore' });
    execFileSync('npm', ['install', '--omit=dev', tarball, ...npmQuiet], { cwd: consumer });
    const model = join(pkg, 'examples/model/model.json');
    const r = npx(consumer, ['kerawasm', 'convert', model, '-o', 'm.blob']);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(consumer, 'm.blob'))).toBe(true);
    const bad = npx(consumer, ['kerawasm', 'frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown command 'frobnicate'; commands: convert, run, verify, summary, wasm2h/);
  });
});
