// Where the blob lives. Copy-in: the host copied it into linear memory (kw_blob_buffer).
// Streamed: it stays with the host (flash, a const array, a file) and the runtime reads what it
// needs through one host import (runtime-flash.wasm, assembly/index-flash.ts): the tables once
// at init, then each op's constants into the staging area before the op's prepare and eval.

/** The host's reader: copies blob bytes [off, off + len) to dst, returns len or < 0. */
export type Reader = (off: i32, dst: i32, len: i32) => i32;

function noReader(off: i32, dst: i32, len: i32): i32 { return -1; }

let reader: Reader = noReader;
/** true when the blob is read through the reader (kw_blob_external) */
export let gExternal = false;

export function setSource(external: bool, r: Reader): void {
  gExternal = external;
  reader = r;
}

/**
 * Read blob bytes [off, off + len) to dst; false when the host fails or returns fewer bytes.
 * Inline in the per-op path (each op's constants, loadOpConsts): a call there costs WAMR's
 * interpreters more than the read's own instructions.
 */
// @ts-ignore: decorator
@inline export function readBlobInline(off: u32, dst: usize, len: u32): bool {
  if (len == 0) return true;
  if (<u64>off + <u64>len > 0x7FFFFFFF) return false;
  return reader(<i32>off, <i32>dst, <i32>len) == <i32>len;
}

/** readBlobInline as a call (init and the other reads outside the per-op path) */
export function readBlob(off: u32, dst: usize, len: u32): bool {
  return readBlobInline(off, dst, len);
}
