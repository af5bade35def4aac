import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/fixtures.ts';
import { execFileSync } from 'node:child_process';
import { ABI_H_PATH, ABI_TS_PATH, generateAbi, snake } from '../../tools/blob/gen-abi.ts';
import { EXPORTS, OPS, ERR, ERR_TEXT, HEADER, HEADER_SIZE } from '../../tools/blob/spec.ts';

describe('generated ABI files', () => {
  const { ts, h } = generateAbi();
  it('assembly/abi.gen.ts is up to date with spec.ts (run `npm run gen:abi`)', () => {
    expect(readFileSync(ABI_TS_PATH, 'utf8')).toBe(ts);
  });
  it('firmware-host/include/kw_abi.h is up to date with spec.ts (run `npm run gen:abi`)', () => {
    expect(readFileSync(ABI_H_PATH, 'utf8')).toBe(h);
  });
  it('has every op code, param index, error and export', () => {
    for (const o of OPS) {
      expect(ts).toContain(`export const OP_${o.name}: i32 = ${o.code};`);
      o.params.forEach((p, i) => expect(ts).toContain(`export const P_${o.name}_${snake(p)}: i32 = ${i};`));
      expect(h).toContain(`#define KW_OP_${o.name} ${o.code}`);
    }
    for (const [k, v] of Object.entries(ERR)) {
      expect(ts).toContain(`export const ERR_${k}: i32 = ${v};`);
      expect(h).toContain(JSON.stringify(ERR_TEXT[v]));
    }
    for (const e of EXPORTS) expect(h).toContain(`"${e.name}"`);
    expect(ts).toContain(`export const H_BATCH: i32 = ${HEADER.batch};`);
    expect(ts).toContain(`export const HEADER_SIZE: i32 = ${HEADER_SIZE};`);
  });
  it('the C header compiles', () => {
    let cc: string | null = null;
    for (const c of ['cc', 'gcc', 'clang']) {
      try {
        execFileSync(c, ['--version'], { stdio: 'ignore' });
        cc = c;
        break;
      } catch {}
    }
    if (!cc) return; // no C compiler on this machine: the text comparison above still holds
    execFileSync(cc, ['-Wall', '-Werror', '-Wno-unused-variable', '-fsyntax-only', '-x', 'c', ABI_H_PATH]);
  });

  it('the recurrent ops share in, out, hState and the fields from scratch on (assembly/ops/rnn-common.ts reads them by SIMPLE_RNN positions)', () => {
    const byName = Object.fromEntries(OPS.map((o) => [o.name, o.params]));
    const simple = byName.SIMPLE_RNN;
    const fromScratch = (ps: string[]) => ps.slice(ps.indexOf('scratch'), ps.indexOf('scratch') + 11);
    for (const op of ['GRU', 'LSTM']) {
      expect(byName[op].slice(0, 3)).toEqual(['in', 'out', 'hState']);
      expect(fromScratch(byName[op])).toEqual(fromScratch(simple));
    }
    expect(fromScratch(simple)).toEqual(['scratch', 'maskIds', 'batch', 'steps', 'inDim', 'units', 'flags', 'wx', 'bx', 'mx', 'sx']);
  });

  it('no op kernel reads a parameter by a literal index', () => {
    const dir = join(repoRoot, 'assembly');
    const files = [...readdirSync(join(dir, 'ops')).map((f) => join(dir, 'ops', f)), join(dir, 'blob.ts'), join(dir, 'check.ts')];
    const literal = /\b(prm|tP|cP)\([A-Za-z]+, \d+\)|\b(cTensor|cDtype|cRange|cDim|cGeom|cPad|cZp8|cShift|cMult|cConst)\(\d+[,)]|\bcAct\(\d|base \+ \d/;
    const hits = files
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((l, i) => `${f}:${i + 1}: ${l.trim()}`),
      )
      .filter((l) => literal.test(l));
    expect(hits).toEqual([]);
  });
});
