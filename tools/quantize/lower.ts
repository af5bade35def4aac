/**
 * Lowering: prepared Graph (prepare.ts) + calibrated qparams -> runtime ops with params
 * exactly as tools/blob/spec.ts defines them, plus the int8/int32 tensor list. Each node is
 * lowered by its table entry (tools/layers/).
 *
 * Every IR tensor is stored in its Keras logical layout (channels_first tensors stay NCHW;
 * the conv/pool ops that need NHWC get LAYOUT transposes around them). Layers whose lowering is
 * an alias (reshapes, dropout) emit no op and share their input's bytes. Const params are
 * `ConstRef`s, resolved to byte offsets by the blob assembler.
 */
import type { Graph, IRNode } from '../graph/ir.ts';
import { INT16_OPS } from '../blob/spec.ts';
import type { Precision } from './qparams.ts';
import { entryFor } from '../layers/index.ts';
import type { Calibration, LOp, Lowered, LowerOptions, LTensor } from './lower-util.ts';
import { UserError, EXIT } from '../errors.ts';
import { makeLowerCtx } from './lower-ctx.ts';
import { weightNotes } from './weights16.ts';

/**
 * The activation precision of node n: the one `opts.precision` gives its layer (a node a
 * rewrite derived from layer L is named `L/...`), int8 when none is given or when one of its
 * ops has no int16 kernel (INT16_OPS).
 */
function wantsInt16(n: IRNode, opts: LowerOptions): boolean {
  return (opts.precision?.get(n.name) ?? opts.precision?.get(n.name.split('/')[0])) === 'int16';
}

function precisionOf(n: IRNode, opts: LowerOptions): Precision {
  if (!wantsInt16(n, opts)) return 'int8';
  const lower = entryFor(n.className, `layer '${n.name}'`).lower;
  if ('alias' in lower) return 'int16';
  if (!('emit' in lower)) return 'int8';
  return lower.ops.every((op) => INT16_OPS.includes(op) || lower.int8Only?.includes(op)) ? 'int16' : 'int8';
}

/**
 * An int16 DENSE/CONV2D/DEPTHWISE_CONV2D requantises with a right shift of 15 - shift >= 1: a
 * layer whose multiplier needs a shift above 14 (an output range 2^14 times narrower than its
 * accumulator's unit) cannot run on int16.
 */
function checkInt16Shifts(ops: LOp[], tensors: LTensor[]): void {
  for (const op of ops) {
    const sh = op.params.shift;
    if (!['DENSE', 'CONV2D', 'DEPTHWISE_CONV2D'].includes(op.name) || tensors[op.params.out as number].dtype !== 'int16') continue;
    if (typeof sh === 'object' && !Array.isArray(sh) && new Int8Array(sh.bytes.buffer, sh.bytes.byteOffset, sh.bytes.length).some((v) => v > 14))
      throw new UserError(
        `layer '${op.layer}': its output range is too narrow for int16 (requantisation multiplier above 2^14); convert with --precision int8`,
        EXIT.UNSUPPORTED,
      );
  }
}

export function lowerGraph(g: Graph, cal: Calibration, opts: LowerOptions): Lowered {
  const L = makeLowerCtx(g, cal, opts, (cls) => entryFor(cls, 'mask rule').passesMask);
  const { B, tensors, ops, notes, irToL, absorbed, prec, lt, home, alias } = L;
  // a model input is stored in the precision of the first layer that reads it
  for (const id of g.inputs) {
    const first = g.nodes.find((n) => n.inputs.includes(id));
    prec.cur = first ? precisionOf(first, opts) : 'int8';
    lt(id);
  }
  const keptInt8: string[] = [];
  for (const n of g.nodes) {
    if (absorbed.has(n)) continue;
    const lower = entryFor(n.className, `layer '${n.name}'`).lower;
    prec.cur = precisionOf(n, opts);
    if (prec.cur === 'int8' && wantsInt16(n, opts)) keptInt8.push(`'${n.name}' (${n.className})`);
    // an alias shares its input's bytes, in whatever precision they are
    if ('alias' in lower) alias(n.outputs[0], home(n.inputs[0]));
    else if ('emit' in lower) lower.emit(n, L);
    else throw new Error(`layer '${n.name}' (${n.className}) reached lowering without its rewrite (prepare.ts)`);
  }
  const outputs = g.outputs.map((id) => {
    const i = irToL.get(id);
    if (i === undefined) throw new Error(`model output '${g.tensors[id].name}' was not produced`);
    return i;
  });
  const inputs = g.inputs.map((id) => irToL.get(id)!);
  const wide = ops.filter((o) => o.name !== 'REQUANT' && o.outputs.some((t) => tensors[t].dtype === 'int16')).length;
  const scheme = opts.weightPrecision === 'int16' ? 'int16 weights in Dense and Conv (16x16), int8 elsewhere' : "int8 weights, TFLite's 16x8";
  if (wide) notes.push(`int16 activations (${scheme}) in ${wide} of ${ops.length} ops`);
  if (keptInt8.length) notes.push(`int16 asked, int8 kept (no int16 kernel): ${keptInt8.join(', ')}`);
  if (opts.weightPrecision === 'int16') notes.push(...weightNotes(ops));
  checkInt16Shifts(L.ops, tensors);
  const requants = ops.filter((o) => o.name === 'REQUANT').length;
  if (requants) notes.push(`${requants} REQUANT op(s) join int8 and int16 layers`);
  return { tensors, ops, inputs, outputs, batch: B, notes };
}

export type { ConstRef, Lowered, ParamValue, LowerOptions } from './lower-util.ts';
