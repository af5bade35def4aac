// Runtime exports: exactly tools/blob/spec.ts EXPORTS (all i32 in, i32 out). No imports, no
// allocation: the module works on raw linear memory laid out by memory.ts.
import {
  ABI_VERSION, FORMAT_VERSION, IO_SIZE, IO_TENSOR, TENSOR_SIZE, T_BYTES,
  ERR_OK, ERR_NO_BLOB, ERR_OUT_OF_MEMORY, ERR_NOT_READY, ERR_BAD_INDEX, ERR_SELFTEST_MISMATCH, ERR_NO_SELFTEST,
} from './abi.gen';
import { gLimit, ensureMemory, blobBase, staticArea, align16, zeroBytes, CRC_TABLE_BYTES, LAYOUT_AREA_BYTES } from './memory';
import { validateBlob, runOps, RUNTIME_MASK_0, RUNTIME_MASK_1, vArenaSize, vStateSize, vScratchSize, vIO, vNIn, vNOut, vSelfTest, vErrIndex } from './blob';
import { setRegions, tAddr, gTensors, gState } from './check';

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
  if (size <= 0) { ret(ERR_NO_BLOB); return 0; }
  let base = blobBase();
  if (!ensureMemory(<u64>base + <u64><u32>size)) { ret(ERR_OUT_OF_MEMORY); return 0; }
  haveBlob = true;
  blobSize = <u32>size;
  memEnd = base + <usize>size;
  ret(ERR_OK);
  return <i32>base;
}

export function kw_init(): i32 {
  ready = false;
  if (!haveBlob) return ret(ERR_NO_BLOB);
  let b = blobBase();
  let r = validateBlob(b, blobSize);
  if (r != ERR_OK) return ret(r, vErrIndex);
  let arena = align16(<u64>b + <u64>blobSize);
  let state = align16(arena + <u64>vArenaSize);
  let scratch = align16(state + <u64>vStateSize);
  let end = scratch + <u64>vScratchSize;
  if (!ensureMemory(end)) return ret(ERR_OUT_OF_MEMORY);
  setRegions(<usize>arena, <usize>state, <usize>scratch);
  zeroBytes(<usize>arena, <usize>(end - arena));
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
    let dst = tAddr(t);
    let n = <usize>tensorBytes(t);
    for (let k: usize = 0; k < n; k++) store<u8>(dst + k, load<u8>(src + k));
    src += n;
  }
  let r = runOps();
  let bad = false;
  if (r == ERR_OK) {
    for (let i = 0; i < vNOut && !bad; i++) {
      let t = ioTensor(vNIn + i);
      let out = tAddr(t);
      let n = <usize>tensorBytes(t);
      for (let k: usize = 0; k < n; k++) if (load<u8>(out + k) != load<u8>(src + k)) { bad = true; break; }
      src += n;
    }
  }
  zeroBytes(gState, <usize>vStateSize);
  if (r != ERR_OK) return ret(r, vErrIndex);
  return ret(bad ? ERR_SELFTEST_MISMATCH : ERR_OK);
}

export function kw_last_error(): i32 { return lastError; }
export function kw_error_op(): i32 { return errorIndex; }
export function kw_memory_used(): i32 {
  if (memEnd == 0) return <i32>(staticArea() + CRC_TABLE_BYTES + LAYOUT_AREA_BYTES);
  return <i32>memEnd;
}
