/**
 * convert/verify --report: the arena plot's data against the memory planner, and the HTML page
 * rendered in Debian's headless Chromium (no console error; every chart drawn with its data;
 * the per-output error equal to the SQNR of the blob against tfjs on the same inputs).
 * KW_REPORT_PNG=docs/images/report.png writes the screenshot the docs show.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { repoRoot, haveFixtures, fixture, fixturesSkipReason } from '../helpers/fixtures.ts';
import { graphFromFile } from '../helpers/convert-harness.ts';
import { initTf, predict, sqnr, tf } from '../helpers/tfjs-train.ts';
import { convertGraph } from '../../tools/pipeline.ts';
import { decodeAcceptedBlob } from '../../tools/blob/parse.ts';
import { arenaTimeline } from '../../tools/cli/report/memory.ts';
import { readArray } from '../../tools/readers/npy.ts';
import { runBlob } from '../../tools/cli/run.ts';
import { BOARDS } from '../../tools/boards.ts';
import { buildReport } from '../../tools/cli/convert.ts';
import { verify } from '../../tools/cli/verify.ts';
import { convertReport } from '../../tools/cli/report/build.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const chromiumSkipReason = `${CHROMIUM} not found (apt-get install chromium): skipping the HTML report rendering test`;
if (!haveChromium) console.warn(chromiumSkipReason);

const dir = mkdtempSync(join(tmpdir(), 'kw-report-'));
const ex = (p: string) => resolve(repoRoot, 'examples', p);

// the commands run in `dir`, where examples/ links to the repository's: the page names relative paths
symlinkSync(resolve(repoRoot, 'examples'), join(dir, 'examples'));

function cli(tool: 'convert' | 'verify', args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(process.execPath, [resolve(repoRoot, 'tools', tool), ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    ),
  );
}

describe('arena timeline from the blob', () => {
  const cases: [string, () => string][] = [
    ['bundled example (Conv1D, pooling, softmax)', () => ex('model/model.json')],
    ...(haveFixtures
      ? ([
          ['mlperf tiny ResNet (Add branches)', () => fixture('mlperf_tiny_resnet_add', 'pretrainedResnet.h5')],
          ['autoencoder (nested Sequential)', () => fixture('mltk_autoencoder_nested_sequential', 'autoencoder_example.h5')],
        ] as [string, () => string][])
      : []),
  ];
  if (!haveFixtures) it.skip(fixturesSkipReason, () => {});
  it.each(cases)('%s: peak occupancy is the planner lower bound, every buffer inside the arena', async (_name, file) => {
    const r = await convertGraph(await graphFromFile(file()), { syntheticCount: 8, warn: () => {} });
    const t = arenaTimeline(decodeAcceptedBlob(r.blob));
    expect(t.arenaBytes).toBe(r.plan.arenaSize);
    expect(t.liveBytes.length).toBe(r.lowered.ops.length + 1);
    expect(t.peakLiveBytes).toBe(r.plan.lowerBound);
    for (const b of t.buffers) expect(b.offset + b.bytes).toBeLessThanOrEqual(t.arenaBytes);
    // buffers live at the same step never share bytes unless they are the same buffer (aliases)
    for (const a of t.buffers)
      for (const b of t.buffers) {
        const sameTime = a.first <= b.last && b.first <= a.last;
        const overlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
        if (a !== b && sameTime && overlap) expect(a.offset).toBe(b.offset);
      }
  });
});

/** SQNR of the blob's outputs against tfjs's predict on the example's test inputs. */
async function exampleSqnr(blob: string): Promise<number> {
  await initTf();
  const json = JSON.parse(readFileSync(ex('model/model.json'), 'utf8'));
  const weights = readFileSync(join(dirname(ex('model/model.json')), json.weightsManifest[0].paths[0]));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: new Uint8Array(weights).buffer }),
  );
  const x = readArray(ex('test-inputs.npy'));
  const [ref] = predict(model, [{ data: Float32Array.from(x.data), shape: x.shape }]);
  const run = await runBlob(new Uint8Array(readFileSync(blob)), [{ data: Float32Array.from(x.data), shape: x.shape }]);
  return sqnr(ref, run.outputs[0].data);
}

describe.skipIf(!haveChromium)('HTML report in headless Chromium', () => {
  let ctx: BrowserContext;
  beforeAll(async () => {
    ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'kw-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1200, height: 900 },
    });
  }, 60_000);
  afterAll(async () => ctx?.close());

  const blob = join(dir, 'model.blob');
  const html = join(dir, 'model.html');
  let converted: Awaited<ReturnType<typeof cli>>;
  beforeAll(async () => {
    converted = await cli('convert', ['examples/model/model.json', '--calibration', 'examples/calibration.npy', '-o', 'model.blob', '--report', 'model.html']);
  }, 120_000);

  /** Opens a page; returns its charts' data, the count of series-coloured pixels per chart, and the console errors. */
  async function render(file: string, screenshot?: string) {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => !r.url().startsWith('file:') && errors.push(`network request: ${r.url()}`));
    await page.goto(`file://${file}`);
    const charts = await page.evaluate(() => {
      const out: Record<string, { data: (number | null)[][]; coloured: number }> = {};
      for (const [name, u] of Object.entries((window as any).kwCharts as Record<string, any>)) {
        const c = u.ctx.canvas as HTMLCanvasElement;
        const px = u.ctx.getImageData(0, 0, c.width, c.height).data;
        let coloured = 0;
        // series are blue, purple or green; the grid and axes are grey or black
        for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && Math.max(px[i + 1], px[i + 2]) - px[i] > 60) coloured++;
        out[name] = { data: u.data, coloured };
      }
      return out;
    });
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    await page.close();
    return { charts, errors };
  }

  it('convert --report model.html: the layer table, arena occupancy per op and every board', async () => {
    expect(converted.stderr).toBe('');
    expect(converted.code).toBe(0);
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!github\.com\/leeoniya)/);
    expect(text).toContain('conv1 (Conv1D)');
    const { charts, errors } = await render(html);
    expect(errors).toEqual([]);
    // per-layer errors on the calibration samples, as convert's JSON report lists them
    expect(Object.keys(charts).sort()).toEqual(['arena', 'boards', 'errors']);
    expect(charts.errors.data[1].length).toBe(5);
    for (const v of charts.errors.data[1]) expect(v).toBeGreaterThan(30);
    const t = arenaTimeline(decodeAcceptedBlob(new Uint8Array(readFileSync(blob))));
    expect(charts.arena.data[1]).toEqual(t.liveBytes);
    expect(charts.arena.data[0].length).toBe(7); // 6 ops and the step the outputs are read
    expect(charts.boards.data[1].length).toBe(BOARDS.length);
    for (const ch of Object.values(charts)) expect(ch.coloured).toBeGreaterThan(500);
  }, 120_000);

  it('verify --report r.html with --model --data: checks, boards and the output error measured against tfjs', async () => {
    const page = join(dir, 'r.html');
    const args = ['model.blob', '--board', 'esp32', '--model', 'examples/model/model.json', '--data', 'examples/test-inputs.npy', '--report', 'r.html'];
    const v = await cli('verify', args);
    expect(v.code).toBe(0);
    const { charts, errors } = await render(page, process.env.KW_REPORT_PNG ? resolve(repoRoot, process.env.KW_REPORT_PNG) : join(dir, 'v.png'));
    expect(errors).toEqual([]);
    expect(Object.keys(charts).sort()).toEqual(['arena', 'boards', 'errors']);
    expect(charts.errors.data[1].length).toBe(1);
    expect(charts.errors.data[1][0]).toBeCloseTo(await exampleSqnr(blob), 1);
    for (const ch of Object.values(charts)) expect(ch.coloured).toBeGreaterThan(500);
    // with --layers, every layer of the blob from the layers check
    const l = await cli('verify', [...args.slice(0, -2), '--layers', '--report', 'l.html']);
    expect(l.code, l.stderr).toBe(0);
    const layered = await render(join(dir, 'l.html'));
    expect(layered.errors).toEqual([]);
    expect(layered.charts.errors.data[1].length).toBe(5);
    // another extension keeps the JSON result
    expect((await cli('verify', ['model.blob', '--report', 'r.json'])).code).toBe(0);
    // the report is an output like any other: never an input, never overwritten without --force
    expect((await cli('verify', ['model.blob', '--report', 'model.blob'])).code).toBe(2);
    expect((await cli('verify', ['model.blob', '--report', 'r.json'])).code).toBe(2);
    expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')).checks.map((c: any) => c.name)).toContain('integrity');
  }, 120_000);

  it('a runtime given as bytes (convert --runtime): the boards are checked on a temporary copy of it, removed afterwards', async () => {
    const graph = await graphFromFile(ex('model/model.json'));
    const r = await convertGraph(graph, { syntheticCount: 8, warn: () => {} });
    const runtime = new Uint8Array(readFileSync(resolve(repoRoot, 'build/runtime-flash.wasm')));
    const raw = { format: 'tfjs', dialect: 'tfjs', kerasVersion: null };
    const rep = buildReport(r, { file: 'model.json', output: 'm.blob', raw, calFiles: [], runtimeBytes: runtime.length, linearMemory: null });
    const used: string[] = [];
    const check = (runtimeFile: string) => {
      used.push(runtimeFile);
      expect(readFileSync(runtimeFile)).toEqual(Buffer.from(runtime));
      return verify({ blobFile: 'm.blob', blobBytes: r.blob, runtimeFile, boards: true });
    };
    writeFileSync(join(dir, 'bytes.html'), await convertReport('m.html', rep, { blob: r.blob, graph, runtime, check }));
    expect(used).toHaveLength(1);
    expect(existsSync(used[0])).toBe(false);
    const { charts, errors } = await render(join(dir, 'bytes.html'));
    expect(errors).toEqual([]);
    expect(charts.boards.data[1].length).toBe(BOARDS.length);
    expect(charts.arena.data[1]).toEqual(arenaTimeline(decodeAcceptedBlob(r.blob)).liveBytes);
  }, 120_000);

  it('verify --report of a corrupted blob: the checks without a memory plan, rendered without errors', async () => {
    const bytes = new Uint8Array(readFileSync(blob));
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(join(dir, 'bad.blob'), bytes);
    const v = await cli('verify', ['bad.blob', '--report', 'bad.html']);
    expect(v.code).toBe(5);
    const text = readFileSync(join(dir, 'bad.html'), 'utf8');
    expect(text).toContain('CRC');
    const { charts, errors } = await render(join(dir, 'bad.html'));
    expect(errors).toEqual([]);
    expect(charts).toEqual({});
  }, 120_000);
});
