/**
 * The hostile-input catalogue for test/readers/fuzz.test.ts: every case names the exit code and
 * the one-line message the converter must give (or 'ok').
 */
import { strToU8, zipSync } from 'fflate';
import { EXIT } from '../../tools/errors.ts';
import { tfjsDense, keras3Zip, patchZipSize, patchH5Dims, h5File, npy, type HostileCase } from './hostile.ts';

const B = EXIT.BAD_INPUT;
const U = EXIT.UNSUPPORTED;
const F = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

const kerasDenseConfig = (units: unknown, extra: Record<string, unknown> = {}) => ({
  module: 'keras',
  class_name: 'Sequential',
  config: {
    name: 'seq',
    layers: [
      { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 3], dtype: 'float32', name: 'input_layer' } },
      { module: 'keras.layers', class_name: 'Dense', config: { name: 'dense', units, activation: 'relu', use_bias: true, dtype: 'float32', ...extra } },
    ],
  },
});

export const HOSTILE: HostileCase[] = [
  // ---- configs with negative / huge / fractional sizes
  {
    name: 'Dense units -3',
    files: () => tfjsDense({ units: -3 }),
    model: 'model.json',
    expect: { exit: B, message: /weight 'd1\/kernel' has an invalid shape \[3,-3\]/ },
  },
  { name: 'Dense units 0', files: () => tfjsDense({ units: 0 }), model: 'model.json', expect: { exit: U, message: /1 unsupported layer\/option/ } },
  {
    name: 'Dense units 1e12',
    files: () => tfjsDense({ units: 1e12 }),
    model: 'model.json',
    expect: { exit: B, message: /weight 'd1\/kernel' has 3000000000000 elements; refusing more than/ },
  },
  { name: 'Dense units 2.5', files: () => tfjsDense({ units: 2.5 }), model: 'model.json', expect: { exit: B, message: /invalid shape \[3,2\.5\]/ } },
  { name: 'Dense units "4" (string)', files: () => tfjsDense({ units: '4' }), model: 'model.json', expect: { exit: B, message: /invalid shape/ } },
  { name: 'input dim -1', files: () => tfjsDense({ inDim: -1, kernelShape: [3, 4] }), model: 'model.json', expect: { exit: B, message: /shape|dim/i } },
  {
    name: 'input dim 2^31',
    files: () => tfjsDense({ inDim: 2 ** 31, kernelShape: [3, 4] }),
    model: 'model.json',
    expect: { exit: B, message: /shape|dim|weight/i },
  },
  {
    name: 'Conv2D filters -1, kernel 0, stride 0, kernel 1e9',
    files: () =>
      tfjsDense({
        topology: {
          class_name: 'Sequential',
          config: {
            name: 's',
            layers: [
              {
                class_name: 'Conv2D',
                config: {
                  name: 'd1',
                  filters: -1,
                  kernel_size: [0, 1e9],
                  strides: [0, 1],
                  padding: 'valid',
                  batch_input_shape: [null, 8, 8, 1],
                  dtype: 'float32',
                  use_bias: true,
                  activation: 'linear',
                },
              },
            ],
          },
        },
      }),
    model: 'model.json',
    expect: { exit: U, message: /unsupported layer\/option/, details: /filters|kernel_size|strides/ },
  },
  {
    name: 'functional graph with a cycle',
    files: () =>
      tfjsDense({
        units: 3,
        topology: {
          class_name: 'Model',
          config: {
            name: 'm',
            layers: [
              { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_input_shape: [null, 3], dtype: 'float32' }, inbound_nodes: [] },
              { class_name: 'Dense', name: 'd1', config: { name: 'd1', units: 3, use_bias: true, activation: 'linear' }, inbound_nodes: [[['b', 0, 0, {}]]] },
              {
                class_name: 'Add',
                name: 'b',
                config: { name: 'b' },
                inbound_nodes: [
                  [
                    ['in', 0, 0, {}],
                    ['d1', 0, 0, {}],
                  ],
                ],
              },
            ],
            input_layers: [['in', 0, 0]],
            output_layers: [['b', 0, 0]],
          },
        },
      }),
    model: 'model.json',
    expect: { exit: B, message: /cycle|cyclic|loop|order/i },
  },
  {
    name: 'JSON nested 100000 deep',
    files: () => ({ 'model.json': strToU8('{"modelTopology":' + '['.repeat(100000) + ']'.repeat(100000) + '}') }),
    model: 'model.json',
    expect: { exit: B, message: /model\.json/ },
  },
  // ---- weights: NaN / Inf / dtype / count / shape / paths
  {
    name: 'NaN weight',
    files: () => tfjsDense({ kernel: [0.1, NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }),
    model: 'model.json',
    expect: { exit: B, message: /NaN\/Inf/ },
  },
  {
    name: 'Inf weight',
    files: () => tfjsDense({ kernel: [0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -Infinity] }),
    model: 'model.json',
    expect: { exit: B, message: /NaN\/Inf/ },
  },
  { name: 'weight dtype string', files: () => tfjsDense({ dtype: 'string' }), model: 'model.json', expect: { exit: B, message: /dtype/ } },
  { name: 'weight dtype complex64', files: () => tfjsDense({ dtype: 'complex64' }), model: 'model.json', expect: { exit: B, message: /dtype/ } },
  { name: 'weights.bin too short', files: () => tfjsDense({ bin: F([1, 2, 3]) }), model: 'model.json', expect: { exit: B, message: /bytes|short|truncat/i } },
  {
    name: 'weights.bin too long',
    files: () => tfjsDense({ bin: F(new Array(100).fill(0.5)) }),
    model: 'model.json',
    expect: { exit: B, message: /bytes|long|size/i },
  },
  {
    name: 'kernel shape disagrees with the config',
    files: () => tfjsDense({ kernelShape: [5, 4], bin: F(new Array(24).fill(0.1)) }),
    model: 'model.json',
    expect: { exit: B, message: /shape|kernel/ },
  },
  {
    name: 'kernel shape [1e9, 1e9]',
    files: () => tfjsDense({ kernelShape: [1e9, 1e9] }),
    model: 'model.json',
    expect: { exit: B, message: /elements|shape|bytes/ },
  },
  {
    name: 'weights path traversal',
    files: () => tfjsDense({ paths: ['../../../etc/passwd'] }),
    model: 'model.json',
    expect: { exit: B, message: /path|outside|\.\./ },
  },
  {
    name: 'weights path absolute',
    files: () => tfjsDense({ paths: ['/etc/passwd'] }),
    model: 'model.json',
    expect: { exit: B, message: /path|outside|absolute/ },
  },
  {
    name: 'weights file missing',
    files: () => ({ 'model.json': tfjsDense()['model.json'] }),
    model: 'model.json',
    expect: { exit: B, message: /weights\.bin/ },
  },
  // ---- .keras zips
  {
    name: 'zip: only a path-traversal config entry',
    files: () => ({ 'm.keras': zipSync({ '../../evil/config.json': strToU8(JSON.stringify(kerasDenseConfig(4))), 'metadata.json': strToU8('{}') }) }),
    model: 'm.keras',
    expect: { exit: B, message: /config\.json/ },
  },
  {
    name: 'zip: absolute and drive-letter entry names',
    files: () => ({ 'm.keras': zipSync({ '/etc/config.json': strToU8('{}'), 'C:/config.json': strToU8('{}'), 'metadata.json': strToU8('{}') }) }),
    model: 'm.keras',
    expect: { exit: B, message: /config\.json/ },
  },
  {
    name: 'zip bomb: config.json declares 4 GB',
    files: () => ({ 'm.keras': patchZipSize(keras3Zip(kerasDenseConfig(4), null), 'config.json', 0xfffffff0) }),
    model: 'm.keras',
    expect: { exit: B, message: /declares \d+ uncompressed bytes|zip bomb|refusing/ },
  },
  {
    name: 'zip bomb: 64 MiB of zeros inflated from a tiny entry (ratio > 1000)',
    files: () => ({ 'm.keras': zipSync({ 'config.json': new Uint8Array(64 << 20), 'metadata.json': strToU8('{}') }, { level: 9 }) }),
    model: 'm.keras',
    // deflate tops out near 1032:1, under the reader's 1100:1 refusal, so this inflates (64 MiB, bounded by MAX_ZIP_TOTAL) and fails as JSON
    expect: { exit: B, message: /invalid config\.json|ratio|zip bomb|refusing/ },
  },
  {
    name: 'zip: declared size smaller than the real data',
    files: () => ({
      'm.keras': patchZipSize(zipSync({ 'config.json': strToU8(JSON.stringify(kerasDenseConfig(4))), 'metadata.json': strToU8('{}') }), 'config.json', 10),
    }),
    model: 'm.keras',
    expect: { exit: B, message: /invalid config\.json|zip|corrupt|inflated/ },
  },
  {
    name: 'zip truncated',
    files: () => ({ 'm.keras': keras3Zip(kerasDenseConfig(4), null).slice(0, 60) }),
    model: 'm.keras',
    expect: { exit: B, message: /zip|corrupt|truncated/ },
  },
  {
    name: '.keras with units -1 and no weights',
    files: () => ({ 'm.keras': keras3Zip(kerasDenseConfig(-1), null) }),
    model: 'm.keras',
    expect: { exit: B, message: /units|weights/ },
  },
  // ---- HDF5
  {
    // a 6 KB file: chunked dataset resized to [2^30, 4] with no chunk written (reads as fill values)
    name: 'HDF5 weight with absurd dimensions [2^30, 4] (sparse chunked dataset)',
    files: async () => {
      const w = await h5File((f) => {
        const g = f.create_group('layers').create_group('dense').create_group('vars');
        const d = g.create_dataset({ name: '0', data: new Float32Array(4), shape: [1, 4], dtype: '<f', maxshape: [null, 4], chunks: [1, 4] });
        d.resize([2 ** 30, 4]);
        g.create_dataset({ name: '1', data: new Float32Array(4), shape: [4], dtype: '<f' });
      });
      return { 'm.keras': keras3Zip(kerasDenseConfig(4), w) };
    },
    model: 'm.keras',
    expect: {
      exit: B,
      message: /weight 'vars\/0' has 4294967296 elements \(shape \[1073741824,4\]\); refusing more than 16777216 \(MAX_DATASET_ELEMENTS\) per weight/,
    },
  },
  {
    name: 'HDF5 dataspace dims patched to disagree with the stored data',
    files: async () => {
      const w = await h5File((f) => {
        const g = f.create_group('layers').create_group('dense').create_group('vars');
        g.create_dataset({ name: '0', data: new Float32Array(12), shape: [3, 4], dtype: '<f' });
        g.create_dataset({ name: '1', data: new Float32Array(4), shape: [4], dtype: '<f' });
      });
      const p = patchH5Dims(w, [3, 4], [1 << 20, 1 << 20]);
      if (!p.hits) throw new Error('fixture construction: dims not found');
      return { 'm.keras': keras3Zip(kerasDenseConfig(4), p.bytes) };
    },
    model: 'm.keras',
    expect: { exit: B, message: /layer 'dense' weight 'vars\/0' is not a dataset/ },
  },
  {
    name: 'HDF5 with a group cycle (hard link to an ancestor)',
    files: async () => {
      const w = await h5File((f) => {
        const g = f.create_group('layers').create_group('dense').create_group('vars');
        g.create_dataset({ name: '0', data: new Float32Array(12), shape: [3, 4], dtype: '<f' });
        g.create_dataset({ name: '1', data: new Float32Array(4), shape: [4], dtype: '<f' });
        f.create_hard_link('/layers', '/layers/dense/loop');
      });
      return { 'm.keras': keras3Zip(kerasDenseConfig(4), w) };
    },
    model: 'm.keras',
    expect: { exit: B, message: /layer 'dense': weight groups nested deeper than 32 \(cyclic links\?\)/ },
  },
  {
    name: 'HDF5 with a soft-link cycle in a layer group',
    files: async () => {
      const w = await h5File((f) => {
        const d = f.create_group('layers').create_group('dense');
        const g = d.create_group('vars');
        g.create_dataset({ name: '0', data: new Float32Array(12), shape: [3, 4], dtype: '<f' });
        g.create_dataset({ name: '1', data: new Float32Array(4), shape: [4], dtype: '<f' });
        d.create_group('sub');
        f.create_soft_link('/layers/dense', '/layers/dense/sub/up');
      });
      return { 'm.keras': keras3Zip(kerasDenseConfig(4), w) };
    },
    model: 'm.keras',
    expect: { exit: B, message: /layer 'dense': weight groups nested deeper than 32 \(cyclic links\?\)/ },
  },
  {
    name: 'HDF5 signature then garbage',
    files: () => ({ 'm.h5': new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(600).fill(0x41)]) }),
    model: 'm.h5',
    expect: { exit: B, message: /m\.h5/ },
  },
  // ---- not a model at all
  { name: 'empty file', files: () => ({ 'm.h5': new Uint8Array(0) }), model: 'm.h5', expect: { exit: B, message: /empty/ } },
  {
    name: 'random binary',
    files: () => ({ 'm.bin': new Uint8Array(1000).map((_, i) => (i * 7919) & 0xff) }),
    model: 'm.bin',
    expect: { exit: B, message: /not a Keras model/ },
  },
];

// ---- calibration .npy (converted with a good tfjs Dense model: input [N, 3])
const good = () => tfjsDense();
const withCal = (cal: Uint8Array) => () => ({ ...good(), 'cal.npy': cal });
export const HOSTILE_CAL: HostileCase[] = [
  {
    name: 'calibration of the right shape',
    files: withCal(npy('<f4', [5, 3], F(new Array(15).fill(0.25)))),
    model: 'model.json',
    calibration: 'cal.npy',
    convert: true,
    expect: 'ok',
  },
  {
    name: 'calibration of the wrong shape',
    files: withCal(npy('<f4', [5, 4], F(new Array(20).fill(0.25)))),
    model: 'model.json',
    calibration: 'cal.npy',
    convert: true,
    expect: { exit: B, message: /calibration array of shape \[5, 4\] does not match model input '\w+' \[None, 3\]/ },
  },
  {
    name: 'calibration with NaN',
    files: withCal(npy('<f4', [2, 3], F([0, 1, NaN, 0, 0, 0]))),
    model: 'model.json',
    calibration: 'cal.npy',
    convert: true,
    expect: { exit: B, message: /calibration array holds NaN in sample 0 at index \[0, 2\] \(the first; values must be finite\)/ },
  },
  {
    name: 'calibration with Inf',
    files: withCal(npy('<f8', [1, 3], new Uint8Array(Float64Array.from([0, Infinity, 0]).buffer))),
    model: 'model.json',
    calibration: 'cal.npy',
    convert: true,
    expect: { exit: B, message: /calibration array holds Inf in sample 0 at index \[0, 1\]/ },
  },
  {
    name: 'calibration complex dtype',
    files: withCal(npy('<c8', [1, 3], new Uint8Array(24))),
    model: 'model.json',
    calibration: 'cal.npy',
    convert: true,
    expect: { exit: B, message: /dtype '<c8' is not supported/ },
  },
  {
    name: 'calibration object dtype',
    files: withCal(npy('|O', [1, 3], new Uint8Array(24))),
    model: 'model.json',
    calibration: 'cal.npy',
    convert: true,
    expect: { exit: B, message: /dtype/ },
  },
  {
    name: 'calibration declares 2^40 elements',
    files: withCal(npy('<f4', [1048576, 1048576], new Uint8Array(16))),
    model: 'model.json',
    calibration: 'cal.npy',
    convert: true,
    expect: { exit: B, message: /refusing more than/ },
  },
  {
    name: 'calibration truncated data',
    files: withCal(npy('<f4', [5, 3], new Uint8Array(8))),
    model: 'model.json',
    calibration: 'cal.npy',
    convert: true,
    expect: { exit: B, message: /truncated/ },
  },
  {
    name: 'calibration with 0 samples',
    files: withCal(npy('<f4', [0, 3], new Uint8Array(0))),
    model: 'model.json',
    calibration: 'cal.npy',
    convert: true,
    expect: { exit: B, message: /shape|sample|empty/ },
  },
  {
    name: 'calibration is not a .npy',
    files: withCal(strToU8('hello')),
    model: 'model.json',
    calibration: 'cal.npy',
    convert: true,
    expect: { exit: B, message: /cal\.npy/ },
  },
];
