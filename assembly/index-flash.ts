// runtime-flash.wasm: runtime.wasm plus the streamed mode. The blob stays with the host (flash,
// a const array, a file); the runtime reads it through the one import kw.read_blob
// (tools/blob/spec.ts IMPORT_READ_BLOB).
import { blobExternal } from './runtime';
export * from './index';

// @ts-ignore: decorator
@external("kw", "read_blob")
declare function read_blob(offset: i32, dst: i32, len: i32): i32;

function readFromHost(offset: i32, dst: i32, len: i32): i32 {
  return read_blob(offset, dst, len);
}

export function kw_blob_external(size: i32): i32 {
  return blobExternal(size, readFromHost);
}
