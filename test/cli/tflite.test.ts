/**
 * .tflite input through the commands as users run them: convert (no calibration), verify
 * --board esp32-s3 and run on the blob; bad files give one line, the documented exit code and
 * no output file.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT } from '../../tools/errors.ts';
import { readArray, writeNpy } from '../../tools/readers/npy.ts';
import { haveTflite, repoRoot, tfliteDir } from '../helpers/fixtures.ts';
import { fcModel, meanModel, writeTflite } from '../helpers/tflite-writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-tflite-cli-'));

function cli(tool: 'convert' | 'run' | 'verify' | 'summary', args: string[]) {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'tools', tool), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!haveTflite)('convert, verify and run a .tflite model', () => {
  it('ad01: convert without calibration, verify on esp32-s3, run', () => {
    const blob = join(dir, 'ad01.blob');
    const c = cli('convert', [join(tfliteDir, 'ad01_int8.tflite'), '-o', blob]);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/calibration: none \(the model file's quantization\)/);
    expect(c.stdout).toMatch(/weights stay in flash/);
    const v = cli('verify', [blob, '--board', 'esp32-s3']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/PASS self-test/);
    const x = Float32Array.from({ length: 3 * 640 }, (_, i) => ((i * 7919) % 97) / 10 - 4);
    const input = join(dir, 'x.npy');
    writeNpy(input, x, [3, 640]);
    const out = join(dir, 'y.npy');
    const r = cli('run', [blob, '--input', input, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const y = readArray(out);
    expect(y.shape).toEqual([3, 640]);
    expect(readFileSync(out).length).toBeGreaterThan(3 * 640);
  }, 120_000);

  for (const [name, rounding] of [
    ['kws_ref_model', 'double'],
    ['vww_96_int8', 'float'],
    ['pretrainedResnet_quant', 'double'],
  ]) {
    it(`${name}: convert --rounding ${rounding}, then verify --board esp32-s3`, () => {
      const blob = join(dir, `${name}.blob`);
      const c = cli('convert', [join(tfliteDir, `${name}.tflite`), '-o', blob, '--rounding', rounding]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/weights stay in flash/);
      const v = cli('verify', [blob, '--board', 'esp32-s3']);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      expect(v.stdout).toMatch(/PASS self-test/);
    }, 180_000);
  }
});

describe('bad .tflite input through convert: one line, exit code, nothing written', () => {
  const cases: [string, Uint8Array, number, RegExp][] = [
    ['truncated', writeTflite(fcModel()).subarray(0, 100), EXIT.BAD_INPUT, /outside the file|past the end|truncated|corrupt/],
    [
      'zero point outside int8',
      (() => {
        const m = fcModel();
        m.tensors[0].zeroPoint = [-300];
        return writeTflite(m);
      })(),
      EXIT.BAD_INPUT,
      /zero point -300 is outside int8's range/,
    ],
    [
      'an unsupported op',
      (() => {
        const m = fcModel();
        m.tensors.push({ name: 'e', shape: [1, 3], type: 9, scale: [0.1], zeroPoint: [0] });
        m.ops.push({ code: 47, version: 1, inputs: [3], outputs: [4] });
        m.outputs = [4];
        return writeTflite(m);
      })(),
      EXIT.UNSUPPORTED,
      /1 unsupported layer\/option \(listed below\); nothing was written/,
    ],
  ];
  for (const [name, bytes, exit, message] of cases) {
    it(name, () => {
      const file = join(dir, `${name.replace(/ /g, '_')}.tflite`);
      writeFileSync(file, bytes);
      const out = join(dir, `${name.replace(/ /g, '_')}.blob`);
      const c = cli('convert', [file, '-o', out]);
      expect(c.code).toBe(exit);
      expect(c.stderr.trim().split('\n')[0]).toMatch(message);
      expect(c.stderr).not.toMatch(/at .*\.ts:\d+/);
      expect(existsSync(out)).toBe(false);
    });
  }
  it('--calibration with a .tflite file', () => {
    const file = join(dir, 'fc.tflite');
    writeFileSync(file, writeTflite(fcModel()));
    const cal = join(dir, 'cal.npy');
    writeNpy(cal, new Float32Array(8), [2, 4]);
    const c = cli('convert', [file, '--calibration', cal, '-o', join(dir, 'fc.blob')]);
    expect(c.code).toBe(EXIT.USAGE);
    expect(c.stderr).toMatch(/carries its own scales and zero points; drop --calibration/);
  });
  it('a written one-op model converts and its summary lists the layer', () => {
    const file = join(dir, 'fc1.tflite');
    writeFileSync(file, writeTflite(fcModel()));
    const s = cli('summary', [file]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/ dense \(Dense\) +\(1, 3\) +15 +12/);
    expect(cli('convert', [file, '-o', join(dir, 'fc1.blob')]).code).toBe(0);
  });
});

describe('MEAN and UNIDIRECTIONAL_SEQUENCE_LSTM through the commands', () => {
  it('a MEAN + FULLY_CONNECTED model: summary lists GlobalAveragePooling2D, convert writes op MEAN, verify passes', () => {
    const file = join(dir, 'mean.tflite');
    writeFileSync(file, writeTflite(meanModel({ shape: [1, 5, 5, 16], inQ: [0.05, -3], outQ: [0.02, 4], keepDims: false, fcUnits: 4 })));
    const s = cli('summary', [file]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/ global_average_pooling2d \(GlobalAveragePooling2D\) +\(1, 16\) +0 +400/);
    const blob = join(dir, 'mean.blob');
    const c = cli('convert', [file, '-o', blob]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/0 MEAN +global_average_pooling2d/);
    const v = cli('verify', [blob, '--board', 'esp32-s3']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/blob uses DENSE, MEAN: all in this runtime/);
  });

  it('an LSTM model: one line per problem saying why, exit 4, nothing written', () => {
    const m = fcModel();
    m.tensors.push({ name: 'model/lstm/lstm_cell', shape: [1, 3], type: 9, scale: [0.01], zeroPoint: [2] });
    m.ops.push({ code: 44, version: 4, inputs: [3], outputs: [4] });
    m.outputs = [4];
    const file = join(dir, 'lstm.tflite');
    writeFileSync(file, writeTflite(m));
    const out = join(dir, 'lstm.blob');
    const c = cli('convert', [file, '-o', out]);
    expect(c.code).toBe(EXIT.UNSUPPORTED);
    const lines = c.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/UNIDIRECTIONAL_SEQUENCE_LSTM v4, operator 1\) option hidden state=.*cannot be matched bit-exactly/);
    expect(existsSync(out)).toBe(false);
  });
});
