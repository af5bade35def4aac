/**
 * The TFLite reader on the four MLPerf Tiny models (ops, versions, quantization as their
 * MANIFEST states) and on every kind of bad file: one UserError line each, naming the file.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT, UserError } from '../../../tools/errors.ts';
import { readTflite } from '../../../tools/readers/tflite/read.ts';
import { readModel, type RawModel } from '../../../tools/readers/index.ts';
import { buildGraph } from '../../../tools/graph/build.ts';
import { TensorType } from '../../../tools/readers/tflite/generated/tflite-subset_generated.ts';
import { fcModel, writeTflite, type TModel } from '../../helpers/tflite-writer.ts';
import { haveTflite, tfliteDir } from '../../helpers/fixtures.ts';

function expectBad(bytes: Uint8Array, message: RegExp, exit: number = EXIT.BAD_INPUT) {
  try {
    readTflite('bad.tflite', bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(exit);
    expect((e as UserError).message).toMatch(message);
    expect((e as UserError).message).toMatch(/^bad\.tflite: /);
    expect((e as UserError).message).not.toMatch(/\n/);
    return;
  }
  throw new Error(`no error for ${message}`);
}

function variant(edit: (m: TModel) => void): Uint8Array {
  const m = fcModel();
  edit(m);
  return writeTflite(m);
}

describe.skipIf(!haveTflite)('the MLPerf Tiny .tflite models', () => {
  const manifest = haveTflite ? JSON.parse(readFileSync(resolve(tfliteDir, 'manifest.json'), 'utf8')) : { fixtures: [] };
  for (const f of manifest.fixtures as any[]) {
    it(`${f.file}: ops, versions, inputs and outputs as the manifest states`, () => {
      const m = readTflite(f.file, new Uint8Array(readFileSync(resolve(tfliteDir, f.file))));
      expect(m.schemaVersion).toBe(f.schema_version);
      expect(m.subgraphs).toBe(f.subgraphs);
      const ops: Record<string, number> = {};
      for (const op of m.ops) ops[`${op.opcode} v${op.version}`] = (ops[`${op.opcode} v${op.version}`] ?? 0) + 1;
      expect(ops).toEqual(f.ops);
      for (const [ids, want] of [
        [m.inputs, f.inputs],
        [m.outputs, f.outputs],
      ] as const) {
        expect(ids.length).toBe(want.length);
        ids.forEach((id, k) => {
          const t = m.tensors[id];
          expect(t.name).toBe(want[k].name);
          expect(t.shape).toEqual(want[k].shape);
          expect(t.type).toBe(want[k].type);
          expect(t.quant!.scale).toEqual(want[k].scale.map(Math.fround));
          expect(t.quant!.zeroPoint).toEqual(want[k].zero_point);
        });
      }
      expect(new Set(m.tensors.map((t) => t.type))).toEqual(new Set(f.tensor_types));
      expect(m.metadata.map((d) => d.name)).toContain('min_runtime_version');
    });

    it(`${f.file}: weights per channel for convolutions, per tensor for FULLY_CONNECTED, all symmetric`, () => {
      const m = readTflite(f.file, new Uint8Array(readFileSync(resolve(tfliteDir, f.file))));
      for (const op of m.ops) {
        if (!['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED'].includes(op.opcode)) continue;
        const w = m.tensors[op.inputs[1]];
        const bias = m.tensors[op.inputs[2]];
        expect(w.type).toBe('int8');
        expect(w.data!.length).toBe(w.shape.reduce((a, b) => a * b, 1));
        expect(w.quant!.zeroPoint.every((z) => z === 0)).toBe(true);
        const channels = op.opcode === 'DEPTHWISE_CONV_2D' ? w.shape[3] : w.shape[0];
        expect(w.quant!.scale.length).toBe(op.opcode === 'FULLY_CONNECTED' ? 1 : channels);
        if (op.opcode !== 'FULLY_CONNECTED') expect(w.quant!.axis).toBe(op.opcode === 'DEPTHWISE_CONV_2D' ? 3 : 0);
        expect(bias.type).toBe('int32');
        expect(bias.data!.length).toBe(channels * 4);
      }
    });
  }

  it('a .tflite file is found by its content, whatever its extension', async () => {
    const raw = await readModel(resolve(tfliteDir, 'ad01_int8.tflite'));
    expect(raw.format).toBe('tflite');
    expect(raw.tflite!.ops.length).toBe(10);
  });
});

describe('a written one-op model', () => {
  it('reads back tensors, quantization, the operator and its options', () => {
    const m = readTflite('fc.tflite', writeTflite(fcModel()));
    expect(m.tensors.map((t) => [t.name, t.type, t.shape])).toEqual([
      ['x', 'int8', [1, 4]],
      ['dense/kernel', 'int8', [3, 4]],
      ['dense/bias', 'int32', [3]],
      ['model/dense/MatMul;model/dense/Relu', 'int8', [1, 3]],
    ]);
    expect(m.tensors[0].quant).toEqual({ scale: [Math.fround(0.05)], zeroPoint: [3], axis: 0 });
    expect(m.ops[0]).toMatchObject({ opcode: 'FULLY_CONNECTED', version: 4, inputs: [0, 1, 2], outputs: [3] });
    expect(m.ops[0].options!.fused_activation_function).toBe('RELU');
    expect(Array.from(new Int32Array(m.tensors[2].data!.slice().buffer))).toEqual([100, -200, 300]);
  });
});

describe('bad .tflite files: one line each', () => {
  const good = writeTflite(fcModel());
  it('truncated', () => {
    expectBad(good.subarray(0, 6), /truncated TFLite file/);
    for (const n of [40, 200, good.length - 60]) expectBad(good.subarray(0, n), /outside the file|past the end|truncated|corrupt/);
  });
  it('a wrong file identifier', () => {
    const b = good.slice();
    b.set([0x54, 0x46, 0x4c, 0x32], 4);
    expectBad(b, /file identifier 'TFL2', expected 'TFL3'/);
  });
  it('a corrupted root offset', () => {
    const b = good.slice();
    new DataView(b.buffer).setUint32(0, 0x7fffff00, true);
    expectBad(b, /root table outside the file/);
  });
  it('a tensor whose buffer index is outside the buffers', () => {
    expectBad(
      variant((m) => (m.tensors[1].buffer = 9)),
      /tensor 1 'dense\/kernel': buffer index 9 is outside the model's 3 buffers/,
    );
  });
  it('a buffer that does not hold its tensor', () => {
    expectBad(
      variant((m) => (m.buffers[1] = new Uint8Array(5))),
      /its buffer holds 5 bytes, its shape \[3,4\] of int8 needs 12/,
    );
  });
  it('an operator reading a tensor outside the subgraph', () => {
    expectBad(
      variant((m) => (m.ops[0].inputs[0] = 17)),
      /operator 0 \(FULLY_CONNECTED\): tensor index 17 is outside the subgraph's 4 tensors/,
    );
  });
  for (const s of [0, -0.5, NaN]) {
    it(`a scale of ${s}`, () => {
      expectBad(
        variant((m) => (m.tensors[0].scale = [s])),
        new RegExp(`tensor 0 'x': quantization scale ${s} \\(index 0\\); a scale must be finite and > 0`),
      );
    });
  }
  it('a zero point outside int8', () => {
    expectBad(
      variant((m) => (m.tensors[3].zeroPoint = [200])),
      /zero point 200 is outside int8's range \[-128, 127\]/,
    );
  });
  it('per-channel scales that do not match their dimension', () => {
    expectBad(
      variant((m) => Object.assign(m.tensors[1], { scale: [0.1, 0.2], zeroPoint: [0, 0], axis: 0 })),
      /2 scales along dimension 0 of size 3/,
    );
  });
  it('more than one subgraph, saying how many', () => {
    expectBad(
      variant((m) => (m.subgraphs = 3)),
      /the model has 3 subgraphs; only single-subgraph models are supported/,
    );
  });
});

describe('what the converter cannot run: every problem listed at once', () => {
  const lint = async (m: TModel) => {
    const raw: RawModel = { file: 'm.tflite', format: 'tflite', dialect: 'tflite', kerasVersion: null, config: null, weights: new Map(), notes: [] };
    try {
      buildGraph({ ...raw, tflite: readTflite('m.tflite', writeTflite(m)) });
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).exitCode).toBe(EXIT.UNSUPPORTED);
      return (e as UserError).details.join('\n');
    }
    throw new Error('no lint problem');
  };
  it('an op version, an unknown op, float and int16 tensors', async () => {
    const m = fcModel();
    m.ops[0].version = 9;
    m.tensors.push({ name: 'f', shape: [1, 3], type: TensorType.FLOAT32 }, { name: 'h', shape: [1, 3], type: TensorType.INT16, scale: [0.1] });
    m.ops.push({ code: 47, version: 1, inputs: [3], outputs: [4] }, { code: 19, version: 1, inputs: [3], outputs: [5] });
    const text = await lint(m);
    expect(text).toMatch(/\(FULLY_CONNECTED v9, operator 0\) option version=9: not supported; supported: FULLY_CONNECTED version 1, 2, 3, 4, 5/);
    expect(text).toMatch(/\(EXP v1, operator 1\): this .* not supported/);
    expect(text).toMatch(/\(RELU v1, operator 2\): this .* not supported/);
    expect(text).toMatch(/supported layer classes: TFLite operators FULLY_CONNECTED, CONV_2D/);
  });
  it('a float model', async () => {
    const m = fcModel();
    m.tensors[0] = { name: 'x', shape: [1, 4], type: TensorType.FLOAT32 };
    const text = await lint(m);
    expect(text).toMatch(
      /option tensor 'x'="float32": not supported; supported: int8 activations \(a full-integer model; float and hybrid models are not supported\)/,
    );
  });
  it('an int16 activation (16x8)', async () => {
    const m = fcModel();
    m.tensors[3] = { ...m.tensors[3], type: TensorType.INT16, zeroPoint: [0] };
    const text = await lint(m);
    expect(text).toMatch(/="int16": not supported; supported: int8 activations/);
  });
});
