/**
 * tools/blob/tile.ts on a Conv1D whose constants exceed the staging area: tiles of a multiple of
 * 8 output channels where the budget allows more than 8 (the runtime's two-position pass runs 8
 * channels per pass, and a 4-channel remainder block costs a whole pass), of 4 otherwise; the
 * streamed blob gives the bytes of the whole op.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModel } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import { convertGraph } from '../../tools/pipeline.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { opConstBytes, tileForStaging } from '../../tools/blob/tile.ts';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { ERR } from '../../tools/blob/spec.ts';
import { randomTensor } from '../helpers/random.ts';
import { initTf, saveTfjsFiles, tf } from '../helpers/tfjs-train.ts';

const runRaw = (blob: Uint8Array, inputs: Uint8Array[]) =>
  runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice());

describe('tileForStaging', () => {
  it('splits a CONV2D into tiles of 8 channels where more than 8 fit, of 4 where fewer do; outputs unchanged', async () => {
    await initTf();
    const m = tf.sequential();
    m.add(
      tf.layers.conv1d({ inputShape: [24, 16], filters: 40, kernelSize: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    );
    m.add(tf.layers.globalAveragePooling1d());
    const file = await saveTfjsFiles(m, mkdtempSync(join(tmpdir(), 'kw-tile-')));
    const graph = await buildGraph(await readModel(file), {});
    const calibration = [randomTensor([16, 24, 16], 3)];
    const ram = await convertGraph(graph, { calibration, runRaw, weights: 'ram' });
    const conv = ram.lowered.ops.find((o) => o.name === 'CONV2D')!;
    // constants of a c-channel tile: weights c*80, bias and multiplier 4 B, shift 1 B per channel
    const tileBytes = (c: number) => c * 80 + 3 * 16 + Math.ceil((4 * c) / 16) * 16 * 2;
    const outC = (budget: number) =>
      tileForStaging(ram.lowered, budget)
        .ops.filter((o) => o.name === 'CONV2D')
        .map((o) => o.params.outC);
    expect(opConstBytes(conv)).toBeGreaterThan(tileBytes(12));
    expect(outC(tileBytes(12) + 16)).toEqual([8, 8, 8, 8, 8]);
    expect(outC(tileBytes(16) + 16)).toEqual([16, 16, 8]);
    expect(outC(tileBytes(7))).toEqual([4, 4, 4, 4, 4, 4, 4, 4, 4, 4]);
    for (const staging of [tileBytes(12) + 16, tileBytes(7)]) {
      const flash = await convertGraph(graph, { calibration, runRaw, weights: 'flash', staging });
      const sim = await DeviceSim.load(undefined, { weights: 'flash' });
      expect(sim.init(flash.blob)).toBe(ERR.OK);
      const x = flash.selfTest!.inputs;
      expect(sim.run(x)).toEqual(runBlobReference(ram.blob, x).map((t) => new Int8Array(t.buffer, t.byteOffset, t.byteLength)));
    }
  }, 60_000);
});
