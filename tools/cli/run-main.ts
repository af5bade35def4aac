import { Command } from 'commander';
import { UserError, EXIT } from '../errors.ts';

/**
 * A commander program set up the project's way: parse errors throw (runMain turns them into
 * exit code 2, or 0 for --help/--version) and commander's own message is printed as one line.
 */
export function cliCommand(name: string): Command {
  return new Command(name).exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s.split('\n').filter((l) => l.trim())[0] + '\n') });
}

/**
 * Runs a CLI body and turns its outcome into an exit code: UserError -> its one-line message
 * (plus detail lines) on stderr and its exit code; anything else is an internal error
 * (exit 1) reported with a stack, since it is our bug, not the user's.
 */
export async function runMain(body: () => Promise<number | void>): Promise<never> {
  let code: number;
  try {
    const r = await body();
    code = typeof r === 'number' ? r : EXIT.OK;
  } catch (e) {
    if (e instanceof UserError) {
      if (e.output) process.stdout.write(e.output);
      process.stderr.write(`error: ${e.message}\n`);
      for (const d of e.details) process.stderr.write(`  ${d}\n`);
      code = e.exitCode;
    } else if (e && typeof e === 'object' && (e as any).code === 'commander.helpDisplayed') {
      code = EXIT.OK;
    } else if (e && typeof e === 'object' && typeof (e as any).code === 'string' && (e as any).code.startsWith('commander.')) {
      code = (e as any).exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    } else {
      process.stderr.write(`internal error (please report): ${(e as Error)?.stack ?? String(e)}\n`);
      code = EXIT.INTERNAL;
    }
  }
  // Let pending stdout writes drain before exiting.
  await new Promise<void>((res) => process.stdout.write('', () => res()));
  process.exit(code);
}
