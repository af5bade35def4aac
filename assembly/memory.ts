// Linear memory layout (no allocator, nothing is ever freed):
//
//   [0, __heap_base)          static data emitted by the compiler (none or a few bytes)
//   STATIC_AREA               CRC-32 table (1 KiB) + op area (544 B): what one evalOp keeps while it
//                             runs (LAYOUT's odometer, ADD_N's per-input terms), never across ops
//   BLOB_BASE (16-aligned)    blob buffer: kw_blob_buffer(size) bytes, copied in by the host
//   arena  (16-aligned)       activations, header.arenaSize bytes (tensor offsets, STORAGE_ARENA)
//   state  (16-aligned)       persistent state, header.stateSize bytes (STORAGE_STATE)
//   scratch (16-aligned)      per-op scratch, header.scratchSize bytes
//   end = kw_memory_used()
//
// Memory grows only in kw_blob_buffer and kw_init, never during kw_invoke, and never beyond
// the limit given to kw_set_memory_limit.

import { LIMIT_MAX_GROUP } from './abi.gen';

export const CRC_TABLE_BYTES: usize = 1024;
// the largest user: ADD_N, 32 B for each input and the output (LAYOUT needs 4 B per axis)
export const OP_AREA_BYTES: usize = <usize>(LIMIT_MAX_GROUP + 1) * 32;

@inline export function staticArea(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}
@inline export function crcTable(): usize {
  return staticArea();
}
@inline export function opArea(): usize {
  return staticArea() + CRC_TABLE_BYTES;
}
@inline export function blobBase(): usize {
  return (staticArea() + CRC_TABLE_BYTES + OP_AREA_BYTES + 15) & ~(<usize>15);
}

/** memory cap in bytes, 0 = none */
export let gLimit: u64 = 0;

/** Make sure linear memory covers [0, end). false when over the limit or growing fails. */
export function ensureMemory(end: u64): bool {
  if (end > 0xFFFF0000) return false;
  if (gLimit != 0 && end > gLimit) return false;
  let need = <i32>((end + 0xFFFF) >> 16);
  let cur = memory.size();
  if (need <= cur) return true;
  if (gLimit != 0 && (<u64>need << 16) > gLimit) return false;
  return memory.grow(need - cur) >= 0;
}

@inline export function align16(v: u64): u64 {
  return (v + 15) & ~(<u64>15);
}

/** zero [ptr, ptr+n) with word stores (ptr and n 16-aligned or not: tail handled bytewise) */
export function zeroBytes(ptr: usize, n: usize): void {
  let end = ptr + n;
  while (ptr + 4 <= end && (ptr & 3) == 0) {
    store<u32>(ptr, 0);
    ptr += 4;
  }
  while (ptr < end) {
    store<u8>(ptr, 0);
    ptr++;
  }
}
