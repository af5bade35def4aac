/** CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320; zlib's crc32). Same as assembly/crc32.ts. */
let TABLE: Uint32Array | null = null;

function table(): Uint32Array {
  if (TABLE) return TABLE;
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  TABLE = t;
  return t;
}

/** crc32 of bytes[start, end), optionally continuing from a previous crc. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, prev = 0): number {
  const t = table();
  let c = ~prev >>> 0;
  for (let i = start; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
