/**
 * Progress bars (tools/cli/progress.ts): drawn from the pipeline's callback on a terminal only,
 * never with --quiet or --json or when stderr is a pipe; end to end under a real pseudo-terminal
 * (util-linux `script`) and with pipes.
 */
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { progressBars } from '../../tools/cli/progress.ts';
import { convertGraph } from '../../tools/pipeline.ts';
import { readArray } from '../../tools/readers/npy.ts';
import { graphFromFile } from '../helpers/convert-harness.ts';
import { repoRoot } from '../helpers/fixtures.ts';

const ex = (p: string) => resolve(repoRoot, 'examples', p);
const dir = mkdtempSync(join(tmpdir(), 'kw-progress-'));

function fakeStderr(tty: boolean) {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  s.isTTY = tty;
  s.columns = 100;
  let text = '';
  s.on('data', (d) => (text += d.toString()));
  return { stream: s as unknown as NodeJS.WriteStream, text: () => text };
}

describe('progressBars', () => {
  it("a terminal: one bar for calibration, driven by convertGraph's callback to the sample count", async () => {
    const err = fakeStderr(true);
    const bars = progressBars({}, err.stream);
    const cal = readArray(ex('calibration.npy'));
    const seen: [string, number, number][] = [];
    await convertGraph(await graphFromFile(ex('model/model.json')), {
      calibration: [{ shape: cal.shape, data: Float32Array.from(cal.data) }],
      progress: (task, done, total) => {
        seen.push([task, done, total]);
        bars.progress!(task, done, total);
      },
    });
    bars.stop();
    // 128 samples in batches of 32
    expect(seen).toEqual([32, 64, 96, 128].map((d) => ['calibration', d, 128]));
    expect(err.text()).toMatch(/calibration +\[.*\] 100% \| 128\/128/);
  });

  it('no bar with --quiet, --json or when stderr is not a terminal', () => {
    for (const [o, tty] of [
      [{ quiet: true }, true],
      [{ json: true }, true],
      [{}, false],
    ] as const) {
      const err = fakeStderr(tty);
      const bars = progressBars(o, err.stream);
      expect(bars.progress).toBeUndefined();
      bars.stop();
      expect(err.text()).toBe('');
    }
  });
});

const haveScript = existsSync('/usr/bin/script');

/** A child process, awaited without blocking the test worker. */
function spawn(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(cmd, args, { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) =>
      done({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    ),
  );
}
describe.skipIf(!haveScript)('bars end to end (util-linux script gives the command a terminal)', () => {
  const convertArgs = (out: string) => [resolve(repoRoot, 'tools/convert'), ex('model/model.json'), '--calibration', ex('calibration.npy'), '-o', out];
  it('convert and verify draw bars on a terminal, not with --quiet, not into a pipe', async () => {
    const blob = join(dir, 'p.blob');
    const inTty = (args: string[]) => spawn('/usr/bin/script', ['-qec', args.map((a) => `'${a}'`).join(' '), '/dev/null']);
    const c = await inTty([process.execPath, ...convertArgs(blob)]);
    expect(c.status).toBe(0);
    expect(c.stdout).toMatch(/calibration +\[.*\] 100% \| 128\/128/);
    const v = await inTty([process.execPath, resolve(repoRoot, 'tools/verify'), blob, '--model', ex('model/model.json'), '--data', ex('test-inputs.npy')]);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/verification +\[.*\] 100% \| 256\/256/);
    const q = await inTty([process.execPath, ...convertArgs(join(dir, 'q.blob')), '--quiet']);
    expect(q.status).toBe(0);
    expect(q.stdout).not.toMatch(/calibration +\[/);
    const piped = await spawn(process.execPath, convertArgs(join(dir, 'r.blob')));
    expect(piped.status).toBe(0);
    expect(piped.stderr).toBe('');
  }, 120_000);
});
