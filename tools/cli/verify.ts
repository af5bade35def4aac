/**
 * `npx ./tools/verify BLOB [options]`: checks a blob before flashing.
 *
 *   integrity   magic, format version, CRC, every section and op in bounds (parseBlob)
 *   runtime     the runtime .wasm's ABI/format version and op mask vs the blob's (instantiated)
 *   shapes      --input-shape/--output-shape or --manifest vs the blob's I/O, in Keras terms
 *   memory      flash and RAM vs --board or --ram/--flash, linear memory in 64 KiB pages
 *   numbers     --model + --data: float model (Node) vs the blob in DeviceSim, judged by the metric
 *               that fits each output (top-1 for classifiers, SQNR for regressors; verify-numbers.ts)
 *   self-test   the embedded self-test vector run in DeviceSim
 *
 * Exit codes: 0 all checks passed; 5 integrity, runtime, shapes or self-test failed; 6 memory
 * (does not fit the budget); 7 numbers (outputs differ from the float model); the lowest wins
 * when several fail; 2 usage error; 3 blob, model or data unreadable, not a blob, or not the
 * model the blob came from; 1 internal error. --json prints one JSON object on stdout.
 */
import { runMain, cliCommand } from './run-main.ts';
import { UserError, EXIT } from '../errors.ts';
import { BOARDS } from '../boards.ts';
import { checkOutputs, dataFile, modelFiles, writeFileAtomic } from './fsutil.ts';
import { verifyReport } from './report/build.ts';
import { progressBars } from './progress.ts';
import { parseMetric, DEFAULT_THRESHOLDS, METRICS } from './verify-numbers.ts';
import { checkNumber, checkVerifyOptions, parseBytes, readFileOrThrow, verify, type BoardFit, type VerifyOptions, type VerifyResult } from './verify-checks.ts';

const KiB = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`);

/** "1,50,3" -> [1, 50, 3] */
export function parseShape(text: string, opt: string): number[] {
  const parts = text.split(/[,\s]+/).filter((s) => s.length);
  const dims = parts.map((s) => Number(s));
  if (!dims.length || dims.length > 5 || dims.some((d) => !Number.isInteger(d) || d < 1))
    throw new UserError(`${opt} ${text}: expected 1 to 5 positive integers separated by commas, e.g. 1,50,3`, EXIT.USAGE);
  return dims;
}

function suggestText(fits: BoardFit[], interp: string): string[] {
  if (!fits.length) return [`no board profile fits this model under ${interp} (npx tools/verify --list-boards)`];
  return [
    `boards this model fits under ${interp}, smallest first (latency: estimate):`,
    ...fits.map(
      (f) =>
        `  ${f.board.padEnd(16)} RAM ${KiB(f.ram).padStart(9)} of ${KiB(f.ramUsable).padStart(8)}   flash ${KiB(f.flash).padStart(9)} of ${KiB(f.flashUsable).padStart(8)}   ~${f.latencyMs < 10 ? f.latencyMs.toFixed(2) : f.latencyMs.toFixed(1)} ms`,
    ),
  ];
}

export function formatText(r: VerifyResult): string {
  const lines = [`verify ${r.blob}`];
  for (const c of r.checks) {
    lines.push(`${c.status.padEnd(4)} ${c.name}: ${c.summary}`);
    for (const d of c.details) lines.push(`       ${d}`);
  }
  if (r.fits) lines.push(...suggestText(r.fits, r.checks.find((c) => c.name === 'memory')?.figures.interpreter as string));
  const failed = r.checks.filter((c) => c.status === 'FAIL').map((c) => c.name);
  lines.push(r.ok ? 'result: PASS (exit 0)' : `result: FAIL (${failed.join(', ')}) (exit ${r.exitCode})`);
  return lines.join('\n') + '\n';
}

export function listBoards(): string {
  const rows = BOARDS.map(
    (b) =>
      `${b.name.padEnd(16)} RAM ${KiB(b.ramUsable).padStart(10)} usable${b.maxBlock ? ` (largest block ${KiB(b.maxBlock)})` : ''}, flash ${KiB(b.flashUsable)} for the app  ${b.chip}`,
  );
  return rows.join('\n') + '\n';
}

function collect(v: string, prev: string[] = []) {
  return [...prev, v];
}

function verifyCommand() {
  return cliCommand('verify')
    .description('check a model blob before flashing (exit 0 pass, 5 a check failed, 6 does not fit, 7 numbers off, 2 usage, 3 bad input)')
    .argument('[blob]', 'model blob written by convert')
    .option('--runtime <file>', 'runtime .wasm to check against (default build/runtime.wasm)')
    .option('--input-shape <dims>', 'shape the firmware feeds, e.g. 1,50,3 (repeat per input)', collect)
    .option('--output-shape <dims>', 'shape the firmware reads, e.g. 1,4 (repeat per output)', collect)
    .option('--manifest <file>', 'firmware manifest JSON {"inputs":[{"shape":[..]}],"outputs":[..],"board"?,"interpreter"?,"ram"?,"flash"?}')
    .option('--board <name>', 'board profile (see --list-boards)')
    .option('--ram <bytes>', 'custom RAM budget (e.g. 200K)')
    .option('--flash <bytes>', 'custom flash budget (e.g. 1M)')
    .option('--interpreter <name>', 'wasm3, wamr (fast) or wamr-classic (default wasm3)')
    .option('--model <file>', 'Keras/tfjs model for the numbers check')
    .option('--config <file>', 'model config JSON (for weights-only files)')
    .option('--data <file>', '.npy inputs for the numbers check (repeat per input)', collect)
    .option('--labels <file>', 'class ids or one-hot rows for --data: judge as a classifier and report accuracy')
    .option('--metric <name>', `judge every output by ${METRICS.join(' or ')} (default: top1 for softmax/sigmoid heads or --labels, else sqnr)`)
    .option('--max-samples <n>', 'samples of --data to use', '256')
    .option('--max-abs-err <x>', 'fail when any output differs more than this')
    .option('--min-sqnr <db>', `fail below this SQNR (default ${DEFAULT_THRESHOLDS.minSqnr} under the sqnr metric)`)
    .option('--max-rel-err <r>', `fail above this max |error| / max |float output| (default ${DEFAULT_THRESHOLDS.maxRelErr} under the sqnr metric)`)
    .option('--min-top1 <p>', `fail below this top-1 agreement, 0..1 (default ${DEFAULT_THRESHOLDS.minTop1} under the top1 metric)`)
    .option('--min-cosine <c>', 'fail below this cosine similarity (checked only when given)')
    .option('--layers', 'per-layer report: each layer of the blob against the float model (SQNR, max abs error), the first below the threshold named')
    .option('--list-boards', 'print the board profiles and exit')
    .option('--suggest', 'list the boards this model fits, smallest first, with RAM, flash and estimated latency')
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'print nothing: the exit code tells the result')
    .option('--report <file>', 'write a report: FILE.html a self-contained page (checks, layer table, memory plan, boards, errors), else the JSON result')
    .option('--force', 'overwrite an existing --report file');
}

/** The command line's options as verify's (parsed, in the order the flags are listed). */
function verifyOptions(blobFile: string, o: Record<string, any>): VerifyOptions {
  return {
    blobFile,
    runtimeFile: o.runtime,
    inputShapes: (o.inputShape ?? []).map((s: string) => parseShape(s, '--input-shape')),
    outputShapes: (o.outputShape ?? []).map((s: string) => parseShape(s, '--output-shape')),
    manifestFile: o.manifest,
    board: o.board,
    ram: o.ram !== undefined ? parseBytes(o.ram, '--ram') : undefined,
    flash: o.flash !== undefined ? parseBytes(o.flash, '--flash') : undefined,
    interpreter: o.interpreter,
    model: o.model,
    config: o.config,
    data: o.data,
    labels: o.labels,
    metric: o.metric === undefined ? undefined : parseMetric(o.metric),
    maxSamples: checkNumber(o.maxSamples, 'maxSamples'),
    suggest: !!o.suggest,
    layers: !!o.layers,
    boards: !!o.report,
    thresholds: {
      maxAbsErr: checkNumber(o.maxAbsErr, 'maxAbsErr'),
      minSqnr: checkNumber(o.minSqnr, 'minSqnr'),
      maxRelErr: checkNumber(o.maxRelErr, 'maxRelErr'),
      minTop1: checkNumber(o.minTop1, 'minTop1'),
      minCosine: checkNumber(o.minCosine, 'minCosine'),
    },
  };
}

/** The files verify reads (an output there is refused). */
function inputFiles(blobFile: string, o: Record<string, any>): string[] {
  return [blobFile, ...(o.model ? modelFiles(o.model) : []), ...[o.config, o.labels, o.manifest, o.runtime].filter(Boolean), ...(o.data ?? []).map(dataFile)];
}

export async function main(argv: string[]) {
  await runMain(async () => {
    const cmd = verifyCommand();
    cmd.parse(argv, { from: 'user' });
    const o = cmd.opts();
    if (o.listBoards) {
      if (!o.quiet) process.stdout.write(o.json ? JSON.stringify(BOARDS, null, 2) + '\n' : listBoards());
      return EXIT.OK;
    }
    const blobFile = cmd.args[0];
    if (!blobFile) throw new UserError('verify: missing BLOB argument (usage: npx ./tools/verify BLOB [options]; --help for all)', EXIT.USAGE);
    checkVerifyOptions(o);
    if (o.report) checkOutputs([{ option: '--report', file: o.report }], inputFiles(blobFile, o), !!o.force);
    const opts = verifyOptions(blobFile, o);
    const bars = progressBars(o);
    // the bar ends before any message, an error's included
    const r = await verify({ ...opts, progress: bars.progress }).finally(bars.stop);
    if (o.report) writeFileAtomic(o.report, await verifyReport(o.report, r, { blob: readFileOrThrow(blobFile, 'blob'), model: o.model, config: o.config }));
    if (!o.quiet)
      process.stdout.write(o.json ? JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n' : formatText(r));
    return r.exitCode;
  }, argv);
}
