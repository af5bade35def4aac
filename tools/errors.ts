/**
 * Errors that reach the user. Every user-facing failure is one of these: the CLI prints
 * `message` on one line (no stack) and exits with `exitCode`.
 *
 * Exit codes (stable, documented in README):
 *   0  success
 *   1  internal error (a bug: printed with a stack trace and a request to report it)
 *   2  usage error (bad command-line option or missing argument)
 *   3  bad input file (unreadable, corrupt, truncated, not a model, missing weights, bad .npy)
 *   4  unsupported model (layers/options/values outside what the converter supports; linter output)
 *   5  verification failed (verify: integrity, runtime build, shapes, self-test)
 *   6  does not fit (a region above the runtime's limit at convert; RAM or flash over the
 *      board's budget at verify)
 *   7  numeric check failed (verify --model --data: outputs differ from the float model by more
 *      than the thresholds; convert --precision auto: the target SQNR not reached within the budget)
 * When verify fails several checks, the lowest of 5, 6 and 7 wins.
 */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  BAD_INPUT: 3,
  UNSUPPORTED: 4,
  VERIFY_FAILED: 5,
  DOES_NOT_FIT: 6,
  NUMERIC_FAILED: 7,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class UserError extends Error {
  readonly exitCode: ExitCode;
  /** Extra lines (e.g. the full list of lint problems); `message` stays a one-line summary. */
  readonly details: string[];
  /** What the command still prints on stdout before failing (summary: the table of a model it cannot convert). */
  readonly output: string;
  constructor(message: string, exitCode: ExitCode = EXIT.BAD_INPUT, details: string[] = [], output = '') {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
    this.details = details;
    this.output = output;
  }
}

/** A bad or unreadable input file: `file: what is wrong`. */
export function badFile(file: string, what: string): UserError {
  return new UserError(`${file}: ${what}`, EXIT.BAD_INPUT);
}

/** One problem found by the model linter. */
export interface LintProblem {
  layer: string; // layer name
  className: string; // Keras class name
  option?: string; // config key, when the problem is an option
  value?: unknown; // the offending value
  supported: string; // what is supported, in words
  /** the class itself is not supported: `supported` is not repeated per layer, the list follows once */
  unknownClass?: boolean;
}

function formatLint(p: LintProblem): string {
  if (p.unknownClass) return `layer '${p.layer}' (${p.className}): this layer class is not supported`;
  const opt = p.option !== undefined ? ` option ${p.option}=${JSON.stringify(p.value)}` : '';
  return `layer '${p.layer}' (${p.className})${opt}: not supported; supported: ${p.supported}`;
}

/** Every problem on its own line, then the supported classes once when a class is unknown. */
export function lintLines(problems: LintProblem[]): string[] {
  const lines = problems.map(formatLint);
  const unknown = problems.find((p) => p.unknownClass);
  if (unknown) lines.push(`supported layer classes: ${unknown.supported}`);
  return lines;
}

export function unsupported(file: string, problems: LintProblem[]): UserError {
  const n = problems.length;
  return new UserError(
    `${file}: ${n} unsupported layer/option${n === 1 ? '' : 's'} (listed below); nothing was written`,
    EXIT.UNSUPPORTED,
    lintLines(problems),
  );
}
