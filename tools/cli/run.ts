/**
 * `npx ./tools/run BLOB --input IN.npy [--input IN2.npy] [--reset-each] -o OUT.npy`
 *
 * Runs N samples (a multiple of the blob's static batch) through the runtime .wasm in the Node
 * device simulation (run-blob.ts, which the API calls too) and writes the dequantised float32
 * outputs (OUT.npy for one output; OUT.0.npy, OUT.1.npy, ... for several). Stateful blobs keep
 * their state across invocations in sample order; `--reset-each` zeroes it before every one.
 */
import { readFileSync, existsSync } from 'node:fs';
import { runMain, cliCommand } from './run-main.ts';
import { badFile } from '../errors.ts';
import { readArray, npyBytes } from '../readers/npy.ts';
import { parseBlob } from '../blob/parse.ts';
import { checkOutputs, dataFile, writeFilesAtomic } from './fsutil.ts';
import { modelNotBlob } from './inputs.ts';
import { runBlob, type RunResult } from './run-blob.ts';

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/** OUT.npy -> OUT.<i>.npy for several outputs. */
export function outputNames(out: string, n: number): string[] {
  if (n === 1) return [out];
  const base = out.toLowerCase().endsWith('.npy') ? out.slice(0, -4) : out;
  return Array.from({ length: n }, (_, i) => `${base}.${i}.npy`);
}

function runCommand() {
  return cliCommand('run')
    .description('Run a converted blob on .npy inputs in the Node device simulation')
    .argument('<blob>', 'blob written by convert')
    .requiredOption('--input <file>', 'input samples .npy [N, ...] (repeat once per model input, in order)', collect)
    .requiredOption('-o, --output <file>', 'output .npy (OUT.0.npy, OUT.1.npy, ... for several outputs)')
    .option('--reset-each', 'stateful/streaming blobs: zero the recurrent state before every invocation (default: keep it across invocations, in sample order)')
    .option('--weights <mode>', "flash (the runtime reads the blob through kw.read_blob) or ram (the blob copied in); default: the blob's own")
    .option('--force', 'overwrite existing output files')
    .option('--quiet', 'print nothing on stdout (errors still go to stderr)')
    .option('--json', 'print what was run and written as JSON (errors as {error, code})');
}

/** What `run` prints: one line for the run and the files, then the notes; or the --json document. */
function runText(r: RunResult, names: string[], o: { resetEach?: boolean; json?: boolean }): string {
  const files = names.map((file, i) => ({ file, shape: r.outputs[i].shape }));
  if (o.json)
    return JSON.stringify({ samples: r.samples, invocations: r.invocations, stateful: r.stateful, outputs: files, clipped: r.clipped }, null, 2) + '\n';
  const stateText = !r.stateful
    ? ''
    : o.resetEach
      ? ' (stateful blob: state reset before each invocation)'
      : ' (stateful blob: state kept across invocations, in sample order)';
  const wrote = names.map((nm, i) => `${nm} [${r.outputs[i].shape}]`).join(', ');
  return [`ran ${r.samples} samples in ${r.invocations} invocation(s)${stateText}; wrote ${wrote}`, ...r.notes.map((l) => `note: ${l}`)].join('\n') + '\n';
}

export async function main(argv: string[]) {
  await runMain(async () => {
    const program = runCommand();
    program.parse(argv, { from: 'user' });
    const o = program.opts();
    const file: string = program.args[0];
    if (!existsSync(file)) throw badFile(file, 'no such file');
    const blob = new Uint8Array(readFileSync(file));
    const notBlob = modelNotBlob(blob, file);
    if (notBlob) throw notBlob;
    const names = outputNames(o.output, parseBlob(blob, { file }).io.outputs.length);
    checkOutputs(
      names.map((f) => ({ option: '-o', file: f })),
      [file, ...(o.input as string[]).map(dataFile)],
      !!o.force,
    );
    const inputs = (o.input as string[]).map((f) => ({ ...readArray(f), file: f }));
    const r = await runBlob(blob, inputs, file, { resetEach: !!o.resetEach, weights: o.weights });
    writeFilesAtomic(r.outputs.map((t, i) => ({ file: names[i], data: npyBytes(t.data, t.shape) })));
    if (!o.quiet) process.stdout.write(runText(r, names, o));
  }, argv);
}
