/**
 * The MLPerf Tiny int8 .tflite models (../shared/fixtures/tflite) in the bench: each converted as
 * `convert model.tflite` does (the file's quantization, weights in flash), checked (the runtime
 * reproduces the integer reference's self-test), then executed wasm instructions of one
 * inference counted in both weight modes, with the blob, arena and linear memory sizes.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readModel } from '../tools/readers/index.ts';
import { buildGraph } from '../tools/graph/build.ts';
import { convertGraph, type ConvertResult } from '../tools/pipeline.ts';
import { runBlobReference } from '../tools/blob/reference.ts';
import { CountingRuntime } from '../tools/blob/count.ts';
import { DeviceSim } from '../firmware-host/node/host.ts';
import { ROOT } from './models.ts';

export const TFLITE_DIR = resolve(ROOT, '../shared/fixtures/tflite');
const FILES = ['ad01_int8.tflite', 'kws_ref_model.tflite', 'vww_96_int8.tflite', 'pretrainedResnet_quant.tflite'];

export interface TfliteResult {
  file: string;
  params: number;
  macs: number;
  ops: number;
  blobBytes: number;
  weightsBytes: number;
  arenaBytes: number;
  flash: { executed: number; perMac: number; linearBytes: number; stagingBytes: number };
  ram: { executed: number; perMac: number; linearBytes: number };
  flashOverheadPct: number;
}

async function convert(file: string, weights: 'flash' | 'ram'): Promise<ConvertResult> {
  const g = buildGraph(await readModel(file));
  return convertGraph(g, {
    weights,
    runRaw: (blob, inputs) => runBlobReference(blob, inputs).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice()),
  });
}

async function figures(conv: ConvertResult, wasm: string, streamed: boolean, macs: number) {
  const sim = await DeviceSim.load(wasm, { weights: streamed ? 'flash' : 'ram' });
  if (sim.init(conv.blob) !== 0 || sim.selfTest() !== 0) throw new Error('the runtime refused the blob or failed its self-test');
  const input = conv.selfTest!.inputs.map((b) => new Int8Array(b.buffer, b.byteOffset, b.byteLength));
  const rt = await CountingRuntime.load(wasm);
  const c = rt.count(rt.init(conv.blob, streamed), input);
  return { executed: c.executed, perMac: c.executed / macs, linearBytes: sim.memoryUsed, out: c.outputs[0] };
}

export async function benchTflite(wasm: { flash: string; ram: string }, log: (m: string) => void): Promise<TfliteResult[]> {
  if (!existsSync(TFLITE_DIR)) {
    log(`${TFLITE_DIR} not found: the .tflite models are not benchmarked`);
    return [];
  }
  const out: TfliteResult[] = [];
  for (const f of FILES) {
    const path = join(TFLITE_DIR, f);
    const flashConv = await convert(path, 'flash');
    const ramConv = await convert(path, 'ram');
    const g = flashConv.graph;
    const macs = g.nodes.reduce((a, n) => a + n.macs, 0);
    const fl = await figures(flashConv, wasm.flash, true, macs);
    const rm = await figures(ramConv, wasm.ram, false, macs);
    if (!fl.out.every((v, k) => v === rm.out[k])) throw new Error(`${f}: outputs differ between the weight modes`);
    out.push({
      file: f,
      params: g.nodes.reduce((a, n) => a + n.trainableParams + n.nonTrainableParams, 0),
      macs,
      ops: flashConv.lowered.ops.length,
      blobBytes: flashConv.blob.length,
      weightsBytes: flashConv.constBytes,
      arenaBytes: flashConv.plan.arenaSize,
      flash: { executed: fl.executed, perMac: fl.perMac, linearBytes: fl.linearBytes, stagingBytes: flashConv.staging },
      ram: { executed: rm.executed, perMac: rm.perMac, linearBytes: rm.linearBytes },
      flashOverheadPct: (100 * (fl.executed - rm.executed)) / rm.executed,
    });
    log(`${f}: ${fl.perMac.toFixed(2)} instr/MAC (flash)`);
  }
  return out;
}

const n = (v: number, d = 0) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

export function tfliteTable(rs: TfliteResult[]): string {
  const L = [
    "int8 .tflite models (MLPerf Tiny reference models, the file's own quantization, `convert model.tflite`; weights in flash unless noted):",
    '',
    '| model | params | MACs | runtime ops | blob (weights) | arena | linear memory flash / ram | instr / inference (flash) | instr / MAC flash | instr / MAC ram | streaming overhead |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rs)
    L.push(
      `| ${r.file} | ${n(r.params)} | ${n(r.macs)} | ${r.ops} | ${kib(r.blobBytes)} (${kib(r.weightsBytes)}) | ${kib(r.arenaBytes)} | ${kib(r.flash.linearBytes)} / ${kib(r.ram.linearBytes)} | ${n(r.flash.executed)} | ${n(r.flash.perMac, 2)} | ${n(r.ram.perMac, 2)} | ${n(r.flashOverheadPct, 2)}% |`,
    );
  return L.join('\n') + '\n';
}
