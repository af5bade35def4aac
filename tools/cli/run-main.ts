import { Command } from 'commander';
import { UserError, EXIT } from '../errors.ts';

/**
 * A commander program set up the project's way: parse errors throw (runMain turns them into
 * exit code 2, or 0 for --help/--version) and commander's own message is printed as one line.
 */
export function cliCommand(name: string): Command {
  return new Command(name).exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s.split('\n').filter((l) => l.trim())[0] + '\n') });
}

/** `--json` among the options of `argv` (before a `--`). */
export function wantsJson(argv: readonly string[] = []): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** With --json, a failure is one JSON document on stdout too: the output the command still has, or {error, code, details}. */
function jsonError(e: unknown, code: number): void {
  if (e instanceof UserError && e.output) return;
  const message = e instanceof Error ? e.message.replace(/^error: /, '') : String(e);
  const details = e instanceof UserError ? e.details : [];
  process.stdout.write(
    JSON.stringify({ error: code === EXIT.INTERNAL ? `internal error: ${message}` : message, code, ...(details.length ? { details } : {}) }) + '\n',
  );
}

/**
 * Runs a CLI body and turns its outcome into an exit code: UserError -> its one-line message
 * (plus detail lines) on stderr and its exit code; anything else is an internal error
 * (exit 1) reported with a stack, since it is our bug, not the user's. With `--json` in `argv`
 * the failure is also printed as JSON on stdout.
 */
export async function runMain(body: () => Promise<number | void>, argv?: readonly string[]): Promise<never> {
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
    if (code !== EXIT.OK && wantsJson(argv)) jsonError(e, code);
  }
  // Let pending stdout writes drain before exiting.
  await new Promise<void>((res) => process.stdout.write('', () => res()));
  process.exit(code);
}
