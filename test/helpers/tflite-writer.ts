/**
 * Writes small .tflite files for the tests with the flatbuffers Builder and the generated schema
 * classes: a one-FULLY_CONNECTED int8 model by default, every part overridable so a test can make
 * exactly one thing wrong.
 */
import * as flatbuffers from 'flatbuffers';
import {
  Buffer as FbBuffer,
  BuiltinOptions,
  FullyConnectedOptions,
  Model,
  Operator,
  OperatorCode,
  QuantizationParameters,
  ReducerOptions,
  SubGraph,
  Tensor,
  TensorType,
} from '../../tools/readers/tflite/generated/tflite-subset_generated.ts';

interface TTensor {
  name: string;
  shape: number[];
  type: TensorType;
  buffer?: number;
  scale?: number[];
  zeroPoint?: number[];
  axis?: number;
}

interface TOp {
  code: number;
  version: number;
  inputs: number[];
  outputs: number[];
  /** FULLY_CONNECTED options: the fused activation (0 NONE, 1 RELU, 3 RELU6). */
  fc?: { activation: number };
  /** Any other builtin options: their union type and a function that builds the table. */
  options?: { type: BuiltinOptions; build(b: flatbuffers.Builder): number };
}

export interface TModel {
  tensors: TTensor[];
  ops: TOp[];
  inputs: number[];
  outputs: number[];
  buffers: (Uint8Array | null)[];
  subgraphs?: number;
}

function tensor(b: flatbuffers.Builder, t: TTensor): number {
  const name = b.createString(t.name);
  const shape = Tensor.createShapeVector(b, t.shape);
  let q = 0;
  if (t.scale) {
    const s = QuantizationParameters.createScaleVector(b, t.scale);
    const z = QuantizationParameters.createZeroPointVector(b, (t.zeroPoint ?? t.scale.map(() => 0)).map(BigInt));
    QuantizationParameters.startQuantizationParameters(b);
    QuantizationParameters.addScale(b, s);
    QuantizationParameters.addZeroPoint(b, z);
    QuantizationParameters.addQuantizedDimension(b, t.axis ?? 0);
    q = QuantizationParameters.endQuantizationParameters(b);
  }
  Tensor.startTensor(b);
  Tensor.addShape(b, shape);
  Tensor.addType(b, t.type);
  Tensor.addBuffer(b, t.buffer ?? 0);
  Tensor.addName(b, name);
  if (q) Tensor.addQuantization(b, q);
  return Tensor.endTensor(b);
}

function operator(b: flatbuffers.Builder, op: TOp, index: number): number {
  const ins = Operator.createInputsVector(b, op.inputs);
  const outs = Operator.createOutputsVector(b, op.outputs);
  const opts = op.fc
    ? FullyConnectedOptions.createFullyConnectedOptions(b, op.fc.activation, 0, false, false, TensorType.FLOAT32)
    : op.options
      ? op.options.build(b)
      : 0;
  Operator.startOperator(b);
  Operator.addOpcodeIndex(b, index);
  Operator.addInputs(b, ins);
  Operator.addOutputs(b, outs);
  if (op.fc || op.options) {
    Operator.addBuiltinOptionsType(b, op.fc ? BuiltinOptions.FullyConnectedOptions : op.options!.type);
    Operator.addBuiltinOptions(b, opts);
  }
  return Operator.endOperator(b);
}

function subgraph(b: flatbuffers.Builder, m: TModel): number {
  const ts = SubGraph.createTensorsVector(
    b,
    m.tensors.map((t) => tensor(b, t)),
  );
  const ops = SubGraph.createOperatorsVector(
    b,
    m.ops.map((o, i) => operator(b, o, i)),
  );
  const ins = SubGraph.createInputsVector(b, m.inputs);
  const outs = SubGraph.createOutputsVector(b, m.outputs);
  SubGraph.startSubGraph(b);
  SubGraph.addTensors(b, ts);
  SubGraph.addInputs(b, ins);
  SubGraph.addOutputs(b, outs);
  SubGraph.addOperators(b, ops);
  return SubGraph.endSubGraph(b);
}

export function writeTflite(m: TModel): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const bufs = m.buffers.map((d) => {
    const data = d ? FbBuffer.createDataVector(b, d) : 0;
    FbBuffer.startBuffer(b);
    if (d) FbBuffer.addData(b, data);
    return FbBuffer.endBuffer(b);
  });
  const codes = m.ops.map((o) => OperatorCode.createOperatorCode(b, Math.min(o.code, 127), 0, o.version, o.code));
  const sgs = Array.from({ length: m.subgraphs ?? 1 }, () => subgraph(b, m));
  const codesV = Model.createOperatorCodesVector(b, codes);
  const sgV = Model.createSubgraphsVector(b, sgs);
  const bufV = Model.createBuffersVector(b, bufs);
  const desc = b.createString('kerawasm test model');
  Model.startModel(b);
  Model.addVersion(b, 3);
  Model.addOperatorCodes(b, codesV);
  Model.addSubgraphs(b, sgV);
  Model.addDescription(b, desc);
  Model.addBuffers(b, bufV);
  b.finish(Model.endModel(b), 'TFL3');
  return b.asUint8Array().slice();
}

export const bytesOf = (a: Int8Array | Int32Array) => new Uint8Array(a.buffer.slice(0));

/** x int8 [1, 4] -> FULLY_CONNECTED(3 units, RELU) -> y int8 [1, 3]; weights and bias seeded. */
export function fcModel(): TModel {
  const w = Int8Array.from({ length: 12 }, (_, i) => ((i * 37) % 255) - 127);
  const bias = Int32Array.from([100, -200, 300]);
  return {
    tensors: [
      { name: 'x', shape: [1, 4], type: TensorType.INT8, scale: [0.05], zeroPoint: [3] },
      { name: 'dense/kernel', shape: [3, 4], type: TensorType.INT8, buffer: 1, scale: [0.01], zeroPoint: [0] },
      { name: 'dense/bias', shape: [3], type: TensorType.INT32, buffer: 2, scale: [0.0005], zeroPoint: [0] },
      { name: 'model/dense/MatMul;model/dense/Relu', shape: [1, 3], type: TensorType.INT8, scale: [0.02], zeroPoint: [-128] },
    ],
    ops: [{ code: 9, version: 4, inputs: [0, 1, 2], outputs: [3], fc: { activation: 1 } }],
    inputs: [0],
    outputs: [3],
    buffers: [null, bytesOf(w), bytesOf(bias)],
  };
}

export interface MeanSpec {
  /** NHWC input shape (batch 1; another rank for lint tests). */
  shape: number[];
  inQ: [number, number];
  outQ: [number, number];
  keepDims: boolean;
  /** The axis tensor's values (default [1, 2]). */
  axis?: number[];
  /** A FULLY_CONNECTED of this many units after the mean (the classifier head of a CNN). */
  fcUnits?: number;
}

/** x int8 NHWC -> MEAN(axis, keep_dims) [-> FULLY_CONNECTED(units), weights seeded] -> y. */
export function meanModel(s: MeanSpec): TModel {
  const C = s.shape[s.shape.length - 1];
  const axis = s.axis ?? [1, 2];
  const meanShape = s.keepDims ? [1, 1, 1, C] : [1, C];
  const m: TModel = {
    tensors: [
      { name: 'x', shape: s.shape, type: TensorType.INT8, scale: [s.inQ[0]], zeroPoint: [s.inQ[1]] },
      { name: 'model/global_average_pooling2d/Mean/reduction_indices', shape: [axis.length], type: TensorType.INT32, buffer: 1 },
      { name: 'model/global_average_pooling2d/Mean', shape: meanShape, type: TensorType.INT8, scale: [s.outQ[0]], zeroPoint: [s.outQ[1]] },
    ],
    ops: [
      {
        code: 40,
        version: 2,
        inputs: [0, 1],
        outputs: [2],
        options: { type: BuiltinOptions.ReducerOptions, build: (b) => ReducerOptions.createReducerOptions(b, s.keepDims) },
      },
    ],
    inputs: [0],
    outputs: [2],
    buffers: [null, bytesOf(Int32Array.from(axis))],
  };
  if (!s.fcUnits) return m;
  const units = s.fcUnits;
  const w = Int8Array.from({ length: units * C }, (_, i) => ((i * 53 + 11) % 255) - 127);
  const bias = Int32Array.from({ length: units }, (_, i) => ((i * 997) % 2001) - 1000);
  const ws = 0.004;
  // FULLY_CONNECTED flattens a keep_dims [1, 1, 1, C] input to [1, C]
  m.tensors.push(
    { name: 'dense/kernel', shape: [units, C], type: TensorType.INT8, buffer: 2, scale: [ws], zeroPoint: [0] },
    { name: 'dense/bias', shape: [units], type: TensorType.INT32, buffer: 3, scale: [s.outQ[0] * ws], zeroPoint: [0] },
    { name: 'model/dense/MatMul', shape: [1, units], type: TensorType.INT8, scale: [0.05], zeroPoint: [-5] },
  );
  m.ops.push({ code: 9, version: 4, inputs: [2, 3, 4], outputs: [5], fc: { activation: 0 } });
  m.outputs = [5];
  m.buffers.push(bytesOf(w), bytesOf(bias));
  return m;
}
