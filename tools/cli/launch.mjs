// Starts a TypeScript CLI module from a plain-JS bin (what `npx ./tools/<name>` runs).
// tsx's ESM loader is registered in-process, so no build step is needed.
import { register } from 'tsx/esm/api';

export async function launch(modulePath) {
  register();
  const mod = await import(modulePath);
  await mod.main(process.argv.slice(2));
}
