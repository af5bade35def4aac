/**
 * Cost per timestep of the recurrent kernels in build/runtime.wasm: executed and dispatched wasm
 * instructions (bench/count.ts, exact basic-block counting), MACs, and the share of the gate
 * nonlinearities (same layer re-run with every activation set to linear: the difference is the
 * table lookups). Per-step figures are (count(2K steps) - count(K steps)) / K, so the invoke and
 * op-entry overhead cancels.  Run: npx tsx bench/rnn-cost.ts
 */
import { countInference } from '../tools/blob/count.ts';
import { DEFAULT_WASM } from '../firmware-host/node/host.ts';
import { oneOpBlob } from '../test/helpers/rnn-harness.ts';
import { quantizeRnn, rnnFloatLayer } from '../tools/quantize/lower-rnn.ts';
import { ACT, gateCount, type CellKind, type RnnQuant } from '../tools/quantize/reference-rnn.ts';

function layer(cell: CellKind, units: number, inDim: number, resetAfter: boolean): RnnQuant {
  const G = gateCount(cell);
  let s = 1;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
  const w = (n: number) => Float32Array.from({ length: n }, r);
  const L = rnnFloatLayer(
    cell,
    'l',
    { units, activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: resetAfter, return_sequences: true },
    {
      kernel: { shape: [inDim, G * units], data: w(inDim * G * units) },
      recurrent_kernel: { shape: [units, G * units], data: w(units * G * units) },
      bias: { shape: [resetAfter ? 2 * G * units : G * units], data: w((resetAfter ? 2 : 1) * G * units) },
    },
    inDim,
  );
  const ranges = { h: { min: -1, max: 1 }, c: { min: -4, max: 4 } };
  return quantizeRnn(L, ranges, { scale: 1 / 64, zeroPoint: 0 }, { scale: 1 / 128, zeroPoint: 0 }, { keepState: false });
}

async function perStep(q: RnnQuant, K: number): Promise<{ exec: number; disp: number }> {
  const run = async (T: number) => {
    const b = oneOpBlob(q, 1, T, false, true);
    const x = new Int8Array(T * q.inDim).map((_, i) => ((i * 37) % 200) - 100);
    return countInference(DEFAULT_WASM, b.blob, [x]);
  };
  const a = await run(K);
  const b = await run(2 * K);
  return { exec: (b.executed - a.executed) / K, disp: (b.dispatched - a.dispatched) / K };
}

const rows: string[] = [];
rows.push('| op | units | inDim | MACs/step | executed/step | dispatched/step | executed/MAC | nonlinearity share (executed) |');
rows.push('|---|---|---|---|---|---|---|---|');
for (const [cell, ra] of [
  ['SimpleRNN', false],
  ['GRU', true],
  ['GRU', false],
  ['LSTM', false],
] as [CellKind, boolean][]) {
  for (const [units, inDim] of [
    [16, 8],
    [32, 16],
    [64, 32],
  ]) {
    const q = layer(cell, units, inDim, ra);
    const full = await perStep(q, 4);
    const lin = await perStep({ ...q, actKind: ACT.LINEAR, recKind: ACT.LINEAR, actTable: null, recTable: null }, 4);
    const macs = gateCount(cell) * units * (inDim + units);
    const name = cell === 'GRU' ? `GRU reset_after=${ra}` : cell;
    rows.push(
      `| ${name} | ${units} | ${inDim} | ${macs} | ${full.exec.toFixed(0)} | ${full.disp.toFixed(0)} | ${(full.exec / macs).toFixed(2)} | ${(((full.exec - lin.exec) / full.exec) * 100).toFixed(1)}% |`,
    );
  }
}
console.log(rows.join('\n'));
