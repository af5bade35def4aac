/**
 * The API and the commands give the same answers: run, verify and summary are thin layers over
 * the functions tools/api.ts exports, so each API result carries what its command prints (its
 * text, its --json document, its notes) and each refusal has the command's message and exit code.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fixturesDir, repoRoot } from './helpers/fixtures.ts';
import { parseBlob } from '../tools/blob/parse.ts';
import { readArray, writeNpy } from '../tools/readers/npy.ts';
import { convert, run, summary, verify, KerawasmError, EXIT, BOARDS } from '../tools/api.ts';
import { summaryCommand } from '../tools/cli/summary.ts';
import { formatText } from '../tools/cli/verify.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-api-'));
const ex = (p: string) => resolve(repoRoot, 'examples', p);
const model = ex('model/model.json');

function cli(tool: 'run' | 'verify', args: string[]) {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools', tool), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The rejection of `p` as a KerawasmError (anything else fails the test). */
async function refusal(p: Promise<unknown>): Promise<KerawasmError> {
  const e = await p.then(
    () => null,
    (x) => x,
  );
  expect(e).toBeInstanceOf(KerawasmError);
  return e as KerawasmError;
}

let blob: string;
beforeAll(async () => {
  const c = await convert(model, { calibration: [ex('calibration.npy')] });
  blob = join(dir, 'ex.blob');
  writeFileSync(blob, c.blob);
});

describe('summary', () => {
  it('text and JSON are what the command prints; no problems, exit code 0', async () => {
    const s = await summary(model);
    expect(s.problems).toEqual([]);
    expect(s.exitCode).toBe(EXIT.OK);
    expect(await summaryCommand([model])).toBe(s.text);
    expect(JSON.parse(await summaryCommand([model, '--json']))).toEqual(s.json);
    expect(await summaryCommand([model, '--explain'])).toBe((await summary(model, { explain: true })).text);
  });
});

describe('run', () => {
  // inputs far outside the calibrated range: the command's note lines come from the result
  const x = readArray(ex('test-inputs.npy'));
  const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const big = { data: Float32Array.from(x.data.subarray(0, 8 * per), (v) => v * 50), shape: [8, ...x.shape.slice(1)] };

  it('outputs, sample count, clipped values and notes are what the command writes and prints', async () => {
    const input = join(dir, 'big.npy');
    writeNpy(input, big.data, big.shape);
    const r = await run(blob, [big]);
    expect(r.samples).toBe(8);
    expect(r.notes.length).toBe(1);
    expect(r.notes[0]).toMatch(/^\d+ of 768 values of input 'conv1_input' were outside its quantised range/);

    const text = cli('run', [blob, '--input', input, '-o', join(dir, 'y.npy')]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe(`ran 8 samples in ${r.invocations} invocation(s); wrote ${join(dir, 'y.npy')} [8,4]\nnote: ${r.notes[0]}\n`);
    expect(readArray(join(dir, 'y.npy'))).toMatchObject({ shape: r.outputs[0].shape, data: r.outputs[0].data });

    const json = cli('run', [blob, '--input', input, '-o', join(dir, 'z.npy'), '--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      samples: r.samples,
      invocations: r.invocations,
      stateful: r.stateful,
      outputs: [{ file: join(dir, 'z.npy'), shape: r.outputs[0].shape }],
      clipped: r.clipped,
    });
  });

  it('refuses a weights mode with the message and exit code of --weights', async () => {
    const e = await refusal(run(blob, [big], { weights: 'rom' as never }));
    const c = cli('run', [blob, '--input', ex('test-inputs.npy'), '-o', join(dir, 'w.npy'), '--weights', 'rom']);
    expect([e.exitCode, `error: ${e.message}\n`]).toEqual([c.code, c.stderr]);
  });
});

describe('convert', () => {
  const ae = join(fixturesDir, 'mltk_autoencoder_nested_sequential/autoencoder_example.h5');
  it.skipIf(!existsSync(ae))(
    'interpreter wamr-classic: every Dense layer at layout 1, the same outputs; an unknown name is refused as by --interpreter',
    async () => {
      const layouts = (b: Uint8Array) => [
        ...new Set(
          parseBlob(b)
            .ops.filter((o) => o.name === 'DENSE')
            .map((o) => o.params.layout),
        ),
      ];
      const base = await convert(ae, { weights: 'ram' });
      const classic = await convert(ae, { weights: 'ram', interpreter: 'wamr-classic' });
      expect(layouts(base.blob)).toContain(2);
      expect(layouts(classic.blob)).toEqual([1]);
      const x = { data: Float32Array.from({ length: 140 * 5 }, (_, i) => Math.sin(i * 0.37)), shape: [5, 140] };
      expect((await run(classic.blob, [x])).outputs[0].data).toEqual((await run(base.blob, [x])).outputs[0].data);
      const e = await refusal(convert(ae, { interpreter: 'wamr-aot' as never }));
      expect([e.exitCode, e.message]).toEqual([EXIT.USAGE, '--interpreter wamr-aot: must be wasm3, wamr (fast interpreter) or wamr-classic']);
    },
  );
});

describe('verify', () => {
  it('the result is the --json document, and the text the command prints is made from it', async () => {
    const r = await verify(blob, { board: 'esp32' });
    expect([r.ok, r.exitCode]).toEqual([true, EXIT.OK]);
    const json = cli('verify', [blob, '--board', 'esp32', '--json']);
    expect(json.code).toBe(r.exitCode);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(r)));
    const text = cli('verify', [blob, '--board', 'esp32']);
    expect(text.stdout).toBe(formatText(r));
  });

  it('refuses the options and values the command refuses, with its message and exit code', async () => {
    const e = await refusal(verify(blob, { board: 'esp32', ram: 1024 }));
    const c = cli('verify', [blob, '--board', 'esp32', '--ram', '1K']);
    expect([e.exitCode, `error: ${e.message}\n`]).toEqual([c.code, c.stderr]);
    expect((await refusal(verify(blob, { suggest: true, flash: 1 << 20 }))).exitCode).toBe(EXIT.USAGE);
    expect((await refusal(verify(blob, { board: 'no-such-board' }))).message).toMatch(/^--board no-such-board: unknown board; known: esp32/);
    const top1 = await refusal(verify(blob, { thresholds: { minTop1: 2 } }));
    const c1 = cli('verify', [blob, '--min-top1', '2']);
    expect([top1.exitCode, `error: ${top1.message}\n`]).toEqual([c1.code, c1.stderr]);
    expect((await refusal(verify(blob, { maxSamples: 0 }))).message).toBe('--max-samples 0: expected a number');
    expect((await refusal(verify(blob, { metric: 'mse' as never }))).message).toBe('--metric mse: expected one of top1, sqnr');
  });

  it('BOARDS is the list --list-boards prints as JSON', () => {
    const c = cli('verify', ['--list-boards', '--json']);
    expect(JSON.parse(c.stdout)).toEqual(JSON.parse(JSON.stringify(BOARDS)));
  });
});
