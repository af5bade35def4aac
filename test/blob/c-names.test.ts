/**
 * Hostile Keras names (a C keyword, a reserved __ name, 'a-b' next to 'a_b', unicode, 200
 * characters, a comment terminator, quotes and a trigraph) survive whole in the blob and give a C
 * header that gcc compiles with -Wall -Wextra -Werror, as C and as C++, with distinct identifiers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobBuilder } from '../../tools/blob/writer.ts';
import { DTYPE } from '../../tools/blob/spec.ts';
import { parseBlob } from '../../tools/blob/parse.ts';
import { checkCName, cNameFromFile, toCHeader } from '../../tools/blob/c-header.ts';
import { cIdentifier, reservedReason } from '../../tools/blob/c-names.ts';
import { UserError, EXIT } from '../../tools/errors.ts';

const LONG = 'sensor_' + 'x'.repeat(193);
const INPUTS = ['int', '__x', 'a-b', 'a_b', 'température', LONG, LONG.slice(0, -1) + 'y', 'A-B', 'end */ "q" ??/ \\', '3d', '', 'NULL'];
const OUTPUT = 'scores/ü' + 'z'.repeat(195);
const LAYER = 'dense_' + 'é'.repeat(150);

/** One blob: every hostile name an input (4 int8 each), one DENSE op from the first to the output. */
function hostileBlob(): Uint8Array {
  const b = new BlobBuilder();
  const ins = INPUTS.map((_, i) => b.addTensor({ dtype: DTYPE.INT8, offset: 16 * i, bytes: 4 }));
  const out = b.addTensor({ dtype: DTYPE.INT8, offset: 16 * INPUTS.length, bytes: 4 });
  const ident = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  const q = { mult: b.addConstI32([1 << 30, 1 << 30, 1 << 30, 1 << 30]), shift: b.addConstI8([1, 1, 1, 1]) };
  const params = { in: ins[0], out, rows: 1, inDim: 4, outDim: 4, weights: b.addConst(Int8Array.from(ident)), bias: b.addConstI32([0, 0, 0, 0]) };
  b.addOp('DENSE', { ...params, ...q, zpOut: 0, actMin: -128, actMax: 127, lut: -1, layout: 0 }, LAYER);
  b.setIO(
    ins.map((t, i) => ({ tensor: t, dims: [1, 4], scale: 0.5, zeroPoint: 0, name: INPUTS[i] })),
    [{ tensor: out, dims: [1, 4], scale: 0.5, zeroPoint: 0, name: OUTPUT }],
  );
  b.setPlan({ arenaSize: 16 * (INPUTS.length + 1), batch: 1 });
  return b.build();
}

const defines = (h: string) => [...h.matchAll(/^#define (\w+)/gm)].map((m) => m[1]);

describe('names in the blob', () => {
  it('keeps I/O and layer names whole (the metadata section)', () => {
    const p = parseBlob(hostileBlob());
    expect(p.io.inputs.map((t) => t.name)).toEqual(INPUTS);
    expect(p.io.outputs[0].name).toBe(OUTPUT);
    expect(p.ops[0].layer).toBe(LAYER);
  });
});

describe('C identifiers', () => {
  it('are never reserved and never collide, and the names stay in comments', () => {
    const h = toCHeader(hostileBlob(), { name: cNameFromFile('int.blob'.replace(/\.blob$/, '')), source: 'int */.blob' });
    // KW_ALIGNAS and KW_MAYBE_UNUSED are defined once per #if branch
    const ids = defines(h).filter((d) => !['KW_ALIGNAS', 'KW_MAYBE_UNUSED'].includes(d));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(reservedReason(id.replace(/_H_$/, '_H')), id).toBeNull();
    const byName = ids.filter((d) => /^KW_INT_(INPUT|OUTPUT)_/.test(d));
    expect(byName).toHaveLength(INPUTS.length + 1);
    expect(byName).toContain('KW_INT_INPUT_A_B');
    expect(byName).toContain('KW_INT_INPUT_A_B_2');
    expect(byName).toContain('KW_INT_INPUT_A_B_3');
    expect(byName.every((d) => d.length <= 63)).toBe(true);
    for (const n of ['int', '__x', 'a-b', 'température', LONG]) expect(h).toContain(`'${n}'`);
  });

  it('compile with gcc -Wall -Wextra -Werror as C11 and as C++', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-cnames-'));
    try {
      writeFileSync(join(dir, 'int.h'), toCHeader(hostileBlob(), { name: cNameFromFile('int'), source: 'int */.blob' }));
      const ids = defines(toCHeader(hostileBlob(), { name: 'kw_int', source: 'x' })).filter((d) => /_(INPUT|OUTPUT)_/.test(d));
      const use = [
        '#include "int.h"',
        'int use(void);',
        `int use(void) { static const char *n = KW_INT_INPUT0_NAME; return kw_int[0] + (int)n[0] + ${ids.join(' + ')}; }`,
      ].join('\n');
      writeFileSync(join(dir, 'use.c'), use + '\n');
      writeFileSync(join(dir, 'use.cpp'), use + '\n');
      for (const [cc, src, std] of [
        ['gcc', 'use.c', '-std=c11'],
        ['gcc', 'use.c', '-std=c99'],
        ['g++', 'use.cpp', '-std=c++17'],
      ]) {
        const r = spawnSync(cc, [std, '-Wall', '-Wextra', '-Werror', '-pedantic', '-c', src, '-o', `${src}.o`], { cwd: dir, encoding: 'utf8' });
        expect(r.status, `${cc} ${std}: ${r.stderr}`).toBe(0);
      }
      // the name macro holds the whole UTF-8 name
      writeFileSync(join(dir, 'name.c'), '#include <stdio.h>\n#include "int.h"\nint main(void) { fputs(KW_INT_INPUT8_NAME, stdout); return 0; }\n');
      execFileSync('gcc', ['-Wall', '-Wextra', '-Werror', 'name.c', '-o', 'name'], { cwd: dir });
      expect(execFileSync(join(dir, 'name'), { encoding: 'utf8' })).toBe(INPUTS[8]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuse a reserved --name and derive safe names from files', () => {
    for (const bad of ['int', '__x', '_Model', 'NULL', 'a__b', 'model_'])
      expect(() => checkCName(bad)).toThrow(expect.objectContaining({ exitCode: EXIT.USAGE }) as unknown as UserError);
    expect(cNameFromFile('models/har v2.blob')).toBe('har_v2_blob');
    expect(cNameFromFile('1model')).toBe('kw_1model');
    expect(cNameFromFile('__init__')).toBe('init');
    expect(cIdentifier('double')).toBe('kw_double');
  });
});
