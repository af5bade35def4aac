/**
 * Safe unzip for .keras and .npz: sizes are checked from the central directory BEFORE any
 * entry is inflated (zip bombs), path-traversal names are ignored, only wanted entries are
 * inflated, and every failure is a one-line UserError naming the file.
 */
import { unzipSync } from 'fflate';
import { badFile, UserError } from '../errors.ts';

const MAX_ZIP_TOTAL = 512 * 1024 * 1024; // declared uncompressed bytes, all wanted entries
const MAX_ZIP_RATIO = 1100; // deflate cannot exceed ~1032:1 on real data

interface ZipEntryInfo {
  name: string;
  size: number; // compressed
  originalSize: number; // declared uncompressed
  compression: number;
}

function unsafeName(name: string): boolean {
  return name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name) || name.split(/[\\/]/).includes('..') || name.includes('\0');
}

/** List entries (central directory only, nothing inflated). */
function listZip(bytes: Uint8Array, file: string): ZipEntryInfo[] {
  const out: ZipEntryInfo[] = [];
  try {
    unzipSync(bytes, {
      filter: (f) => {
        out.push({ name: f.name, size: f.size, originalSize: f.originalSize, compression: f.compression });
        return false;
      },
    });
  } catch (e) {
    throw badFile(file, `corrupt or truncated zip archive (${oneLine(e)})`);
  }
  return out;
}

/**
 * Inflate the entries for which `want(name)` is true. Refuses absurd declared sizes or ratios
 * before inflating, ignores path-traversal names, and checks inflated sizes afterwards.
 */
export function unzipSafe(bytes: Uint8Array, file: string, want: (name: string) => boolean): Record<string, Uint8Array> {
  const entries = listZip(bytes, file);
  let total = 0;
  const chosen = new Set<string>();
  for (const e of entries) {
    if (unsafeName(e.name) || !want(e.name)) continue;
    if (e.compression !== 0 && e.compression !== 8) {
      throw badFile(file, `zip entry '${e.name}' uses compression method ${e.compression}; only stored/deflate are supported`);
    }
    if (e.originalSize > MAX_ZIP_TOTAL) {
      throw badFile(file, `zip entry '${e.name}' declares ${e.originalSize} uncompressed bytes; refusing more than ${MAX_ZIP_TOTAL}`);
    }
    if (e.originalSize > 1024 * 1024 && e.originalSize > MAX_ZIP_RATIO * Math.max(1, e.size)) {
      throw badFile(file, `zip entry '${e.name}' declares a compression ratio of ${Math.round(e.originalSize / Math.max(1, e.size))}:1 (zip bomb?); refusing`);
    }
    total += e.originalSize;
    if (total > MAX_ZIP_TOTAL) throw badFile(file, `zip entries total more than ${MAX_ZIP_TOTAL} uncompressed bytes; refusing`);
    chosen.add(e.name);
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (f) => chosen.has(f.name) });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw badFile(file, `corrupt or truncated zip archive (${oneLine(e)})`);
  }
  for (const e of entries) {
    if (chosen.has(e.name) && files[e.name] && files[e.name].length !== e.originalSize) {
      throw badFile(file, `zip entry '${e.name}' inflated to ${files[e.name].length} bytes but declares ${e.originalSize}; archive is corrupt`);
    }
  }
  return files;
}

export function oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m
    .split('\n')[0]
    .trim()
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 160);
}
