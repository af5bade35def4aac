/**
 * Lowering: prepared Graph (prepare.ts) + calibrated qparams -> runtime ops with params
 * exactly as tools/blob/spec.ts defines them, plus the int8/int32 tensor list.
 *
 * Every IR tensor is stored in its Keras logical layout (channels_first tensors stay NCHW;
 * the conv/pool ops that need NHWC get LAYOUT transposes around them). Reshape-like layers
 * are aliases (no op, shared bytes). Const params are `ConstRef`s, resolved to byte offsets
 * by the blob assembler.
 */
import type { Graph } from '../graph/ir.ts';
import { UserError, EXIT } from '../errors.ts';
import type { Calibration } from './calibrate.ts';
import { lowerRecurrent } from './lower-rnn.ts';
import { RNN_CLASSES, RECURRENT, RECURRENT_UNSUPPORTED, IDENTITY, SUPPORTED_TEXT, type Lowered, type LowerOptions } from './lower-util.ts';
import { makeLowerCtx } from './lower-ctx.ts';
import { LOWER } from './lower-layers.ts';

export function lowerGraph(g: Graph, cal: Calibration, opts: LowerOptions): Lowered {
  const L = makeLowerCtx(g, cal, opts);
  const { B, tensors, ops, notes, irToL, absorbed, lt, alias, transposeL, toLast, rctx } = L;
  // model inputs
  for (const id of g.inputs) lt(id);

  for (const n of g.nodes) {
    if (absorbed.has(n)) continue;
    const cls = n.className;
    const c = n.config;
    if (RNN_CLASSES.has(cls)) {
      lowerRecurrent(n, rctx); // SimpleRNN, GRU, LSTM, Bidirectional (tools/quantize/lower-rnn.ts)
      continue;
    }
    if (RECURRENT.has(cls) || (cls === 'TimeDistributed' && RECURRENT.has(c.layer?.class_name))) {
      throw new UserError(`layer '${n.name}' (${cls}): not supported by the converter; supported: ${SUPPORTED_TEXT}`, EXIT.UNSUPPORTED);
    }
    const inIr = n.inputs[0];
    const outIr = n.outputs[0];

    if (IDENTITY.has(cls) || (cls === 'Flatten' && !(c.data_format === 'channels_first' && g.tensors[inIr].shape.length >= 4))) {
      alias(outIr, lt(inIr));
      continue;
    }
    if (cls === 'Flatten') {
      // channels_first Flatten moves channels last first, as Keras does
      const inL = lt(inIr);
      const r = tensors[inL].shape.length;
      const tl = transposeL(inL, toLast(r), n.name);
      alias(outIr, tl);
      continue;
    }

    const lower = LOWER[cls];
    if (!lower) {
      throw new UserError(
        `layer '${n.name}' (${cls}): not supported by the converter; supported: Dense, Conv1D/2D, DepthwiseConv1D/2D, SeparableConv1D/2D, pooling, BatchNormalization, activations, Softmax, PReLU, Add/Subtract/Average/Multiply/Maximum/Minimum/Concatenate, Embedding, Flatten/Reshape/Permute/RepeatVector/ZeroPadding/Cropping/UpSampling, Dropout-like layers`,
        EXIT.UNSUPPORTED,
      );
    }
    lower(n, L);
  }

  const outputs = g.outputs.map((id) => {
    const i = irToL.get(id);
    if (i === undefined) throw new Error(`model output '${g.tensors[id].name}' was not produced`);
    return i;
  });
  const inputs = g.inputs.map((id) => irToL.get(id)!);
  return { tensors, ops, inputs, outputs, batch: B, notes };
}

export type { ConstRef, Lowered, ParamValue, LowerOptions } from './lower-util.ts';

/** Classes the converter lowers: the lowering table, aliases, prepare-time rewrites and the recurrent layers. */
export const LOWERABLE = new Set([...Object.keys(LOWER), ...IDENTITY, 'Flatten', 'SeparableConv1D', 'SeparableConv2D', ...RNN_CLASSES]);

/** Fails fast (before calibration) on layers the converter cannot lower. */
export function assertLowerable(g: Graph): void {
  for (const n of g.nodes) {
    if (RECURRENT_UNSUPPORTED.has(n.className) || (n.className === 'TimeDistributed' && RECURRENT.has(n.config.layer?.class_name))) {
      const what = n.className === 'TimeDistributed' ? `TimeDistributed(${n.config.layer?.class_name})` : n.className;
      throw new UserError(
        `layer '${n.name}' (${what}): not supported by the converter; supported recurrent layers: SimpleRNN, GRU, LSTM and Bidirectional of them; supported: ${SUPPORTED_TEXT}`,
        EXIT.UNSUPPORTED,
      );
    }
    const cls = n.className === 'TimeDistributed' ? n.config.layer?.class_name : n.className;
    if (!LOWERABLE.has(cls)) {
      const what = n.className === 'TimeDistributed' ? `TimeDistributed(${cls})` : n.className;
      throw new UserError(`layer '${n.name}' (${what}): not supported by the converter; supported: ${SUPPORTED_TEXT}`, EXIT.UNSUPPORTED);
    }
  }
}
