// The runtime's exports (tools/blob/spec.ts EXPORTS, all i32 in, i32 out), shared by the two
// builds: assembly/index.ts (copy-in, no imports) and assembly/index-flash.ts (adds the streamed
// mode and its one import). No allocation: the module works on raw linear memory laid out by
// memory.ts.
import {
  ABI_VERSION, FORMAT_VERSION, IO_SIZE, IO_TENSOR, TENSOR_SIZE, T_BYTES, HEADER_SIZE,
  H_MAGIC, H_VERSION, H_HEADER_SIZE, H_TOTAL_SIZE, H_CRC32, H_CONSTS_OFF, H_ARENA_SIZE, H_STATE_SIZE, H_SCRATCH_SIZE, H_STAGING_SIZE,
  MAGIC, LIMIT_MAX_REGION,
  ERR_OK, ERR_NO_BLOB, ERR_OUT_OF_MEMORY, ERR_NOT_READY, ERR_BAD_INDEX, ERR_SELFTEST_MISMATCH, ERR_NO_SELFTEST,
  ERR_BAD_MAGIC, ERR_BAD_VERSION, ERR_BAD_HEADER, ERR_BAD_SIZE, ERR_BAD_CRC, ERR_NO_STAGING, ERR_READ_FAILED,
} from './abi.gen';
import { gLimit, ensureMemory, blobBase, staticArea, align16, zeroBytes, CRC_TABLE_BYTES, OP_AREA_BYTES } from './memory';
import { validateBlob, runOps, RUNTIME_MASK_0, RUNTIME_MASK_1, vArenaSize, vStateSize, vScratchSize, vIO, vNIn, vNOut, vSelfTest, vErrIndex, setStaging, gStaging, gStagingSize } from './blob';
import { setRegions, tAddr, gTensors, gState } from './check';
import { crc32Update } from './crc32';
import { gExternal, readBlob, setSource, Reader } from './source';

let haveBlob = false;
let blobSize: u32 = 0;
let ready = false;
let lastError: i32 = 0;
let errorIndex: i32 = -1;
let memEnd: usize = 0;

// @ts-ignore: decorator
@inline function ret(code: i32, idx: i32 = -1): i32 {
  lastError = code;
  errorIndex = code == 0 ? -1 : idx;
  return code;
}

export function kw_abi_version(): i32 { return ABI_VERSION; }
export function kw_format_version(): i32 { return FORMAT_VERSION; }
export function kw_op_mask(word: i32): i32 { return word == 0 ? RUNTIME_MASK_0 : (word == 1 ? RUNTIME_MASK_1 : 0); }

export function kw_set_memory_limit(bytes: i32): i32 {
  gLimit = <u64><u32>bytes;
  return ret(ERR_OK);
}

export function kw_blob_buffer(size: i32): i32 {
  ready = false;
  haveBlob = false;
  setSource(false, noRead);
  if (size <= 0) { ret(ERR_NO_BLOB); return 0; }
  let base = blobBase();
  if (!ensureMemory(<u64>base + <u64><u32>size)) { ret(ERR_OUT_OF_MEMORY); return 0; }
  haveBlob = true;
  blobSize = <u32>size;
  memEnd = base + <usize>size;
  ret(ERR_OK);
  return <i32>base;
}

function noRead(off: i32, dst: i32, len: i32): i32 { return -1; }

/** Streamed mode: the blob (size bytes) stays with the host and is read through `reader`. */
export function blobExternal(size: i32, reader: Reader): i32 {
  ready = false;
  haveBlob = false;
  setSource(true, reader);
  if (size <= 0) return ret(ERR_NO_BLOB);
  haveBlob = true;
  blobSize = <u32>size;
  return ret(ERR_OK);
}

export function kw_init(): i32 {
  ready = false;
  if (!haveBlob) return ret(ERR_NO_BLOB);
  return gExternal ? initExternal() : initCopied();
}

function initCopied(): i32 {
  let b = blobBase();
  let r = validateBlob(b, blobSize, false);
  if (r != ERR_OK) return ret(r, vErrIndex);
  let arena = align16(<u64>b + <u64>blobSize);
  let state = align16(arena + <u64>vArenaSize);
  let scratch = align16(state + <u64>vStateSize);
  let end = scratch + <u64>vScratchSize;
  if (!ensureMemory(end)) return ret(ERR_OUT_OF_MEMORY);
  setRegions(<usize>arena, <usize>state, <usize>scratch, vScratchSize);
  zeroBytes(<usize>arena, <usize>(end - arena));
  memEnd = <usize>end;
  ready = true;
  return ret(ERR_OK);
}

// @ts-ignore: decorator
@inline function hdr(b: usize, off: i32): u32 { return load<u32>(b + <usize>off); }

/**
 * Streamed init: the header, then (sizes checked) memory for the tables + arena + state + scratch
 * + staging, the CRC over the whole blob read through the staging area, the tables, then the
 * validation of every op with its constants read into the staging area.
 */
function initExternal(): i32 {
  let b = blobBase();
  if (blobSize < <u32>HEADER_SIZE) return ret(ERR_BAD_SIZE);
  if (!ensureMemory(<u64>b + <u64>HEADER_SIZE)) return ret(ERR_OUT_OF_MEMORY);
  if (!readBlob(0, b, <u32>HEADER_SIZE)) return ret(ERR_READ_FAILED);
  if (hdr(b, H_MAGIC) != <u32>MAGIC) return ret(ERR_BAD_MAGIC);
  if (<i32>load<u16>(b + <usize>H_VERSION) != FORMAT_VERSION) return ret(ERR_BAD_VERSION);
  if (<i32>load<u16>(b + <usize>H_HEADER_SIZE) != HEADER_SIZE) return ret(ERR_BAD_HEADER);
  if (hdr(b, H_TOTAL_SIZE) != blobSize) return ret(ERR_BAD_SIZE);
  let head = hdr(b, H_CONSTS_OFF);
  let staging = hdr(b, H_STAGING_SIZE);
  if (staging == 0) return ret(ERR_NO_STAGING);
  let lim = <u32>LIMIT_MAX_REGION;
  if (head < <u32>HEADER_SIZE || head > blobSize || staging >= lim) return ret(ERR_BAD_HEADER);
  if (hdr(b, H_ARENA_SIZE) >= lim || hdr(b, H_STATE_SIZE) >= lim || hdr(b, H_SCRATCH_SIZE) >= lim) return ret(ERR_BAD_HEADER);
  let arena = align16(<u64>b + <u64>head);
  let state = align16(arena + <u64>hdr(b, H_ARENA_SIZE));
  let scratch = align16(state + <u64>hdr(b, H_STATE_SIZE));
  let stage = align16(scratch + <u64>hdr(b, H_SCRATCH_SIZE));
  let end = stage + <u64>staging;
  if (!ensureMemory(end)) return ret(ERR_OUT_OF_MEMORY);
  let c: u32 = 0xFFFFFFFF;
  for (let off: u32 = 16; off < blobSize; off += staging) {
    let n = blobSize - off < staging ? blobSize - off : staging;
    if (!readBlob(off, <usize>stage, n)) return ret(ERR_READ_FAILED);
    c = crc32Update(c, <usize>stage, <usize>n);
  }
  if (~c != hdr(b, H_CRC32)) return ret(ERR_BAD_CRC);
  if (!readBlob(0, b, head)) return ret(ERR_READ_FAILED);
  setStaging(<usize>stage, staging);
  let r = validateBlob(b, blobSize, true);
  if (r != ERR_OK) return ret(r, vErrIndex);
  setRegions(<usize>arena, <usize>state, <usize>scratch, vScratchSize);
  zeroBytes(<usize>arena, <usize>(stage - arena));
  memEnd = <usize>end;
  ready = true;
  return ret(ERR_OK);
}

export function kw_num_inputs(): i32 { return ready ? vNIn : 0; }
export function kw_num_outputs(): i32 { return ready ? vNOut : 0; }

function ioTensor(i: i32): i32 {
  return <i32>load<u16>(vIO + <usize>i * <usize>IO_SIZE + IO_TENSOR);
}
function tensorBytes(t: i32): i32 {
  return <i32>load<u32>(gTensors + <usize>t * <usize>TENSOR_SIZE + T_BYTES);
}

export function kw_input_ptr(index: i32): i32 {
  if (!ready) { ret(ERR_NOT_READY); return 0; }
  if (index < 0 || index >= vNIn) { ret(ERR_BAD_INDEX); return 0; }
  return <i32>tAddr(ioTensor(index));
}
export function kw_input_size(index: i32): i32 {
  if (!ready) { ret(ERR_NOT_READY); return 0; }
  if (index < 0 || index >= vNIn) { ret(ERR_BAD_INDEX); return 0; }
  return tensorBytes(ioTensor(index));
}
export function kw_output_ptr(index: i32): i32 {
  if (!ready) { ret(ERR_NOT_READY); return 0; }
  if (index < 0 || index >= vNOut) { ret(ERR_BAD_INDEX); return 0; }
  return <i32>tAddr(ioTensor(vNIn + index));
}
export function kw_output_size(index: i32): i32 {
  if (!ready) { ret(ERR_NOT_READY); return 0; }
  if (index < 0 || index >= vNOut) { ret(ERR_BAD_INDEX); return 0; }
  return tensorBytes(ioTensor(vNIn + index));
}

export function kw_invoke(): i32 {
  if (!ready) return ret(ERR_NOT_READY);
  let r = runOps();
  return ret(r, vErrIndex);
}

export function kw_reset_state(): i32 {
  if (!ready) return ret(ERR_NOT_READY);
  zeroBytes(gState, <usize>vStateSize);
  return ret(ERR_OK);
}

export function kw_self_test(): i32 {
  if (!ready) return ret(ERR_NOT_READY);
  if (vSelfTest == 0) return ret(ERR_NO_SELFTEST);
  zeroBytes(gState, <usize>vStateSize);
  let src = vSelfTest;
  for (let i = 0; i < vNIn; i++) {
    let t = ioTensor(i);
    let n = <usize>tensorBytes(t);
    if (!selfTestBytes(src, tAddr(t), n)) return ret(ERR_READ_FAILED);
    src += n;
  }
  let r = runOps();
  let bad = false;
  if (r == ERR_OK) {
    for (let i = 0; i < vNOut && !bad; i++) {
      let t = ioTensor(vNIn + i);
      let n = <usize>tensorBytes(t);
      let cmp = selfTestCompare(src, tAddr(t), n);
      if (cmp < 0) return ret(ERR_READ_FAILED);
      bad = cmp != 0;
      src += n;
    }
  }
  zeroBytes(gState, <usize>vStateSize);
  if (r != ERR_OK) return ret(r, vErrIndex);
  return ret(bad ? ERR_SELFTEST_MISMATCH : ERR_OK);
}

/** Copy n self-test bytes at `src` (an address when copied in, a blob offset when streamed) to dst. */
function selfTestBytes(src: usize, dst: usize, n: usize): bool {
  if (gExternal) return readBlob(<u32>src, dst, <u32>n);
  for (let k: usize = 0; k < n; k++) store<u8>(dst + k, load<u8>(src + k));
  return true;
}

/** 0 when the n self-test bytes at `src` equal the bytes at `out`, 1 when not, -1 on a failed read. */
function selfTestCompare(src: usize, out: usize, n: usize): i32 {
  if (!gExternal) {
    for (let k: usize = 0; k < n; k++) if (load<u8>(out + k) != load<u8>(src + k)) return 1;
    return 0;
  }
  // streamed: the expected bytes come through the staging area (free once the ops have run)
  for (let k: usize = 0; k < n; k += <usize>gStagingSize) {
    let m = n - k < <usize>gStagingSize ? n - k : <usize>gStagingSize;
    if (!readBlob(<u32>(src + k), gStaging, <u32>m)) return -1;
    for (let j: usize = 0; j < m; j++) if (load<u8>(gStaging + j) != load<u8>(out + k + j)) return 1;
  }
  return 0;
}

export function kw_last_error(): i32 { return lastError; }
export function kw_error_op(): i32 { return errorIndex; }
export function kw_memory_used(): i32 {
  if (memEnd == 0) return <i32>(staticArea() + CRC_TABLE_BYTES + OP_AREA_BYTES);
  return <i32>memEnd;
}
