// Blob validation (kw_init) and op dispatch (kw_invoke). The one validator: the host checks a
// blob by running this code (tools/blob/validate.ts). Nothing here traps on any input: every
// read is inside [blob, blob + cap) and is checked before it is made.
import {
  MAGIC, FORMAT_VERSION, HEADER_SIZE, TENSOR_SIZE, IO_SIZE, IO_MAX_RANK,
  H_MAGIC, H_VERSION, H_HEADER_SIZE, H_TOTAL_SIZE, H_CRC32, H_FLAGS, H_N_TENSORS, H_N_OPS, H_N_INPUTS, H_N_OUTPUTS,
  H_ARENA_SIZE, H_STATE_SIZE, H_SCRATCH_SIZE, H_TENSORS_OFF, H_OPS_OFF, H_OPS_SIZE, H_IO_OFF, H_CONSTS_OFF, H_CONSTS_SIZE,
  H_SELF_TEST_OFF, H_SELF_TEST_SIZE, H_OP_MASK0, H_OP_MASK1, H_BATCH, H_META_OFF, H_META_SIZE, H_STAGING_SIZE,
  OP_HEADER_SIZE, OR_CODE, OR_N_PARAMS, OR_CONSTS_OFF, OR_CONSTS_SIZE, ERR_NO_STAGING, ERR_READ_FAILED, ERR_BAD_CONST,
  FLAG_HAS_SELFTEST, FLAG_STATEFUL, FLAG_ROUNDING_MASK, FLAG_ROUNDING_FLOAT, T_DTYPE, T_STORAGE, T_RESERVED, T_OFFSET, T_BYTES, T_ELEMENTS,
  IO_TENSOR, IO_DTYPE, IO_RANK, IO_DIMS, IO_SCALE, IO_ZERO_POINT,
  ALIGN_TABLE, ALIGN_CONSTS, LIMIT_MAX_REGION, LIMIT_MAX_GROUP, LIMIT_MAX_RANK,
  ERR_OK, ERR_BAD_MAGIC, ERR_BAD_VERSION, ERR_BAD_SIZE, ERR_BAD_CRC, ERR_BAD_HEADER, ERR_BAD_TENSOR, ERR_BAD_OP,
  ERR_BAD_PARAMS, ERR_UNSUPPORTED_OP, ERR_BAD_IO,
  OP_MASK_FORMAT_0, OP_MASK_FORMAT_1,
  OP_DENSE, OP_CONV2D, OP_DEPTHWISE_CONV2D, OP_MAX_POOL2D, OP_AVG_POOL2D, OP_ADD_N, OP_MUL, OP_MAXMIN, OP_CONCAT,
  OP_SOFTMAX, OP_LUT, OP_PRELU, OP_LAYOUT, OP_GATHER, OP_REQUANT, OP_LAYER_NORM, NP_LAYER_NORM, OP_SOFTMAX_TFLITE, NP_SOFTMAX_TFLITE, OP_MEAN, NP_MEAN,
  OP_SIMPLE_RNN, OP_GRU, OP_LSTM, NP_SIMPLE_RNN, NP_GRU, NP_LSTM,
  NP_DENSE, NP_CONV2D, NP_DEPTHWISE_CONV2D, NP_MAX_POOL2D, NP_AVG_POOL2D, NP_ADD_N, NP_MUL, NP_MAXMIN, NP_CONCAT,
  NP_SOFTMAX, NP_LUT, NP_PRELU, NP_LAYOUT, NP_GATHER, NP_REQUANT,
  RN_ADD_N, RN_MAXMIN, RN_CONCAT, RN_LAYOUT, P_ADD_N_N, P_MAXMIN_N, P_CONCAT_N, P_LAYOUT_RANK,
} from './abi.gen';
import { crc32 } from './crc32';
import { setRounding } from './fixedpoint';
import {
  EN_DENSE, EN_CONV2D, EN_DEPTHWISE_CONV2D, EN_MAX_POOL2D, EN_AVG_POOL2D, EN_ADD_N, EN_MUL, EN_MAXMIN, EN_CONCAT, EN_SOFTMAX,
  EN_LUT, EN_PRELU, EN_LAYOUT, EN_GATHER, EN_REQUANT, EN_SIMPLE_RNN, EN_GRU, EN_LSTM, EN_LAYER_NORM, EN_SOFTMAX_TFLITE, EN_MEAN,
} from './ops-enabled';
import { setModel, setOpConsts, resetCheck, gErr, pdiv, dtMin, dtMax, tDtype, tElems, gOpSerial } from './check';
import { gExternal, readBlobInline } from './source';
import * as dense from './ops/dense';
import * as conv2d from './ops/conv2d';
import * as depthwise from './ops/depthwise';
import * as pool from './ops/pool';
import * as addn from './ops/addn';
import * as mul from './ops/mul';
import * as maxmin from './ops/maxmin';
import * as concat from './ops/concat';
import * as softmax from './ops/softmax';
import * as lut from './ops/lut';
import * as prelu from './ops/prelu';
import * as layout from './ops/layout';
import * as gather from './ops/gather';
import * as requant from './ops/requant';
import * as rnn from './ops/rnn';
import * as gru from './ops/gru';
import * as lstm from './ops/lstm';
import * as layernorm from './ops/layernorm';
import * as softmaxTflite from './ops/softmax-tflite';
import * as mean from './ops/mean';

/** bit of op code `code` when `on` */
// @ts-ignore: decorator
@inline function bit(on: bool, code: i32): i32 { return on ? 1 << code : 0; }

/** op codes this runtime implements */
export const RUNTIME_MASK_0: i32 = bit(EN_DENSE, OP_DENSE) | bit(EN_CONV2D, OP_CONV2D) | bit(EN_DEPTHWISE_CONV2D, OP_DEPTHWISE_CONV2D) |
  bit(EN_MAX_POOL2D, OP_MAX_POOL2D) | bit(EN_AVG_POOL2D, OP_AVG_POOL2D) | bit(EN_ADD_N, OP_ADD_N) | bit(EN_MUL, OP_MUL) |
  bit(EN_MAXMIN, OP_MAXMIN) | bit(EN_CONCAT, OP_CONCAT) | bit(EN_SOFTMAX, OP_SOFTMAX) | bit(EN_LUT, OP_LUT) | bit(EN_PRELU, OP_PRELU) |
  bit(EN_LAYOUT, OP_LAYOUT) | bit(EN_GATHER, OP_GATHER) | bit(EN_REQUANT, OP_REQUANT) | bit(EN_SIMPLE_RNN, OP_SIMPLE_RNN) |
  bit(EN_GRU, OP_GRU) | bit(EN_LSTM, OP_LSTM) | bit(EN_LAYER_NORM, OP_LAYER_NORM) | bit(EN_SOFTMAX_TFLITE, OP_SOFTMAX_TFLITE) |
  bit(EN_MEAN, OP_MEAN);
export const RUNTIME_MASK_1: i32 = 0;

// validated header fields (absolute addresses)
export let vArenaSize: u32 = 0;
export let vStateSize: u32 = 0;
export let vScratchSize: u32 = 0;
export let vOps: usize = 0;
export let vNOps: i32 = 0;
export let vIO: usize = 0;
export let vNIn: i32 = 0;
export let vNOut: i32 = 0;
export let vSelfTest: usize = 0;
export let vSelfTestSize: u32 = 0;
/** index the last validation error refers to (op / tensor / io), -1 if none */
export let vErrIndex: i32 = -1;
/** copy-in: address of the constants section; streamed: its offset in the blob */
let vConsts: usize = 0;

/** Streamed mode: the staging area each op's constants are read into. */
export let gStaging: usize = 0;
export let gStagingSize: u32 = 0;
export function setStaging(at: usize, size: u32): void {
  gStaging = at;
  gStagingSize = size;
}

/**
 * Make the op's constants [off, off + size) of the constants section addressable by its const
 * params: copy-in, in place; streamed, read into the staging area. Returns an error code.
 */
// @ts-ignore: decorator
@inline function loadOpConsts(off: u32, size: u32): i32 {
  if (!gExternal) {
    setOpConsts(vConsts + <usize>off, off, size);
    return ERR_OK;
  }
  if (size > gStagingSize) return ERR_NO_STAGING;
  if (!readBlobInline(<u32>vConsts + off, gStaging, size)) return ERR_READ_FAILED;
  setOpConsts(gStaging, off, size);
  return ERR_OK;
}

function fixedParams(code: i32): i32 {
  switch (code) {
    case OP_DENSE: return NP_DENSE;
    case OP_CONV2D: return NP_CONV2D;
    case OP_DEPTHWISE_CONV2D: return NP_DEPTHWISE_CONV2D;
    case OP_MAX_POOL2D: return NP_MAX_POOL2D;
    case OP_AVG_POOL2D: return NP_AVG_POOL2D;
    case OP_ADD_N: return NP_ADD_N;
    case OP_MUL: return NP_MUL;
    case OP_MAXMIN: return NP_MAXMIN;
    case OP_CONCAT: return NP_CONCAT;
    case OP_SOFTMAX: return NP_SOFTMAX;
    case OP_LUT: return NP_LUT;
    case OP_PRELU: return NP_PRELU;
    case OP_LAYOUT: return NP_LAYOUT;
    case OP_GATHER: return NP_GATHER;
    case OP_REQUANT: return NP_REQUANT;
    case OP_SIMPLE_RNN: return NP_SIMPLE_RNN;
    case OP_GRU: return NP_GRU;
    case OP_LSTM: return NP_LSTM;
    case OP_LAYER_NORM: return NP_LAYER_NORM;
    case OP_SOFTMAX_TFLITE: return NP_SOFTMAX_TFLITE;
    case OP_MEAN: return NP_MEAN;
  }
  return -1;
}
/** param index of the repeat count, -1 if the op has no repeat group */
function countParam(code: i32): i32 {
  switch (code) {
    case OP_ADD_N: return P_ADD_N_N;
    case OP_MAXMIN: return P_MAXMIN_N;
    case OP_CONCAT: return P_CONCAT_N;
    case OP_LAYOUT: return P_LAYOUT_RANK;
  }
  return -1;
}
function groupSize(code: i32): i32 {
  switch (code) {
    case OP_ADD_N: return RN_ADD_N;
    case OP_MAXMIN: return RN_MAXMIN;
    case OP_CONCAT: return RN_CONCAT;
    case OP_LAYOUT: return RN_LAYOUT;
  }
  return 0;
}

function prepareOp(code: i32): void {
  switch (code) {
    case OP_DENSE: if (EN_DENSE) dense.prepare(); break;
    case OP_CONV2D: if (EN_CONV2D) conv2d.prepare(); break;
    case OP_DEPTHWISE_CONV2D: if (EN_DEPTHWISE_CONV2D) depthwise.prepare(); break;
    case OP_MAX_POOL2D: if (EN_MAX_POOL2D) pool.prepare(); break;
    case OP_AVG_POOL2D: if (EN_AVG_POOL2D) pool.prepare(); break;
    case OP_ADD_N: if (EN_ADD_N) addn.prepare(); break;
    case OP_MUL: if (EN_MUL) mul.prepare(); break;
    case OP_MAXMIN: if (EN_MAXMIN) maxmin.prepare(); break;
    case OP_CONCAT: if (EN_CONCAT) concat.prepare(); break;
    case OP_SOFTMAX: if (EN_SOFTMAX) softmax.prepare(); break;
    case OP_LUT: if (EN_LUT) lut.prepare(); break;
    case OP_PRELU: if (EN_PRELU) prelu.prepare(); break;
    case OP_LAYOUT: if (EN_LAYOUT) layout.prepare(); break;
    case OP_GATHER: if (EN_GATHER) gather.prepare(); break;
    case OP_REQUANT: if (EN_REQUANT) requant.prepare(); break;
    case OP_LAYER_NORM: if (EN_LAYER_NORM) layernorm.prepare(); break;
    case OP_SOFTMAX_TFLITE: if (EN_SOFTMAX_TFLITE) softmaxTflite.prepare(); break;
    case OP_MEAN: if (EN_MEAN) mean.prepare(); break;
    case OP_SIMPLE_RNN: if (EN_SIMPLE_RNN) rnn.prepare(); break;
    case OP_GRU: if (EN_GRU) gru.prepare(); break;
    case OP_LSTM: if (EN_LSTM) lstm.prepare(); break;
  }
}

export function evalOp(code: i32, p: usize): i32 {
  switch (code) {
    case OP_DENSE: if (EN_DENSE) return dense.evalOp(p); break;
    case OP_CONV2D: if (EN_CONV2D) return conv2d.evalOp(p); break;
    case OP_DEPTHWISE_CONV2D: if (EN_DEPTHWISE_CONV2D) return depthwise.evalOp(p); break;
    case OP_MAX_POOL2D: if (EN_MAX_POOL2D) return pool.evalOp(p, false); break;
    case OP_AVG_POOL2D: if (EN_AVG_POOL2D) return pool.evalOp(p, true); break;
    case OP_ADD_N: if (EN_ADD_N) return addn.evalOp(p); break;
    case OP_MUL: if (EN_MUL) return mul.evalOp(p); break;
    case OP_MAXMIN: if (EN_MAXMIN) return maxmin.evalOp(p); break;
    case OP_CONCAT: if (EN_CONCAT) return concat.evalOp(p); break;
    case OP_SOFTMAX: if (EN_SOFTMAX) return softmax.evalOp(p); break;
    case OP_LUT: if (EN_LUT) return lut.evalOp(p); break;
    case OP_PRELU: if (EN_PRELU) return prelu.evalOp(p); break;
    case OP_LAYOUT: if (EN_LAYOUT) return layout.evalOp(p); break;
    case OP_GATHER: if (EN_GATHER) return gather.evalOp(p); break;
    case OP_REQUANT: if (EN_REQUANT) return requant.evalOp(p); break;
    case OP_LAYER_NORM: if (EN_LAYER_NORM) return layernorm.evalOp(p); break;
    case OP_SOFTMAX_TFLITE: if (EN_SOFTMAX_TFLITE) return softmaxTflite.evalOp(p); break;
    case OP_MEAN: if (EN_MEAN) return mean.evalOp(p); break;
    case OP_SIMPLE_RNN: if (EN_SIMPLE_RNN) return rnn.evalOp(p); break;
    case OP_GRU: if (EN_GRU) return gru.evalOp(p); break;
    case OP_LSTM: if (EN_LSTM) return lstm.evalOp(p); break;
  }
  return ERR_BAD_OP;
}

// @ts-ignore: decorator
@inline function u32at(p: usize): u32 { return load<u32>(p); }
// @ts-ignore: decorator
@inline function u16at(p: usize): i32 { return <i32>load<u16>(p); }

/** [off, off+size) inside [HEADER_SIZE, total) and aligned */
function sectionOk(off: u32, size: u64, align: u32, total: u32): bool {
  return off >= <u32>HEADER_SIZE && (off & (align - 1)) == 0 && <u64>off + size <= <u64>total;
}

/** Every tensor entry: dtype, storage, size and placement inside its region. */
function validateTensors(tp: usize, nT: i32, arenaSize: u32, stateSize: u32): i32 {
  for (let i = 0; i < nT; i++) {
    vErrIndex = i;
    let e = tp + <usize>i * <usize>TENSOR_SIZE;
    let dt = <i32>load<u8>(e + T_DTYPE);
    let st = <i32>load<u8>(e + T_STORAGE);
    let off = load<u32>(e + T_OFFSET);
    let bytes = load<u32>(e + T_BYTES);
    let elems = load<u32>(e + T_ELEMENTS);
    let size: u32 = dt == 1 ? 1 : (dt == 2 ? 2 : (dt == 3 ? 4 : 0));
    if (size == 0) return ERR_BAD_TENSOR;
    if (st > 1) return ERR_BAD_TENSOR;
    if (load<u16>(e + T_RESERVED) != 0) return ERR_BAD_TENSOR;
    if (elems == 0 || elems >= <u32>LIMIT_MAX_REGION || bytes != elems * size) return ERR_BAD_TENSOR;
    let region = st == 0 ? arenaSize : stateSize;
    if ((off & (size - 1)) != 0 || <u64>off + <u64>bytes > <u64>region) return ERR_BAD_TENSOR;
  }
  return 0;
}

/** bytes of the I/O tensors (what a self-test section must hold), set by validateIO */
let vStNeed: u64 = 0;

/** The I/O descriptors: tensor, dtype, rank and dims, scale, zero point. */
function validateIO(iop: usize, nIO: i32, nT: i32, tp: usize): i32 {
  let stNeed: u64 = 0;
  for (let i = 0; i < nIO; i++) {
    vErrIndex = i;
    let e = iop + <usize>i * <usize>IO_SIZE;
    let ti = u16at(e + IO_TENSOR);
    let dt = <i32>load<u8>(e + IO_DTYPE);
    let rank = <i32>load<u8>(e + IO_RANK);
    if (ti >= nT) return ERR_BAD_IO;
    if (dt != tDtype(ti)) return ERR_BAD_IO;
    if (rank < 1 || rank > IO_MAX_RANK) return ERR_BAD_IO;
    for (let d = rank; d < IO_MAX_RANK; d++) if (u32at(e + IO_DIMS + (<usize>d << 2)) != 0) return ERR_BAD_IO;
    let rem: i64 = <i64>tElems(ti);
    for (let d = 0; d < rank; d++) rem = pdiv(rem, <i64>u32at(e + IO_DIMS + (<usize>d << 2)));
    if (rem != 1) return ERR_BAD_IO;
    let sb = u32at(e + IO_SCALE);
    if (sb == 0 || sb >= 0x7F800000) return ERR_BAD_IO;
    let zp = load<i32>(e + IO_ZERO_POINT);
    if (zp < dtMin(dt) || zp > dtMax(dt)) return ERR_BAD_IO;
    stNeed += <u64>load<u32>(tp + <usize>ti * <usize>TENSOR_SIZE + T_BYTES);
  }
  vStNeed = stNeed;
  return ERR_OK;
}

/**
 * Validate the blob at b (cap bytes). Streamed (`external`): only its tables [0, constsOff) are at
 * b, the CRC was checked while reading, and each op's constants are read into the staging area
 * for its prepare. Returns an error code; on success the model globals are set.
 */
export function validateBlob(b: usize, cap: u32, external: bool): i32 {
  vErrIndex = -1;
  if (cap < <u32>HEADER_SIZE) return ERR_BAD_SIZE;
  if (u32at(b + H_MAGIC) != <u32>MAGIC) return ERR_BAD_MAGIC;
  if (u16at(b + H_VERSION) != FORMAT_VERSION) return ERR_BAD_VERSION;
  if (u16at(b + H_HEADER_SIZE) != HEADER_SIZE) return ERR_BAD_HEADER;
  let total = u32at(b + H_TOTAL_SIZE);
  if (total != cap) return ERR_BAD_SIZE;
  if (!external && crc32(b + 16, <usize>(total - 16)) != u32at(b + H_CRC32)) return ERR_BAD_CRC;
  let flags = u32at(b + H_FLAGS);
  let staging = u32at(b + H_STAGING_SIZE);
  if (staging >= <u32>LIMIT_MAX_REGION) return ERR_BAD_HEADER;
  if ((flags & ~(<u32>(FLAG_HAS_SELFTEST | FLAG_STATEFUL | FLAG_ROUNDING_MASK))) != 0) return ERR_BAD_HEADER;
  let rounding = flags & <u32>FLAG_ROUNDING_MASK;
  if (rounding > <u32>FLAG_ROUNDING_FLOAT) return ERR_BAD_HEADER;
  // a failed init leaves the runtime not ready, so setting the mode before the other checks is safe
  setRounding(rounding != 0, rounding == <u32>FLAG_ROUNDING_FLOAT);
  let metaOff = u32at(b + H_META_OFF);
  let metaSize = u32at(b + H_META_SIZE);
  // metadata for the tools: only its bounds are checked, the runtime never reads it
  if (metaSize == 0 ? metaOff != 0 : !sectionOk(metaOff, <u64>metaSize, 1, total)) return ERR_BAD_HEADER;
  if (u32at(b + H_BATCH) == 0) return ERR_BAD_HEADER;
  let nT = u16at(b + H_N_TENSORS);
  let nOps = u16at(b + H_N_OPS);
  let nIn = u16at(b + H_N_INPUTS);
  let nOut = u16at(b + H_N_OUTPUTS);
  if (nIn == 0 || nOut == 0) return ERR_BAD_HEADER;
  let arenaSize = u32at(b + H_ARENA_SIZE);
  let stateSize = u32at(b + H_STATE_SIZE);
  let scratchSize = u32at(b + H_SCRATCH_SIZE);
  if (arenaSize >= <u32>LIMIT_MAX_REGION || stateSize >= <u32>LIMIT_MAX_REGION || scratchSize >= <u32>LIMIT_MAX_REGION) return ERR_BAD_HEADER;
  let tOff = u32at(b + H_TENSORS_OFF);
  let opsOff = u32at(b + H_OPS_OFF);
  let opsSize = u32at(b + H_OPS_SIZE);
  let ioOff = u32at(b + H_IO_OFF);
  let cOff = u32at(b + H_CONSTS_OFF);
  let cSize = u32at(b + H_CONSTS_SIZE);
  let stOff = u32at(b + H_SELF_TEST_OFF);
  let stSize = u32at(b + H_SELF_TEST_SIZE);
  if (!sectionOk(cOff, <u64>cSize, ALIGN_CONSTS, total)) return ERR_BAD_HEADER;
  // streamed: the tables must lie in the part that was read, before the constants
  let tabEnd = external ? cOff : total;
  if (!sectionOk(tOff, <u64>nT * <u64>TENSOR_SIZE, ALIGN_TABLE, tabEnd)) return ERR_BAD_HEADER;
  if ((opsSize & 3) != 0) return ERR_BAD_HEADER;
  if (!sectionOk(opsOff, <u64>opsSize, ALIGN_TABLE, tabEnd)) return ERR_BAD_HEADER;
  if (!sectionOk(ioOff, <u64>(nIn + nOut) * <u64>IO_SIZE, ALIGN_TABLE, tabEnd)) return ERR_BAD_HEADER;
  let hasST = (flags & FLAG_HAS_SELFTEST) != 0;
  if (hasST) {
    if (stOff == 0 || stSize == 0) return ERR_BAD_HEADER;
    if (!sectionOk(stOff, <u64>stSize, 1, total)) return ERR_BAD_HEADER;
  } else if (stOff != 0 || stSize != 0) return ERR_BAD_HEADER;
  let m0 = u32at(b + H_OP_MASK0);
  let m1 = u32at(b + H_OP_MASK1);
  if ((m0 & ~(<u32>OP_MASK_FORMAT_0)) != 0 || (m1 & ~(<u32>OP_MASK_FORMAT_1)) != 0) return ERR_BAD_HEADER;
  if ((m0 & ~(<u32>RUNTIME_MASK_0)) != 0 || (m1 & ~(<u32>RUNTIME_MASK_1)) != 0) return ERR_UNSUPPORTED_OP;

  let tp = b + <usize>tOff;
  let te = validateTensors(tp, nT, arenaSize, stateSize);
  if (te != 0) return te;
  setModel(b, tp, nT, b + <usize>cOff, cSize);
  vConsts = external ? <usize>cOff : b + <usize>cOff;

  let iop = b + <usize>ioOff;
  let ie = validateIO(iop, nIn + nOut, nT, tp);
  if (ie != ERR_OK) return ie;
  let stNeed = vStNeed;

  // ops
  let pos = b + <usize>opsOff;
  let end = pos + <usize>opsSize;
  let used0: u32 = 0;
  let used1: u32 = 0;
  for (let i = 0; i < nOps; i++) {
    vErrIndex = i;
    if (pos + <usize>OP_HEADER_SIZE > end) return ERR_BAD_OP;
    let code = u16at(pos + OR_CODE);
    let np = u16at(pos + OR_N_PARAMS);
    if (pos + <usize>OP_HEADER_SIZE + (<usize>np << 2) > end) return ERR_BAD_OP;
    if (code >= 64 || (code < 32 ? ((<u32>OP_MASK_FORMAT_0 >>> <u32>code) & 1) == 0 : ((<u32>OP_MASK_FORMAT_1 >>> <u32>(code - 32)) & 1) == 0)) return ERR_BAD_OP;
    if (code < 32 ? ((<u32>RUNTIME_MASK_0 >>> <u32>code) & 1) == 0 : ((<u32>RUNTIME_MASK_1 >>> <u32>(code - 32)) & 1) == 0) return ERR_UNSUPPORTED_OP;
    let nf = fixedParams(code);
    if (nf < 0) return ERR_UNSUPPORTED_OP;
    if (np < nf) return ERR_BAD_OP;
    let p = pos + <usize>OP_HEADER_SIZE;
    let expect = nf;
    let cp = countParam(code);
    if (cp >= 0) {
      let n = load<i32>(p + (<usize>cp << 2));
      let maxN = code == OP_LAYOUT ? LIMIT_MAX_RANK : LIMIT_MAX_GROUP;
      if (n < 1 || n > maxN) return ERR_BAD_PARAMS;
      expect = nf + n * groupSize(code);
    }
    if (np != expect) return ERR_BAD_OP;
    let oc = u32at(pos + OR_CONSTS_OFF);
    let os = u32at(pos + OR_CONSTS_SIZE);
    if ((oc & <u32>(ALIGN_CONSTS - 1)) != 0 || <u64>oc + <u64>os > <u64>cSize) return ERR_BAD_CONST;
    if (staging != 0 && os > staging) return ERR_NO_STAGING;
    let le = loadOpConsts(oc, os);
    if (le != ERR_OK) return le;
    resetCheck(p);
    prepareOp(code);
    if (gErr != 0) return gErr;
    if (code < 32) used0 |= <u32>1 << <u32>code;
    else used1 |= <u32>1 << <u32>(code - 32);
    pos = p + (<usize>np << 2);
  }
  vErrIndex = nOps;
  if (pos != end) return ERR_BAD_OP;
  vErrIndex = -1;
  if (used0 != m0 || used1 != m1) return ERR_BAD_HEADER;
  if (hasST && stNeed != <u64>stSize) return ERR_BAD_HEADER;

  vArenaSize = arenaSize;
  vStateSize = stateSize;
  vScratchSize = scratchSize;
  vOps = b + <usize>opsOff;
  vNOps = nOps;
  vIO = iop;
  vNIn = nIn;
  vNOut = nOut;
  vSelfTest = hasST ? (external ? <usize>stOff : b + <usize>stOff) : 0;
  vSelfTestSize = stSize;
  return ERR_OK;
}

/** run every op once; returns an error code (vErrIndex = failing op) */
export function runOps(): i32 {
  let pos = vOps;
  // a gap between invokes: the first op never follows the last op of the previous invoke
  gOpSerial++;
  for (let i = 0; i < vNOps; i++) {
    gOpSerial++;
    let code = u16at(pos + OR_CODE);
    let np = u16at(pos + OR_N_PARAMS);
    let r = loadOpConsts(u32at(pos + OR_CONSTS_OFF), u32at(pos + OR_CONSTS_SIZE));
    if (r == 0) r = evalOp(code, pos + <usize>OP_HEADER_SIZE);
    if (r != 0) { vErrIndex = i; return r; }
    pos += <usize>OP_HEADER_SIZE + (<usize>np << 2);
  }
  return ERR_OK;
}
