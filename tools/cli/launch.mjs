// Starts a TypeScript CLI module from a plain-JS command file (tools/convert, tools/kerawasm, ...).
// tsx's ESM loader is registered in-process, so no build step is needed.
import { register } from 'tsx/esm/api';

export async function launch(modulePath, args = process.argv.slice(2)) {
  register();
  const mod = await import(modulePath);
  await mod.main(args);
}
