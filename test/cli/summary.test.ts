/**
 * The `summary` CLI: Keras-style table (Output Shape with None, Param #, Connected to for
 * functional graphs, totals) plus MACs, and the --json form.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { summaryCommand } from '../../tools/cli/summary.ts';
import { haveFixtures, fixture, repoRoot } from '../helpers/fixtures.ts';
import { initTf, rawFromTfjs } from '../helpers/tfjs.ts';
import type { RawModel } from '../../tools/readers/types.ts';

let tf: Awaited<ReturnType<typeof initTf>>;
beforeAll(async () => {
  tf = await initTf();
});

describe('summary on tfjs-built models (reader injected)', () => {
  it('Sequential: table rows, None batch, totals equal tfjs countParams, MACs', async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv1d({ inputShape: [16, 3], filters: 4, kernelSize: 3, name: 'conv' }));
    m.add(tf.layers.batchNormalization({ name: 'bn' }));
    m.add(tf.layers.flatten({ name: 'flat' }));
    m.add(tf.layers.dense({ units: 2, name: 'out' }));
    const raw = await rawFromTfjs(m);
    const text = await summaryCommand(['m.json'], () => raw);
    const lines = text.split('\n');
    expect(lines[0]).toBe(`Model: "${m.name}"`);
    expect(lines[2]).toMatch(/^ Layer \(type\)\s+Output Shape\s+Param #\s+MACs$/);
    expect(text).toMatch(/ conv \(Conv1D\)\s+\(None, 14, 4\)\s+40\s+504\n/);
    expect(text).toMatch(/ bn \(BatchNormalization\)\s+\(None, 14, 4\)\s+16\s+56\n/);
    expect(text).toMatch(/ flat \(Flatten\)\s+\(None, 56\)\s+0\s+0\n/);
    expect(text).toMatch(/ out \(Dense\)\s+\(None, 2\)\s+114\s+112\n/);
    expect(text).toContain(`Total params: ${m.countParams()}\n`);
    expect(text).toContain('Trainable params: 162\n');
    expect(text).toContain('Non-trainable params: 8\n');
    expect(text).toContain('Total MACs: 672\n');
    expect(text).not.toContain('Connected to');
    expect(text).not.toContain('InputLayer');
  });
  it('unsupported option: its row is marked, the table is whole, --json lists the problem', async () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 3, name: 'd' }));
    m.add(tf.layers.layerNormalization({ name: 'ln', axis: 1 }));
    m.add(tf.layers.dense({ units: 2, name: 'out' }));
    const raw = await rawFromTfjs(m);
    (raw.config.config.layers ?? raw.config.config).find((l: any) => l.config.name === 'ln').config.rms_scaling = true;
    const e = await summaryCommand(['m.json'], () => raw).catch((x) => x);
    expect(e).toMatchObject({ name: 'UserError', exitCode: 4, message: 'm.json: 1 unsupported layer/option (marked * in the table)' });
    expect(e.output).toMatch(/ ln \(LayerNormalization\) \*\s+\(None, 3\)\s+6\s+/);
    expect(e.output).toMatch(/ out \(Dense\)\s+\(None, 2\)\s+8\s+6\n/);
    expect(e.output).toContain("  layer 'ln' (LayerNormalization) option rms_scaling=true: not supported; supported: ");
    expect(e.output).not.toContain('supported layer classes');
    const j = await summaryCommand(['m.json', '--json'], () => raw).catch((x) => JSON.parse(x.output));
    expect(j.problems).toHaveLength(1);
    expect(j.problems[0]).toMatch(/^layer 'ln' \(LayerNormalization\) option rms_scaling=true/);
    expect(j.layers.map((l: any) => l.name)).toEqual(['d', 'ln', 'out']);
  });
  it('functional: InputLayer rows and Connected to; --json', async () => {
    const a = tf.input({ shape: [4], name: 'a' });
    const b = tf.input({ shape: [4], name: 'b' });
    const d = tf.layers.dense({ units: 3, name: 'd' });
    const s = tf.layers.add({ name: 'sum' }).apply([d.apply(a) as any, d.apply(b) as any]) as any;
    const m = tf.model({ inputs: [a, b], outputs: s, name: 'two' });
    const raw = await rawFromTfjs(m);
    const text = await summaryCommand(['m.json'], () => raw);
    expect(text).toMatch(/Connected to/);
    expect(text).toMatch(/ a \(InputLayer\)\s+\[\(None, 4\)\]\s+0\s+0\s+\[\]\n/);
    expect(text).toMatch(/ d@1 \(Dense\)\s+\(None, 3\)\s+0\s+12\s+b\[0\]\[0\]\n/);
    expect(text).toMatch(/ sum \(Add\)\s+\(None, 3\)\s+0\s+0\s+d\[0\]\[0\], d\[1\]\[0\]\n/);
    const j = JSON.parse(await summaryCommand(['m.json', '--json'], () => raw));
    expect(j.name).toBe('two');
    // tfjs saves Input(shape=...) as batchInputShape
    const from = (layer: string) => ({ option: 'batch_input_shape', layer, where: 'InputLayer', value: [null, 4] });
    expect(j.inputs).toEqual([
      { name: 'a', shape: [null, 4], dtype: 'float32', shapeSource: from('a'), blobBatch: 1 },
      { name: 'b', shape: [null, 4], dtype: 'float32', shapeSource: from('b'), blobBatch: 1 },
    ]);
    expect(j.outputs).toEqual([{ name: 'sum', shape: [null, 3] }]);
    expect(j.layers.map((l: any) => [l.name, l.class, l.params, l.macs, l.inbound])).toEqual([
      ['d', 'Dense', 15, 12, ['a']],
      ['d@1', 'Dense', 0, 12, ['b']],
      ['sum', 'Add', 0, 0, ['d', 'd@1']],
    ]);
    expect(j.problems).toEqual([]);
    expect(j.totals).toEqual({ params: 15, trainableParams: 15, nonTrainableParams: 0, macs: 24 });
  });
});

const cli = (args: string[]) => spawnSync(process.execPath, [resolve(repoRoot, 'tools/summary'), ...args], { cwd: repoRoot, encoding: 'utf8' });

describe.skipIf(!haveFixtures)('summary CLI on real files', () => {
  it('npx ./tools/summary on a Keras 2 h5 (bare-list Sequential, fixed batch)', () => {
    const r = cli([fixture('dl4j_simple_rnn/simple_rnn_tf_keras_2_model.h5')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ simple_rnn_1 \(SimpleRNN\)\s+\(25, 50\)\s+2600\s+2550\n/);
    expect(r.stdout).toContain('Total params: 2,651\n');
  });
  it('--config for a weights-only h5, --json (in-process, real reader)', async () => {
    const j = JSON.parse(
      await summaryCommand([
        fixture('dl4j_dense_leakyrelu/LeakyReLU_0_weights.h5'),
        '--config',
        fixture('dl4j_dense_leakyrelu/LeakyReLU_0_config.json'),
        '--json',
      ]),
    );
    expect(j.layers.map((l: any) => [l.class, l.outputShapes, l.params])).toEqual([
      ['Dense', [[null, 32]], 544],
      ['LeakyReLU', [[null, 32]], 0],
    ]);
  });
  it('unsupported model: the whole table with the row marked, the problem and the supported classes once below, exit 4', () => {
    const file = fixture('dl4j_concat_attention/keras-attention.h5');
    const r = cli([file]);
    expect(r.status).toBe(4);
    expect(r.stderr).toBe(`error: ${file}: 1 unsupported layer/option (marked * in the table)\n`);
    const out = r.stdout;
    expect(out).toMatch(/ inputs \(InputLayer\)\s+\[\(None, 22\)\]\s+0\s+0\s+\[\]\n/);
    expect(out).toMatch(/ dense \(Dense\)\s+\(None, 32\)\s+736\s+704\s+inputs\[0\]\[0\]\n/);
    expect(out).toMatch(/ attention \(Attention\) \*\s+\?\s+0\s+0\s+dense\[0\]\[0\], dense\[0\]\[0\]\n/);
    // layers after it: shapes unknown, parameters from the file's weights (as Keras counts them)
    expect(out).toMatch(/ dense_1 \(Dense\)\s+\?\s+2080\s+0\s+concatenate\[0\]\[0\]\n/);
    expect(out).toMatch(/ outputs \(Dense\)\s+\?\s+33\s+0\s+dense_1\[0\]\[0\]\n/);
    expect(out).toContain('Total params: 2,849\n');
    expect(out).toContain("  layer 'attention' (Attention): this layer class is not supported\n");
    expect(out.match(/supported layer classes: Dense, /g)).toHaveLength(1);
    expect(out).not.toMatch(/at .*\.ts:\d+/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
  it('a Functional model that is a chain keeps its InputLayer row; nested Sequentials are one row each (as Keras prints them)', () => {
    const file = fixture('mltk_autoencoder_nested_sequential/autoencoder_example.h5');
    const r = cli([file]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[4]).toMatch(/^ input_1 \(InputLayer\)\s+\[\(None, 140\)\]\s+0\s+0$/);
    // Keras: sequential 5176 (140*32+32 + 32*16+16 + 16*8+8), sequential_1 5308
    expect(lines[5]).toMatch(/^ sequential \(Sequential\)\s+\(None, 8\)\s+5176\s+5120$/);
    expect(lines[6]).toMatch(/^ sequential_1 \(Sequential\)\s+\(None, 140\)\s+5308\s+5120$/);
    expect(lines[7]).toMatch(/^=+$/);
    expect(r.stdout).toContain('Total params: 10,484\n');
    expect(r.stdout).not.toContain('Connected to');
    const x = cli([file, '--expand-nested']);
    expect(x.status, x.stderr).toBe(0);
    expect(
      x.stdout
        .split('\n')
        .slice(5, 14)
        .map((l) => l.replace(/(\S) {2,}(?=\S)/g, '$1 | ')),
    ).toEqual([
      ' sequential (Sequential) | (None, 8) | 5176 | 5120',
      '   dense (Dense) | (None, 32) | 4512 | 4480',
      '   dense_1 (Dense) | (None, 16) | 528 | 512',
      '   dense_2 (Dense) | (None, 8) | 136 | 128',
      ' sequential_1 (Sequential) | (None, 140) | 5308 | 5120',
      '   dense_3 (Dense) | (None, 16) | 144 | 128',
      '   dense_4 (Dense) | (None, 32) | 544 | 512',
      '   dense_5 (Dense) | (None, 140) | 4620 | 4480',
      expect.stringMatching(/^=+$/),
    ]);
  });
  it('usage and missing files (in-process)', async () => {
    await expect(summaryCommand([])).rejects.toMatchObject({ code: 'commander.missingArgument' });
    await expect(summaryCommand(['/nonexistent/model.h5'])).rejects.toMatchObject({ name: 'UserError', exitCode: 3 });
  });
});

describe('summary: nested models as Keras shows them', () => {
  it('a model nested two deep: one row at the top; --expand-nested indents each level', async () => {
    const core = tf.sequential({ name: 'core', layers: [tf.layers.dense({ inputShape: [3], units: 2, name: 'c1' })] });
    const block = tf.sequential({ name: 'block', layers: [tf.layers.dense({ inputShape: [4], units: 3, name: 'b1' })] });
    block.add(core);
    const x = tf.input({ shape: [4], name: 'x' });
    const m = tf.model({ inputs: x, outputs: tf.layers.dense({ units: 1, name: 'head' }).apply(block.apply(x) as any) as any, name: 'top' });
    const raw = await rawFromTfjs(m);
    const rows = (t: string) =>
      t
        .split('\n')
        .filter((l) => /\(\w+\)\s+[([]/.test(l))
        .map((l) => l.replace(/(\S) {2,}(?=\S)/g, '$1 | '));
    // tfjs's own summary: block 23 (b1 15 + c1 8), head 3
    expect(rows(await summaryCommand(['m.json'], () => raw))).toEqual([
      ' x (InputLayer) | [(None, 4)] | 0 | 0',
      ' block (Sequential) | (None, 2) | 23 | 18',
      ' head (Dense) | (None, 1) | 3 | 2',
    ]);
    expect(rows(await summaryCommand(['m.json', '--expand-nested'], () => raw))).toEqual([
      ' x (InputLayer) | [(None, 4)] | 0 | 0',
      ' block (Sequential) | (None, 2) | 23 | 18',
      '   b1 (Dense) | (None, 3) | 15 | 12',
      '   core (Sequential) | (None, 2) | 8 | 6',
      '     c1 (Dense) | (None, 2) | 8 | 6',
      ' head (Dense) | (None, 1) | 3 | 2',
    ]);
    const j = JSON.parse(await summaryCommand(['m.json', '--json'], () => raw));
    expect(j.nested.map((n: any) => [n.name, n.parent, n.params, n.layers])).toEqual([
      ['block', null, 23, ['block/b1']],
      ['block/core', 'block', 8, ['block/core/c1']],
    ]);
    expect(j.totals.params).toBe(m.countParams());
  });
  it('a nested model is one row (class, output shape, the sum of its layers), --expand-nested lists its layers', async () => {
    const inner = tf.sequential({ name: 'enc' });
    inner.add(tf.layers.dense({ inputShape: [4], units: 3, name: 'e1' }));
    inner.add(tf.layers.dense({ units: 2, name: 'e2' }));
    const a = tf.input({ shape: [4], name: 'a' });
    const b = tf.input({ shape: [4], name: 'b' });
    const s = tf.layers.add({ name: 'sum' }).apply([inner.apply(a) as any, inner.apply(b) as any]) as any;
    const out = tf.layers.dense({ units: 1, name: 'out' }).apply(s) as any;
    const m = tf.model({ inputs: [a, b], outputs: out, name: 'outer' });
    const raw = await rawFromTfjs(m);
    const text = await summaryCommand(['m.json'], () => raw);
    expect(text).toMatch(/ enc \(Sequential\)\s+\(None, 2\)\s+23\s+18\s+a\[0\]\[0\]\n/);
    expect(text).toMatch(/ enc@1 \(Sequential\)\s+\(None, 2\)\s+0\s+18\s+b\[0\]\[0\]\n/);
    expect(text).toMatch(/ sum \(Add\)\s+\(None, 2\)\s+0\s+0\s+enc\[0\]\[0\], enc\[1\]\[0\]\n/);
    expect(text).not.toContain('e1');
    // the totals are Keras's: the inner layers counted once
    expect(text).toContain(`Total params: ${m.countParams()}\n`);
    expect(m.countParams()).toBe(26);
    const expanded = await summaryCommand(['m.json', '--expand-nested'], () => raw);
    expect(expanded).toMatch(
      / enc \(Sequential\)\s+\(None, 2\)\s+23\s+18\s+a\[0\]\[0\]\n {3}e1 \(Dense\)\s+\(None, 3\)\s+15\s+12\s+a\[0\]\[0\]\n {3}e2 \(Dense\)\s+\(None, 2\)\s+8\s+6\s+enc\/e1\[0\]\[0\]\n/,
    );
    expect(expanded).toMatch(/ {3}e1 \(Dense\)\s+\(None, 3\)\s+0\s+12\s+b\[0\]\[0\]\n/);
    expect(expanded).toContain(`Total params: ${m.countParams()}\n`);
    const j = JSON.parse(await summaryCommand(['m.json', '--json'], () => raw));
    expect(j.layers.map((l: any) => l.name)).toEqual(['enc/e1', 'enc/e2', 'enc@1/e1', 'enc@1/e2', 'sum', 'out']);
    expect(j.nested.map((n: any) => [n.name, n.class, n.parent, n.outputShapes, n.params, n.inbound, n.layers])).toEqual([
      ['enc', 'Sequential', null, [[null, 2]], 23, ['a'], ['enc/e1', 'enc/e2']],
      ['enc@1', 'Sequential', null, [[null, 2]], 0, ['b'], ['enc@1/e1', 'enc@1/e2']],
    ]);
  });
});

/** A RawModel of a hand-written config (the dialect as the reader would tell it). */
function rawOf(config: any, dialect: 'keras1' | 'keras2' | 'keras3', weights: Record<string, { name: string; shape: number[] }[]>): RawModel {
  const ws = Object.entries(weights).map(([k, list]) => [k, list.map((w) => ({ ...w, data: new Float32Array(w.shape.reduce((a, b) => a * b, 1)) }))] as const);
  return { file: 'm.h5', format: dialect === 'keras3' ? 'keras3' : 'h5', dialect, kerasVersion: null, config, weights: new Map(ws), notes: [] };
}
const dense = (name: string, units: number, extra: any = {}) => ({
  class_name: 'Dense',
  config: { name, units, activation: 'linear', use_bias: true, ...extra },
});

describe('summary --explain: the option that set each input shape, and its batch in the blob', () => {
  const explain = async (raw: RawModel) => {
    const text = await summaryCommand(['m.h5', '--explain'], () => raw);
    return text.slice(text.indexOf('Input shapes:\n'));
  };
  it('input_dim: Keras 1 Sequential (W/b weights) and Keras 2 Dense(input_dim=...)', async () => {
    const k1 = rawOf({ class_name: 'Sequential', config: [dense('d1', 3, { input_dim: 8, output_dim: 3 }), dense('d2', 1, { output_dim: 1 })] }, 'keras1', {
      d1: [
        { name: 'd1_W:0', shape: [8, 3] },
        { name: 'd1_b:0', shape: [3] },
      ],
      d2: [
        { name: 'd2_W:0', shape: [3, 1] },
        { name: 'd2_b:0', shape: [1] },
      ],
    });
    expect(await explain(k1)).toBe(
      'Input shapes:\n' +
        '  d1_input: (None, 8)\n' +
        "    set by input_dim=8 of the first layer 'd1' (a Sequential without an InputLayer takes its input shape from there): input_dim=n means input_shape=(n,)\n" +
        '    batch: None in the model; the blob has a static batch of 1 (convert --batch N sets N)\n',
    );
    const k2 = rawOf({ class_name: 'Sequential', config: { name: 's', layers: [dense('d1', 3, { input_dim: 5 })] } }, 'keras2', {
      d1: [
        { name: 'd1/kernel:0', shape: [5, 3] },
        { name: 'd1/bias:0', shape: [3] },
      ],
    });
    expect(await explain(k2)).toContain("  d1_input: (None, 5)\n    set by input_dim=5 of the first layer 'd1'");
    const j = JSON.parse(await summaryCommand(['m.h5', '--json'], () => k2));
    expect(j.inputs).toEqual([
      { name: 'd1_input', shape: [null, 5], dtype: 'float32', shapeSource: { option: 'input_dim', layer: 'd1', where: 'first layer', value: 5 }, blobBatch: 1 },
    ]);
  });
  it('input_shape with batch_size on an InputLayer; a Keras 3 Sequential built with build_input_shape', async () => {
    const fn = {
      class_name: 'Functional',
      config: {
        name: 'f',
        layers: [
          { class_name: 'InputLayer', name: 'x', config: { name: 'x', input_shape: [6], batch_size: 4 }, inbound_nodes: [] },
          { ...dense('d', 2), name: 'd', inbound_nodes: [[['x', 0, 0, {}]]] },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['d', 0, 0]],
      },
    };
    const w = {
      d: [
        { name: 'd/kernel:0', shape: [6, 2] },
        { name: 'd/bias:0', shape: [2] },
      ],
    };
    expect(await explain(rawOf(fn, 'keras2', w))).toBe(
      'Input shapes:\n' +
        '  x: (4, 6)\n' +
        "    set by input_shape=[6] of InputLayer 'x': input_shape excludes the batch, which stays None\n" +
        '    batch_size=4 fixes the batch\n' +
        '    batch: fixed at 4 in the file; the blob uses 4 (convert --batch N replaces it unless the model has stateful layers)\n',
    );
    const k3 = { class_name: 'Sequential', config: { name: 'seq', layers: [dense('d', 2)], build_input_shape: [null, 6] } };
    expect(await explain(rawOf(k3, 'keras3', w))).toContain(
      "  d_input: (None, 6)\n    set by build_input_shape=[None, 6] of Sequential 'seq' (a Sequential without an InputLayer takes its input shape from there): the shape the Sequential was built with",
    );
  });
  it.skipIf(!haveFixtures)('fixtures: Keras 3 batch_shape, Keras 2 h5 batch_input_shape (InputLayer; first layer with a fixed batch)', async () => {
    const text = await summaryCommand([fixture('cdt406_keras3_gru_stack/gru_model.keras'), '--explain']);
    expect(text).toContain(
      "Input shapes:\n  input_layer: (None, 4, 1)\n    set by batch_shape=[None, 4, 1] of InputLayer 'input_layer': batch_shape includes the batch; Keras 3 saves Input(shape=...) this way\n    batch: None in the model; the blob has a static batch of 1",
    );
    const ae = await summaryCommand([fixture('mltk_autoencoder_nested_sequential/autoencoder_example.h5'), '--explain']);
    expect(ae).toContain("  input_1: (None, 140)\n    set by batch_input_shape=[None, 140] of InputLayer 'input_1': batch_input_shape includes the batch");
    const rnn = JSON.parse(await summaryCommand([fixture('dl4j_simple_rnn/simple_rnn_tf_keras_2_model.h5'), '--json']));
    expect(rnn.inputs[0]).toMatchObject({
      shape: [25, 1, 1],
      shapeSource: { option: 'batch_input_shape', layer: 'simple_rnn_1', where: 'first layer', value: [25, 1, 1] },
      blobBatch: 25,
    });
    // without --explain the table stands alone
    expect(await summaryCommand([fixture('cdt406_keras3_gru_stack/gru_model.keras')])).not.toContain('Input shapes:');
  });
});
