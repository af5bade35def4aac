/**
 * Outputs that are safe (never an input, never an existing file without --force, all of a
 * command's outputs or none), inputs that are checked (dtype, finite values, Keras's sample
 * count, a model given where a blob is expected, clipped values counted) and the exit codes of
 * user errors, through the commands as users run them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot, haveFixtures, fixture } from '../helpers/fixtures.ts';
import { readArray, writeNpy } from '../../tools/readers/npy.ts';
import { checkSamples, modelNotBlob } from '../../tools/cli/inputs.ts';
import { checkOutputs, writeFilesAtomic } from '../../tools/cli/fsutil.ts';
import { UserError, EXIT } from '../../tools/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-safe-'));
const ex = (p: string) => resolve(repoRoot, 'examples', p);

function cli(tool: 'convert' | 'run' | 'verify', args: string[]) {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools', tool), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const oneLine = (s: string) => expect(s.trim().split('\n')).toHaveLength(1);
const thrown = (f: () => unknown): UserError => {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('did not throw');
};

let blob: string;
beforeAll(() => {
  blob = join(dir, 'ex.blob');
  const c = cli('convert', [ex('model/model.json'), '--calibration', ex('calibration.npy'), '-o', blob]);
  expect(c.code, c.stderr).toBe(0);
});

describe('outputs', () => {
  it('an output that is an input (model, shard, calibration) is refused with one line and the input is unchanged', () => {
    const cal = join(dir, 'cal.npy');
    copyFileSync(ex('calibration.npy'), cal);
    const before = readFileSync(cal);
    for (const [out, what] of [
      [ex('model/model.json'), 'model.json'],
      [ex('model/weights.bin'), 'weights.bin'],
      [cal, 'cal.npy'],
    ]) {
      const bytes = readFileSync(out);
      const c = cli('convert', [ex('model/model.json'), '--calibration', cal, '-o', out, '--force']);
      expect(c.code).toBe(EXIT.USAGE);
      oneLine(c.stderr);
      expect(c.stderr).toContain(`-o ${out}: this is an input`);
      expect(c.stderr).toContain(what);
      expect(readFileSync(out).equals(bytes)).toBe(true);
    }
    expect(readFileSync(cal).equals(before)).toBe(true);
    // run: the blob, or an input array, as -o
    const r = cli('run', [blob, '--input', ex('test-inputs.npy'), '-o', ex('test-inputs.npy'), '--force']);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.stderr).toMatch(/test-inputs\.npy: this is an input/);
  });

  it('an existing output needs --force; two outputs may not be one file', () => {
    const out = join(dir, 'exists.blob');
    writeFileSync(out, 'keep me');
    const c = cli('convert', [ex('model/model.json'), '-o', out]);
    expect(c.code).toBe(EXIT.USAGE);
    oneLine(c.stderr);
    expect(c.stderr).toBe(`error: -o ${out}: already exists; pass --force to overwrite it\n`);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const same = cli('convert', [ex('model/model.json'), '-o', join(dir, 'n.blob'), '--report', join(dir, 'n.blob')]);
    expect(same.code).toBe(EXIT.USAGE);
    expect(same.stderr).toContain('--report');
    expect(same.stderr).toContain('-o writes the same file');
    const forced = cli('convert', [ex('model/model.json'), '--calibration', ex('calibration.npy'), '-o', out, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(out).subarray(0, 4).toString('latin1')).not.toBe('keep');
  });

  it('blob, report and C header appear together or not at all', () => {
    const sub = mkdtempSync(join(dir, 'group-'));
    writeFileSync(join(sub, 'file'), 'x');
    const c = cli('convert', [ex('model/model.json'), '-o', join(sub, 'm.blob'), '--report', join(sub, 'm.json'), '--c-header', join(sub, 'file', 'm.h')]);
    expect(c.code).toBe(EXIT.USAGE);
    oneLine(c.stderr);
    expect(c.stderr).toContain(`${join(sub, 'file')} is a file, not a folder`);
    expect(readdirSync(sub)).toEqual(['file']);
    // a write that fails after the checks (here: a folder that cannot be made) leaves nothing, not even temp files
    writeFileSync(join(sub, 'old.blob'), 'old');
    const e = thrown(() =>
      writeFilesAtomic([
        { file: join(sub, 'old.blob'), data: 'new' },
        { file: join(sub, 'r.json'), data: '{}' },
        { file: '/proc/kw-no-such-folder/m.h', data: '' },
      ]),
    );
    expect(e.message).toMatch(/^\/proc\/kw-no-such-folder\/m\.h: cannot write \(/);
    expect(readdirSync(sub).sort()).toEqual(['file', 'old.blob']);
    expect(readFileSync(join(sub, 'old.blob'), 'utf8')).toBe('old');
    // and all three when they can be written
    const ok = cli('convert', [ex('model/model.json'), '-o', join(sub, 'm.blob'), '--report', join(sub, 'm.json'), '--c-header', join(sub, 'm.h')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readdirSync(sub).sort()).toEqual(['file', 'm.blob', 'm.h', 'm.json', 'old.blob']);
    expect(JSON.parse(readFileSync(join(sub, 'm.json'), 'utf8')).flash.blobBytes).toBe(readFileSync(join(sub, 'm.blob')).length);
  });

  it('checkOutputs sees an input through another spelling, a symlinked folder and a hard link', () => {
    const link = join(dir, 'link');
    symlinkSync(dir, link);
    for (const out of [join(dir, '.', 'ex.blob'), join(link, 'ex.blob')]) {
      const e = thrown(() => checkOutputs([{ option: '-o', file: out }], [blob], true));
      expect(e.exitCode).toBe(EXIT.USAGE);
      expect(e.message).toBe(`-o ${out}: this is an input (${blob}); write the output to another file`);
    }
    expect(() => checkOutputs([{ option: '-o', file: join(dir, 'fresh.blob') }], [blob], false)).not.toThrow();
  });
});

describe('inputs', () => {
  const spec = { name: 'x', dims: [4] };
  const arr = (shape: number[], values?: number[], dtype = 'f4') => ({
    shape,
    dtype,
    data: Float32Array.from(values ?? Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i / 10)),
  });

  it('counts samples as Keras model.predict does: axis 0, never an added batch axis', () => {
    expect(checkSamples('c.npy', arr([3, 4]), spec, 'calibration').shape).toEqual([3, 4]);
    expect(checkSamples('c.npy', arr([1, 4]), spec, 'calibration').shape).toEqual([1, 4]);
    const e = thrown(() => checkSamples('c.npy', arr([4]), spec, 'calibration'));
    expect(e.exitCode).toBe(EXIT.BAD_INPUT);
    expect(e.message).toBe(
      "c.npy: calibration array of shape [4] has no sample axis: Keras's model.predict reads axis 0 as the samples, and input 'x' takes [None, 4]; save one sample as [1, 4] (x[None])",
    );
    // a free time dimension: [3, 4] is 3 sequences only with a rank-3 array
    const seq = { name: 'seq', dims: [null, 4] };
    expect(checkSamples('s.npy', arr([3, 7, 4]), seq, 'input').shape).toEqual([3, 7, 4]);
    expect(thrown(() => checkSamples('s.npy', arr([3, 4]), seq, 'input')).message).toContain('has no sample axis');
    expect(thrown(() => checkSamples('s.npy', arr([3, 5]), spec, 'input')).message).toBe(
      "s.npy: input array of shape [3, 5] does not match model input 'x' [None, 4] (N samples first)",
    );
  });

  it('NaN/Inf name the file and the first index; dtypes other than float32/float64/int are refused', () => {
    const v = Array.from({ length: 12 }, () => 0.5);
    v[6] = NaN;
    v[9] = Infinity;
    expect(thrown(() => checkSamples('n.npy', arr([3, 4], v), spec, 'input')).message).toBe(
      'n.npy: input array holds NaN in sample 1 at index [1, 2] (the first; values must be finite)',
    );
    v[6] = 0;
    expect(thrown(() => checkSamples('n.npy', arr([3, 4], v), spec, 'input')).message).toContain('holds Inf in sample 2 at index [2, 1]');
    for (const [dt, name] of [
      ['f2', 'float16'],
      ['b1', 'bool'],
    ]) {
      const e = thrown(() => checkSamples('d.npy', arr([3, 4], undefined, dt), spec, 'data'));
      expect(e.exitCode).toBe(EXIT.BAD_INPUT);
      expect(e.message).toBe(`d.npy: data array has dtype ${name}; accepted: float32, float64 or an integer type (save it with x.astype('float32'))`);
    }
    for (const dt of ['f8', 'i1', 'u2', 'i8']) expect(checkSamples('d.npy', arr([1, 4], undefined, dt), spec, 'data').shape).toEqual([1, 4]);
    expect(thrown(() => checkSamples('t.npy', arr([1, 4], [1, 2, 2.5, 3]), { name: 'ids', dims: [4], int: true }, 'input')).message).toBe(
      "t.npy: input array holds 2.5 at index [0, 2]: input 'ids' takes integer token ids",
    );
  });

  it('run with a NaN input: exit 3, one line naming the file and the index, nothing written', () => {
    const x = readArray(ex('test-inputs.npy'));
    const d = Float32Array.from(x.data);
    d[100] = NaN;
    const f = join(dir, 'nan.npy');
    writeNpy(f, d, x.shape);
    const out = join(dir, 'nan-out.npy');
    const r = cli('run', [blob, '--input', f, '-o', out]);
    expect(r.code).toBe(EXIT.BAD_INPUT);
    expect(r.stderr).toBe(`error: ${f}: input array holds NaN in sample 1 at index [1, 1, 1] (the first; values must be finite)\n`);
    expect(existsSync(out)).toBe(false);
  });

  it('run counts the values clipped at the input quantisation range', () => {
    const x = readArray(ex('test-inputs.npy'));
    const d = Float32Array.from(x.data);
    for (let i = 0; i < 50; i++) d[i * 7] = i % 2 ? 100 : -100;
    const f = join(dir, 'big.npy');
    writeNpy(f, d, x.shape);
    // min/max ranges hold every calibration value: only the 50 planted ones clip
    const mm = join(dir, 'minmax.blob');
    expect(cli('convert', [ex('model/model.json'), '--calibration', ex('calibration.npy'), '--calibration-method', 'minmax', '-o', mm]).code).toBe(0);
    const r = cli('run', [mm, '--input', f, '-o', join(dir, 'big-out.npy')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^note: 50 of 24576 values of input 'conv1_input' were outside its quantised range \[-[\d.]+, [\d.]+\] and were clipped/m);
    const plain = cli('run', [mm, '--input', ex('test-inputs.npy'), '-o', join(dir, 'plain-out.npy')]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).not.toContain('clipped');
    // an mse range trims the rare extremes, and the note says how to keep them
    const mse = join(dir, 'mse.blob');
    expect(cli('convert', [ex('model/model.json'), '--calibration', ex('calibration.npy'), '--calibration-method', 'mse', '-o', mse]).code).toBe(0);
    const trimmed = cli('run', [mse, '--input', ex('test-inputs.npy'), '-o', join(dir, 'mse-out.npy')]);
    expect(trimmed.code).toBe(0);
    expect(trimmed.stdout).toMatch(/^note: [1-9]\d* of 24576 values of input 'conv1_input' .* or convert with --calibration-method minmax/m);
  });

  it('a model file where a blob is expected: "this is a Keras .keras file; convert it first"', () => {
    const tfl = join(dir, 'm.tflite');
    writeFileSync(tfl, Buffer.concat([Buffer.from([0x1c, 0, 0, 0]), Buffer.from('TFL3'), Buffer.alloc(64)]));
    const cases: [string, string][] = [
      [ex('model/model.json'), 'a TensorFlow.js model.json (or Keras JSON) file'],
      [tfl, 'a TensorFlow Lite .tflite file'],
    ];
    if (haveFixtures) {
      cases.push([fixture('cdt406_keras3_gru_stack', 'gru_model.keras'), 'a Keras .keras file']);
      cases.push([fixture('dl4j_simple_rnn', 'simple_rnn_tf_keras_2_model.h5'), 'a Keras .h5 file']);
    }
    for (const [file, kind] of cases) {
      const e = modelNotBlob(new Uint8Array(readFileSync(file)), file);
      expect(e?.message).toContain(`${file}: this is ${kind}, not a blob; `);
    }
    expect(modelNotBlob(new Uint8Array(readFileSync(blob)), blob)).toBeNull();
    const keras = haveFixtures ? fixture('cdt406_keras3_gru_stack', 'gru_model.keras') : ex('model/model.json');
    for (const tool of ['run', 'verify'] as const) {
      const r = cli(tool, tool === 'run' ? [keras, '--input', ex('test-inputs.npy'), '-o', join(dir, 'k.npy')] : [keras]);
      expect(r.code).toBe(EXIT.BAD_INPUT);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(
        /: this is a (Keras \.keras|TensorFlow\.js model\.json \(or Keras JSON\)) file, not a blob; convert it first: npx tools\/convert /,
      );
    }
  });
});

describe('exit codes of user errors', () => {
  it('verify with the wrong --model: exit 3 naming both files', () => {
    const other = join(dir, 'other');
    const x = tfjsDense(other);
    const r = cli('verify', [blob, '--model', x, '--data', ex('test-inputs.npy')]);
    expect(r.code).toBe(EXIT.BAD_INPUT);
    oneLine(r.stderr);
    expect(r.stderr).toBe(
      `error: --model ${x} is not the model ${blob} was converted from: its inputs are 'in' [None, 5], the blob's are 'conv1_input' [None, 32, 3]\n`,
    );
  });

  it.skipIf(!haveFixtures)(
    '--batch too large to fit: exit 6, one line with the limit and the largest batch, nothing written',
    () => {
      const out = join(dir, 'huge.blob');
      const c = cli('convert', [fixture('mlperf_tiny_resnet_add', 'pretrainedResnet.h5'), '--batch', '100000', '-o', out]);
      expect(c.code).toBe(EXIT.DOES_NOT_FIT);
      const lines = c.stderr.trim().split('\n');
      expect(lines.filter((l) => l.startsWith('error:'))).toEqual([
        expect.stringMatching(
          /^error: batch 100000: the model does not fit: its arena needs 4688 MiB, the runtime's limit is 1024 MiB; use a --batch of about \d+ or less$/,
        ),
      ]);
      expect(c.stderr).not.toMatch(/tensor descriptor|internal/);
      expect(existsSync(out)).toBe(false);
    },
    120_000,
  );

  it.skipIf(!haveFixtures)('calibration [3, 16] for a 16-feature model is 3 samples', () => {
    const cal = join(dir, 'cal3.npy');
    writeNpy(
      cal,
      Float32Array.from({ length: 48 }, (_, i) => Math.sin(i)),
      [3, 16],
    );
    const rep = join(dir, 'cal3.json');
    const c = cli('convert', [fixture('dl4j_dense_leakyrelu', 'LeakyReLU_0_model.h5'), '--calibration', cal, '-o', join(dir, 'cal3.blob'), '--report', rep]);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(readFileSync(rep, 'utf8')).calibration.samples).toBe(3);
  });
});

/** A tfjs-format model.json + weights with one Dense(5 -> 2), written by hand (no tfjs needed). */
function tfjsDense(sub: string): string {
  mkdirSync(sub, { recursive: true });
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'other',
      layers: [{ class_name: 'Dense', config: { name: 'd', units: 2, activation: 'linear', use_bias: true, batch_input_shape: [null, 5] } }],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  topology.config.layers.unshift({ class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 5] } as any });
  const manifest = [
    {
      paths: ['w.bin'],
      weights: [
        { name: 'd/kernel', shape: [5, 2], dtype: 'float32' },
        { name: 'd/bias', shape: [2], dtype: 'float32' },
      ],
    },
  ];
  writeFileSync(join(sub, 'w.bin'), Buffer.from(new Float32Array(12).fill(0.25).buffer));
  const f = join(sub, 'model.json');
  writeFileSync(f, JSON.stringify({ modelTopology: topology, weightsManifest: manifest, format: 'layers-model' }));
  return f;
}
