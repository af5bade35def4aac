// Model globals (set by kw_init) and the sticky validation helpers shared by blob.ts and the
// prepare part of every op. Once gErr is set every helper is a no-op returning a harmless value, so a check
// never reads memory on the strength of a value that already failed.
import {
  ERR_BAD_PARAMS, ERR_BAD_CONST, TENSOR_SIZE, T_DTYPE, T_STORAGE, T_OFFSET, T_ELEMENTS, T_BYTES,
  LIMIT_MAX_GEOM, LIMIT_MAX_REGION, DTYPE_INT8, DTYPE_INT16,
} from './abi.gen';
import { EN_INT16 } from './ops-enabled';

// ---- model (valid after a successful kw_init) ----
export let gBlob: usize = 0;
export let gTensors: usize = 0; // absolute address of the tensor table
export let gNTensors: i32 = 0;
export let gConsts: usize = 0;
export let gConstsSize: u32 = 0;
export let gArena: usize = 0;
export let gState: usize = 0;
export let gScratch: usize = 0;
/** bytes of the per-op scratch region at gScratch (header scratchSize) */
export let gScratchSize: u32 = 0;

/** Serial number of the running op, counted across invokes (runOps); two ops run in a row differ by one. */
export let gOpSerial: u32 = 0;
/** The constants range of the op being checked or run (op record constsOff / constsSize). */
export let gOpConstsOff: u32 = 0;
export let gOpConstsSize: u32 = 0;

export function setModel(blob: usize, tensors: usize, nTensors: i32, consts: usize, constsSize: u32): void {
  gBlob = blob; gTensors = tensors; gNTensors = nTensors; gConsts = consts; gConstsSize = constsSize;
}
/**
 * Point const params at the op's constants: `base` is where constants-section offset `off`
 * lives in memory (copy-in: the blob's section; streamed: the staging area, which holds
 * [off, off + size)), so cP(p, i) = base + (param - off) in both modes.
 */
export function setOpConsts(base: usize, off: u32, size: u32): void {
  gConsts = base - <usize>off;
  gOpConstsOff = off;
  gOpConstsSize = size;
}
export function setRegions(arena: usize, state: usize, scratch: usize, scratchSize: u32): void {
  gArena = arena; gState = state; gScratch = scratch; gScratchSize = scratchSize;
}

// ---- tensor accessors ----
@inline export function tEntry(t: i32): usize { return gTensors + (<usize>t) * <usize>TENSOR_SIZE; }
@inline export function tDtype(t: i32): i32 { return <i32>load<u8>(tEntry(t) + <usize>T_DTYPE); }
@inline export function tElems(t: i32): i32 { return <i32>load<u32>(tEntry(t) + <usize>T_ELEMENTS); }
@inline export function tBytes(t: i32): i32 { return <i32>load<u32>(tEntry(t) + <usize>T_BYTES); }
@inline export function tAddr(t: i32): usize {
  let e = tEntry(t);
  return (load<u8>(e + <usize>T_STORAGE) == 0 ? gArena : gState) + <usize>load<u32>(e + <usize>T_OFFSET);
}
/** param i of the op whose params start at p */
@inline export function prm(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
/** address of the tensor named by param i */
@inline export function tP(p: usize, i: i32): usize { return tAddr(prm(p, i)); }
/** address of the const named by param i (caller checks -1 where optional) */
@inline export function cP(p: usize, i: i32): usize { return gConsts + <usize>prm(p, i); }

// ---- sticky checks ----
export let gErr: i32 = 0;
export let gP: usize = 0; // params of the op being checked

export function resetCheck(p: usize): void { gErr = 0; gP = p; }
export function setErr(code: i32): void { if (gErr == 0) gErr = code; }

export const CAP: i64 = 1 << 40;
/** a*b saturating at 2^40 (a, b >= 0) */
export function cmul(a: i64, b: i64): i64 {
  if (b != 0 && a > CAP / b) return CAP;
  let r = a * b;
  return r > CAP ? CAP : r;
}

export function pdiv(e: i64, f: i64): i64 {
  if (e < 0 || f < 1) return -1;
  if (e % f != 0) return -1;
  return e / f;
}
/** e == a*b*c*d*g with every factor >= 1 (else BAD_PARAMS) */
export function cProd(e: i64, a: i64, b: i64 = 1, c: i64 = 1, d: i64 = 1, g: i64 = 1): void {
  if (gErr) return;
  if (pdiv(pdiv(pdiv(pdiv(pdiv(e, a), b), c), d), g) != 1) setErr(ERR_BAD_PARAMS);
}

/** tensor index param with allowed dtype mask (bit 1<<dtype); returns its element count */
export function cTensor(i: i32, mask: i32): i32 {
  if (gErr) return 1;
  let t = prm(gP, i);
  if (t < 0 || t >= gNTensors) { setErr(ERR_BAD_PARAMS); return 1; }
  if (((1 << tDtype(t)) & mask) == 0) { setErr(ERR_BAD_PARAMS); return 1; }
  return tElems(t);
}
/** dtype of the tensor named by param i (after cTensor) */
export function cDtype(i: i32): i32 {
  if (gErr) return DTYPE_INT8;
  return tDtype(prm(gP, i));
}
export function cRange(i: i32, lo: i32, hi: i32): i32 {
  if (gErr) return lo;
  let v = prm(gP, i);
  if (v < lo || v > hi) { setErr(ERR_BAD_PARAMS); return lo; }
  return v;
}
@inline export function cDim(i: i32): i32 { return cRange(i, 1, i32.MAX_VALUE); }
@inline export function cGeom(i: i32): i32 { return cRange(i, 1, LIMIT_MAX_GEOM); }
@inline export function cPad(i: i32): i32 { return cRange(i, 0, LIMIT_MAX_GEOM); }
@inline export function cZp8(i: i32): i32 { return cRange(i, -128, 127); }
@inline export function cShift(i: i32): i32 { return cRange(i, -31, 30); }
export function cAct(iMin: i32, iMax: i32): void {
  let lo = cRange(iMin, -128, 127);
  cRange(iMax, lo, 127);
}
export function cFail(): void { setErr(ERR_BAD_PARAMS); }
/**
 * Multiplier param: 0 or in [2^30, 2^31) (what TFLite QuantizeMultiplier produces); `neg` also
 * allows (-2^31, -2^30] (ADD_N inputs: Subtract). -2^31 is never valid (MBQM would saturate).
 */
export function cMult(i: i32, neg: bool = false): void {
  if (gErr) return;
  let m = prm(gP, i);
  if (m != 0 && m < 0x40000000 && !(neg && m <= -0x40000000 && m != i32.MIN_VALUE)) setErr(ERR_BAD_PARAMS);
}
/** every int32 multiplier of const array [off, off + 4n) is 0 or in [2^30, 2^31) */
export function cMultArray(off: i32, n: i32): void {
  if (gErr) return;
  let p = gConsts + <usize>off;
  for (let k = 0; k < n; k++) {
    let m = load<i32>(p + (<usize>k << 2));
    if (m != 0 && m < 0x40000000) { setErr(ERR_BAD_PARAMS); return; }
  }
}

export function dtMin(dt: i32): i32 { return dt == DTYPE_INT8 ? -128 : (dt == DTYPE_INT16 ? -32768 : i32.MIN_VALUE); }
export function dtMax(dt: i32): i32 { return dt == DTYPE_INT8 ? 127 : (dt == DTYPE_INT16 ? 32767 : i32.MAX_VALUE); }

/**
 * const offset param: `bytes` inside the op's constants range (itself inside the constants
 * section), aligned; -1 allowed if optional. Returns the offset or -1.
 */
export function cConst(i: i32, bytes: i64, align: i32, optional: bool = false): i32 {
  if (gErr) return -1;
  let off = prm(gP, i);
  if (optional && off == -1) return -1;
  if (off < <i32>gOpConstsOff || (off & (align - 1)) != 0 || <i64>off + bytes > <i64>gOpConstsOff + <i64>gOpConstsSize) { setErr(ERR_BAD_CONST); return -1; }
  return off;
}
/** every int8 of const array [off, off + n) in [-31, 30] */
export function cShiftArray(off: i32, n: i32): void {
  if (gErr) return;
  let p = gConsts + <usize>off;
  for (let k = 0; k < n; k++) {
    let s = <i32>load<i8>(p + <usize>k);
    if (s < -31 || s > 30) { setErr(ERR_BAD_PARAMS); return; }
  }
}
/** (out-1)*stride + (k-1)*dil + MAX_GEOM < MAX_REGION, so kernel index math fits in i32 */
export function cExtent(out: i32, stride: i32, k: i32, dil: i32): void {
  if (gErr) return;
  if (cmul(<i64>(out - 1), <i64>stride) + cmul(<i64>(k - 1), <i64>dil) + <i64>LIMIT_MAX_GEOM >= <i64>LIMIT_MAX_REGION) setErr(ERR_BAD_PARAMS);
}

export const M_I8: i32 = 1 << 1;
export const M_I16: i32 = 1 << 2;
/** int16 activation tensors of the INT16_OPS: allowed only in a build with EN_INT16 */
export const M_I16A: i32 = EN_INT16 ? M_I16 : 0;
export const M_I32: i32 = 1 << 3;

// ---- int16 activations (TFLite 16x8): the dtype of an op's tensors picks its path ----
/** DTYPE of the tensor named by param i, which must equal the dtype of the tensor named by param j */
export function cSameDtype(i: i32, j: i32): i32 {
  let d = cDtype(i);
  if (!gErr && d != cDtype(j)) setErr(ERR_BAD_PARAMS);
  return d;
}
/** zero point param of dtype dt: int8 in [-128, 127]; int16 symmetric, 0 */
export function cZpDt(i: i32, dt: i32): i32 { return dt == DTYPE_INT16 ? cRange(i, 0, 0) : cRange(i, -128, 127); }
/** activation clamp params inside the range of dtype dt */
export function cActDt(iMin: i32, iMax: i32, dt: i32): void {
  let lo = cRange(iMin, dtMin(dt), dtMax(dt));
  cRange(iMax, lo, dtMax(dt));
}
/** every int8 of const array [off, off + n) in [lo, hi] */
export function cShiftArrayIn(off: i32, n: i32, lo: i32, hi: i32): void {
  if (gErr) return;
  let p = gConsts + <usize>off;
  for (let k = 0; k < n; k++) {
    let s = <i32>load<i8>(p + <usize>k);
    if (s < lo || s > hi) { setErr(ERR_BAD_PARAMS); return; }
  }
}
/** the fused-activation table of an op of dtype dt: 256 int8 entries, or 513 int16 entries (TFLite's int16 LUT) */
export function cLutDt(i: i32, dt: i32, optional: bool): i32 {
  return dt == DTYPE_INT16 ? cConst(i, 1026, 2, optional) : cConst(i, 256, 1, optional);
}
/** element i of an int8 (w16 false) or int16 array */
@inline export function ldE(base: usize, i: i32, w16: bool): i32 {
  return w16 ? <i32>load<i16>(base + (<usize>i << 1)) : <i32>load<i8>(base + <usize>i);
}
@inline export function stE(base: usize, i: i32, v: i32, w16: bool): void {
  if (w16) store<i16>(base + (<usize>i << 1), v); else store<i8>(base + <usize>i, v);
}
/** whether the tensor named by param i of the op at p is int16 (never in a build without EN_INT16) */
@inline export function is16(p: usize, i: i32): bool { return EN_INT16 && tDtype(prm(p, i)) == DTYPE_INT16; }
