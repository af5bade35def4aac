/** The builtin options of the operators the converter reads, as plain objects with TFLite's field names. */
import {
  AddOptions,
  BuiltinOptions,
  ConcatenationOptions,
  Conv2DOptions,
  DepthwiseConv2DOptions,
  FullyConnectedOptions,
  MulOptions,
  Operator,
  Pool2DOptions,
  ReducerOptions,
  ReshapeOptions,
  SoftmaxOptions,
  SqueezeOptions,
  Padding,
  ActivationFunctionType,
} from './generated/tflite-subset_generated.ts';

interface Checks {
  table(t: { bb_pos: number }, what: string): void;
  vector(t: { bb_pos: number }, id: number, elem: number, what: string): void;
}

const pad = (p: number) => Padding[p] ?? `padding ${p}`;
const act = (a: number) => ActivationFunctionType[a] ?? `activation ${a}`;

type Reader = (op: Operator, B: Checks, what: string) => Record<string, any>;

const READERS: Partial<Record<BuiltinOptions, Reader>> = {
  [BuiltinOptions.Conv2DOptions]: (op, B, what) => {
    const o = op.builtinOptions(new Conv2DOptions()) as Conv2DOptions;
    B.table(o, what);
    return {
      padding: pad(o.padding()),
      stride_w: o.strideW(),
      stride_h: o.strideH(),
      fused_activation_function: act(o.fusedActivationFunction()),
      dilation_w_factor: o.dilationWFactor(),
      dilation_h_factor: o.dilationHFactor(),
    };
  },
  [BuiltinOptions.DepthwiseConv2DOptions]: (op, B, what) => {
    const o = op.builtinOptions(new DepthwiseConv2DOptions()) as DepthwiseConv2DOptions;
    B.table(o, what);
    return {
      padding: pad(o.padding()),
      stride_w: o.strideW(),
      stride_h: o.strideH(),
      depth_multiplier: o.depthMultiplier(),
      fused_activation_function: act(o.fusedActivationFunction()),
      dilation_w_factor: o.dilationWFactor(),
      dilation_h_factor: o.dilationHFactor(),
    };
  },
  [BuiltinOptions.Pool2DOptions]: (op, B, what) => {
    const o = op.builtinOptions(new Pool2DOptions()) as Pool2DOptions;
    B.table(o, what);
    return {
      padding: pad(o.padding()),
      stride_w: o.strideW(),
      stride_h: o.strideH(),
      filter_width: o.filterWidth(),
      filter_height: o.filterHeight(),
      fused_activation_function: act(o.fusedActivationFunction()),
    };
  },
  [BuiltinOptions.FullyConnectedOptions]: (op, B, what) => {
    const o = op.builtinOptions(new FullyConnectedOptions()) as FullyConnectedOptions;
    B.table(o, what);
    return {
      fused_activation_function: act(o.fusedActivationFunction()),
      weights_format: o.weightsFormat(),
      keep_num_dims: o.keepNumDims(),
      asymmetric_quantize_inputs: o.asymmetricQuantizeInputs(),
    };
  },
  [BuiltinOptions.SoftmaxOptions]: (op, B, what) => {
    const o = op.builtinOptions(new SoftmaxOptions()) as SoftmaxOptions;
    B.table(o, what);
    return { beta: o.beta() };
  },
  [BuiltinOptions.ConcatenationOptions]: (op, B, what) => {
    const o = op.builtinOptions(new ConcatenationOptions()) as ConcatenationOptions;
    B.table(o, what);
    return { axis: o.axis(), fused_activation_function: act(o.fusedActivationFunction()) };
  },
  [BuiltinOptions.AddOptions]: (op, B, what) => {
    const o = op.builtinOptions(new AddOptions()) as AddOptions;
    B.table(o, what);
    return { fused_activation_function: act(o.fusedActivationFunction()) };
  },
  [BuiltinOptions.MulOptions]: (op, B, what) => {
    const o = op.builtinOptions(new MulOptions()) as MulOptions;
    B.table(o, what);
    return { fused_activation_function: act(o.fusedActivationFunction()) };
  },
  [BuiltinOptions.ReshapeOptions]: (op, B, what) => {
    const o = op.builtinOptions(new ReshapeOptions()) as ReshapeOptions;
    B.table(o, what);
    B.vector(o, 0, 4, `${what} new_shape`);
    return { new_shape: Array.from(o.newShapeArray() ?? []) };
  },
  [BuiltinOptions.ReducerOptions]: (op, B, what) => {
    const o = op.builtinOptions(new ReducerOptions()) as ReducerOptions;
    B.table(o, what);
    return { keep_dims: o.keepDims() };
  },
  [BuiltinOptions.SqueezeOptions]: (op, B, what) => {
    const o = op.builtinOptions(new SqueezeOptions()) as SqueezeOptions;
    B.table(o, what);
    B.vector(o, 0, 4, `${what} squeeze_dims`);
    return { squeeze_dims: Array.from(o.squeezeDimsArray() ?? []) };
  },
  [BuiltinOptions.PadOptions]: () => ({}),
};

/** The options of `op` (of union type `type`), or null when the schema subset does not read that type. */
export function readOptions(op: Operator, type: BuiltinOptions, B: Checks, what: string): Record<string, any> | null {
  const r = READERS[type];
  return r ? r(op, B, what) : null;
}
