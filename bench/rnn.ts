/**
 * Recurrent kernels measured on their own, from the trained bench models, while the converter
 * does not lower GRU/LSTM yet: the layer is quantised with the project's own code
 * (tools/quantize/lower-rnn.ts quantizeRnn, ranges from the float forward on the calibration
 * set), put in a one-op blob (test/helpers/rnn-harness.ts oneOpBlob), checked bit-exact against
 * the integer reference (tools/quantize/reference-rnn.ts), then counted in the real runtime.
 *
 * Breakdown: instructions in the matrix-vector helpers (rnn-common matRowsI8/matRowsI16) vs the
 * rest of the op (gate nonlinearities by table lookup + interpolation, gate products and state
 * update, inlined into gru/lstm evalOp, plus writeOut).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureModel, readNpy } from './models.ts';
import { CountingRuntime, opMacs } from '../tools/blob/count.ts';
import { rnnSpec, runRnn } from '../tools/float/layers/recurrent.ts';
import { quantizeRnn, rnnFloatLayer } from '../tools/quantize/lower-rnn.ts';
import { newState, runRnnRef, type CellKind } from '../tools/quantize/reference-rnn.ts';
import { asymmetricQParams, quantizeValue } from '../tools/quantize/qparams.ts';
import { oneOpBlob } from '../test/helpers/rnn-harness.ts';
import { crc32 } from '../tools/blob/crc32.ts';
import { HEADER } from '../tools/blob/spec.ts';

export interface RnnKernelResult {
  model: string;
  cell: CellKind;
  steps: number;
  inDim: number;
  units: number;
  macs: number;
  executed: number;
  perMac: number;
  dispatchedPerMac: number;
  perStep: number;
  matmulShare: number;
  /** instructions outside the matrix-vector helpers: gate nonlinearities + gate products + state update */
  gatesAndStateShare: number;
  bitExact: boolean;
  byFunction: Record<string, number>;
}

export async function measureRnn(name: 'gru' | 'lstm', wasmPath: string): Promise<RnnKernelResult> {
  const f = await ensureModel(name);
  const j = JSON.parse(readFileSync(f.modelJson, 'utf8'));
  const layers = j.modelTopology.config.layers as any[];
  const L = layers.find((l) => l.class_name === 'GRU' || l.class_name === 'LSTM');
  const cell = L.class_name as CellKind;
  const cfg = L.config;
  // weights from weights.bin in manifest order
  const wd = readFileSync(join(f.dir, 'weights.bin'));
  const buf = new Float32Array(wd.buffer.slice(wd.byteOffset, wd.byteOffset + wd.byteLength));
  const w: Record<string, { shape: number[]; data: Float32Array }> = {};
  let off = 0;
  for (const s of j.weightsManifest[0].weights as { name: string; shape: number[] }[]) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const short = s.name.split('/').pop()!;
    if (s.name.startsWith(cfg.name + '/')) w[short] = { shape: s.shape, data: buf.slice(off, off + n) };
    off += n;
  }
  const cal = readNpy(f.calibration);
  const [N, T, D] = cal.shape;
  const spec = rnnSpec(cell, cfg.name, cfg, w);
  const info: any = {};
  const fr = runRnn(spec, cal, null, null, info);
  let mn = 0,
    mx = 0;
  for (const v of fr.seq.data) {
    mn = Math.min(mn, v);
    mx = Math.max(mx, v);
  }
  let xmn = 0,
    xmx = 0;
  for (const v of cal.data) {
    xmn = Math.min(xmn, v);
    xmx = Math.max(xmx, v);
  }
  const inQ = asymmetricQParams(xmn, xmx);
  const q = quantizeRnn(rnnFloatLayer(cell, cfg.name, cfg, w, D), info, inQ, asymmetricQParams(mn, mx), { keepState: false });
  const one = oneOpBlob(q, 1, T);
  const blob = one.blob.slice();
  new DataView(blob.buffer).setUint32(HEADER.crc32, crc32(blob, 16, blob.length), true);
  const x = Int8Array.from(cal.data.subarray(0, T * D), (v) => quantizeValue(v, inQ));
  void N;
  const rt = await CountingRuntime.load(wasmPath);
  const m = rt.init(blob);
  const c = rt.count(m, [x]);
  const ref = runRnnRef(q, x, 1, T, newState(q, 1));
  const got = c.outputs[0];
  const bitExact = ref.length === got.length && Array.from(ref).every((v, k) => v === got[k]);
  const op = c.ops[0];
  const macs = opMacs(op.op, m.ops[0].params);
  const mat = Object.entries(op.byFunction)
    .filter(([fn]) => /matRows/.test(fn))
    .reduce((a, [, v]) => a + v, 0);
  return {
    model: name,
    cell,
    steps: T,
    inDim: D,
    units: q.units,
    macs,
    executed: op.executed,
    perMac: op.executed / macs,
    dispatchedPerMac: op.dispatched / macs,
    perStep: op.executed / T,
    matmulShare: mat / op.executed,
    gatesAndStateShare: 1 - mat / op.executed,
    bitExact,
    byFunction: op.byFunction,
  };
}

export function rnnTable(rs: RnnKernelResult[]): string {
  const L = [
    '| model | cell | steps x in -> units | MACs | instructions | instr / MAC | dispatched / MAC | instr / timestep | matrix-vector share | gate nonlinearities + state update share | bit-exact |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rs) {
    L.push(
      `| ${r.model} | ${r.cell} | ${r.steps} x ${r.inDim} -> ${r.units} | ${r.macs.toLocaleString('en-US')} | ${r.executed.toLocaleString('en-US')} | ${r.perMac.toFixed(2)} | ${r.dispatchedPerMac.toFixed(2)} | ${Math.round(r.perStep).toLocaleString('en-US')} | ${(r.matmulShare * 100).toFixed(1)}% | ${(r.gatesAndStateShare * 100).toFixed(1)}% | ${r.bitExact ? 'yes' : '**NO**'} |`,
    );
  }
  return L.join('\n') + '\n';
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const rs = [await measureRnn('gru', 'build/runtime.wasm'), await measureRnn('lstm', 'build/runtime.wasm')];
  process.stdout.write(rnnTable(rs));
  for (const r of rs) console.log(r.model, r.byFunction);
}
