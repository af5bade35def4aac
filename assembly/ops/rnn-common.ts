// Shared integer blocks of the recurrent kernels (rnn.ts, gru.ts, lstm.ts).
// Bit-identical to tools/quantize/reference-rnn.ts. No allocation, no floats, no traps:
// every address was validated by the op's prepare.

import { mbqmF } from '../fixedpoint';

// TFLite MultiplyByQuantizedMultiplier, double rounding: the one definition in ../fixedpoint.
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

/** interpolated table: int16 Q3.12 in, Q0.15 out; table = 257 int16 */
// @ts-ignore: decorator
@inline
export function tableLookup(table: usize, v: i32): i32 {
  const u = v + 32768;
  const p = table + (<usize>(u >> 8) << 1);
  const a = <i32>load<i16>(p);
  const b = <i32>load<i16>(p, 2);
  return a + (((b - a) * (u & 255) + 128) >> 8);
}

/** activation: kind 0 linear, 1 relu, 2 table */
// @ts-ignore: decorator
@inline
export function applyAct(kind: i32, table: usize, v: i32): i32 {
  if (kind == 2) return tableLookup(table, v);
  if (kind == 1) return v < 0 ? 0 : v;
  return v;
}

/** store v, or sat16(old + v) when acc */
// @ts-ignore: decorator
@inline
function put(p: usize, v: i32, acc: bool): void {
  store<i32>(p, acc ? sat16(load<i32>(p) + v) : v);
}

/**
 * (acc: out[j] = sat16(out[j] + ...))
 * out[j] = sat16(MBQM(b[r] + sum_k W[r][k] * x[k], m[r], s[r])) for rows r in [0, rows);
 * x int8 (T = i8) or int16 (T = i16, the hidden state); W int8 DENSE layout 1 (4-row blocks
 * interleaved [rows/4][K][4], remainder rows row-major); b/m/s int32 arrays already offset to
 * row 0; out int32 words. 4 rows per pass, k unrolled x8 with the 8 products of a row summed
 * before the accumulator update (the DENSE loop shape).
 */
// @ts-ignore: decorator
@inline
function rowOut(out: usize, a: i32, m: usize, s: usize, acc: bool): void {
  put(out, sat16(mbqmF(a, load<i32>(m), load<i32>(s))), acc);
}

function matRows<T>(x: usize, K: i32, W: usize, rows: i32, b: usize, m: usize, s: usize, out: usize, acc: bool): void {
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
    if (q < xe8) {
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
    rowOut(out + ro, a0, m + ro, s + ro, acc);
    rowOut(out + ro + 4, a1, m + ro + 4, s + ro + 4, acc);
    rowOut(out + ro + 8, a2, m + ro + 8, s + ro + 8, acc);
    rowOut(out + ro + 12, a3, m + ro + 12, s + ro + 12, acc);
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
    rowOut(out + ro, a0, m + ro, s + ro, acc);
    r++;
  }
}

export function matRowsI8(x: usize, K: i32, W: usize, rows: i32, b: usize, m: usize, s: usize, out: usize, acc: bool): void {
  matRows<i8>(x, K, W, rows, b, m, s, out, acc);
}

/** As matRowsI8 with an int16 input vector (hidden state), zero point 0. */
export function matRowsI16(x: usize, K: i32, W: usize, rows: i32, b: usize, m: usize, s: usize, out: usize, acc: bool): void {
  matRows<i16>(x, K, W, rows, b, m, s, out, acc);
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

// Flags (tools/blob/spec.ts, reference-rnn.ts RNN_FLAG)
export const RF_SEQ: i32 = 1;
export const RF_BACK: i32 = 2;
export const RF_IN_ORDER: i32 = 4;
export const RF_KEEP: i32 = 8;
export const RF_RESET_AFTER: i32 = 16;
export const RF_ALL: i32 = 31;

/** Bytes of a weight matrix in layout 1 = rows * K. Table bytes = 257 * 2. */
export const TABLE_BYTES: i32 = 514;

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
import { gTensors, gNTensors, gConsts, gConstsSize } from '../check';
import { TENSOR_SIZE, T_DTYPE, T_STORAGE, T_ELEMENTS, STORAGE_STATE, ERR_OK, ERR_BAD_PARAMS, ERR_BAD_CONST } from '../abi.gen';

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

/** const range [off, off+bytes) inside the constants section, off multiple of align */
export function cOk(off: i32, bytes: i64, align: i32): bool {
  if (off < 0 || (off & (align - 1)) != 0) return false;
  return <i64>off + bytes <= <i64>gConstsSize;
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
  if (kind == 2) return cOk(table, <i64>TABLE_BYTES, 2);
  return kind == 0 || kind == 1;
}

/**
 * Checks shared by the three ops. Param layout prefix: in, out, hState, [cState,] scratch,
 * maskIds, batch, steps, inDim, units, flags, wx, bx, mx, sx (base = index of `scratch`).
 * Returns ERR_OK or an error code.
 */
export function checkCommon(P: usize, base: i32, gates: i32, scratchWords: i32): i32 {
  const batch = prm(P, base + 2);
  const steps = prm(P, base + 3);
  const inDim = prm(P, base + 4);
  const units = prm(P, base + 5);
  const flags = prm(P, base + 6);
  if (batch < 1 || steps < 1 || inDim < 1 || units < 1) return ERR_BAD_PARAMS;
  if (batch > 65535 || steps > 0xffffff || inDim > 65535 || units > 4096) return ERR_BAD_PARAMS;
  if ((flags & ~RF_ALL) != 0) return ERR_BAD_PARAMS;
  const bt = <i64>batch * <i64>steps;
  if (!tOk(prm(P, 0), 1, bt * <i64>inDim)) return ERR_BAD_PARAMS;
  const outSteps: i64 = (flags & RF_SEQ) != 0 ? <i64>steps : 1;
  if (!tOk(prm(P, 1), 1, <i64>batch * outSteps * <i64>units)) return ERR_BAD_PARAMS;
  if (!tOk(prm(P, 2), 2, <i64>batch * <i64>units)) return ERR_BAD_PARAMS;
  if ((flags & RF_KEEP) != 0 && !tIsState(prm(P, 2))) return ERR_BAD_PARAMS;
  if (!tOk(prm(P, base), 3, <i64>scratchWords)) return ERR_BAD_PARAMS;
  const mask = prm(P, base + 1);
  if (mask != -1 && !tOk(mask, 3, bt)) return ERR_BAD_PARAMS;
  const rows = gates * units;
  if (!cOk(prm(P, base + 7), <i64>rows * <i64>inDim, 1)) return ERR_BAD_CONST;
  for (let i = 8; i <= 10; i++) if (!cOk(prm(P, base + i), <i64>rows << 2, 4)) return ERR_BAD_CONST;
  if (!mulShiftOk(prm(P, base + 9), prm(P, base + 10), rows)) return ERR_BAD_PARAMS;
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
