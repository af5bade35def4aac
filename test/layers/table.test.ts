/**
 * The layer table is complete: every entry holds every part (normalisation, shape rule, float
 * reference, mask rule, quantization rule, lowering), names itself as Keras does, lowers to ops
 * the runtime has, and no spelling of one class names another. The supported set that messages
 * list is the table's. (test/layers/round-trip.test.ts drives every entry end to end.)
 */
import { describe, expect, it } from 'vitest';
import { canonicalClassName, entryOf, LAYERS, SUPPORTED_CLASSES, type LayerEntry } from '../../tools/layers/index.ts';
import { OPS } from '../../tools/blob/spec.ts';

/** The parts an entry lacks, one line each. */
function missingParts(e: LayerEntry): string[] {
  const out: string[] = [];
  const need = (ok: unknown, part: string) => {
    if (!ok) out.push(`${e.className}: no ${part}`);
  };
  need(/^[A-Z][A-Za-z0-9]*$/.test(e.className), "Keras class name (summary prints it; internal names start with '_')");
  need(Array.isArray(e.aliases), 'aliases list');
  need(typeof e.normalize === 'function', 'config normalisation');
  need(typeof e.rule?.outputShapes === 'function', 'shape rule');
  need(typeof e.float === 'function', 'float reference');
  need(typeof e.passesMask === 'boolean', 'mask rule');
  need(typeof e.quant?.weights === 'string' && e.quant.weights.length > 0, 'quantization rule for the weights');
  need(typeof e.quant?.output === 'string' && e.quant.output.length > 0, 'quantization rule for the output');
  const l = e.lower as Record<string, any>;
  const kinds = ['emit' in l, 'alias' in l, 'rewrite' in l].filter(Boolean).length;
  need(kinds === 1, 'lowering (exactly one of: ops to emit, an alias, a rewrite)');
  if ('emit' in l) need(typeof l.emit === 'function' && l.ops.length > 0, 'list of the ops its lowering emits');
  if ('rewrite' in l) need(typeof l.rewrite === 'function' && l.into.length > 0, 'list of the classes its rewrite produces');
  return out;
}

describe('the layer table', () => {
  it('every entry holds every part', () => {
    expect(LAYERS.flatMap(missingParts)).toEqual([]);
  });

  it('lowerings name only runtime ops, and every runtime op is reached by some entry', () => {
    const known = new Set(OPS.map((o) => o.name));
    const named = LAYERS.flatMap((e) => ('ops' in e.lower ? e.lower.ops : []));
    expect(named.filter((op) => !known.has(op))).toEqual([]);
    // SOFTMAX_TFLITE is TFLite's own softmax kernel, for .tflite input: Keras Softmax keeps the exact-table SOFTMAX
    const tfliteOnly = ['SOFTMAX_TFLITE'];
    expect([...known].filter((op) => !named.includes(op) && !tfliteOnly.includes(op)).sort()).toEqual([]);
  });

  it('a rewrite produces classes the table lowers', () => {
    const produced = LAYERS.flatMap((e) => ('into' in e.lower ? e.lower.into : [])).filter((c) => !c.startsWith('('));
    const internal = produced.filter((c) => c.startsWith('_'));
    expect(produced.filter((c) => !c.startsWith('_') && !entryOf(c))).toEqual([]);
    expect(internal.sort()).toEqual(['_MergeTime', '_SplitTime']);
  });

  it('each stored spelling names one class, and a class is its own spelling', () => {
    const spellings = LAYERS.flatMap((e) => [e.className, ...e.aliases]);
    expect(spellings.length).toBe(new Set(spellings).size);
    for (const e of LAYERS) {
      expect(canonicalClassName(e.className)).toBe(e.className);
      for (const a of e.aliases) expect(canonicalClassName(a)).toBe(e.className);
    }
  });

  it('the supported set is the table, and internal views are not in it', () => {
    expect(SUPPORTED_CLASSES).toEqual(LAYERS.map((e) => e.className));
    expect(entryOf('_MergeTime')).toBeUndefined();
    expect(entryOf('ConvLSTM2D')).toBeUndefined();
    expect(SUPPORTED_CLASSES.length).toBe(56);
  });
});
