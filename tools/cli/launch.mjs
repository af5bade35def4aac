// Starts a CLI module from a plain-JS command file (tools/convert, tools/kerawasm, ...). In a
// checkout (the TypeScript sources present) the .ts module runs through tsx's in-process ESM
// loader, so an edit takes effect without a build; in an installed package (sources left out,
// dist/ built by `prepack`) the compiled JavaScript runs on plain Node.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** tools/cli/convert.ts -> dist/tools/cli/convert.js of the same package. */
function compiled(tsUrl) {
  return new URL(tsUrl.replace(/\/tools\/cli\/([^/]+)\.ts$/, '/dist/tools/cli/$1.js'));
}

export async function launch(modulePath, args = process.argv.slice(2)) {
  let url = modulePath;
  if (existsSync(fileURLToPath(modulePath))) {
    const { register } = await import('tsx/esm/api');
    register();
  } else {
    url = pathToFileURL(fileURLToPath(compiled(modulePath))).href;
  }
  const mod = await import(url);
  await mod.main(args);
}
