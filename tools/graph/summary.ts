/**
 * What `summary` shows for a model: the single function (`summarizeModel`) that the command
 * (tools/cli/summary.ts) and the API (tools/api.ts) call. Unsupported layers and options are
 * kept as problems (marked in the table, listed below it), not thrown.
 */
import type { RawModel } from '../readers/types.ts';
import { EXIT, type ExitCode, type LintProblem } from '../errors.ts';
import { buildGraph } from './build.ts';
import { summaryJson, summaryText, type SummaryJson } from './summary-format.ts';

export interface SummaryTextOptions {
  /** list the layers of nested models below their row (Keras's expand_nested=True) */
  expandNested?: boolean;
  /** for each input, the Keras option that set its shape and its batch in the blob */
  explain?: boolean;
}

export interface SummaryOutput {
  /** the table `summary` prints */
  text: string;
  /** what `summary --json` prints */
  json: SummaryJson;
  /** layers or options the converter does not support (empty: convert will take the model) */
  problems: LintProblem[];
  /** what `summary` exits with: 0, or 4 (EXIT.UNSUPPORTED) when there are problems */
  exitCode: ExitCode;
}

/** Keras's model.summary() table (plus MACs), its JSON form and the converter's problems. */
export function summarizeModel(raw: RawModel, opts: SummaryTextOptions = {}): SummaryOutput {
  const g = buildGraph(raw, { keepProblems: true });
  const problems = g.problems ?? [];
  return {
    text: summaryText(g, { expandNested: opts.expandNested, explain: opts.explain }),
    json: summaryJson(g),
    problems,
    exitCode: problems.length ? EXIT.UNSUPPORTED : EXIT.OK,
  };
}
