/**
 * The two weight modes give the same bytes. Every fixture and example conversion of the golden
 * list is converted with --weights flash (the default: constants streamed through kw.read_blob
 * into the staging area, large ops split into tiles) and --weights ram (the blob copied in); the
 * flash blob runs streamed and copied in, the ram blob copied in, on the self-test inputs and on
 * random inputs: every output is byte-identical. A failed or short read through the import is an
 * error code, never a trap.
 */
import { describe, expect, it } from 'vitest';
import { readModel } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import { convertGraph } from '../../tools/pipeline.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { opConstBytes } from '../../tools/blob/tile.ts';
import { calibrationTensors } from '../../tools/cli/convert.ts';
import { DeviceSim, type WeightsMode } from '../../firmware-host/node/host.ts';
import { ERR, HEADER } from '../../tools/blob/spec.ts';
import { GOLDEN_CASES, GOLDEN_FILE, haveFixtureDir } from '../cli/golden-cases.ts';
import { fixturesDir, repoRoot } from '../helpers/fixtures.ts';
import { randomTensor, rng } from '../helpers/random.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initTf, saveTfjsFiles, tf } from '../helpers/tfjs-train.ts';

const golden = JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Record<string, { exit: number }>;

/** The golden cases that convert (exit 0), without --stream (its blob is the same model). */
const CASES = GOLDEN_CASES.filter((c) => golden[c.id]?.exit === 0 && !c.args.includes('--stream') && (haveFixtureDir || !c.needsFixtures));

const path = (a: string) => resolve(repoRoot, a.replace('$FIXTURES', fixturesDir));
const argOf = (args: string[], name: string) => (args.includes(name) ? path(args[args.indexOf(name) + 1]) : undefined);

/** Self-test outputs from the integer reference, as convert makes them. */
const runRaw = (blob: Uint8Array, inputs: Uint8Array[]) =>
  runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice());

async function convertBoth(args: string[]) {
  const config = argOf(args, '--config');
  const batch = args.includes('--batch') ? Number(args[args.indexOf('--batch') + 1]) : undefined;
  const graph = await buildGraph(await readModel(path(args[0]), { config }), { batch });
  const calFile = argOf(args, '--calibration');
  const calibration = calFile ? calibrationTensors(graph, [calFile]) : null;
  const flash = await convertGraph(graph, { batch, calibration, runRaw, weights: 'flash' });
  const ram = await convertGraph(graph, { batch, calibration, runRaw, weights: 'ram' });
  return { flash, ram };
}

/** Raw output bytes of `blob` in `mode` for each input set. */
async function outputsOf(blob: Uint8Array, mode: WeightsMode, inputs: Uint8Array[][]): Promise<string[]> {
  const sim = await DeviceSim.load(undefined, { weights: mode });
  expect(sim.init(blob)).toBe(ERR.OK);
  return inputs.map((set) => {
    const outs = sim.run(set);
    return outs.map((o) => Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString('hex')).join('|');
  });
}

/**
 * The self-test inputs, then `n` random input sets: random bytes for int8 inputs, the
 * self-test's token ids rotated for int32 inputs (ids must stay inside the vocabulary).
 */
function inputSets(selfTest: Uint8Array[], ids: boolean[], n: number, seed: number): Uint8Array[][] {
  const r = rng(seed);
  const sets = [selfTest];
  for (let k = 1; k <= n; k++) {
    sets.push(selfTest.map((b, i) => (ids[i] ? Uint8Array.from(b, (_, j) => b[(j + 4 * k) % b.length]) : Uint8Array.from(b, () => Math.floor(r() * 256)))));
  }
  return sets;
}

const idInputs = (low: { inputs: number[]; tensors: { dtype: string }[] }) => low.inputs.map((i) => low.tensors[i].dtype === 'int32');

describe('weights in flash and in RAM give byte-identical outputs', () => {
  for (const c of CASES) {
    it(
      c.id,
      async () => {
        const { flash, ram } = await convertBoth(c.args);
        expect(flash.staging).toBeGreaterThan(0);
        expect(ram.staging).toBe(0);
        const sets = inputSets(flash.selfTest!.inputs, idInputs(flash.lowered), 4, c.id.length * 31);
        const streamed = await outputsOf(flash.blob, 'flash', sets);
        expect(await outputsOf(flash.blob, 'ram', sets)).toEqual(streamed);
        expect(await outputsOf(ram.blob, 'ram', sets)).toEqual(streamed);
        // a ram blob names no staging area: streaming it is refused with an error code
        const sim = await DeviceSim.load(undefined, { weights: 'flash' });
        expect(sim.init(ram.blob)).toBe(ERR.NO_STAGING);
      },
      60_000,
    );
  }

  it('a DENSE or CONV2D larger than the staging area, split into tiles, gives the same bytes as the whole op; one-row DENSE tiles write slices of its output', async () => {
    await initTf();
    const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
    const m = tf.sequential();
    m.add(tf.layers.reshape({ inputShape: [40], targetShape: [10, 4] }));
    m.add(tf.layers.conv1d({ filters: 24, kernelSize: 3, activation: 'relu', kernelInitializer: seeded(1) }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 96, activation: 'relu', kernelInitializer: seeded(2) }));
    m.add(tf.layers.dense({ units: 6, kernelInitializer: seeded(3) }));
    const file = await saveTfjsFiles(m, mkdtempSync(join(tmpdir(), 'kw-tiles-')));
    const calibration = [randomTensor([32, 40], 5)];
    // batch 1: the 96-unit DENSE runs one row, its tiles write their slices of its output (views
    // at byte offsets 0, 24, 48, 72 or the like), no CONCAT; batch 2: two rows, a CONCAT joins them
    for (const batch of [1, 2]) {
      const graph = await buildGraph(await readModel(file), { batch });
      const ram = await convertGraph(graph, { calibration, runRaw, weights: 'ram', batch });
      // a quarter of the largest op's constants: that op is split into tiles
      const largest = Math.max(...ram.lowered.ops.map(opConstBytes));
      const split = await convertGraph(graph, { calibration, runRaw, weights: 'flash', staging: Math.ceil(largest / 4), batch });
      const tiles = split.lowered.ops.filter((o) => o.layer.includes('(tile'));
      expect(tiles.length).toBeGreaterThanOrEqual(4);
      expect(split.lowered.ops.some((o) => o.name === 'CONCAT')).toBe(batch === 2);
      if (batch === 1) {
        const dense = split.lowered.tensors[ram.lowered.ops.find((o) => o.name === 'DENSE' && o.params.outDim === 96)!.outputs[0]];
        const views = tiles.map((o) => split.lowered.tensors[o.outputs[0]]);
        expect(views.every((v) => v.aliasOf === dense.index)).toBe(true);
        const starts = views.map((v) => v.aliasOffset!);
        expect(starts[0]).toBe(0);
        views.forEach((v, k) => expect(starts[k] + v.bytes).toBe(k + 1 < views.length ? starts[k + 1] : dense.bytes));
        expect(views.map((v) => split.plan.offsets.get(v.index)! - split.plan.offsets.get(dense.index)!)).toEqual(starts);
      }
      expect(Math.max(...split.lowered.ops.map(opConstBytes))).toBeLessThanOrEqual(split.staging);
      const sets = inputSets(split.selfTest!.inputs, idInputs(split.lowered), 6, 7);
      expect(await outputsOf(split.blob, 'flash', sets), `batch ${batch}`).toEqual(await outputsOf(ram.blob, 'ram', sets));
    }
  }, 60_000);
});

describe('reads through kw.read_blob that fail', () => {
  it('a failed or short read at init or during invoke is READ_FAILED, never a trap', async () => {
    const graph = await buildGraph(await readModel(path('examples/model/model.json')), {});
    const { blob, selfTest } = await convertGraph(graph, { runRaw, weights: 'flash' });
    const sim = await DeviceSim.load(undefined, { weights: 'flash' });
    sim.readFault = () => false;
    expect(sim.init(blob)).toBe(ERR.READ_FAILED);
    // fail the n-th read, for every n up to the reads one init + one invoke make
    sim.readFault = null;
    expect(sim.init(blob)).toBe(ERR.OK);
    sim.run(selfTest!.inputs);
    const reads = sim.reads.calls;
    for (let n = 1; n <= reads; n++) {
      let k = 0;
      sim.readFault = () => ++k !== n;
      const rc = sim.init(blob);
      const r = rc === ERR.OK ? sim.invoke() : rc;
      expect(r === ERR.READ_FAILED || (r === ERR.OK && k < n)).toBe(true);
    }
    sim.readFault = null;
    expect(sim.init(blob)).toBe(ERR.OK);
    // a blob that claims more bytes than the host serves: the reads past the end fail
    const longer = blob.slice();
    new DataView(longer.buffer).setUint32(HEADER.totalSize, blob.length + 64, true);
    expect(sim.init(longer)).toBe(ERR.BAD_SIZE);
    expect(sim.call('kw_blob_external', blob.length + 64)).toBe(ERR.OK);
    expect(sim.call('kw_init')).toBe(ERR.READ_FAILED);
  });
});
