import { writeFileSync, renameSync, rmSync, existsSync, mkdirSync, realpathSync, statSync, readFileSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { UserError, EXIT } from '../errors.ts';

/** One file a command writes, with the option that names it (for messages). */
export interface OutputFile {
  option: string;
  file: string;
}

/** The path a file has or would have once written: symlinks in its folder resolved. */
function canonical(file: string): string {
  const abs = resolve(file);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return join(realpathSync(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

/** Two paths name the same file: the same canonical path, or the same inode (hard links). */
function sameFile(a: string, b: string): boolean {
  if (canonical(a) === canonical(b)) return true;
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false;
  }
}

/**
 * The files a model path stands for: the path itself and, for a TensorFlow.js model.json, the
 * weight shards its manifest names (an output there would destroy the model as surely).
 */
export function modelFiles(file: string): string[] {
  const files = [file];
  if (!file.toLowerCase().endsWith('.json')) return files;
  try {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    for (const g of Array.isArray(j?.weightsManifest) ? j.weightsManifest : [])
      for (const p of Array.isArray(g?.paths) ? g.paths : []) if (typeof p === 'string') files.push(join(dirname(file), p));
  } catch {
    /* not readable JSON: the reader says so with its own message */
  }
  return files;
}

/** `file.npz:name` -> `file.npz` (the file a data spec reads). */
export function dataFile(spec: string): string {
  const m = /^(.*):([^:/\\]+)$/.exec(spec);
  return m && existsSync(m[1]) && !existsSync(spec) ? m[1] : spec;
}

/**
 * Refuses, before any work is done, an output that is one of the inputs, two outputs that are
 * one file, and an existing output unless `force` (the command's --force) is set.
 */
export function checkOutputs(outputs: OutputFile[], inputs: string[], force: boolean): void {
  outputs.forEach((o, i) => {
    const inp = inputs.find((f) => sameFile(o.file, f));
    if (inp !== undefined) throw new UserError(`${o.option} ${o.file}: this is an input (${inp}); write the output to another file`, EXIT.USAGE);
    const other = outputs.slice(0, i).find((p) => sameFile(o.file, p.file));
    if (other) throw new UserError(`${o.option} ${o.file}: ${other.option} writes the same file; give each output its own file`, EXIT.USAGE);
    const block = blockedBy(o.file);
    if (block) throw new UserError(`${o.option} ${o.file}: ${block} is a file, not a folder`, EXIT.USAGE);
    if (existsSync(o.file) && statSync(o.file).isDirectory()) throw new UserError(`${o.option} ${o.file}: is a folder; give a file name`, EXIT.USAGE);
    if (!force && existsSync(o.file)) throw new UserError(`${o.option} ${o.file}: already exists; pass --force to overwrite it`, EXIT.USAGE);
  });
}

/** mkdir -p, one level at a time (a recursive mkdirSync can spin forever under /proc). */
function makeFolder(dir: string): void {
  if (existsSync(dir)) return;
  makeFolder(dirname(dir));
  mkdirSync(dir);
}

function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    /* never written (its folder is not one) */
  }
}

/** The nearest folder of `file` that exists, if it is not a folder: the output cannot go there. */
function blockedBy(file: string): string | null {
  let d = dirname(resolve(file));
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return existsSync(d) && !statSync(d).isDirectory() ? d : null;
}

function tempName(file: string, k: number): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.${k}.tmp`);
}

function cannotWrite(file: string, e: unknown): UserError {
  return new UserError(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, EXIT.USAGE);
}

/**
 * Writes all of a command's outputs or none: each goes to a temp file in its own folder (so the
 * rename stays on one file system), and only when every temp file is written are they renamed
 * over the outputs. A failure before the renames leaves no file behind and the old outputs as
 * they were; a rename that fails (rare: the folder changed under us) removes the outputs
 * renamed so far.
 */
export function writeFilesAtomic(files: { file: string; data: Uint8Array | string }[]): void {
  const temps: string[] = [];
  const done: string[] = [];
  let current = files[0]?.file ?? '';
  try {
    files.forEach((f, k) => {
      current = f.file;
      makeFolder(dirname(f.file));
      const tmp = tempName(f.file, k);
      temps.push(tmp);
      writeFileSync(tmp, f.data);
    });
    files.forEach((f, k) => {
      current = f.file;
      renameSync(temps[k], f.file);
      done.push(f.file);
    });
  } catch (e) {
    for (const t of [...temps, ...done]) removeQuietly(t);
    throw cannotWrite(current, e);
  }
}

/** Write to a temp file in the same folder, then rename: never leaves a partial file behind. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  writeFilesAtomic([{ file, data }]);
}
