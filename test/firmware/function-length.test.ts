/**
 * No C function in firmware-host/ is longer than 120 lines, blank lines and comments not
 * counted (the rule ESLint's max-lines-per-function applies to the TypeScript and
 * AssemblyScript sources). A function is a top-level `{ ... }` block whose opening line (or the
 * line before it) holds a parameter list; its body ends at the matching `}` in column 0.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixtures.ts';

const MAX = 120;

function cFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return cFiles(p);
    return /\.(c|h|ino)$/.test(n) ? [p] : [];
  });
}

/** Source lines with comments removed (block comments may span lines). */
function codeLines(text: string): string[] {
  const noBlock = text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '));
  return noBlock.split('\n').map((l) => l.replace(/\/\/.*$/, ''));
}

function functions(text: string): { name: string; line: number; length: number }[] {
  const lines = codeLines(text);
  const out: { name: string; line: number; length: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const oneLine = /^[A-Za-z_][^;]*\)\s*\{.*\}\s*$/.exec(lines[i]);
    if (oneLine) {
      out.push({ name: /([A-Za-z_]\w*)\s*\(/.exec(lines[i])?.[1] ?? '?', line: i + 1, length: 1 });
      continue;
    }
    const opens = /^[A-Za-z_].*\)\s*\{\s*$/.test(lines[i]) || (lines[i].trim() === '{' && /\)\s*$/.test(lines[i - 1] ?? ''));
    if (!opens || /^(typedef|struct|enum|union|static const|const)\b/.test(lines[i])) continue;
    let end = i + 1;
    while (end < lines.length && !/^\}/.test(lines[end])) end++;
    const length = lines.slice(i + 1, end).filter((l) => l.trim() !== '').length;
    const head = lines[i].trim() === '{' ? lines[i - 1] : lines[i];
    const name = /([A-Za-z_]\w*)\s*\(/.exec(head)?.[1] ?? '?';
    out.push({ name, line: i + 1, length });
    i = end;
  }
  return out;
}

function longFunctions(text: string) {
  return functions(text).filter((f) => f.length > MAX);
}

describe('C functions fit on a screen', () => {
  it('the checker counts a long function and skips comments and blank lines', () => {
    const body = Array.from({ length: MAX + 1 }, (_, k) => `  x += ${k};`).join('\n');
    expect(longFunctions(`int f(int x)\n{\n${body}\n  return x;\n}\n`)).toEqual([{ name: 'f', line: 2, length: MAX + 2 }]);
    const commented = Array.from({ length: MAX * 2 }, () => '  /* note */\n\n  // more').join('\n');
    expect(longFunctions(`static int g(void) {\n${commented}\n  return 0;\n}\n`)).toEqual([]);
  });

  for (const file of cFiles(join(repoRoot, 'firmware-host'))) {
    it(relative(repoRoot, file), () => {
      const text = readFileSync(file, 'utf8');
      // a .c file that only #includes another (the Arduino library's wrappers) has no function of its own
      const wrapper = codeLines(text).every((l) => l.trim() === '' || /^#\s*include\b/.test(l.trim()));
      if (file.endsWith('.c') && !wrapper) expect(functions(text).length, 'functions found').toBeGreaterThan(0);
      expect(longFunctions(text)).toEqual([]);
    });
  }
});
