// postinstall in a checkout (not in an installed package, which ships dist/ and build/): build
// the runtime .wasm files and the JavaScript API when they are missing, so that after
// `npm install` the commands and `import('kerawasm')` work on plain Node. `npm run build:wasm`
// and `npm run build` rebuild them after the sources change.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const checkout = existsSync(join(root, 'tools', 'api.ts')) && existsSync(join(root, 'node_modules', '.bin', 'asc'));
const steps = [
  { script: 'build:wasm', output: join(root, 'build', 'runtime-flash.wasm') },
  { script: 'build', output: join(root, 'dist', 'tools', 'api.js') },
];
for (const s of checkout ? steps : []) {
  if (existsSync(s.output)) continue;
  const r = spawnSync('npm', ['run', '--silent', s.script], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`kerawasm postinstall: npm run ${s.script} failed (exit ${r.status}); run it by hand\n`);
    process.exit(1);
  }
}
