/**
 * The recurrent kernels compute the input part of every step first (inputRows: rows outer with
 * the D <= 4 slot path, or matRows per step), then the recurrence with per-row requantisation
 * records (rowConsts/recQ). Bit-exact against the integer reference over every path: D = 1..6,
 * row counts with and without a multiple of 4, left shifts (shift > 0), zero multipliers,
 * negative shifts down to -31, batch 2, masks, GRU reset_after both ways.
 */
import { describe, expect, it } from 'vitest';
import {
  newState,
  runRnnRef,
  RNN_FLAG,
  gateCount,
  ACT,
  buildActTable,
  type CellKind,
  type RnnQuant,
  type TableFn,
} from '../../tools/quantize/reference-rnn.ts';
import { oneOpBlob, RnnHarness } from '../helpers/rnn-harness.ts';
import { rng } from '../helpers/tfjs-train.ts';

function layer(cell: CellKind, units: number, inDim: number, seed: number, resetAfter: boolean, extremeWh = false): RnnQuant {
  const r = rng(seed);
  const G = gateCount(cell);
  const rows = G * units;
  const i8 = (n: number) => Int8Array.from({ length: n }, () => Math.floor(r() * 255) - 127);
  // recurrent weights at the ends of the int8 range and around 0
  const whExtreme = (n: number) => Int8Array.from({ length: n }, () => [-128, 127, -1, 0][Math.floor(r() * 4)]);
  const mult = () => (r() < 0.1 ? 0 : 0x40000000 + Math.floor(r() * 0x3fffffff));
  // shifts: mostly right shifts (incl. -31), some 0, some left shifts up to 4
  const shift = (lo: number) => {
    const u = r();
    return u < 0.15 ? 1 + Math.floor(r() * 4) : u < 0.25 ? 0 : u < 0.3 ? -31 : -lo - Math.floor(r() * 14);
  };
  const arr = (n: number, f: () => number) => Int32Array.from({ length: n }, f);
  const sig = buildActTable('sigmoid');
  const tanh = buildActTable('tanh');
  return {
    cell,
    inDim,
    units,
    flags: RNN_FLAG.RETURN_SEQUENCES | (resetAfter ? RNN_FLAG.RESET_AFTER : 0),
    wx: i8(rows * inDim),
    bx: arr(rows, () => Math.floor((r() - 0.5) * 4e5)),
    mx: arr(rows, mult),
    sx: arr(rows, () => shift(8)),
    wh: extremeWh ? whExtreme(rows * units) : i8(rows * units),
    bh: arr(rows, () => Math.floor((r() - 0.5) * 4e5)),
    mh: arr(rows, mult),
    sh: arr(rows, () => shift(12)),
    recKind: cell === 'SimpleRNN' ? ACT.LINEAR : ACT.TABLE,
    recTable: cell === 'SimpleRNN' ? null : sig,
    actKind: ACT.TABLE,
    actTable: tanh,
    gateShift: 15,
    cellShift: seed % 2 ? 3 : -2,
    fcShift: 15,
    igShift: 15,
    ohShift: 15,
    outMult: 0x50000000,
    outShift: -8,
    outZp: 3,
    hExp: -15,
    cExp: -12,
  };
}

describe('recurrent input precompute and row records: bit-exact vs reference', () => {
  const cells: [CellKind, boolean][] = [
    ['SimpleRNN', false],
    ['GRU', false],
    ['GRU', true],
    ['LSTM', false],
  ];
  for (const [cell, ra] of cells) {
    it(`${cell}${cell === 'GRU' ? ` reset_after=${ra}` : ''}: D 1..6, units 4/5/8, left shifts, zero mults, batch 2, masks`, async () => {
      let seed = 1;
      for (const D of [1, 2, 3, 4, 5, 6]) {
        for (const units of [4, 5, 8]) {
          const q = layer(cell, units, D, seed++, ra);
          const B = 2;
          const T = 7;
          const r = rng(seed);
          const x = Int8Array.from({ length: B * T * D }, () => Math.floor(r() * 256) - 128);
          const h = await new RnnHarness(oneOpBlob(q, B, T)).init();
          expect(h.prepareErr).toBe(0);
          expect(Array.from(h.invoke(x))).toEqual(Array.from(runRnnRef(q, x, B, T, newState(q, B))));
          const ids = Int32Array.from({ length: B * T }, (_, i) => (i % 3 === 1 ? 0 : 1));
          const hm = await new RnnHarness(oneOpBlob(q, B, T, true)).init();
          expect(hm.prepareErr).toBe(0);
          expect(Array.from(hm.invoke(x, ids))).toEqual(Array.from(runRnnRef(q, x, B, T, newState(q, B), ids)));
        }
      }
    });
  }
});

describe('recurrent product: packed 8-row blocks, rows left over, units >= 512', () => {
  // matRowsI16: 8-row blocks from the packed copy, the rows % 8 and every row of units >= 512
  // (SWAR_K) one k per iteration. SimpleRNN units 300 (4 rows left over), 520 (unpacked);
  // GRU units 13 (26 + 13 rows: 2 and 5 left over); LSTM 4 * 66 rows. Weights -128/127/-1/0
  // with a linear activation drive h to +-32767/-32768: the largest lane sums.
  // kinds [recurrent, activation]: both tables (the specialised gate loops) or the general loops
  type Kinds = [number, number];
  const TT: Kinds = [ACT.TABLE, ACT.TABLE];
  const cases: [CellKind, number, boolean, Kinds][] = [
    ['SimpleRNN', 300, false, [ACT.LINEAR, ACT.LINEAR]],
    ['SimpleRNN', 520, false, [ACT.LINEAR, ACT.LINEAR]],
    ['GRU', 13, false, TT],
    ['GRU', 13, true, TT],
    ['GRU', 16, false, [ACT.TABLE, ACT.RELU]],
    ['GRU', 16, true, [ACT.RELU, ACT.LINEAR]],
    ['LSTM', 66, false, TT],
    ['LSTM', 16, false, [ACT.TABLE, ACT.RELU]],
    ['LSTM', 16, false, [ACT.LINEAR, ACT.TABLE]],
  ];
  const tbl = (k: number, name: TableFn) => (k === ACT.TABLE ? buildActTable(name) : null);
  for (const [cell, units, ra, [rk, ak]] of cases) {
    it(`${cell} units ${units}${cell === 'GRU' ? ` reset_after=${ra}` : ''} kinds ${rk}/${ak}: bit-exact vs reference`, async () => {
      const q = layer(cell, units, 3, units, ra, true);
      Object.assign(q, { actKind: ak, actTable: tbl(ak, 'tanh') });
      if (cell !== 'SimpleRNN') Object.assign(q, { recKind: rk, recTable: tbl(rk, 'sigmoid') });
      const B = 1;
      const T = 4;
      const r = rng(units + 1);
      const x = Int8Array.from({ length: B * T * 3 }, () => Math.floor(r() * 256) - 128);
      const h = await new RnnHarness(oneOpBlob(q, B, T)).init();
      expect(h.prepareErr).toBe(0);
      const state = newState(q, B);
      const ref = runRnnRef(q, x, B, T, state);
      expect(Array.from(h.invoke(x))).toEqual(Array.from(ref));
      if (cell === 'SimpleRNN') expect(state.h.some((v) => v === 32767 || v === -32768)).toBe(true);
    });
  }
});

describe('GRU state update in int32 (all-table path): extreme tables, gateShift 0 and 15', () => {
  // tables of -32768 / 32767 put z, r and n at the ends of int16, so z*(h - n) reaches
  // 32768 * 65535; gateShift 16 takes the general (64-bit) loop with the same tables
  for (const gs of [0, 15, 16]) {
    it(`gateShift ${gs}: bit-exact vs reference`, async () => {
      const q = layer('GRU', 16, 3, 40 + gs, false, true);
      const ext = (seed: number) => {
        const r = rng(seed);
        return Int16Array.from({ length: 257 }, () => [-32768, 32767, 0, -1][Math.floor(r() * 4)]);
      };
      Object.assign(q, { recTable: ext(gs + 1), actTable: ext(gs + 2), gateShift: gs });
      const r = rng(gs + 3);
      const x = Int8Array.from({ length: 6 * 3 }, () => Math.floor(r() * 256) - 128);
      const h = await new RnnHarness(oneOpBlob(q, 1, 6)).init();
      expect(h.prepareErr).toBe(0);
      expect(Array.from(h.invoke(x))).toEqual(Array.from(runRnnRef(q, x, 1, 6, newState(q, 1))));
    });
  }
});
