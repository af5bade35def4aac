/**
 * One Keras layer class: everything the converter knows about it, in one object. Every stage
 * reads these entries (tools/layers/index.ts); none keeps a list of classes of its own.
 */
import type { Graph, IRNode, IRTensor } from '../graph/ir.ts';
import type { NormalizeCtx } from '../graph/config.ts';
import type { LayerRule } from '../graph/shapes.ts';
import type { LayerFn } from '../float/types.ts';
import type { LowerCtx } from '../quantize/lower-ctx.ts';

/**
 * Class-specific config normalisation: `c` starts as the raw config minus the keys every
 * layer drops; bring this class's keys (Keras 1/2/3 and tfjs spellings) to canonical form.
 */
export type Normalize = (c: Record<string, any>, src: Record<string, any>, n: NormalizeCtx) => void;

/** What a rewrite may do to the graph (tools/quantize/prepare.ts provides it). */
export interface RewriteKit {
  graph: Graph;
  newTensor(name: string, shape: IRTensor['shape'], producer: number): IRTensor;
  uniqueName(base: string): string;
  /** A fresh node (id and parameter counts are set by the caller). */
  node(name: string, className: string, config: Record<string, any>, inputs: number[], outputs: number[], weights?: IRNode['weights']): IRNode;
}

/** How the layer becomes runtime ops. */
export type Lowering =
  /** The ops it emits (runtime op names of tools/blob/spec.ts) and the function that emits them. */
  | {
      ops: readonly string[];
      /** ops it emits only for int8 files (a .tflite kernel), left out when deciding whether the layer can run int16 */
      int8Only?: readonly string[];
      emit(n: IRNode, L: LowerCtx): void;
    }
  /** No op: the output shares its input's bytes. */
  | { alias: true }
  /**
   * Replaced before calibration by nodes of other classes (so that every intermediate tensor is
   * calibrated); the replacement's entries lower it.
   */
  | { rewrite(n: IRNode, kit: RewriteKit): IRNode[]; into: readonly string[] };

/** How the layer is quantized. */
export interface QuantRule {
  /** How its weights are stored: 'none', 'int8 per output channel, int32 bias', ... */
  weights: string;
  /** Where the output's scale and zero point come from: 'calibrated', 'the input's', ... */
  output: string;
  /**
   * A non-linear `activation` option becomes its own Activation node before calibration, so
   * its input range is measured; the lowering fuses it back into the op.
   */
  splitActivation?: boolean;
  /** A BatchNormalization reading only this layer's linear output is folded into its weights. */
  absorbsBatchNorm?: boolean;
}

export interface LayerEntry {
  /** Keras's class name: the key of the table and what summary prints. */
  className: string;
  /** Other stored spellings of the class (Keras 1 names, short aliases). */
  aliases: readonly string[];
  normalize: Normalize;
  /** Config lint (with the text it prints), shape rule, weights (parameter count), MACs. */
  rule: LayerRule;
  /** The float reference. */
  float: LayerFn;
  /** Passes its input's time mask on unchanged (Keras supports_masking without compute_mask). */
  passesMask: boolean;
  quant: QuantRule;
  lower: Lowering;
}

/** Normalisation for classes whose config keeps Keras's names as stored. */
export const keepConfig: Normalize = () => {};
