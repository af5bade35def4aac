/**
 * Integer reference of the recurrent ops SIMPLE_RNN (16), GRU (17) and LSTM (18): the
 * definition the AssemblyScript kernels (assembly/ops/rnn.ts, gru.ts, lstm.ts) are bit-identical
 * to. docs/RECURRENT.md explains the scheme; tools/blob/spec.ts has the op parameter layouts.
 *
 * All arithmetic is exact integer arithmetic on JS numbers (products < 2^53); accumulators wrap
 * to int32 like the wasm i32 adds do.
 */
import { mbqm } from '../fixedpoint.ts';
import { RECURRENT } from '../blob/spec.ts';

export type CellKind = 'SimpleRNN' | 'GRU' | 'LSTM';

/** Activation kinds, op flags and table geometry: the contract's (tools/blob/spec.ts RECURRENT). */
export const ACT = RECURRENT.ACT;
export const RNN_FLAG = RECURRENT.FLAG;
export const TABLE_ENTRIES: number = RECURRENT.TABLE_ENTRIES;
export const TABLE_IN_EXP: number = RECURRENT.TABLE_IN_EXP;
export const TABLE_OUT_EXP: number = RECURRENT.TABLE_OUT_EXP;

export type TableFn = 'sigmoid' | 'tanh' | 'hard_sigmoid' | 'hard_sigmoid_k3';

function tableFunction(name: TableFn): (x: number) => number {
  switch (name) {
    case 'sigmoid':
      return (x) => 1 / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh;
    case 'hard_sigmoid':
      return (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5));
    case 'hard_sigmoid_k3':
      return (x) => Math.min(1, Math.max(0, x / 6 + 0.5));
  }
}

/**
 * 257-entry int16 table: T[i] = clamp(round(32768 * f(-8 + i/16)), -32767, 32767). For the
 * piecewise-linear hard sigmoids every breakpoint (±2.5, ±3) is a node, so interpolation is exact
 * to 1 LSB. For sigmoid/tanh the node values are shifted by half the chord error so the
 * interpolated curve's error is centred (max error ~6 LSB of Q0.15 for tanh, < 1 for sigmoid).
 */
export function buildActTable(name: TableFn): Int16Array {
  const f = tableFunction(name);
  const t = new Int16Array(TABLE_ENTRIES);
  const smooth = name === 'sigmoid' || name === 'tanh';
  for (let i = 0; i < TABLE_ENTRIES; i++) {
    const x = -8 + i / 16;
    let y = f(x);
    if (smooth && i > 0 && i < TABLE_ENTRIES - 1) {
      // chord sagitta of the two adjacent segments: f'' * h^2 / 8, h = 1/16; move the node by half
      const d2 = (f(x + 1 / 16) - 2 * y + f(x - 1 / 16)) / (1 / 256);
      y -= (d2 * (1 / 256)) / 16;
    }
    const q = Math.round(y * 32768);
    t[i] = q > 32767 ? 32767 : q < -32767 ? -32767 : q;
  }
  return t;
}

const sat16 = (v: number) => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);

/** Rounding (half up) arithmetic shift right by s >= 0, exact for |v| < 2^52. */
function rsr(v: number, s: number): number {
  if (s === 0) return v;
  const p = 2 ** s;
  return Math.floor((v + p / 2) / p);
}

/** Shift by a signed amount: positive = saturating (int16) left shift, negative = rounding right. */
function shift16(v: number, s: number): number {
  return s >= 0 ? sat16(v * 2 ** s) : sat16(rsr(v, -s));
}

/** Interpolated table lookup: int16 Q3.12 in, int16 Q0.15 out. */
function tableLookup(t: ArrayLike<number>, v: number): number {
  const u = v + 32768;
  const idx = u >> 8;
  const frac = u & 255;
  const a = t[idx];
  return a + (((t[idx + 1] - a) * frac + 128) >> 8);
}

/** Activation on an int16 value: kind 0 linear, 1 relu (same scale), 2 table (Q3.12 -> Q0.15). */
function applyAct(kind: number, table: ArrayLike<number> | null, v: number): number {
  if (kind === ACT.TABLE) return tableLookup(table!, v);
  if (kind === ACT.RELU) return v < 0 ? 0 : v;
  return v;
}

/** Quantised parameters of one recurrent op (row-major weights; the blob uses layout 1). */
export interface RnnQuant {
  cell: CellKind;
  inDim: number;
  units: number;
  flags: number;
  /** int8 [G*units][inDim] row-major, gate-major rows (LSTM i,f,c,o; GRU z,r,h). */
  wx: Int8Array;
  bx: Int32Array;
  mx: Int32Array;
  sx: Int32Array;
  /** int8 [G*units][units] row-major. */
  wh: Int8Array;
  bh: Int32Array;
  mh: Int32Array;
  sh: Int32Array;
  /** recurrent_activation (GRU/LSTM gates). */
  recKind: number;
  recTable: Int16Array | null;
  /** activation (SimpleRNN output, GRU candidate, LSTM g and act(c)). */
  actKind: number;
  actTable: Int16Array | null;
  /** GRU: -exponent of the z/r gate values (15 for table kinds). */
  gateShift: number;
  /** LSTM shifts (see spec.ts). */
  cellShift: number;
  fcShift: number;
  igShift: number;
  ohShift: number;
  outMult: number;
  outShift: number;
  outZp: number;
  /** Informational exponents (not in the blob): h, c, gate pre-activation. */
  hExp: number;
  cExp: number;
}

export function gateCount(cell: CellKind): number {
  return RECURRENT.GATES[cell];
}

/**
 * Scratch int32 words the op needs for `steps` timesteps per invocation (format 4): the gate
 * words (SimpleRNN units, GRU/LSTM 4*units), a 6-word requantisation record per recurrent row
 * (G*units rows), one word per recurrent weight (G*units*units) when units < 512 (the runtime's
 * two-rows-per-i64 packed copy), then the int16 input parts of every step of one batch element,
 * [steps][G*units], rounded up to whole words.
 */
export function scratchWords(cell: CellKind, units: number, steps: number): number {
  const rows = gateCount(cell) * units;
  return (cell === 'SimpleRNN' ? units : 4 * units) + 6 * rows + (units < 512 ? rows * units : 0) + Math.ceil((steps * rows) / 2);
}

export interface RnnState {
  h: Int16Array; // [batch][units]
  c: Int16Array | null; // LSTM only
}

export function newState(q: RnnQuant, batch: number): RnnState {
  return { h: new Int16Array(batch * q.units), c: q.cell === 'LSTM' ? new Int16Array(batch * q.units) : null };
}

/** rows [r0, r0+n) of W (row-major, K columns) times v (length K), + bias, requant, sat16. */
function matRows(
  W: Int8Array,
  K: number,
  v: ArrayLike<number>,
  r0: number,
  n: number,
  b: Int32Array,
  m: Int32Array,
  s: Int32Array,
  out: Int32Array,
  o0: number,
) {
  for (let j = 0; j < n; j++) {
    const r = r0 + j;
    let acc = b[r];
    const base = r * K;
    for (let k = 0; k < K; k++) acc = (acc + W[base + k] * v[k]) | 0;
    out[o0 + j] = sat16(mbqm(acc, m[r], s[r]));
  }
}

/**
 * Run one op invocation: x int8 [batch][steps][inDim] -> out int8 [batch][steps or 1][units],
 * updating `state` in place (zeroed first unless flags has KEEP_STATE). maskIds, when given, is
 * int32 [batch][steps]; a step whose id is 0 leaves the state unchanged.
 */
export function runRnnRef(q: RnnQuant, x: Int8Array, batch: number, steps: number, state: RnnState, maskIds: Int32Array | null = null): Int8Array {
  const u = q.units;
  const D = q.inDim;
  const seq = (q.flags & RNN_FLAG.RETURN_SEQUENCES) !== 0;
  const back = (q.flags & RNN_FLAG.GO_BACKWARDS) !== 0;
  const inOrder = (q.flags & RNN_FLAG.OUTPUT_INPUT_ORDER) !== 0;
  const out = new Int8Array(batch * (seq ? steps : 1) * u);
  if ((q.flags & RNN_FLAG.KEEP_STATE) === 0) {
    state.h.fill(0);
    state.c?.fill(0);
  }
  const G = gateCount(q.cell);
  const px = new Int32Array(G * u);
  const ph = new Int32Array(G * u);
  const rh = new Int32Array(u);
  const hv = new Int32Array(u);
  for (let b = 0; b < batch; b++) {
    const H = state.h.subarray(b * u, (b + 1) * u);
    const C = state.c ? state.c.subarray(b * u, (b + 1) * u) : null;
    for (let s = 0; s < steps; s++) {
      const t = back ? steps - 1 - s : s;
      const valid = !maskIds || maskIds[b * steps + t] !== 0;
      if (valid) {
        const xv = x.subarray((b * steps + t) * D, (b * steps + t + 1) * D);
        matRows(q.wx, D, xv, 0, G * u, q.bx, q.mx, q.sx, px, 0);
        for (let k = 0; k < u; k++) hv[k] = H[k];
        if (q.cell === 'SimpleRNN') {
          matRows(q.wh, u, hv, 0, u, q.bh, q.mh, q.sh, ph, 0);
          for (let k = 0; k < u; k++) H[k] = applyAct(q.actKind, q.actTable, sat16(px[k] + ph[k]));
        } else if (q.cell === 'LSTM') {
          matRows(q.wh, u, hv, 0, 4 * u, q.bh, q.mh, q.sh, ph, 0);
          for (let k = 0; k < u; k++) {
            const i = applyAct(q.recKind, q.recTable, sat16(px[k] + ph[k]));
            const f = applyAct(q.recKind, q.recTable, sat16(px[u + k] + ph[u + k]));
            const g = applyAct(q.actKind, q.actTable, sat16(px[2 * u + k] + ph[2 * u + k]));
            const o = applyAct(q.recKind, q.recTable, sat16(px[3 * u + k] + ph[3 * u + k]));
            const c = sat16(rsr(f * C![k], q.fcShift) + rsr(i * g, q.igShift));
            C![k] = c;
            const a = q.actKind === ACT.TABLE ? tableLookup(q.actTable!, shift16(c, q.cellShift)) : applyAct(q.actKind, null, c);
            H[k] = sat16(rsr(o * a, q.ohShift));
          }
        } else {
          // GRU
          matRows(q.wh, u, hv, 0, 2 * u, q.bh, q.mh, q.sh, ph, 0);
          const gs = q.gateShift;
          const z = new Int32Array(u);
          const r = new Int32Array(u);
          for (let k = 0; k < u; k++) {
            z[k] = applyAct(q.recKind, q.recTable, sat16(px[k] + ph[k]));
            r[k] = applyAct(q.recKind, q.recTable, sat16(px[u + k] + ph[u + k]));
          }
          const pre = new Int32Array(u);
          if (q.flags & RNN_FLAG.RESET_AFTER) {
            matRows(q.wh, u, hv, 2 * u, u, q.bh, q.mh, q.sh, ph, 2 * u);
            for (let k = 0; k < u; k++) pre[k] = sat16(px[2 * u + k] + sat16(rsr(r[k] * ph[2 * u + k], gs)));
          } else {
            for (let k = 0; k < u; k++) rh[k] = sat16(rsr(r[k] * hv[k], gs));
            matRows(q.wh, u, rh, 2 * u, u, q.bh, q.mh, q.sh, ph, 2 * u);
            for (let k = 0; k < u; k++) pre[k] = sat16(px[2 * u + k] + ph[2 * u + k]);
          }
          const one = 2 ** gs;
          for (let k = 0; k < u; k++) {
            const n = applyAct(q.actKind, q.actTable, pre[k]);
            H[k] = sat16(rsr(z[k] * hv[k] + (one - z[k]) * n, gs));
          }
        }
      }
      if (seq || s === steps - 1) {
        const pos = seq ? (inOrder ? t : s) : 0;
        const o = (b * (seq ? steps : 1) + pos) * u;
        for (let k = 0; k < u; k++) {
          const y = (q.outZp + mbqm(H[k], q.outMult, q.outShift)) | 0; // int32 add, as the runtime
          out[o + k] = y > 127 ? 127 : y < -128 ? -128 : y;
        }
      }
    }
  }
  return out;
}

/**
 * Weights into DENSE layout 2: offset-binary bytes u = w + 128 in 8-row blocks [rows/8][K][8],
 * then the remainder rows (rows % 8) int8 row-major. null when K > 65535 (the runtime's lane
 * bound, denseU8 in assembly/ops/dense.ts): the converter then keeps layout 1.
 */
export function blockRows8u(w: Int8Array, rows: number, K: number): Uint8Array | null {
  if (K > 65535) return null;
  const out = new Uint8Array(rows * K);
  const full = rows - (rows % 8);
  let p = 0;
  for (let r = 0; r < full; r += 8) for (let k = 0; k < K; k++) for (let j = 0; j < 8; j++) out[p++] = w[(r + j) * K + k] + 128;
  for (let r = full; r < rows; r++) for (let k = 0; k < K; k++) out[p++] = w[r * K + k] & 0xff;
  return out;
}

/** Inverse of blockRows8u: the row-major [rows][K] weights of a DENSE layout 2 const at off. */
export function unblockRows8u(c: Uint8Array, off: number, rows: number, K: number): Int8Array {
  const w = new Int8Array(rows * K);
  const full = rows - (rows % 8);
  let p = off;
  for (let r = 0; r < full; r += 8) for (let k = 0; k < K; k++) for (let j = 0; j < 8; j++) w[(r + j) * K + k] = c[p++] - 128;
  for (let i = full * K; i < rows * K; i++) w[i] = (c[p++] << 24) >> 24;
  return w;
}

/** Weights into DENSE layout 1 (int8) or 3 (int16): blocks of 4 rows interleaved [rows/4][K][4], remainder row-major. */
export function blockRows4<T extends Int8Array | Int16Array>(w: T, rows: number, K: number): T {
  const out = (w instanceof Int16Array ? new Int16Array(rows * K) : new Int8Array(rows * K)) as T;
  const full = rows - (rows % 4);
  let p = 0;
  for (let r = 0; r < full; r += 4) for (let k = 0; k < K; k++) for (let j = 0; j < 4; j++) out[p++] = w[(r + j) * K + k];
  for (let r = full; r < rows; r++) for (let k = 0; k < K; k++) out[p++] = w[r * K + k];
  return out;
}
