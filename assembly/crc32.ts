// CRC-32 (IEEE 802.3, zlib), table built once into the static area.
import { crcTable } from './memory';

let tableReady = false;

function buildTable(): void {
  let t = crcTable();
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) ? (0xEDB88320 ^ (c >>> 1)) : (c >>> 1);
    store<u32>(t + (<usize>n << 2), c);
  }
  tableReady = true;
}

/** Running CRC over more bytes: start with 0xFFFFFFFF, finish with ~c. */
export function crc32Update(c: u32, ptr: usize, n: usize): u32 {
  if (!tableReady) buildTable();
  let t = crcTable();
  let end = ptr + n;
  while (ptr < end) {
    c = load<u32>(t + (<usize>((c ^ <u32>load<u8>(ptr)) & 0xFF) << 2)) ^ (c >>> 8);
    ptr++;
  }
  return c;
}

export function crc32(ptr: usize, n: usize): u32 {
  return ~crc32Update(0xFFFFFFFF, ptr, n);
}
