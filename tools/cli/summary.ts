/**
 * `npx ./tools/summary MODEL [--config CONFIG.json] [--expand-nested] [--explain] [--json]`: what Keras's model.summary()
 * prints (plus MACs), from any supported model file (graph/summary.ts, which the API calls too).
 */

import { runMain, cliCommand } from './run-main.ts';
import { summarizeModel } from '../graph/summary.ts';
import type { RawModel } from '../readers/types.ts';
import { UserError } from '../errors.ts';

export type ReadModel = (file: string, opts: { config?: string }) => Promise<RawModel> | RawModel;

async function defaultReader(): Promise<ReadModel> {
  const mod: any = await import('../readers/index.ts');
  return mod.readModel as ReadModel;
}

/** Runs the command and returns the text it prints (for tests); throws UserError. */
export async function summaryCommand(argv: string[], reader?: ReadModel): Promise<string> {
  const program = cliCommand('summary')
    .description("Print a Keras model's layers, output shapes, parameter counts and MACs (like model.summary())")
    .argument('<model>', 'model file: .keras, .h5 (full model or weights-only with --config), tfjs model.json')
    .option('--config <file>', 'architecture JSON (model.to_json()) for a weights-only .h5')
    .option('--expand-nested', "show the layers of nested models below their row (Keras's expand_nested=True)")
    .option(
      '--explain',
      'for each input: the Keras option that set its shape (input_shape, batch_input_shape/batch_shape, input_dim) and its batch in the blob',
    )
    .option('--json', 'print JSON instead of the table (inputs carry shapeSource and blobBatch)')
    .option('--quiet', 'print nothing: the exit code tells whether the model converts (0) or not (4)');
  program.parse(argv, { from: 'user' });
  const file = program.args[0];
  const opts = program.opts<{ config?: string; json?: boolean; expandNested?: boolean; explain?: boolean; quiet?: boolean }>();
  const read = reader ?? (await defaultReader());
  const s = summarizeModel(await read(file, { config: opts.config }), opts);
  const text = opts.quiet ? '' : opts.json ? JSON.stringify(s.json, null, 2) + '\n' : s.text;
  if (!s.problems.length) return text;
  // the table (with the problems below it) is the output; the exit code still says it cannot convert
  const n = s.problems.length;
  throw new UserError(`${file}: ${n} unsupported layer/option${n === 1 ? '' : 's'} (marked * in the table)`, s.exitCode, [], text);
}

export async function main(argv: string[]) {
  await runMain(async () => {
    process.stdout.write(await summaryCommand(argv));
  }, argv);
}
