/**
 * Progress bars for the CLI (cli-progress) from the pipeline's Progress callback: one bar per
 * task (calibration, verification, a precision search), on stderr, only when stderr is a
 * terminal and neither --quiet nor --json was given. Stages never import cli-progress; they call
 * the callback they are handed.
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../pipeline.ts';

export interface ProgressBars {
  /** undefined when no bar is drawn: pass it on as is */
  progress: Progress | undefined;
  /** ends the bar still drawn (call before printing results) */
  stop(): void;
}

export function progressBars(o: { quiet?: boolean; json?: boolean }, stream: NodeJS.WriteStream = process.stderr): ProgressBars {
  if (o.quiet || o.json || !stream.isTTY) return { progress: undefined, stop: () => {} };
  let bar: cliProgress.SingleBar | null = null;
  let task = '';
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  const progress: Progress = (name, done, total) => {
    if (!bar || name !== task) {
      stop();
      task = name;
      bar = new cliProgress.SingleBar(
        { stream, format: `${name.padEnd(12)} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`, hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
    }
    bar.setTotal(total);
    bar.update(done);
    if (done >= total) stop();
  };
  return { progress, stop };
}
