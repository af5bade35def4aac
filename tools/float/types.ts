/** Shared types of the float reference forward pass. */
import type { FloatTensor, IRNode } from '../graph/ir.ts';

/** Per-sample time mask [B, T] (1 = valid step), as Keras propagates from Embedding(mask_zero)/Masking. */
export interface TimeMask {
  batch: number;
  steps: number;
  data: Uint8Array;
}

/** min/max of one named internal quantity of a recurrent layer over all steps and samples. */
export interface Range {
  min: number;
  max: number;
}

/**
 * Internal ranges of one recurrent node execution. Keys:
 *  SimpleRNN: 'pre' (x W + h U + b), 'h'
 *  LSTM: 'i_pre','f_pre','c_pre','o_pre' (gate pre-activations), 'i','f','g' (activation(c_pre)),
 *        'o', 'c' (cell state), 'act_c' (activation(c)), 'h'
 *  GRU:  'z_pre','r_pre','h_pre' (candidate pre-activation), 'x_z','x_r','x_h' (input parts incl.
 *        input bias), 'rec_z','rec_r','rec_h' (recurrent parts; reset_after: incl. recurrent bias,
 *        before the reset multiply; reset_before: the matmul of r*h), 'z','r','hh' (candidate), 'h'
 * Bidirectional prefixes the keys with 'forward/' and 'backward/'.
 */
export type RecurrentInfo = Record<string, Range>;

export interface LayerCtx {
  /** Masks of the node inputs (aligned with inputs), null when none. */
  inMasks: (TimeMask | null)[];
  /** Set by the layer to define output masks; when left undefined the runner applies the default rule. */
  outMasks?: (TimeMask | null)[];
  state?: FloatState;
  /** Collects recurrent ranges (only when the caller asked for them). */
  recurrent?: RecurrentInfo;
}

export type LayerFn = (node: IRNode, inputs: FloatTensor[], ctx: LayerCtx) => FloatTensor[];

/**
 * States of stateful RNN layers across runFloat calls (Keras stateful=True semantics: the final
 * states of one call are the initial states of the next until reset()). Keyed by node name
 * (Bidirectional: `<name>/forward`, `<name>/backward`); each entry is the list of state tensors
 * ([h] or [h, c]) of shape [batch, units].
 */
export class FloatState {
  readonly states = new Map<string, FloatTensor[]>();
  reset(name?: string): void {
    if (name === undefined) this.states.clear();
    else for (const k of [...this.states.keys()]) if (k === name || k.startsWith(name + '/')) this.states.delete(k);
  }
}

export function rangeUpdate(info: RecurrentInfo | undefined, key: string, v: ArrayLike<number>): void {
  if (!info) return;
  let r = info[key];
  if (!r) r = info[key] = { min: Infinity, max: -Infinity };
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x < r.min) r.min = x;
    if (x > r.max) r.max = x;
  }
}
