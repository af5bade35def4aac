/**
 * A runtime for one model (convert --runtime): only the ops the model uses are compiled in. It
 * passes the same MVP-only validation as the full runtime, reports only those ops in its op mask,
 * runs the model bit-exactly (self-test), and refuses a blob that needs another op with an error
 * code; verify names the missing op.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModelRuntime } from '../../tools/blob/runtime-build.ts';
import { DeviceSim } from '../../firmware-host/node/host.ts';
import { ERR, IMPORT_READ_BLOB, OP_BY_NAME } from '../../tools/blob/spec.ts';
import { readModel } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import { convertGraph } from '../../tools/pipeline.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { verify } from '../../tools/cli/verify-checks.ts';
import { repoRoot } from '../helpers/fixtures.ts';
import { MVP_ONLY } from '../helpers/mvp.ts';
import { GENERATORS, GENERATORS16, randDenseW16, rng } from '../helpers/opgen.ts';

const runRaw = (blob: Uint8Array, inputs: Uint8Array[]) =>
  runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice());

describe('a runtime with only the ops of one model', () => {
  it('without the int16 paths (a model with no int16 tensor): smaller, runs int8 DENSE, refuses an int16 DENSE blob with BAD_PARAMS', async () => {
    const [full, int8] = [await buildModelRuntime(['DENSE'], false), await buildModelRuntime(['DENSE'], false, false)];
    console.log(`Dense-only runtime.wasm: ${full.length} bytes with int16 paths, ${int8.length} without`);
    expect(int8.length).toBeLessThan(full.length);
    const r = rng(0x1616);
    const sim = await DeviceSim.load(int8, { weights: 'ram' });
    const op8 = GENERATORS.DENSE(r);
    expect(sim.init(op8.blob)).toBe(ERR.OK);
    const op16 = GENERATORS16.DENSE(r);
    expect(sim.init(op16.blob)).toBe(ERR.BAD_PARAMS);
    const simFull = await DeviceSim.load(full, { weights: 'ram' });
    expect(simFull.init(op16.blob)).toBe(ERR.OK);
  });

  it('without the int16-weight DENSE (no layout 3 in the model): smaller, refuses a layout 3 blob with BAD_PARAMS; with it, runs it', async () => {
    const [w16, noW16] = [await buildModelRuntime(['DENSE'], false, true, true), await buildModelRuntime(['DENSE'], false, true, false)];
    console.log(`Dense-only runtime.wasm with int16 paths: ${w16.length} bytes with the int16-weight kernel, ${noW16.length} without`);
    expect(noW16.length).toBeLessThan(w16.length);
    const r = rng(0x1617);
    const op = randDenseW16(r);
    const sim = await DeviceSim.load(noW16, { weights: 'ram' });
    expect(sim.init(GENERATORS16.DENSE(r).blob)).toBe(ERR.OK);
    expect(sim.init(op.blob)).toBe(ERR.BAD_PARAMS);
    const simW16 = await DeviceSim.load(w16, { weights: 'ram' });
    expect(simW16.init(op.blob)).toBe(ERR.OK);
    expect(Array.from(simW16.run(op.inputs)[0])).toEqual(Array.from(runBlobReference(op.blob, op.inputs)[0]));
  }, 120_000);

  it('Dense only: at most 12 KiB, MVP-valid, no imports, op mask DENSE; refuses a CONV2D blob', async () => {
    const wasm = await buildModelRuntime(['DENSE'], false);
    console.log(`Dense-only runtime.wasm: ${wasm.length} bytes`);
    expect(wasm.length).toBeLessThanOrEqual(12 * 1024);
    const dir = mkdtempSync(join(tmpdir(), 'kw-rtbuild-'));
    const file = join(dir, 'dense.wasm');
    writeFileSync(file, wasm);
    execFileSync('wasm-validate', [...MVP_ONLY, file]);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(wasm))).toEqual([]);
    const sim = await DeviceSim.load(wasm, { weights: 'ram' });
    expect(sim.call('kw_op_mask', 0) >>> 0).toBe(1 << OP_BY_NAME.DENSE.code);
    // the bundled example uses CONV2D, pooling, DENSE and SOFTMAX
    const g = await buildGraph(await readModel(resolve(repoRoot, 'examples/model/model.json')), {});
    const { blob } = await convertGraph(g, { runRaw, weights: 'ram' });
    writeFileSync(join(dir, 'example.blob'), blob);
    expect(sim.init(blob)).toBe(ERR.UNSUPPORTED_OP);
    const r = await verify({ blobFile: join(dir, 'example.blob'), runtimeFile: file });
    const rt = r.checks.find((c) => c.name === 'runtime')!;
    expect(rt.status).toBe('FAIL');
    expect(rt.summary).toMatch(/ops used by the blob but not in this runtime build: .*CONV2D/);
  }, 120_000);

  it("the example's streaming runtime: its ops only, MVP-valid, imports kw.read_blob, self-test bit-exact", async () => {
    const g = await buildGraph(await readModel(resolve(repoRoot, 'examples/model/model.json')), {});
    const { blob, lowered } = await convertGraph(g, { runRaw, weights: 'flash' });
    const ops = new Set(lowered.ops.map((o) => o.name));
    const wasm = await buildModelRuntime(ops, true);
    console.log(`example streaming runtime (${[...ops].join(', ')}): ${wasm.length} bytes`);
    const file = join(mkdtempSync(join(tmpdir(), 'kw-rtbuild-')), 'example.wasm');
    writeFileSync(file, wasm);
    execFileSync('wasm-validate', [...MVP_ONLY, file]);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(wasm)).map((i) => `${i.module}.${i.name}`)).toEqual([
      `${IMPORT_READ_BLOB.module}.${IMPORT_READ_BLOB.name}`,
    ]);
    const sim = await DeviceSim.load(wasm, { weights: 'flash' });
    expect(sim.call('kw_op_mask', 0) >>> 0).toBe([...ops].reduce((m, o) => m | (1 << OP_BY_NAME[o].code), 0));
    expect(sim.init(blob)).toBe(ERR.OK);
    expect(sim.selfTest()).toBe(ERR.OK);
  }, 120_000);
});
