// Shared integer blocks of the recurrent kernels (rnn.ts, gru.ts, lstm.ts).
// Bit-identical to tools/quantize/reference-rnn.ts. No allocation, no floats, no traps:
// every address was validated by the op's prepare.

import { mbqmF, roundDouble } from '../fixedpoint';
import {
  RNN_FLAG_RETURN_SEQUENCES, RNN_FLAG_GO_BACKWARDS, RNN_FLAG_OUTPUT_INPUT_ORDER, RNN_FLAG_KEEP_STATE, RNN_FLAG_RESET_AFTER, RNN_FLAG_ALL,
  RNN_TABLE_BYTES, RNN_ACT_TABLE, RNN_ACT_LINEAR, RNN_ACT_RELU,
} from '../abi.gen';

// TFLite MultiplyByQuantizedMultiplier in the blob's rounding mode: the one definition in ../fixedpoint.
// @ts-ignore: decorator
@inline
export function rnnMbqm(x: i32, mult: i32, shift: i32): i32 {
  return mbqmF(x, mult, shift);
}

// @ts-ignore: decorator
@inline
export function sat16(v: i32): i32 {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/** rounding (half up) arithmetic shift right, s in [0, 30] */
// @ts-ignore: decorator
@inline
export function rsr(v: i32, s: i32): i32 {
  return s == 0 ? v : (v + (1 << (s - 1))) >> s;
}

// @ts-ignore: decorator
@inline
export function rsr64(v: i64, s: i32): i64 {
  return s == 0 ? v : (v + (<i64>1 << <i64>(s - 1))) >> <i64>s;
}

/**
 * interpolated table: int16 Q3.12 in, Q0.15 out; table = 257 int16, passed as its middle
 * tb = table + 256 bytes (tableMid): entry (v + 32768) >> 8 = (v >> 8) + 128, fraction v & 255
 */
// @ts-ignore: decorator
@inline
export function tableLookup(tb: usize, v: i32): i32 {
  const p = tb + (<usize>(v >> 8) << 1);
  const a = <i32>load<i16>(p);
  const b = <i32>load<i16>(p, 2);
  return a + (((b - a) * (v & 255) + 128) >> 8);
}

/** table middle pointer for tableLookup (0 unless kind is 2) */
// @ts-ignore: decorator
@inline
export function tableMid(kind: i32, consts: usize, off: i32): usize {
  return kind == 2 ? consts + <usize>off + 256 : 0;
}

/** rounding term of rsr by s: 0 for s = 0, else 2^(s-1); rsr(v, s) = (v + half(s)) >> s */
// @ts-ignore: decorator
@inline
export function half(s: i32): i32 {
  return s == 0 ? 0 : 1 << (s - 1);
}

/** activation: kind 0 linear, 1 relu, 2 table */
// @ts-ignore: decorator
@inline
export function applyAct(kind: i32, table: usize, v: i32): i32 {
  if (kind == 2) return tableLookup(table, v);
  if (kind == 1) return v < 0 ? 0 : v;
  return v;
}

/** applyAct as a call: the general (not all-table) gate loops, kept small */
export function actCall(kind: i32, table: usize, v: i32): i32 {
  return applyAct(kind, table, v);
}

/**
 * Row product with requantisation, 4 rows per pass, k unrolled x8 with the 8 products of a row
 * summed before the accumulator update (the DENSE loop shape):
 *   v[r] = sat16(MBQM(b[r] + sum_k W[r][k] * x[k], m[r], s[r])) for rows r in [0, rows);
 * x int8 (T = i8) or int16 (T = i16, the hidden state); W int8 DENSE layout 1 (4-row blocks
 * interleaved [rows/4][K][4], remainder rows row-major); b int32 [rows] already offset to row 0.
 * O = i16: m/s are the int32 mult/shift arrays; out int16 [rows] gets v.
 * O = i32: m is the rows' requantisation records (rowConsts), s unused; out int32 words get
 * sat16(v + pp[r]), pp int16 [rows] = the precomputed input part (all zero for a plain product),
 * the sums requantised in place after the pass. O = i32 runs 1 k per iteration (the recurrent
 * product for K >= SWAR_K and the rows % 8 below it); the int8 path keeps k x8.
 */
// @ts-ignore: decorator
@inline
function rowOut<O>(out: usize, r: usize, a: i32, m: usize, s: usize): void {
  if (sizeof<O>() == 2) rowOut16(out, r, a, m, s);
  else store<i32>(out + (r << 2), a);
}

// int16 row output of the input part (a call: one copy of the requantisation for 5 call sites)
function rowOut16(out: usize, r: usize, a: i32, m: usize, s: usize): void {
  store<i16>(out + (r << 1), <i16>sat16(mbqmF(a, load<i32>(m + (r << 2)), load<i32>(s + (r << 2)))));
}

/** Bytes of one row's requantisation record (rowConsts). */
export const REC_BYTES: usize = 24;

/**
 * Per-row requantisation records, computed once per invoke from the blob's mult/shift arrays
 * (validated: mult 0 or in [2^30, 2^31), shift in [-31, 30]): [0] mult, [4] L = max(shift, 0),
 * [8] shift & INT32_MIN, [12] S = 31 - min(shift, 0), [16] i64 (2^(S-1) | 2^30). recQ is then
 * mbqm exactly: for shift <= 0 it is mbqmF's fast form; for shift > 0 mbqm is
 * ((x << shift) * mult + 2^30) >> 31 (no RDPOT, no saturation since mult >= 0), which is the
 * same expression with L = shift, S = 31, no sign term. Single rounding (roundDouble = 0):
 * L = 0, no sign term, S = 31 - shift, [16] = 2^(S-1): mbqmS.
 */
export function rowConsts(m: usize, s: usize, rows: i32, rec: usize): void {
  const e = rec + <usize>rows * REC_BYTES;
  const d = roundDouble;
  while (rec < e) {
    const sh = load<i32>(s);
    const L = sh > 0 ? sh & d : 0;
    const S = 31 + L - sh;
    store<i32>(rec, load<i32>(m));
    store<i32>(rec, L, 4);
    store<i32>(rec, sh & d & i32.MIN_VALUE, 8);
    store<i32>(rec, S, 12);
    store<i64>(rec, (<i64>1 << <i64>(S - 1)) | <i64>(0x40000000 & d), 16);
    rec += REC_BYTES;
    m += 4;
    s += 4;
  }
}

/** MBQM(a, mult, shift) from the row's record c */
// @ts-ignore: decorator
@inline
export function recQ(c: usize, a: i32): i32 {
  const a2 = a << load<i32>(c, 4);
  return <i32>((<i64>a2 * <i64>load<u32>(c) + load<i64>(c, 16) + <i64>(a2 & load<i32>(c, 8))) >> <i64>load<u32>(c, 12));
}

function matRows<T, O>(x: usize, K: i32, W: usize, rows: i32, b: usize, m: usize, s: usize, out: usize, pp: usize): void {
  const full = rows & ~3;
  const SZ = <usize>sizeof<T>();
  let p = W;
  const xe = x + <usize>K * SZ;
  const xe8 = x + <usize>(K & ~7) * SZ;
  let r = 0;
  while (r < full) {
    const ro = <usize>r << 2;
    let a0 = load<i32>(b + ro);
    let a1 = load<i32>(b + ro, 4);
    let a2 = load<i32>(b + ro, 8);
    let a3 = load<i32>(b + ro, 12);
    let q = x;
    if (sizeof<O>() == 2 && q < xe8) {
      do {
        const v0 = <i32>load<T>(q), v1 = <i32>load<T>(q, SZ), v2 = <i32>load<T>(q, 2 * SZ), v3 = <i32>load<T>(q, 3 * SZ);
        const v4 = <i32>load<T>(q, 4 * SZ), v5 = <i32>load<T>(q, 5 * SZ), v6 = <i32>load<T>(q, 6 * SZ), v7 = <i32>load<T>(q, 7 * SZ);
        a0 += v0 * <i32>load<i8>(p) + v1 * <i32>load<i8>(p, 4) + v2 * <i32>load<i8>(p, 8) + v3 * <i32>load<i8>(p, 12)
          + v4 * <i32>load<i8>(p, 16) + v5 * <i32>load<i8>(p, 20) + v6 * <i32>load<i8>(p, 24) + v7 * <i32>load<i8>(p, 28);
        a1 += v0 * <i32>load<i8>(p, 1) + v1 * <i32>load<i8>(p, 5) + v2 * <i32>load<i8>(p, 9) + v3 * <i32>load<i8>(p, 13)
          + v4 * <i32>load<i8>(p, 17) + v5 * <i32>load<i8>(p, 21) + v6 * <i32>load<i8>(p, 25) + v7 * <i32>load<i8>(p, 29);
        a2 += v0 * <i32>load<i8>(p, 2) + v1 * <i32>load<i8>(p, 6) + v2 * <i32>load<i8>(p, 10) + v3 * <i32>load<i8>(p, 14)
          + v4 * <i32>load<i8>(p, 18) + v5 * <i32>load<i8>(p, 22) + v6 * <i32>load<i8>(p, 26) + v7 * <i32>load<i8>(p, 30);
        a3 += v0 * <i32>load<i8>(p, 3) + v1 * <i32>load<i8>(p, 7) + v2 * <i32>load<i8>(p, 11) + v3 * <i32>load<i8>(p, 15)
          + v4 * <i32>load<i8>(p, 19) + v5 * <i32>load<i8>(p, 23) + v6 * <i32>load<i8>(p, 27) + v7 * <i32>load<i8>(p, 31);
        p += 32;
        q += 8 * SZ;
      } while (q < xe8);
    }
    while (q < xe) {
      const v0 = <i32>load<T>(q);
      a0 += <i32>load<i8>(p) * v0;
      a1 += <i32>load<i8>(p, 1) * v0;
      a2 += <i32>load<i8>(p, 2) * v0;
      a3 += <i32>load<i8>(p, 3) * v0;
      p += 4;
      q += SZ;
    }
    const ur = <usize>r;
    rowOut<O>(out, ur, a0, m, s);
    rowOut<O>(out, ur + 1, a1, m, s);
    rowOut<O>(out, ur + 2, a2, m, s);
    rowOut<O>(out, ur + 3, a3, m, s);
    r += 4;
  }
  while (r < rows) {
    const ro = <usize>r << 2;
    let a0 = load<i32>(b + ro);
    let q = x;
    while (q < xe) {
      a0 += <i32>load<i8>(p) * <i32>load<T>(q);
      p++;
      q += SZ;
    }
    rowOut<O>(out, <usize>r, a0, m, s);
    r++;
  }
  if (sizeof<O>() == 4) {
    // the sums in place: sat16(sat16(MBQM) + input part), record j at m
    for (let j: usize = 0; j < <usize>rows; j++) {
      const po = out + (j << 2);
      store<i32>(po, sat16(sat16(recQ(m + j * REC_BYTES, load<i32>(po))) + <i32>load<i16>(pp + (j << 1))));
    }
  }
}

/**
 * Recurrent product: out int32 [rows] = sat16(sat16(MBQM(b + W h)) + pp[r]), pp int16 [rows] the
 * precomputed input part (zeros for a plain product). h int16 (zero point 0); rec = the rows'
 * records (rowConsts); wk = the full 8-row blocks packed by packW (read when K < SWAR_K). The
 * bias is added to each lane in i32 (the reference's int32 wrap-around).
 */
export function matRowsI16(x: usize, K: i32, W: usize, rows: i32, b: usize, rec: usize, out: usize, pp: usize, wk: usize): void {
  if (K >= SWAR_K) {
    matRows<i16, i32>(x, K, W, rows, b, rec, 0, out, pp);
    return;
  }
  const xe = x + (<usize>K << 1);
  const full8 = rows & ~7;
  let r = 0;
  // 8 rows per pass: per k one h load serves four i64 products (pairs 0+1, 2+3, 4+5, 6+7)
  const xe8 = x + (<usize>(K & ~7) << 1);
  while (r < full8) {
    let c0: i64 = 0, c1: i64 = 0, c2: i64 = 0, c3: i64 = 0;
    let q = x;
    while (q < xe8) {
      const h0 = <i64>load<i16>(q), h1 = <i64>load<i16>(q, 2), h2 = <i64>load<i16>(q, 4), h3 = <i64>load<i16>(q, 6);
      const h4 = <i64>load<i16>(q, 8), h5 = <i64>load<i16>(q, 10), h6 = <i64>load<i16>(q, 12), h7 = <i64>load<i16>(q, 14);
      c0 += h0 * load<i64>(wk) + h1 * load<i64>(wk, 32) + h2 * load<i64>(wk, 64) + h3 * load<i64>(wk, 96)
        + h4 * load<i64>(wk, 128) + h5 * load<i64>(wk, 160) + h6 * load<i64>(wk, 192) + h7 * load<i64>(wk, 224);
      c1 += h0 * load<i64>(wk, 8) + h1 * load<i64>(wk, 40) + h2 * load<i64>(wk, 72) + h3 * load<i64>(wk, 104)
        + h4 * load<i64>(wk, 136) + h5 * load<i64>(wk, 168) + h6 * load<i64>(wk, 200) + h7 * load<i64>(wk, 232);
      c2 += h0 * load<i64>(wk, 16) + h1 * load<i64>(wk, 48) + h2 * load<i64>(wk, 80) + h3 * load<i64>(wk, 112)
        + h4 * load<i64>(wk, 144) + h5 * load<i64>(wk, 176) + h6 * load<i64>(wk, 208) + h7 * load<i64>(wk, 240);
      c3 += h0 * load<i64>(wk, 24) + h1 * load<i64>(wk, 56) + h2 * load<i64>(wk, 88) + h3 * load<i64>(wk, 120)
        + h4 * load<i64>(wk, 152) + h5 * load<i64>(wk, 184) + h6 * load<i64>(wk, 216) + h7 * load<i64>(wk, 248);
      wk += 256;
      q += 16;
    }
    while (q < xe) {
      const h = <i64>load<i16>(q);
      c0 += h * load<i64>(wk);
      c1 += h * load<i64>(wk, 8);
      c2 += h * load<i64>(wk, 16);
      c3 += h * load<i64>(wk, 24);
      wk += 32;
      q += 2;
    }
    const ur = <usize>r;
    const pc = rec + ur * REC_BYTES;
    const po = out + (ur << 2);
    const pb = b + (ur << 2);
    const pq = pp + (ur << 1);
    rq32(pc, po, pq, pb, laneLo(c0));
    rq32(pc + 24, po + 4, pq + 2, pb + 4, laneHi(c0));
    rq32(pc + 48, po + 8, pq + 4, pb + 8, laneLo(c1));
    rq32(pc + 72, po + 12, pq + 6, pb + 12, laneHi(c1));
    rq32(pc + 96, po + 16, pq + 8, pb + 16, laneLo(c2));
    rq32(pc + 120, po + 20, pq + 10, pb + 20, laneHi(c2));
    rq32(pc + 144, po + 24, pq + 12, pb + 24, laneLo(c3));
    rq32(pc + 168, po + 28, pq + 14, pb + 28, laneHi(c3));
    r += 8;
  }
  // the rows % 8 (layout 1 from row r on) one k per iteration
  if (r < rows) {
    const ur = <usize>r;
    matRows<i16, i32>(x, K, W + <usize>(r * K), rows - r, b + (ur << 2), rec + ur * REC_BYTES, 0, out + (ur << 2), pp + (ur << 1));
  }
}

// the low lane of a packed pair sum (A + 2^32 B, |A|, |B| < 2^31)
// @ts-ignore: decorator
@inline
function laneLo(c: i64): i32 {
  return <i32>c;
}

// the high lane of a packed pair sum: B + floor((A + 2^31) / 2^32) = B
// @ts-ignore: decorator
@inline
function laneHi(c: i64): i32 {
  return <i32>((c + 0x80000000) >> 32);
}

// out word = sat16(sat16(MBQM(bias + a)) + input part), record at pc
// @ts-ignore: decorator
@inline
function rq32(pc: usize, po: usize, pq: usize, pb: usize, a: i32): void {
  store<i32>(po, sat16(sat16(recQ(pc, a + load<i32>(pb))) + <i32>load<i16>(pq)));
}

/** K bound of the packed two-row product (matRowsI16): K * 2^15 * 2^7 < 2^31 */
export const SWAR_K: i32 = 512;

/** int32 words of packed recurrent weights: one per weight when units < SWAR_K (else none) */
// @ts-ignore: decorator
@inline
export function packWords(rows: i32, units: i32): i32 {
  return units < SWAR_K ? rows * units : 0;
}

/**
 * Packs the full 4-row blocks of a layout-1 recurrent matrix (K = units < SWAR_K) for
 * matRowsI16, two rows per i64 (w[r][k] + 2^32 w[r+1][k]): per 8-row block (two layout-1
 * blocks) and k, the pairs 0+1, 2+3, 4+5, 6+7. The rows % 8 are read unpacked.
 */
export function packW(W: usize, rows: i32, K: i32, dst: usize): void {
  if (K >= SWAR_K) return;
  const uK = <usize>K << 2; // bytes of one 4-row block
  const e = W + <usize>((rows & ~7) * K);
  while (W < e) {
    const be = W + uK;
    do {
      pack2(W, dst);
      pack2(W + uK, dst + 16);
      W += 4;
      dst += 32;
    } while (W < be);
    W += uK;
  }
}

// the 4 layout-1 weights at W (rows 0..3 of a block at one k) as two i64 pairs at dst
// @ts-ignore: decorator
@inline
function pack2(W: usize, dst: usize): void {
  store<i64>(dst, <i64>load<i8>(W) + (<i64>load<i8>(W, 1) << 32));
  store<i64>(dst, <i64>load<i8>(W, 2) + (<i64>load<i8>(W, 3) << 32), 8);
}

// requantise a with the row's constants hoisted out of the step loop (recQ's form: mbqm exactly
// for every validated mult/shift), saturate to int16 and store at o
// @ts-ignore: decorator
@inline
function rq16(o: usize, a: i32, L: i32, M: i64, rc: i64, sm: i32, S: i64): void {
  const a2 = a << L;
  store<i16>(o, <i16>sat16(<i32>((<i64>a2 * M + rc + <i64>(a2 & sm)) >> S)));
}

// i64 pair lo + 2^32 hi of two row weights
// @ts-ignore: decorator
@inline
function pair(lo: i32, hi: i32): i64 {
  return <i64>lo + (<i64>hi << 32);
}

// address of the 4 weights of slot k in a [D][4] block (slot k < e: the block start, masked to 0)
// @ts-ignore: decorator
@inline
function wkp(wp: usize, k: i32, e: i32): usize {
  return wp + (<usize>(k < e ? 0 : k - e) << 2);
}

/**
 * Input part of every timestep of one batch element, before the recurrence:
 *   P[t][r] = sat16(MBQM(b[r] + sum_k W[r][k] * x[t][k], m[r], s[r]))   (int16, [steps][rows])
 * x int8 [steps][D]. The same integers as matRows per step (only the order of independent
 * computations changes). For D <= 4 the rows are outer (4 per pass, their weights, bias and
 * requantisation constants in locals) and the steps inner; the 4 bytes read per step end at the
 * step's last input byte (weights of the slots before the step's first byte are 0), so reads
 * stay inside [x - 3, x + steps*D) and never before address 0 (x >= 4 is required). Larger D (or
 * x < 4) runs matRows per step.
 */
export function inputRows(x: usize, steps: i32, D: i32, W: usize, rows: i32, b: usize, m: usize, s: usize, P: usize): void {
  const rb = <usize>rows << 1; // bytes per step of P
  if (D > 4 || x < 4 || (rows & 3) != 0) {
    for (let t = 0; t < steps; t++) matRows<i8, i16>(x + <usize>t * <usize>D, D, W, rows, b, m, s, P + <usize>t * rb, 0);
    return;
  }
  const e = 4 - D; // leading zero-weight slots
  const x0 = x - <usize>e;
  const uD = <usize>D;
  for (let r = 0; r < rows; r += 4) {
    const ro = <usize>r << 2;
    const wp = W + <usize>(r * D); // block of 4 rows: [D][4]
    // weight of slot k (input byte k - e) of row j, 0 for k < e (branch-free, in-bounds address)
    const p0 = wkp(wp, 0, e), p1 = wkp(wp, 1, e), p2 = wkp(wp, 2, e), p3 = wp + (<usize>(3 - e) << 2);
    const k0 = e > 0 ? 0 : -1, k1 = e > 1 ? 0 : -1, k2 = e > 2 ? 0 : -1;
    const w00 = <i32>load<i8>(p0) & k0, w10 = <i32>load<i8>(p0, 1) & k0, w20 = <i32>load<i8>(p0, 2) & k0, w30 = <i32>load<i8>(p0, 3) & k0;
    const w01 = <i32>load<i8>(p1) & k1, w11 = <i32>load<i8>(p1, 1) & k1, w21 = <i32>load<i8>(p1, 2) & k1, w31 = <i32>load<i8>(p1, 3) & k1;
    const w02 = <i32>load<i8>(p2) & k2, w12 = <i32>load<i8>(p2, 1) & k2, w22 = <i32>load<i8>(p2, 2) & k2, w32 = <i32>load<i8>(p2, 3) & k2;
    const w03 = <i32>load<i8>(p3), w13 = <i32>load<i8>(p3, 1), w23 = <i32>load<i8>(p3, 2), w33 = <i32>load<i8>(p3, 3);
    // rows 0+1 and 2+3 of each slot as i64 pairs w[r] + 2^32 w[r+1] (|sum of 4 x*w| <= 2^16)
    const A0 = pair(w00, w10), A1 = pair(w01, w11), A2 = pair(w02, w12), A3 = pair(w03, w13);
    const B0 = pair(w20, w30), B1 = pair(w21, w31), B2 = pair(w22, w32), B3 = pair(w23, w33);
    const b0 = load<i32>(b + ro), b1 = load<i32>(b + ro, 4), b2 = load<i32>(b + ro, 8), b3 = load<i32>(b + ro, 12);
    const m0 = load<i32>(m + ro), m1 = load<i32>(m + ro, 4), m2 = load<i32>(m + ro, 8), m3 = load<i32>(m + ro, 12);
    const s0 = load<i32>(s + ro), s1 = load<i32>(s + ro, 4), s2 = load<i32>(s + ro, 8), s3 = load<i32>(s + ro, 12);
    // rowConsts' records, in locals (d masks out the double-rounding terms in single mode)
    const d = roundDouble, h = <i64>(0x40000000 & d);
    const L0 = s0 > 0 ? s0 & d : 0, L1 = s1 > 0 ? s1 & d : 0, L2 = s2 > 0 ? s2 & d : 0, L3 = s3 > 0 ? s3 & d : 0;
    const S0 = <i64>(31 + L0 - s0), S1 = <i64>(31 + L1 - s1), S2 = <i64>(31 + L2 - s2), S3 = <i64>(31 + L3 - s3);
    const rc0 = (<i64>1 << (S0 - 1)) | h, rc1 = (<i64>1 << (S1 - 1)) | h;
    const rc2 = (<i64>1 << (S2 - 1)) | h, rc3 = (<i64>1 << (S3 - 1)) | h;
    const sm0 = s0 & d & i32.MIN_VALUE, sm1 = s1 & d & i32.MIN_VALUE, sm2 = s2 & d & i32.MIN_VALUE, sm3 = s3 & d & i32.MIN_VALUE;
    const M0 = <i64>m0, M1 = <i64>m1, M2 = <i64>m2, M3 = <i64>m3;
    let q = x0;
    let o = P + (<usize>r << 1);
    const oe = o + <usize>steps * rb;
    do {
      const v0 = <i64>load<i8>(q), v1 = <i64>load<i8>(q, 1), v2 = <i64>load<i8>(q, 2), v3 = <i64>load<i8>(q, 3);
      const ca = v0 * A0 + v1 * A1 + v2 * A2 + v3 * A3;
      const cb = v0 * B0 + v1 * B1 + v2 * B2 + v3 * B3;
      rq16(o, b0 + laneLo(ca), L0, M0, rc0, sm0, S0);
      rq16(o + 2, b1 + laneHi(ca), L1, M1, rc1, sm1, S1);
      rq16(o + 4, b2 + laneLo(cb), L2, M2, rc2, sm2, S2);
      rq16(o + 6, b3 + laneHi(cb), L3, M3, rc3, sm3, S3);
      q += uD;
      o += rb;
    } while (o < oe);
  }
}

/** int8 output row from int16 state: y = clamp(zp + MBQM(h, mult, shift)) */
export function writeOut(h: usize, units: i32, y: usize, mult: i32, shift: i32, zp: i32): void {
  for (let k = 0; k < units; k++) {
    let v = zp + rnnMbqm(<i32>load<i16>(h + (<usize>k << 1)), mult, shift);
    v = v > 127 ? 127 : v < -128 ? -128 : v;
    store<i8>(y + <usize>k, <i8>v);
  }
}

/** zero `bytes` bytes (no bulk-memory) */
export function zeroBytes(p: usize, bytes: i32): void {
  const e = p + <usize>bytes;
  while (p < e) {
    store<u8>(p, 0);
    p++;
  }
}

// Flags and table size: tools/blob/spec.ts RECURRENT
export const RF_SEQ: i32 = RNN_FLAG_RETURN_SEQUENCES;
export const RF_BACK: i32 = RNN_FLAG_GO_BACKWARDS;
export const RF_IN_ORDER: i32 = RNN_FLAG_OUTPUT_INPUT_ORDER;
export const RF_KEEP: i32 = RNN_FLAG_KEEP_STATE;
export const RF_RESET_AFTER: i32 = RNN_FLAG_RESET_AFTER;
export const RF_ALL: i32 = RNN_FLAG_ALL;
export const TABLE_BYTES: i32 = RNN_TABLE_BYTES;

/**
 * Step loop geometry shared by the three kernels: for processing step s of `steps`, the input
 * time index and the output position (-1 = no output at this step).
 */
// @ts-ignore: decorator
@inline
export function timeIndex(flags: i32, steps: i32, s: i32): i32 {
  return (flags & RF_BACK) != 0 ? steps - 1 - s : s;
}
// @ts-ignore: decorator
@inline
export function outPos(flags: i32, steps: i32, s: i32, t: i32): i32 {
  if ((flags & RF_SEQ) != 0) return (flags & RF_IN_ORDER) != 0 ? t : s;
  return s == steps - 1 ? 0 : -1;
}

// ---- validation (uses the model globals of ../check, set by kw_init) -----------------------
import { gTensors, gNTensors, gConsts, gOpConstsOff, gOpConstsSize } from '../check';
import { TENSOR_SIZE, T_DTYPE, T_STORAGE, T_ELEMENTS, STORAGE_STATE, ERR_OK, ERR_BAD_PARAMS, ERR_BAD_CONST,
  P_SIMPLE_RNN_IN, P_SIMPLE_RNN_OUT, P_SIMPLE_RNN_H_STATE, P_SIMPLE_RNN_SCRATCH, P_SIMPLE_RNN_MASK_IDS, P_SIMPLE_RNN_BATCH,
  P_SIMPLE_RNN_STEPS, P_SIMPLE_RNN_IN_DIM, P_SIMPLE_RNN_UNITS, P_SIMPLE_RNN_FLAGS, P_SIMPLE_RNN_WX, P_SIMPLE_RNN_MX, P_SIMPLE_RNN_SX,
} from '../abi.gen';
/**
 * The three recurrent ops share in, out, hState first and the fields from `scratch` on in one
 * order (LSTM has cState before scratch): positions relative to `scratch`, from SIMPLE_RNN's
 * layout (test/blob/abi.test.ts checks that GRU and LSTM agree).
 */
const R_MASK_IDS = P_SIMPLE_RNN_MASK_IDS - P_SIMPLE_RNN_SCRATCH;
const R_BATCH = P_SIMPLE_RNN_BATCH - P_SIMPLE_RNN_SCRATCH;
const R_STEPS = P_SIMPLE_RNN_STEPS - P_SIMPLE_RNN_SCRATCH;
const R_IN_DIM = P_SIMPLE_RNN_IN_DIM - P_SIMPLE_RNN_SCRATCH;
const R_UNITS = P_SIMPLE_RNN_UNITS - P_SIMPLE_RNN_SCRATCH;
const R_FLAGS = P_SIMPLE_RNN_FLAGS - P_SIMPLE_RNN_SCRATCH;
const R_WX = P_SIMPLE_RNN_WX - P_SIMPLE_RNN_SCRATCH;
const R_MX = P_SIMPLE_RNN_MX - P_SIMPLE_RNN_SCRATCH;
const R_SX = P_SIMPLE_RNN_SX - P_SIMPLE_RNN_SCRATCH;


/** param word i of the op record whose params start at P */
// @ts-ignore: decorator
@inline
export function prm(P: usize, i: i32): i32 {
  return load<i32>(P + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline
function tEnt(t: i32): usize {
  return gTensors + <usize>t * <usize>TENSOR_SIZE;
}

/** tensor index param: exists, has dtype, has exactly `elements` elements */
export function tOk(t: i32, dtype: i32, elements: i64): bool {
  if (t < 0 || t >= gNTensors) return false;
  const e = tEnt(t);
  if (<i32>load<u8>(e + <usize>T_DTYPE) != dtype) return false;
  return <i64>load<u32>(e + <usize>T_ELEMENTS) == elements;
}

/** tensor is in the STATE region */
export function tIsState(t: i32): bool {
  return <i32>load<u8>(tEnt(t) + <usize>T_STORAGE) == STORAGE_STATE;
}

/** const range [off, off+bytes) inside the op's constants range, off multiple of align */
export function cOk(off: i32, bytes: i64, align: i32): bool {
  if (off < <i32>gOpConstsOff || (off & (align - 1)) != 0) return false;
  return <i64>off + bytes <= <i64>gOpConstsOff + <i64>gOpConstsSize;
}

/** every mult in [2^30, 2^31) or 0 and shift in [-31, 30] over n rows */
export function mulShiftOk(mOff: i32, sOff: i32, n: i32): bool {
  for (let j = 0; j < n; j++) {
    const m = load<i32>(gConsts + <usize>mOff + (<usize>j << 2));
    const s = load<i32>(gConsts + <usize>sOff + (<usize>j << 2));
    if (m != 0 && m < 0x40000000) return false;
    if (s < -31 || s > 30) return false;
  }
  return true;
}

export function multOk(m: i32, s: i32): bool {
  return (m == 0 || m >= 0x40000000) && s >= -31 && s <= 30;
}

/** activation kind/table pair */
export function actOk(kind: i32, table: i32): bool {
  if (kind == RNN_ACT_TABLE) return cOk(table, <i64>TABLE_BYTES, 2);
  return kind == RNN_ACT_LINEAR || kind == RNN_ACT_RELU;
}

/**
 * Checks shared by the three ops. Param layout prefix: in, out, hState, [cState,] scratch,
 * maskIds, batch, steps, inDim, units, flags, wx, bx, mx, sx (base = index of `scratch`).
 * Scratch: gateWords int32 words (gate words + 6 per recurrent row for the rowConsts records),
 * then the packed recurrent weights (packWords, format 4), then the int16 input parts
 * [steps][gates*units] rounded up to whole words:
 * scratchWords in tools/quantize/reference-rnn.ts.
 * Returns ERR_OK or an error code.
 */
export function checkCommon(P: usize, base: i32, gates: i32, gateWords: i32): i32 {
  const batch = prm(P, base + R_BATCH);
  const steps = prm(P, base + R_STEPS);
  const inDim = prm(P, base + R_IN_DIM);
  const units = prm(P, base + R_UNITS);
  const flags = prm(P, base + R_FLAGS);
  if (batch < 1 || steps < 1 || inDim < 1 || units < 1) return ERR_BAD_PARAMS;
  if (batch > 65535 || steps > 0xffffff || inDim > 65535 || units > 4096) return ERR_BAD_PARAMS;
  if ((flags & ~RF_ALL) != 0) return ERR_BAD_PARAMS;
  const bt = <i64>batch * <i64>steps;
  if (!tOk(prm(P, P_SIMPLE_RNN_IN), 1, bt * <i64>inDim)) return ERR_BAD_PARAMS;
  const outSteps: i64 = (flags & RF_SEQ) != 0 ? <i64>steps : 1;
  if (!tOk(prm(P, P_SIMPLE_RNN_OUT), 1, <i64>batch * outSteps * <i64>units)) return ERR_BAD_PARAMS;
  if (!tOk(prm(P, P_SIMPLE_RNN_H_STATE), 2, <i64>batch * <i64>units)) return ERR_BAD_PARAMS;
  if ((flags & RF_KEEP) != 0 && !tIsState(prm(P, P_SIMPLE_RNN_H_STATE))) return ERR_BAD_PARAMS;
  if (!tOk(prm(P, base), 3, <i64>gateWords + <i64>packWords(gates * units, units) + ((<i64>steps * <i64>(gates * units) + 1) >> 1))) return ERR_BAD_PARAMS;
  const mask = prm(P, base + R_MASK_IDS);
  if (mask != -1 && !tOk(mask, 3, bt)) return ERR_BAD_PARAMS;
  const rows = gates * units;
  if (!cOk(prm(P, base + R_WX), <i64>rows * <i64>inDim, 1)) return ERR_BAD_CONST;
  for (let i = 8; i <= 10; i++) if (!cOk(prm(P, base + i), <i64>rows << 2, 4)) return ERR_BAD_CONST;
  if (!mulShiftOk(prm(P, base + R_MX), prm(P, base + R_SX), rows)) return ERR_BAD_PARAMS;
  return ERR_OK;
}

/** bh, mh, sh triple at param index i (rows rows) */
export function checkRowArrays(P: usize, i: i32, rows: i32): i32 {
  for (let k = 0; k < 3; k++) if (!cOk(prm(P, i + k), <i64>rows << 2, 4)) return ERR_BAD_CONST;
  if (!mulShiftOk(prm(P, i + 1), prm(P, i + 2), rows)) return ERR_BAD_PARAMS;
  return ERR_OK;
}

/** output requant triple at param index i */
export function checkOutQ(P: usize, i: i32): i32 {
  if (!multOk(prm(P, i), prm(P, i + 1))) return ERR_BAD_PARAMS;
  const zp = prm(P, i + 2);
  if (zp < -128 || zp > 127) return ERR_BAD_PARAMS;
  return ERR_OK;
}

/** zero the state unless flags keep it */
export function maybeZero(flags: i32, p: usize, bytes: i32): void {
  if ((flags & RF_KEEP) == 0) zeroBytes(p, bytes);
}
