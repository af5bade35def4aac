/**
 * The package as users get it: `npm run build` (dist/), `npm pack`, then `npm install
 * --omit=dev --offline` of the tarball (from the npm cache, no network). The literal commands
 * (`npx tools/convert` and the `./` form, run, verify, summary) and the package bin (`npx
 * kerawasm convert`) work without any test oracle or tsx installed, and pass the command's exit
 * code through; `import('kerawasm')` works from plain Node, and every example in docs/API.md runs.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, fixturesSkipReason, haveFixtures, repoRoot } from '../helpers/fixtures.ts';

let dir = '';
let pkg = '';
let tarball = '';
const npmQuiet = ['--no-audit', '--no-fund', '--loglevel=error', '--offline'];

const npx = (cwd: string, args: string[]) => spawnSync('npx', args, { cwd, encoding: 'utf8', timeout: 120_000 });

// --ignore-scripts: the tarball takes build/runtime.wasm as `npm test` built it (prepack would rebuild it
// under the feet of the other test files); the JavaScript in dist/ is built here. The steps run
// asynchronously so that the test worker stays responsive while they take their minute.
const run = promisify(execFile);
beforeAll(async () => {
  await run('npm', ['run', 'build', '--silent'], { cwd: repoRoot });
  dir = mkdtempSync(join(tmpdir(), 'kw-pack-'));
  const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, ...npmQuiet], { cwd: repoRoot, encoding: 'utf8' });
  tarball = join(dir, packed.stdout.trim().split('\n').pop()!);
  await run('tar', ['xzf', tarball, '-C', dir]);
  pkg = join(dir, 'package');
  await run('npm', ['install', '--omit=dev', ...npmQuiet], { cwd: pkg });
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack + npm install --omit=dev', () => {
  it('installs no test oracle and ships the runtime .wasm', () => {
    expect(existsSync(join(pkg, 'build/runtime.wasm'))).toBe(true);
    const installed = readdirSync(join(pkg, 'node_modules'));
    for (const oracle of ['@tensorflow', 'onnxruntime-web', 'onnx-proto', 'vitest', 'tsx', 'typescript']) expect(installed).not.toContain(oracle);
  });

  it('ships the API as JavaScript with declarations, without the TypeScript sources', () => {
    for (const f of ['dist/tools/api.js', 'dist/tools/api.d.ts', 'dist/tools/cli/convert.js']) expect(existsSync(join(pkg, f)), f).toBe(true);
    expect(existsSync(join(pkg, 'tools/api.ts'))).toBe(false);
    expect(readFileSync(join(pkg, 'dist/tools/api.js'), 'utf8')).not.toMatch(/from '[^']*\.ts'/);
  });

  it("runs every example of docs/API.md against the installed package (import 'kerawasm')", () => {
    const blocks = [...readFileSync(join(repoRoot, 'docs/API.md'), 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    blocks.forEach((code, i) => {
      const file = join(pkg, `api-example-${i}.mjs`);
      writeFileSync(file, code);
      const r = spawnSync('node', [file], { cwd: pkg, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `docs/API.md example ${i + 1}:\n${code}\n${r.stderr}`).toBe(0);
    });
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
    // the package's API from plain Node ESM, on a real model
    if (haveFixtures) {
      const model = fixture('cdt406_keras3_gru_stack', 'gru_model.keras');
      const js = `import('kerawasm').then(async (m) => { const s = await m.summary(${JSON.stringify(model)}); console.log(s.json.totals.params, s.problems.length); })`;
      const r = spawnSync('node', ['-e', js], { cwd: consumer, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^[1-9]\d* \d+\n$/);
    } else console.warn(fixturesSkipReason);
    const bad = npx(consumer, ['kerawasm', 'frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown command 'frobnicate'; commands: convert, run, verify, summary, wasm2h/);
  });
});
