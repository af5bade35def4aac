/**
 * tools/quantize/precision-search.ts with a fake converter: a chain of layers, each adding its
 * own quantization noise (int16 divides it by 256^2) to what it receives, and int16 doubling a
 * layer's activation bytes and adding instructions. The search promotes the layer that loses the
 * most first, stops at the target, and refuses a promotion over the budget.
 */
import { describe, expect, it } from 'vitest';
import { rankLosses, searchPrecision, type PrecisionMap, type Trial } from '../../tools/quantize/precision-search.ts';

/** name, relative noise power in int8, activation bytes */
const CHAIN: [string, number, number][] = [
  ['conv1', 1e-5, 4096],
  ['conv2', 1e-3, 2048],
  ['conv3', 1e-4, 1024],
  ['classes', 1e-6, 16],
];

function fakeConverter(calls: PrecisionMap[]) {
  return async (map: PrecisionMap): Promise<Trial> => {
    calls.push(map);
    let noise = 0;
    let ram = 0;
    let instr = 1000;
    const layers = CHAIN.map(([layer, n, bytes]) => {
      const p = map[layer] ?? 'int8';
      noise += p === 'int16' ? n / 65536 : n;
      ram += p === 'int16' ? 2 * bytes : bytes;
      instr += p === 'int16' ? 300 : 100;
      return { layer, sqnrDb: -10 * Math.log10(noise), precision: p };
    });
    return { layers, outputSqnrDb: layers.at(-1)!.sqnrDb, ramBytes: ram, flashBytes: 10_000, instructions: instr };
  };
}

describe('searchPrecision', () => {
  it('ranks layers by the SQNR they lose, not by their SQNR', async () => {
    const t = await fakeConverter([])({});
    // conv1 drops 40 dB below the input (to 50 dB), conv2 20 dB (to 30), conv3 0.4, classes almost nothing
    expect(t.layers.map((l) => Math.round(l.sqnrDb))).toEqual([50, 30, 30, 30]);
    expect(rankLosses(t.layers, new Set())).toEqual(['conv1', 'conv2', 'conv3', 'classes']);
    expect(rankLosses(t.layers, new Set())[0]).toBe('conv1');
    expect(rankLosses(t.layers, new Set(['conv1']))[0]).toBe('conv2');
  });

  it('promotes the worst layers until the target is met, reporting what each cost', async () => {
    const calls: PrecisionMap[] = [];
    const r = await searchPrecision(fakeConverter(calls), { targetSqnrDb: 38 });
    expect(r.met).toBe(true);
    expect(r.stoppedBy).toBe('target');
    expect(r.promoted.map((p) => p.layer)).toEqual(['conv1', 'conv2']);
    expect(r.map).toEqual({ conv1: 'int16', conv2: 'int16' });
    expect(r.trial.outputSqnrDb).toBeGreaterThanOrEqual(38);
    expect(r.promoted[1].outputSqnrDb[0]).toBeLessThan(31);
    expect(r.promoted.map((p) => [p.ramBytes, p.instructions])).toEqual([
      [4096, 200],
      [2048, 200],
    ]);
    expect(calls).toHaveLength(3);
  });

  it('met at int8: nothing promoted, one conversion', async () => {
    const calls: PrecisionMap[] = [];
    const r = await searchPrecision(fakeConverter(calls), { targetSqnrDb: 25 });
    expect([r.met, r.promoted, calls.length]).toEqual([true, [], 1]);
  });

  it('a promotion over the RAM budget is undone and the next layer tried; the best reached is returned', async () => {
    const int8Ram = CHAIN.reduce((a, c) => a + c[2], 0);
    const r = await searchPrecision(fakeConverter([]), { targetSqnrDb: 60, budget: { ramBytes: int8Ram + 2048 + 1024 } });
    expect(r.met).toBe(false);
    expect(r.stoppedBy).toBe('budget');
    expect(r.overBudget).toEqual(['conv1', 'classes']);
    expect(r.promoted.map((p) => p.layer)).toEqual(['conv2', 'conv3']);
    expect(r.trial.ramBytes).toBeLessThanOrEqual(int8Ram + 3072);
  });

  it('every layer promoted and still below the target: stops, not met', async () => {
    const r = await searchPrecision(fakeConverter([]), { targetSqnrDb: 200 });
    expect(r.met).toBe(false);
    expect(r.stoppedBy).toBe('all-int16');
    expect(Object.keys(r.map)).toHaveLength(CHAIN.length);
  });
});
