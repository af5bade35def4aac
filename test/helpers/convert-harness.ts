/** In-process convert -> run-in-the-wasm helpers for the converter tests. */
import type { FloatTensor, Graph } from '../../tools/graph/ir.ts';
import { readModel } from '../../tools/readers/index.ts';
import { buildGraph } from '../../tools/graph/build.ts';
import { convertGraph, rawInputs, type ConvertOptions, type ConvertResult } from '../../tools/pipeline.ts';
import { runBlobReference } from '../../tools/blob/reference.ts';
import { runBlob } from '../../tools/cli/run-blob.ts';
import { openSim } from '../../tools/cli/sim.ts';

export async function graphFromFile(file: string, opts: { config?: string; batch?: number } = {}): Promise<Graph> {
  return buildGraph(await readModel(file, { config: opts.config }), { batch: opts.batch });
}

export async function convertWithSelfTest(g: Graph, calibration: FloatTensor[] | null, batch?: number, extra: ConvertOptions = {}): Promise<ConvertResult> {
  return convertGraph(g, {
    ...extra,
    batch,
    calibration,
    runRaw: (blob, inputs) => runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice()),
  });
}

/** Convert, check the embedded self-test in the runtime, run `inputs` through the wasm. */
export async function convertAndRun(g: Graph, calibration: FloatTensor[] | null, inputs: FloatTensor[], batch?: number, extra: ConvertOptions = {}) {
  const r = await convertWithSelfTest(g, calibration, batch, extra);
  const sim = await openSim(r.blob);
  const selfTest = sim.selfTest();
  const run = await runBlob(r.blob, inputs);
  // the runtime and the integer reference agree bit for bit on the first batch
  const raw = rawInputs(r.lowered, inputs, r.batch);
  const ref = runBlobReference(r.blob, raw);
  const typedIn = (b: Uint8Array, i: number) => {
    const dt = r.lowered.tensors[r.lowered.inputs[i]].dtype;
    return dt === 'int32' ? new Int32Array(b.buffer) : dt === 'int16' ? new Int16Array(b.buffer) : new Int8Array(b.buffer);
  };
  const dev = sim.run(raw.map(typedIn));
  const bitExact = ref.every((t, i) => t.length === dev[i].length && t.every((v, k) => v === dev[i][k]));
  return { result: r, outputs: run.outputs, selfTest, bitExact };
}

export function slice(t: { data: Float32Array; shape: number[] }, start: number, n: number): FloatTensor {
  const per = t.data.length / t.shape[0];
  return { shape: [n, ...t.shape.slice(1)], data: t.data.slice(start * per, (start + n) * per) };
}
