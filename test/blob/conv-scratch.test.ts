/**
 * CONV2D's two-position pass takes its packed input pairs from the header scratch
 * (tools/blob/conv-scratch.ts): which ops need it, what the converter writes into the header, and
 * that a converted Conv1D model runs bit-identical to the integer reference with that scratch
 * and with none (every position on its own).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convPairScratch, opsScratch } from '../../tools/blob/conv-scratch.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { HEADER } from '../../tools/blob/spec.ts';
import { fixCrc } from '../../tools/blob/writer.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { rawInputs } from '../../tools/pipeline.ts';
import { openSim } from '../../tools/cli/sim.ts';
import { initTf, rng, saveTfjsFiles, tf } from '../helpers/tfjs-train.ts';
import { convertWithSelfTest, graphFromFile } from '../helpers/convert-harness.ts';

const conv = { layout: 1, dilW: 1, outC: 16, outW: 128, kH: 1, kW: 5, inC: 3 };

describe('convPairScratch', () => {
  it('gives 8 bytes per tap (K rounded up to a multiple of 4) to the ops the pass can run, 0 to the others', () => {
    expect(convPairScratch(conv, true)).toBe(8 * 16);
    expect(convPairScratch({ ...conv, kH: 3 }, true)).toBe(8 * 48);
    expect(convPairScratch({ ...conv, inC: 4 }, true)).toBe(8 * 20);
    expect(convPairScratch(conv, false)).toBe(0); // int16 tensors
    expect(convPairScratch({ ...conv, layout: 0 }, true)).toBe(0);
    expect(convPairScratch({ ...conv, dilW: 2 }, true)).toBe(0);
    expect(convPairScratch({ ...conv, outC: 6 }, true)).toBe(0);
    expect(convPairScratch({ ...conv, outW: 1 }, true)).toBe(0);
    expect(convPairScratch({ ...conv, inC: 65536, kW: 3 }, true)).toBe(0); // K > 2^17
  });

  it('the header scratch is the largest need of the CONV2D ops', () => {
    const ops = [
      { name: 'CONV2D', params: { ...conv, in: 0 } },
      { name: 'DENSE', params: { in: 1 } },
      { name: 'CONV2D', params: { ...conv, inC: 16, in: 1 } },
      { name: 'CONV2D', params: { ...conv, inC: 64, in: 2 } },
    ];
    expect(opsScratch(ops, (t) => t !== 2)).toBe(8 * 80);
    expect(opsScratch(ops, () => false)).toBe(0);
  });
});

describe('a converted Conv1D model', () => {
  beforeAll(async () => {
    await initTf();
  });

  it('declares the scratch and runs bit-identical with it and without it', async () => {
    const seed = (s: number) => tf.initializers.glorotUniform({ seed: s });
    const m = tf.sequential();
    m.add(tf.layers.conv1d({ inputShape: [33, 3], filters: 12, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: seed(1) }));
    m.add(tf.layers.conv1d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: seed(2) }));
    m.add(tf.layers.conv1d({ filters: 6, kernelSize: 3, padding: 'same', kernelInitializer: seed(3) }));
    m.add(tf.layers.globalAveragePooling1d({}));
    const file = await saveTfjsFiles(m, join(mkdtempSync(join(tmpdir(), 'kw-convscratch-')), 'm'));
    const r = rng(7);
    const data = (n: number) => ({ shape: [n, 33, 3], data: new Float32Array(n * 99).map(() => r() * 2 - 1) });
    const res = await convertWithSelfTest(await graphFromFile(file), [data(32)]);
    // the pass runs on the first two layers (outC 12 and 8); K = 15 (16 with the zero pair) and 36
    expect(parseBlob(res.blob).header.scratchSize).toBe(8 * 36);
    const none = res.blob.slice();
    new DataView(none.buffer).setUint32(HEADER.scratchSize, 0, true);
    fixCrc(none);
    const raw = rawInputs(res.lowered, [data(1)], res.batch);
    const ref = runBlobReference(res.blob, raw);
    for (const blob of [res.blob, none]) {
      const sim = await openSim(blob);
      const out = sim.run(raw.map((b) => new Int8Array(b.buffer, b.byteOffset, b.byteLength)));
      expect(Array.from(out[0])).toEqual(Array.from(ref[0]));
    }
  });
});
