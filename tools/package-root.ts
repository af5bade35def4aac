/**
 * The package's root folder (the one holding package.json), found from this module's own
 * location: the same for the TypeScript sources (tools/) and the built JavaScript (dist/tools/),
 * so build/runtime*.wasm and assembly/ are found from a checkout and from an installed package.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return join(start, '..');
  }
}

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A file of the package by its path from the root: packageFile('build', 'runtime.wasm'). */
export function packageFile(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
