/** A copy of a built blob with its header rounding field set to `value` (0..3; 2 and 3 are invalid) and the CRC redone. */
import { crc32 } from '../../tools/blob/crc32.ts';
import { FLAG, HEADER, ROUNDING_SHIFT } from '../../tools/blob/spec.ts';

export function withRoundingField(blob: Uint8Array, value: number): Uint8Array {
  const b = blob.slice();
  const dv = new DataView(b.buffer);
  dv.setUint32(HEADER.flags, (dv.getUint32(HEADER.flags, true) & ~FLAG.ROUNDING_MASK) | (value << ROUNDING_SHIFT), true);
  dv.setUint32(HEADER.crc32, crc32(b, 16) >>> 0, true);
  return b;
}
