/**
 * Float samples through a blob in the Node device simulation: the single function (`runBlob`)
 * that the `run` command (tools/cli/run.ts) and the API (tools/api.ts) call.
 *
 * N samples (a multiple of the blob's static batch) run as N/batch invocations; the outputs are
 * dequantised to float32. Stateful blobs (FLAG.STATEFUL: stateful=True recurrent layers, or
 * converted with --stream): the state starts at zero and the invocations run in sample order,
 * each continuing from the state the previous one left (as on the device, and as Keras stateful
 * predict over consecutive calls): with batch B, sample i of invocation k+1 continues sample i of
 * invocation k; with --stream --stream-steps K and batch 1, consecutive samples are consecutive
 * K-step chunks of one stream. `resetEach` zeroes the state before every invocation instead
 * (independent sequences). For blobs without state the option changes nothing.
 */
import { UserError, EXIT } from '../errors.ts';
import { parseBlob, type ParsedBlob } from '../blob/parse.ts';
import { quantize } from '../fixedpoint.ts';
import { DTYPE, ERR_TEXT, FLAG } from '../blob/spec.ts';
import { openSim } from './sim.ts';
import { WEIGHT_MODES, type WeightsMode } from '../../firmware-host/node/host.ts';
import { checkSamples, modelNotBlob, sameSampleCount, type Samples } from './inputs.ts';

export interface RunResult {
  outputs: { data: Float32Array; shape: number[] }[];
  invocations: number;
  /** The blob keeps state between invocations (FLAG.STATEFUL). */
  stateful: boolean;
  /** Samples run (N of the inputs' [N, ...dims]). */
  samples: number;
  /** Per input: values outside its quantised range, clipped to the nearest end of it. */
  clipped: { input: string; count: number; values: number; lo: number; hi: number }[];
  /** What `run` prints as `note:` lines: one per input with clipped values (clippedText). */
  notes: string[];
}

export interface RunOptions {
  /** Stateful blobs: zero the state before every invocation (default: keep it, in sample order). */
  resetEach?: boolean;
  /** Weight mode of the simulation (default: the blob's own: flash when it names a staging size). */
  weights?: WeightsMode;
}

/** One input's samples [N, ...dims]; `file` names it in messages. */
export type InputArray = { data: Float32Array | Int32Array; shape: number[]; dtype?: string; file?: string };

/** Inputs against the blob's inputs: Keras's sample count, finite values, a multiple of the batch. */
function checkInputs(pb: ParsedBlob, inputs: InputArray[], file: string, batch: number): Samples[] {
  const ins = pb.io.inputs;
  if (inputs.length !== ins.length) {
    throw new UserError(`${file}: the model has ${ins.length} input(s) but ${inputs.length} --input file(s) were given`, EXIT.USAGE);
  }
  const names = inputs.map((a, i) => a.file ?? `input ${i}`);
  const samples = inputs.map((a, i) =>
    checkSamples(names[i], { dtype: 'f4', ...a }, { name: ins[i].name, dims: ins[i].dims.slice(1), int: ins[i].dtype === DTYPE.INT32 }, 'input'),
  );
  sameSampleCount(names, samples, '--input');
  const n = samples[0].shape[0];
  if (n % batch !== 0) throw new UserError(`${names[0]}: ${n} samples is not a multiple of the blob's static batch ${batch}`, EXIT.BAD_INPUT);
  return samples;
}

/** Values of each input outside what its int8/int16 quantisation can represent. */
function countClipped(pb: ParsedBlob, samples: Samples[]): RunResult['clipped'] {
  return pb.io.inputs.map((t, i) => {
    const [lo, hi] = t.dtype === DTYPE.INT8 ? [-128, 127] : t.dtype === DTYPE.INT16 ? [-32768, 32767] : [-Infinity, Infinity];
    let count = 0;
    for (const x of samples[i].data) {
      const q = quantize(x, t.scale, t.zeroPoint, -Infinity, Infinity);
      if (q < lo || q > hi) count++;
    }
    return { input: t.name, count, values: samples[i].data.length, lo: (lo - t.zeroPoint) * t.scale, hi: (hi - t.zeroPoint) * t.scale };
  });
}

/** Runs float inputs [N, ...dims] through a blob; N must be a multiple of the static batch. */
export async function runBlob(blob: Uint8Array, inputs: InputArray[], file = 'blob', opts: RunOptions = {}): Promise<RunResult> {
  if (opts.weights !== undefined && !WEIGHT_MODES.includes(opts.weights))
    throw new UserError(`--weights must be one of ${WEIGHT_MODES.join(', ')}, got '${opts.weights}'`, EXIT.USAGE);
  const notBlob = modelNotBlob(blob, file);
  if (notBlob) throw notBlob;
  const pb = parseBlob(blob, { file });
  const ins = pb.io.inputs;
  const outs = pb.io.outputs;
  const batch = pb.header.batch || ins[0].dims[0];
  const samples = checkInputs(pb, inputs, file, batch);
  const n = samples[0].shape[0];
  const sim = await openSim(blob, file, opts.weights);
  const invocations = n / batch;
  const outPer = outs.map((o) => o.dims.slice(1).reduce((x, y) => x * y, 1));
  const result = outs.map((o, i) => ({ data: new Float32Array(n * outPer[i]), shape: [n, ...o.dims.slice(1)] }));
  const stateful = (pb.header.flags & FLAG.STATEFUL) !== 0;
  for (let k = 0; k < invocations; k++) {
    if (stateful && opts.resetEach) {
      const rc = sim.resetState();
      if (rc !== 0) throw new UserError(`${file}: kw_reset_state failed: ${ERR_TEXT[rc] ?? rc}`, EXIT.BAD_INPUT);
    }
    samples.forEach((a, i) => {
      const per = ins[i].dims.slice(1).reduce((x, y) => x * y, 1) * batch;
      sim.setInputFloat(i, a.data.slice(k * per, (k + 1) * per));
    });
    const rc = sim.invoke();
    if (rc !== 0) {
      throw new UserError(`${file}: invoke failed on samples ${k * batch}..${(k + 1) * batch - 1}: ${ERR_TEXT[rc] ?? rc} (op ${sim.errorOp})`, EXIT.BAD_INPUT);
    }
    outs.forEach((_, i) => {
      const y: Float32Array = sim.getOutputFloat(i);
      result[i].data.set(y.subarray(0, outPer[i] * batch), k * outPer[i] * batch);
    });
  }
  const clipped = countClipped(pb, samples);
  return { outputs: result, invocations, stateful, samples: n, clipped, notes: clippedText(clipped) };
}

/** "12 of 96 values of input 'x' were outside its quantised range [-1.02, 0.99] and were clipped". */
export function clippedText(c: RunResult['clipped']): string[] {
  const g = (x: number) => Number(x.toPrecision(4));
  return c
    .filter((x) => x.count > 0)
    .map(
      (x) =>
        `${x.count} of ${x.values} values of input '${x.input}' were outside its quantised range [${g(x.lo)}, ${g(x.hi)}] and were clipped (the range comes from calibration: calibrate with data that covers them, or convert with --calibration-method minmax to keep every calibration value inside it)`,
    );
}
