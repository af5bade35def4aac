/**
 * npx ./tools/wasm2h RUNTIME.wasm -o runtime_wasm.h [--name kw_runtime_wasm] [--alignment 16]
 * npx ./tools/wasm2h MODEL.blob  -o model.h        (a blob is detected by its magic)
 *
 * Writes a C header with the bytes as an aligned static const array plus named constants
 * (runtime: ABI/format version, op mask, initial pages; blob: shapes, scales, sizes, pages).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

import { runMain, cliCommand } from './run-main.ts';
import { UserError, EXIT } from '../errors.ts';
import { toCHeader, wasmToCHeader, checkCName, cNameFromFile } from '../blob/c-header.ts';
import { readRuntimeInfo } from '../blob/runtime-info.ts';
import { MAGIC } from '../blob/spec.ts';
import { checkOutputs, writeFileAtomic } from './fsutil.ts';

export async function main(argv: string[]) {
  await runMain(async () => {
    const cmd = cliCommand('wasm2h')
      .argument('<input>', 'runtime .wasm (or a model blob)')
      .requiredOption('-o, --output <file>', 'C header to write')
      .option('--name <ident>', 'C array name (default: from the file name)')
      .option('--alignment <bytes>', 'array alignment', '16')
      .option('--no-constants', 'only the array and its length')
      .option('--force', 'overwrite an existing output file')
      .option('--quiet', 'print nothing on stdout (errors still go to stderr)')
      .option('--json', 'print what was written as JSON (errors as {error, code})');
    cmd.parse(argv, { from: 'user' });
    const o = cmd.opts();
    const input = cmd.args[0];
    checkOutputs([{ option: '-o', file: o.output }], [input], !!o.force);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(input));
    } catch (e) {
      throw new UserError(`${input}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, EXIT.BAD_INPUT);
    }
    const name = checkCName(o.name ?? cNameFromFile(input));
    const alignment = Number(o.alignment);
    const isBlob = bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true) === MAGIC;
    let text: string;
    if (isBlob) {
      text = toCHeader(bytes, { name, alignment, constants: o.constants, source: basename(input) });
    } else {
      const info = await readRuntimeInfo(bytes, input);
      text = wasmToCHeader(bytes, { name, alignment, constants: o.constants, source: basename(input), info: info.unexpectedImports.length ? undefined : info });
    }
    writeFileAtomic(o.output, text);
    if (o.quiet) return;
    const kind = isBlob ? 'blob' : 'runtime';
    process.stdout.write(
      o.json ? JSON.stringify({ output: o.output, kind, bytes: bytes.length, name }) + '\n' : `wrote ${o.output} (${bytes.length} bytes as ${name}[])\n`,
    );
  }, argv);
}
