/**
 * Checks on the files users hand to the commands: sample arrays (calibration, run inputs,
 * verify data) against a model input, and a model file given where a blob is expected. Each
 * problem is one line naming the file and what is allowed.
 */
import { UserError, EXIT, badFile } from '../errors.ts';
import type { NumArray } from '../readers/npy.ts';

/** One model input as the samples must match it: dims after the batch (null = any length). */
export interface InputSpec {
  name: string;
  dims: readonly (number | null)[];
  /** token ids (an Embedding input): values must be integers */
  int?: boolean;
}

export interface Samples {
  /** [N, ...dims]: N samples, counted as Keras's model.predict counts them (axis 0) */
  shape: number[];
  data: Float32Array;
}

/** Source dtypes taken as model input data: float32, float64 and the integer types. */
const DTYPE_NAMES: Record<string, string> = {
  f4: 'float32',
  f8: 'float64',
  f2: 'float16',
  b1: 'bool',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
};
/** float32, float64 or an integer type, by numpy code ('f4') or by name ('int32'). */
const accepted = (name: string) => name === 'float32' || name === 'float64' || /^u?int\d+$/.test(name);

const dimsText = (d: readonly (number | null)[]) => `[${d.map((x) => (x === null ? 'None' : x)).join(', ')}]`;

/** Flat index -> [i, j, ...] in a C-order array of `shape`. */
function unflatten(flat: number, shape: number[]): number[] {
  const idx: number[] = [];
  let r = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    idx.unshift(r % shape[k]);
    r = Math.floor(r / shape[k]);
  }
  return idx;
}

function checkShape(file: string, shape: number[], spec: InputSpec, role: string): void {
  const want = dimsText([null, ...spec.dims]);
  const fits = (s: number[]) => s.length === spec.dims.length && spec.dims.every((d, k) => d === null || d === s[k]);
  if (shape.length === spec.dims.length && fits(shape))
    throw badFile(
      file,
      `${role} array of shape ${dimsText(shape)} has no sample axis: Keras's model.predict reads axis 0 as the samples, and input '${spec.name}' takes ${want}; save one sample as ${dimsText([1, ...shape])} (x[None])`,
    );
  if (shape.length !== spec.dims.length + 1 || !fits(shape.slice(1)))
    throw badFile(file, `${role} array of shape ${dimsText(shape)} does not match model input '${spec.name}' ${want} (N samples first)`);
  if (shape[0] < 1) throw badFile(file, `${role} array of shape ${dimsText(shape)} holds no samples`);
}

/**
 * A sample array for one model input: an accepted dtype, [N, ...dims] with N counted as Keras
 * counts samples (no batch axis is ever added), finite values, integers for token ids.
 */
export function checkSamples(file: string, a: NumArray, spec: InputSpec, role: string): Samples {
  const dtype = DTYPE_NAMES[a.dtype] ?? a.dtype;
  if (!accepted(dtype))
    throw badFile(file, `${role} array has dtype ${dtype}; accepted: float32, float64 or an integer type (save it with x.astype('float32'))`);
  checkShape(file, a.shape, spec, role);
  const d = a.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      throw badFile(
        file,
        `${role} array holds ${Number.isNaN(d[i]) ? 'NaN' : d[i] > 0 ? 'Inf' : '-Inf'} in sample ${unflatten(i, a.shape)[0]} at index ${dimsText(unflatten(i, a.shape))} (the first; values must be finite)`,
      );
    }
    if (spec.int && !Number.isInteger(d[i]))
      throw badFile(file, `${role} array holds ${d[i]} at index ${dimsText(unflatten(i, a.shape))}: input '${spec.name}' takes integer token ids`);
  }
  return { shape: [...a.shape], data: d instanceof Float32Array ? d : Float32Array.from(d) };
}

/** Sample counts of several inputs must agree (one sample is one row of each). */
export function sameSampleCount(files: string[], samples: { shape: number[] }[], role: string): void {
  const n = samples.map((s) => s.shape[0]);
  if (n.some((x) => x !== n[0]))
    throw new UserError(
      `${role}: the files hold different sample counts (${files.map((f, i) => `${f}: ${n[i]}`).join(', ')}); one sample is one row of each`,
      EXIT.BAD_INPUT,
    );
}

/**
 * What a file that is not a blob is, when it is a model someone meant to convert: the one-line
 * error for it, or null. Decided by content, as the model readers decide.
 */
export function modelNotBlob(bytes: Uint8Array, file: string): UserError | null {
  const ascii = (a: number, b: number) => String.fromCharCode(...bytes.subarray(a, b));
  let kind: string | null = null;
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) kind = 'a Keras .keras file';
  else if (ascii(0, 8) === '\x89HDF\r\n\x1a\n') kind = 'a Keras .h5 file';
  else if (ascii(4, 8) === 'TFL3') kind = 'a TensorFlow Lite .tflite file';
  else {
    const head = new TextDecoder().decode(bytes.subarray(0, 4096)).trimStart();
    if (head.startsWith('{') && /"(modelTopology|weightsManifest|class_name)"/.test(head)) kind = 'a TensorFlow.js model.json (or Keras JSON) file';
  }
  if (!kind) return null;
  const how = kind.includes('.tflite')
    ? 'kerawasm reads Keras models: convert the Keras model it came from with npx tools/convert'
    : `convert it first: npx tools/convert ${file} -o model.blob`;
  return badFile(file, `this is ${kind}, not a blob; ${how}`);
}
