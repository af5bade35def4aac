/**
 * Regression tests for the fuzzing findings R1-R8 of docs/ROBUSTNESS.md, each from the minimal
 * input the finding names: every one must end in its documented one-line UserError (exit code and
 * message) or, for the runtime contract (R8), in the same BAD_PARAMS from kw_init and parseBlob.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { EXIT, UserError } from '../../tools/errors.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import type { RawModel, RawWeight } from '../../tools/readers/types.ts';
import { convertGraph } from '../../tools/pipeline.ts';
import { MAX_DATASET_ELEMENTS, MAX_H5_HEAP_BYTES, MAX_TOTAL_ELEMENTS } from '../../tools/readers/h5.ts';
import { parseBlob, BlobError } from '../../tools/blob/parse.ts';
import { BlobBuilder, type OpParamsIn } from '../../tools/blob/writer.ts';
import { DTYPE, ERR, STORAGE } from '../../tools/blob/spec.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { tfjsDense, keras3Zip, h5File } from '../helpers/hostile.ts';
import { cleanupCases, fixtureBases, readerCase, runModelCase, writeCase } from '../helpers/fuzz-readers.ts';
import { fixturesDir, fixturesSkipReason, haveFixtures } from '../helpers/fixtures.ts';

const FILE = '/x/model.json';

/** A tfjs-dialect RawModel from a Sequential layer list and weights by layer name. */
function raw(layers: unknown[], weights: Record<string, RawWeight[]> = {}): RawModel {
  return {
    file: FILE,
    format: 'tfjs',
    dialect: 'tfjs',
    kerasVersion: 'tfjs-layers 4.22.0',
    config: { class_name: 'Sequential', config: { name: 's', layers } },
    weights: new Map(Object.entries(weights)),
    notes: [],
  };
}

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw new Error(`expected a UserError, got ${(e as Error)?.stack ?? e}`);
  }
  throw new Error('expected a UserError, got success');
}

async function userErrorAsync(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UserError) return e;
    throw new Error(`expected a UserError, got ${(e as Error)?.stack ?? e}`);
  }
  throw new Error('expected a UserError, got success');
}

const w = (name: string, shape: number[], f: (i: number) => number = (i) => ((i % 5) - 2) / 10): RawWeight => ({
  name,
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)),
});

const conv2d = (extra: Record<string, unknown>) => ({
  class_name: 'Conv2D',
  config: {
    name: 'c1',
    filters: 4,
    kernel_size: [3, 3],
    strides: [1, 1],
    padding: 'valid',
    batch_input_shape: [null, 8, 8, 1],
    dtype: 'float32',
    use_bias: true,
    activation: 'linear',
    ...extra,
  },
});

describe('R1: non-list batch_input_shape', () => {
  afterAll(() => cleanupCases());
  it('a tfjs Dense with batch_input_shape 5 (and 1e308) is a one-line exit-3 error naming layer and option', async () => {
    for (const bad of [5, 1e308, 'abc', { a: 1 }]) {
      const e = userError(() => buildGraph(raw([{ class_name: 'Dense', config: { name: 'd1', units: 4, batch_input_shape: bad, activation: 'linear' } }])));
      expect(e.exitCode).toBe(EXIT.BAD_INPUT);
      expect(e.message).toMatch(/input layer 'd1_input' option batch_input_shape=.*: not a valid shape; expected a list of positive integers or None/);
      expect(e.message).not.toMatch(/\n/);
    }
    // through the real tfjs reader as well
    const dir = writeCase(tfjsDense({ layerOverride: { batch_input_shape: 5 } }));
    try {
      const r = await runModelCase(dir, { model: 'model.json' });
      expect(r.failure, r.failure?.detail).toBeUndefined();
      expect(r.outcome, r.message).toBe('user:3');
      expect(r.message).toMatch(/option batch_input_shape=5: not a valid shape/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('input_shape given as a number on an InputLayer is refused the same way', () => {
    const e = userError(() =>
      buildGraph(
        raw([
          { class_name: 'InputLayer', config: { name: 'in', input_shape: 7 } },
          { class_name: 'Dense', config: { name: 'd1', units: 4 } },
        ]),
      ),
    );
    expect(e.exitCode).toBe(EXIT.BAD_INPUT);
    expect(e.message).toMatch(/input layer 'in' option batch_input_shape=7/);
  });
});

describe('R2: null / non-positive / fractional sizes are lint problems, listed together', () => {
  const lint = (layers: unknown[]) => {
    const e = userError(() => buildGraph(raw(layers)));
    expect(e.exitCode).toBe(EXIT.UNSUPPORTED);
    expect(e.message).not.toMatch(/\n/);
    return e.details.join('\n');
  };
  it('Conv2D kernel_size null, [3, null], strides [0, 1], dilation_rate [1, 2.5], filters null', () => {
    expect(lint([conv2d({ kernel_size: null })])).toMatch(/layer 'c1' \(Conv2D\) option kernel_size=null: not supported; supported: 2 positive integers/);
    expect(lint([conv2d({ kernel_size: [3, null] })])).toMatch(/option kernel_size=\[3,null\]: not supported; supported: 2 positive integers/);
    const d = lint([conv2d({ kernel_size: [3, null], strides: [0, 1], dilation_rate: [1, 2.5], filters: null })]);
    for (const o of ['kernel_size', 'strides', 'dilation_rate', 'filters']) expect(d).toMatch(new RegExp(`option ${o}=`));
  });
  it('pool_size, depth_multiplier, units, RepeatVector n, UpSampling size, Embedding dims, paddings', () => {
    const d = lint([
      { class_name: 'Dense', config: { name: 'd0', units: 2.5, batch_input_shape: [null, 6] } },
      { class_name: 'Reshape', config: { name: 'r', target_shape: [3, 1.5] } },
      { class_name: 'MaxPooling1D', config: { name: 'p', pool_size: [null] } },
      { class_name: 'DepthwiseConv1D', config: { name: 'dw', kernel_size: 1, depth_multiplier: 0 } },
      { class_name: 'UpSampling1D', config: { name: 'u', size: -2 } },
      { class_name: 'ZeroPadding1D', config: { name: 'z', padding: [1, -1] } },
      { class_name: 'Flatten', config: { name: 'f' } },
      { class_name: 'RepeatVector', config: { name: 'rv', n: null } },
      { class_name: 'SimpleRNN', config: { name: 'rnn', units: 0 } },
    ]);
    for (const re of [
      /'d0' \(Dense\) option units=2\.5/,
      /'r' \(Reshape\) option target_shape=\[3,1\.5\]/,
      /'p' \(MaxPooling1D\) option pool_size=\[null\]/,
      /'dw' \(DepthwiseConv1D\) option depth_multiplier=0/,
      /'u' \(UpSampling1D\) option size=\[-2\]/,
      /'z' \(ZeroPadding1D\) option padding=\[1,-1\]/,
      /'rv' \(RepeatVector\) option n=0/,
      /'rnn' \(SimpleRNN\) option units=0/,
    ]) {
      expect(d).toMatch(re);
    }
    const e = lint([{ class_name: 'Embedding', config: { name: 'e', input_dim: null, output_dim: 0, batch_input_shape: [null, 4] } }]);
    expect(e).toMatch(/option input_dim=/);
    expect(e).toMatch(/option output_dim=0/);
  });
  it('Reshape target_shape and Permute dims given as numbers are lint problems, not TypeErrors', () => {
    const d = lint([
      { class_name: 'Dense', config: { name: 'd0', units: 4, batch_input_shape: [null, 6] } },
      { class_name: 'Reshape', config: { name: 'r', target_shape: 4 } },
      { class_name: 'Permute', config: { name: 'p', dims: 1 } },
    ]);
    expect(d).toMatch(/'r' \(Reshape\) option target_shape=4/);
    expect(d).toMatch(/'p' \(Permute\) option dims=1/);
  });
});

describe('R4: dimensions of 0 / NaN / fractions anywhere in a shape', () => {
  it('batch_input_shape [null, 0] with a [0, 4] kernel is refused at the input layer', () => {
    const e = userError(() =>
      buildGraph(
        raw([{ class_name: 'Dense', config: { name: 'd1', units: 4, batch_input_shape: [null, 0] } }], { d1: [w('d1/kernel', [0, 4]), w('d1/bias', [4])] }),
      ),
    );
    expect(e.exitCode).toBe(EXIT.BAD_INPUT);
    expect(e.message).toMatch(/input layer 'd1_input' option batch_input_shape=\[null,0\]: not a valid shape/);
  });
  it('NaN, negative and fractional input dims', () => {
    for (const d of [NaN, -3, 2.5, '4']) {
      const e = userError(() => buildGraph(raw([{ class_name: 'Dense', config: { name: 'd1', units: 4, batch_input_shape: [null, d] } }])));
      expect(e.exitCode).toBe(EXIT.BAD_INPUT);
      expect(e.message).toMatch(/batch_input_shape=.*not a valid shape/);
    }
  });
  it('an inferred dimension that is not positive names the layer (Conv1D kernel longer than its input)', () => {
    const e = userError(() =>
      buildGraph(
        raw([
          { class_name: 'Dense', config: { name: 'd0', units: 4, batch_input_shape: [null, 1, 6] } },
          { class_name: 'Conv1D', config: { name: 'c', filters: 2, kernel_size: 3, padding: 'valid' } },
        ]),
      ),
    );
    expect(e.exitCode).toBe(EXIT.BAD_INPUT);
    expect(e.message).toMatch(/layer 'c' \(Conv1D\)/);
  });
});

describe('R5: duplicate layer names', () => {
  it('a Dense duplicated in a Sequential config is refused naming the name', () => {
    const dense = (units: number) => ({ class_name: 'Dense', config: { name: 'dense_1', units } });
    const e = userError(() =>
      buildGraph(
        raw([{ class_name: 'Dense', config: { name: 'd0', units: 16, batch_input_shape: [null, 8] } }, dense(32), dense(32)], {
          d0: [w('d0/kernel', [8, 16]), w('d0/bias', [16])],
          dense_1: [w('dense_1/kernel', [16, 32]), w('dense_1/bias', [32])],
        }),
      ),
    );
    expect(e.exitCode).toBe(EXIT.BAD_INPUT);
    expect(e.message).toBe(`${FILE}: two layers are named 'dense_1' (in model 's'); layer names must be unique`);
  });
  it('the same name in a nested model and at the top level is fine (Keras scopes names per model)', () => {
    const g = buildGraph(
      raw(
        [
          { class_name: 'Dense', config: { name: 'd', units: 3, batch_input_shape: [null, 2] } },
          {
            class_name: 'Sequential',
            config: { name: 'inner', layers: [{ class_name: 'Dense', config: { name: 'd', units: 2, batch_input_shape: [null, 3] } }] },
          },
        ],
        {
          d: [w('d/kernel', [2, 3]), w('d/bias', [3])],
          inner: [w('inner/d/kernel', [3, 2]), w('inner/d/bias', [2])],
        },
      ),
    );
    expect(g.nodes.map((n) => n.name)).toEqual(['d', 'inner/d']);
  });
});

describe('R3: weights out of the representable range', () => {
  it('a GRU with one weight of 1e30 is a one-line exit-3 error naming the layer', async () => {
    const units = 2;
    const g = buildGraph(
      raw(
        [
          {
            class_name: 'GRU',
            config: { name: 'gru', units, batch_input_shape: [null, 4, 3], activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: false },
          },
        ],
        {
          gru: [
            w('gru/kernel', [3, 3 * units], (i) => (i === 1 ? 1e30 : 0.1 * ((i % 3) - 1))),
            w('gru/recurrent_kernel', [units, 3 * units]),
            w('gru/bias', [3 * units]),
          ],
        },
      ),
    );
    const e = await userErrorAsync(convertGraph(g, { syntheticCount: 8 }));
    expect(e.exitCode).toBe(EXIT.BAD_INPUT);
    expect(e.message).toMatch(
      /^layer 'gru[^']*'.*: weights out of the representable range: .* scale ratio [0-9.e+-]+ needs a multiplier shift outside \[-31, 30\]/,
    );
    expect(e.message).not.toMatch(/\n/);
  });
  it('non-recurrent lowering: a Dense kernel of 1e30 with relu6 (bounded output) is the same exit-3 error', async () => {
    const g = buildGraph(
      raw([{ class_name: 'Dense', config: { name: 'd1', units: 2, batch_input_shape: [null, 3], activation: 'relu6' } }], {
        d1: [w('d1/kernel', [3, 2], (i) => (i === 0 ? 1e30 : 0.1)), w('d1/bias', [2])],
      }),
    );
    const e = await userErrorAsync(convertGraph(g, { syntheticCount: 8 }));
    expect(e.exitCode).toBe(EXIT.BAD_INPUT);
    expect(e.message).toMatch(
      /^layer 'd1' \(Dense\): weights out of the representable range: output scale ratio [0-9.e+]+ needs a multiplier shift outside \[-31, 30\]/,
    );
  });
  it('float32 overflow in calibration is a UserError (exit 3), not a plain Error', async () => {
    const g = buildGraph(
      raw([{ class_name: 'Dense', config: { name: 'd1', units: 2, batch_input_shape: [null, 3], activation: 'linear' } }], {
        d1: [w('d1/kernel', [3, 2], () => 3e38), w('d1/bias', [2], () => 3e38)],
      }),
    );
    const e = await userErrorAsync(convertGraph(g, { calibration: [{ shape: [2, 3], data: Float32Array.from([1, 1, 1, 1, 1, 1]) }] }));
    expect(e.exitCode).toBe(EXIT.BAD_INPUT);
    expect(e.message).toMatch(/calibration produced a non-finite value in tensor '.*' \(weights or calibration inputs overflow float32\)/);
  });
});

describe('R6: element caps are checked before a weight is read', () => {
  afterAll(() => cleanupCases());
  it('caps are 2^24 per weight and 2^26 per model', () => {
    expect(MAX_DATASET_ELEMENTS).toBe(2 ** 24);
    expect(MAX_TOTAL_ELEMENTS).toBe(2 ** 26);
  });
  const kerasDense = {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: 'seq',
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 4], dtype: 'float32', name: 'input_layer' } },
        { module: 'keras.layers', class_name: 'Dense', config: { name: 'dense', units: 4, activation: 'relu', use_bias: true, dtype: 'float32' } },
      ],
    },
  };
  it('a .keras whose weight is a sparse chunked [2^26, 4] dataset is refused from metadata, fast and without memory growth', async () => {
    const wts = await h5File((f) => {
      const g = f.create_group('layers').create_group('dense').create_group('vars');
      const d = g.create_dataset({ name: '0', data: new Float32Array(4), shape: [1, 4], dtype: '<f', maxshape: [null, 4], chunks: [1, 4] });
      d.resize([2 ** 26, 4]);
      g.create_dataset({ name: '1', data: new Float32Array(4), shape: [4], dtype: '<f' });
    });
    const dir = writeCase({ 'm.keras': keras3Zip(kerasDense, wts) });
    try {
      const t0 = Date.now();
      const r = await runModelCase(dir, { model: 'm.keras' });
      expect(r.failure, r.failure?.detail).toBeUndefined();
      expect(r.outcome, r.message).toBe('user:3');
      expect(r.message).toMatch(
        /weight 'vars\/0' has 268435456 elements \(shape \[67108864,4\]\); refusing more than 16777216 \(MAX_DATASET_ELEMENTS\) per weight/,
      );
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(r.rssGrowth ?? 0).toBeLessThan(256 * 2 ** 20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('the running total is checked before reading the weight that would cross it', async () => {
    // five sparse weights of 2^24 elements each: the fifth crosses 2^26 and is refused unread
    const wts = await h5File((f) => {
      const g = f.create_group('layers').create_group('dense').create_group('vars');
      for (let i = 0; i < 5; i++) {
        const d = g.create_dataset({ name: String(i), data: new Float32Array(4), shape: [1, 4], dtype: '<f', maxshape: [null, 4], chunks: [1024, 4] });
        d.resize([2 ** 22, 4]);
      }
    });
    const dir = writeCase({ 'm.keras': keras3Zip(kerasDense, wts) });
    try {
      const r = await runModelCase(dir, { model: 'm.keras' });
      expect(r.failure, r.failure?.detail).toBeUndefined();
      expect(r.outcome, r.message).toBe('user:3');
      expect(r.message).toMatch(
        /weight 'vars\/4' \(16777216 elements\) brings the weights to 83886080 elements; refusing more than 67108864 \(MAX_TOTAL_ELEMENTS\) in total/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30000);
});

describe('R8: multipliers outside {0} U [2^30, 2^31) are refused by kw_init and parseBlob alike', () => {
  let sim: DeviceSim;
  beforeAll(async () => {
    sim = await DeviceSim.load();
  });

  /** A one-op blob built WITHOUT the builder's own parseBlob check (so invalid params get through). */
  function blobOf(op: string, params: (b: BlobBuilder, tin: number, tout: number) => OpParamsIn): Uint8Array {
    const b = new BlobBuilder();
    const tin = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 0, bytes: 4 });
    const tout = b.addTensor({ dtype: DTYPE.INT8, storage: STORAGE.ARENA, offset: 16, bytes: 4 });
    b.addOp(op, params(b, tin, tout));
    b.setIO([{ tensor: tin, dims: [1, 4], scale: 1, zeroPoint: 0, name: 'i' }], [{ tensor: tout, dims: [1, 4], scale: 1, zeroPoint: 0, name: 'o' }]);
    b.setPlan({ arenaSize: 32, stateSize: 0, scratchSize: 0, batch: 1 });
    return b.build({ validate: false });
  }
  const prelu = (negMult: number, negShift: number, zpOut = 5) =>
    blobOf('PRELU', (b, tin, tout) => ({
      in: tin,
      out: tout,
      count: 4,
      channels: 1,
      zpIn: 0,
      zpOut,
      posMult: 1 << 30,
      posShift: 0,
      alpha: b.addConst(Int8Array.of(2)),
      negMult,
      negShift,
    }));
  const conv = (mult: number) =>
    blobOf('CONV2D', (b, tin, tout) => ({
      in: tin,
      out: tout,
      batch: 1,
      inH: 1,
      inW: 4,
      inC: 1,
      outH: 1,
      outW: 4,
      outC: 1,
      kH: 1,
      kW: 1,
      strideH: 1,
      strideW: 1,
      dilH: 1,
      dilW: 1,
      padTop: 0,
      padLeft: 0,
      zpIn: 0,
      weights: b.addConst(Int8Array.of(1)),
      bias: -1,
      mult: b.addConstI32([mult]),
      shift: b.addConst(Int8Array.of(30)),
      zpOut: 5,
      actMin: -128,
      actMax: 127,
      lut: -1,
      groups: 1,
      layout: 0,
    }));
  const dense = (mult: number) =>
    blobOf('DENSE', (b, tin, tout) => ({
      in: tin,
      out: tout,
      rows: 1,
      inDim: 4,
      outDim: 4,
      weights: b.addConst(new Int8Array(16).fill(1)),
      bias: -1,
      mult: b.addConstI32([1 << 30, mult, 1 << 30, 1 << 30]),
      shift: b.addConst(new Int8Array(4)),
      zpOut: 0,
      actMin: -128,
      actMax: 127,
      lut: -1,
      layout: 0,
    }));
  const addn = (m0: number) =>
    blobOf('ADD_N', (_b, tin, tout) => ({
      out: tout,
      count: 4,
      zpOut: 0,
      actMin: -128,
      actMax: 127,
      leftShift: 20,
      outMult: 1 << 30,
      outShift: -20,
      n: [
        { tensor: tin, zp: 0, mult: m0, shift: 0 },
        { tensor: tin, zp: 0, mult: 1 << 30, shift: 0 },
      ],
    }));

  const codes = (blob: Uint8Array) => {
    let parsed: number = ERR.OK;
    try {
      parseBlob(blob);
    } catch (e) {
      if (!(e instanceof BlobError)) throw e;
      parsed = e.code;
    }
    return { runtime: sim.init(blob), parsed };
  };

  it('the fuzzing finds (PRELU negMult -2^31 and CONV2D mult -2^31, shift 30) and other bad values: BAD_PARAMS in both', () => {
    const bad = [
      prelu(-(2 ** 31), 30),
      prelu(12345, 3),
      prelu(-(2 ** 30), 0),
      conv(-(2 ** 31)),
      conv(1),
      conv(2 ** 30 - 1),
      dense(-(2 ** 31)),
      dense(7),
      addn(-(2 ** 31)),
      addn(2 ** 29),
    ];
    for (const blob of bad) expect(codes(blob)).toEqual({ runtime: ERR.BAD_PARAMS, parsed: ERR.BAD_PARAMS });
  });
  it('0, 2^30, 2^31-1 and (ADD_N inputs only) -(2^31-1) are accepted', () => {
    const good = [prelu(0, 0), prelu(2 ** 31 - 1, 30), conv(2 ** 30), conv(0), dense(2 ** 31 - 1), addn(-(2 ** 31 - 1)), addn(-(2 ** 30))];
    for (const blob of good) expect(codes(blob)).toEqual({ runtime: ERR.OK, parsed: ERR.OK });
  });
  it('with a valid extreme multiplier the runtime and the integer reference agree (the zero point is added in int32)', () => {
    // v * alpha = -2, << 30 = -2^31; MBQM(-2^31, 2^31-1) = -2^31+1; + zpOut -128 wraps in int32 (TFLite's int32 add)
    const blob = prelu(2 ** 31 - 1, 30, -128);
    expect(sim.init(blob)).toBe(ERR.OK);
    const x = Int8Array.of(-1, -128, 0, 127);
    const rt = Array.from(sim.run([x])[0]);
    const ref = Array.from(runBlobReference(blob, [x])[0] as Int8Array);
    expect(rt).toEqual(ref);
    expect(rt[0]).toBe(127);
  });
});

describe.skipIf(!haveFixtures)('R7: libhdf5 allocating GiBs for a corrupt attribute', () => {
  afterAll(() => cleanupCases());
  it('replay seed 2 #3594 (simple_rnn.h5, metadata bytes changed): a clean exit-3 error with h5wasm memory capped', async () => {
    expect(MAX_H5_HEAP_BYTES).toBe(512 * 2 ** 20);
    const c = readerCase(fixtureBases(fixturesDir), 2, 3594);
    const dir = writeCase(c.files);
    try {
      const r = await runModelCase(dir, c.base);
      expect(r.failure, r.failure?.detail).toBeUndefined();
      expect(r.outcome, r.message).toBe('user:3');
      expect(r.message).toMatch(/m\.h5: corrupt HDF5 file \(memory allocation failed/);
      // was +2.5 GiB before the cap
      expect(r.rssGrowth ?? 0).toBeLessThan(MAX_H5_HEAP_BYTES + 256 * 2 ** 20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30000);
});
if (!haveFixtures) console.warn(fixturesSkipReason);
