// postinstall: link tools/<command> into node_modules/.bin/tools/ so that `npx tools/convert`
// (which npm resolves through node_modules/.bin) works from the project root.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const binDir = join(root, 'node_modules', '.bin', 'tools');
mkdirSync(binDir, { recursive: true });
for (const name of ['convert', 'run', 'verify', 'summary', 'wasm2h']) {
  const link = join(binDir, name);
  rmSync(link, { force: true });
  symlinkSync(relative(binDir, join(root, 'tools', name)), link);
}
