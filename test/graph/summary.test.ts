/**
 * summarizeModel, what `summary` and the API's summary() both return: the table, its JSON form,
 * the converter's problems and the exit code they imply, on tfjs-built models (tfjs counts the
 * parameters independently).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { summarizeModel } from '../../tools/graph/summary.ts';
import { EXIT } from '../../tools/errors.ts';
import { initTf, rawFromTfjs } from '../helpers/tfjs.ts';

let tf: Awaited<ReturnType<typeof initTf>>;
beforeAll(async () => {
  tf = await initTf();
});

function threeDense() {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [4], units: 3, name: 'd' }));
  m.add(tf.layers.layerNormalization({ name: 'ln', axis: 1 }));
  m.add(tf.layers.dense({ units: 2, name: 'out' }));
  return m;
}

describe('summarizeModel', () => {
  it('a model the converter takes: no problems, exit code 0, totals as tfjs counts them', async () => {
    const m = threeDense();
    const s = summarizeModel(await rawFromTfjs(m));
    expect(s.problems).toEqual([]);
    expect(s.exitCode).toBe(EXIT.OK);
    expect(s.json.totals.params).toBe(m.countParams());
    expect(s.text).toContain(`Total params: ${m.countParams()}\n`);
    expect(s.json.layers.map((l) => l.name)).toEqual(['d', 'ln', 'out']);
  });

  it('an unsupported option: the whole table with the row marked, one problem, exit code 4 (EXIT.UNSUPPORTED)', async () => {
    const raw = await rawFromTfjs(threeDense());
    (raw.config.config.layers ?? raw.config.config).find((l: any) => l.config.name === 'ln').config.rms_scaling = true;
    const s = summarizeModel(raw, { explain: true });
    expect(s.exitCode).toBe(EXIT.UNSUPPORTED);
    expect(s.problems).toHaveLength(1);
    expect(s.problems[0]).toMatchObject({ layer: 'ln' });
    expect(s.text).toMatch(/ ln \(LayerNormalization\) \*\s+\(None, 3\)\s+6\s+/);
    expect(s.text).toMatch(/ out \(Dense\)\s+\(None, 2\)\s+8\s+6\n/);
    expect(s.json.problems).toHaveLength(1);
  });
});
