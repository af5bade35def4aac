/**
 * `npx ./tools/run BLOB --input IN.npy [--input IN2.npy] [--reset-each] -o OUT.npy`
 *
 * Runs N samples (a multiple of the blob's static batch) through the runtime .wasm in the Node
 * device simulation, N/batch invocations, and writes the dequantised float32 outputs
 * (OUT.npy for one output; OUT.0.npy, OUT.1.npy, ... for several).
 *
 * Stateful blobs (FLAG.STATEFUL: stateful=True recurrent layers, or converted with --stream):
 * the state starts at zero and the invocations run in sample order, each continuing from the
 * state the previous one left (as on the device, and as Keras stateful predict over consecutive
 * calls): with batch B, sample i of invocation k+1 continues sample i of invocation k; with
 * --stream --stream-steps K and batch 1, consecutive samples are consecutive K-step chunks of one
 * stream. `--reset-each` zeroes the state before every invocation instead (independent
 * sequences). For blobs without state the option changes nothing.
 */
import { readFileSync, existsSync } from 'node:fs';
import { runMain, cliCommand } from './run-main.ts';
import { UserError, EXIT, badFile } from '../errors.ts';
import { readArray, npyBytes } from '../readers/npy.ts';
import { parseBlob } from '../blob/parse.ts';
import { DTYPE, ERR_TEXT, FLAG } from '../blob/spec.ts';
import { openSim } from './sim.ts';
import { WEIGHT_MODES, type WeightsMode } from '../../firmware-host/node/host.ts';
import { writeFileAtomic } from './fsutil.ts';

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/** OUT.npy -> OUT.<i>.npy for several outputs. */
export function outputNames(out: string, n: number): string[] {
  if (n === 1) return [out];
  const base = out.toLowerCase().endsWith('.npy') ? out.slice(0, -4) : out;
  return Array.from({ length: n }, (_, i) => `${base}.${i}.npy`);
}

export interface RunResult {
  outputs: { data: Float32Array; shape: number[] }[];
  invocations: number;
  /** The blob keeps state between invocations (FLAG.STATEFUL). */
  stateful: boolean;
}

export interface RunOptions {
  /** Stateful blobs: zero the state before every invocation (default: keep it, in sample order). */
  resetEach?: boolean;
  /** Weight mode of the simulation (default: the blob's own: flash when it names a staging size). */
  weights?: WeightsMode;
}

/** Runs float inputs [N, ...dims] through a blob; N must be a multiple of the static batch. */
export async function runBlob(
  blob: Uint8Array,
  inputs: { data: Float32Array | Int32Array; shape: number[]; file?: string }[],
  file = 'blob',
  opts: RunOptions = {},
): Promise<RunResult> {
  const pb = parseBlob(blob, { file });
  const ins = pb.io.inputs;
  const outs = pb.io.outputs;
  if (inputs.length !== ins.length) {
    throw new UserError(`${file}: the model has ${ins.length} input(s) but ${inputs.length} --input file(s) were given`, EXIT.USAGE);
  }
  const batch = pb.header.batch || ins[0].dims[0];
  let n = -1;
  inputs.forEach((a, i) => {
    const dims = ins[i].dims.slice(1);
    let shape = a.shape;
    if (shape.length === dims.length && dims.every((d, k) => d === shape[k])) shape = [1, ...shape];
    const ok = shape.length === dims.length + 1 && dims.every((d, k) => d === shape[k + 1]);
    const name = a.file ?? `input ${i}`;
    if (!ok) throw new UserError(`${name}: array shape [${a.shape}] does not match model input '${ins[i].name}' [N, ${dims.join(', ')}]`, EXIT.BAD_INPUT);
    if (shape[0] % batch !== 0) throw new UserError(`${name}: ${shape[0]} samples is not a multiple of the blob's static batch ${batch}`, EXIT.BAD_INPUT);
    if (n >= 0 && shape[0] !== n) throw new UserError(`${name}: ${shape[0]} samples but the other input has ${n}`, EXIT.BAD_INPUT);
    n = shape[0];
  });
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
    inputs.forEach((a, i) => {
      const per = ins[i].dims.slice(1).reduce((x, y) => x * y, 1) * batch;
      const chunk = a.data.subarray(k * per, (k + 1) * per);
      if (ins[i].dtype === DTYPE.INT32) {
        for (let j = 0; j < chunk.length; j++) {
          if (!Number.isInteger(chunk[j])) throw new UserError(`${a.file ?? `input ${i}`}: token ids must be integers, found ${chunk[j]}`, EXIT.BAD_INPUT);
        }
      }
      sim.setInputFloat(i, Float32Array.from(chunk));
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
  return { outputs: result, invocations, stateful };
}

export async function main(argv: string[]) {
  await runMain(async () => {
    const program = cliCommand('run')
      .description('Run a converted blob on .npy inputs in the Node device simulation')
      .argument('<blob>', 'blob written by convert')
      .requiredOption('--input <file>', 'input samples .npy [N, ...] (repeat once per model input, in order)', collect)
      .requiredOption('-o, --output <file>', 'output .npy (OUT.0.npy, OUT.1.npy, ... for several outputs)')
      .option(
        '--reset-each',
        'stateful/streaming blobs: zero the recurrent state before every invocation (default: keep it across invocations, in sample order)',
      )
      .option('--weights <mode>', "flash (the runtime reads the blob through kw.read_blob) or ram (the blob copied in); default: the blob's own");
    program.parse(argv, { from: 'user' });
    const o = program.opts();
    const file: string = program.args[0];
    if (!existsSync(file)) throw badFile(file, 'no such file');
    const blob = new Uint8Array(readFileSync(file));
    const inputs = (o.input as string[]).map((f) => ({ ...readArray(f), file: f }));
    if (o.weights !== undefined && !WEIGHT_MODES.includes(o.weights))
      throw new UserError(`--weights must be one of ${WEIGHT_MODES.join(', ')}, got '${o.weights}'`, EXIT.USAGE);
    const r = await runBlob(blob, inputs, file, { resetEach: !!o.resetEach, weights: o.weights });
    const names = outputNames(o.output, r.outputs.length);
    r.outputs.forEach((t, i) => writeFileAtomic(names[i], npyBytes(t.data, t.shape)));
    const stateText = !r.stateful
      ? ''
      : o.resetEach
        ? ' (stateful blob: state reset before each invocation)'
        : ' (stateful blob: state kept across invocations, in sample order)';
    process.stdout.write(
      `ran ${r.outputs[0].shape[0]} samples in ${r.invocations} invocation(s)${stateText}; wrote ${names.map((nm, i) => `${nm} [${r.outputs[i].shape}]`).join(', ')}\n`,
    );
    return EXIT.OK;
  });
}
