/**
 * The whole-blob integer reference: runs every op of a parsed blob through the per-op integer
 * references (tools/quantize/reference.ts) on a simulated arena and state. The runtime must
 * be bit-identical to it.
 */
import { parseBlob, type ParsedBlob } from './parse.ts';
import { DTYPE, STORAGE, roundingOfFlags } from './spec.ts';
import { withRounding } from '../fixedpoint.ts';
import {
  refAddN,
  refAvgPool2d,
  refConcat,
  refConv2d,
  refDense,
  refDepthwise,
  refGather,
  refLayerNorm,
  refLayout,
  refLut,
  refMaxMin,
  refMaxPool2d,
  refMul,
  refPrelu,
  refRequant,
  refSoftmax,
  rnnQuantFromParams,
  type Act,
} from '../quantize/reference.ts';
import { runRnnRef } from '../quantize/reference-rnn.ts';
import { softmaxTfliteRow, type SoftmaxTfliteParams } from '../quantize/softmax-tflite.ts';
import { refMean } from '../quantize/mean-tflite.ts';

type Int = Int8Array | Int16Array | Int32Array;

function typed(dtype: number, buf: ArrayBuffer, off: number, elements: number): Int {
  if (dtype === DTYPE.INT8) return new Int8Array(buf, off, elements);
  if (dtype === DTYPE.INT16) return new Int16Array(buf, off, elements);
  return new Int32Array(buf, off, elements);
}

export class ReferenceError2 extends Error {
  constructor(
    readonly code: number,
    readonly op: number,
  ) {
    super(`reference: op ${op} failed with error ${code}`);
  }
}

/**
 * Run every op of a blob on a simulated arena/state (state persists in `state` between calls
 * when given). Returns the raw outputs. Throws ReferenceError2(BAD_INPUT_VALUE) like the runtime.
 */
export function runBlobReference(blob: Uint8Array | ParsedBlob, inputs: ArrayBufferView[], state?: ArrayBuffer): Int[] {
  const m = blob instanceof Uint8Array ? parseBlob(blob) : blob;
  const arena = new ArrayBuffer(Math.max(16, Math.ceil(m.header.arenaSize / 4) * 4));
  const st = state ?? new ArrayBuffer(Math.max(16, Math.ceil(m.header.stateSize / 4) * 4));
  const T = (i: number): Int => {
    const t = m.tensors[i];
    return typed(t.dtype, t.storage === STORAGE.ARENA ? arena : st, t.offset, t.elements);
  };
  m.io.inputs.forEach((io, i) => {
    const src = inputs[i];
    new Uint8Array(T(io.tensor).buffer, T(io.tensor).byteOffset, io.bytes).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  });
  withRounding(roundingOfFlags(m.header.flags), () => m.ops.forEach((op) => runOp(op, T, m)));
  return m.io.outputs.map((io) => T(io.tensor).slice());
}

/** One op of the blob on the simulated regions (T: tensor index -> typed view). */
function runOp(op: ParsedBlob['ops'][number], T: (i: number) => Int, m: ParsedBlob): void {
  const c = m.consts;
  const p = op.params;
  const g = p.groups ?? [];
  const x = () => T(p.in) as Act;
  const ins = () => g.map((e) => T(e.tensor) as Act);
  let out: Int | null;
  switch (op.name) {
    case 'DENSE':
      out = refDense(p, x(), c);
      break;
    case 'CONV2D':
      out = refConv2d(p, x(), c);
      break;
    case 'DEPTHWISE_CONV2D':
      out = refDepthwise(p, x(), c);
      break;
    case 'MAX_POOL2D':
      out = refMaxPool2d(p, x());
      break;
    case 'AVG_POOL2D':
      out = refAvgPool2d(p, x());
      break;
    case 'ADD_N':
      out = refAddN(p, ins());
      break;
    case 'MUL':
      out = refMul(p, T(p.a) as Act, T(p.b) as Act);
      break;
    case 'MAXMIN':
      out = refMaxMin(p, ins());
      break;
    case 'CONCAT':
      out = refConcat(p, ins());
      break;
    case 'SOFTMAX':
      out = refSoftmax(p, x(), c);
      break;
    case 'SOFTMAX_TFLITE':
      out = new Int8Array(p.rows * p.depth);
      for (let r = 0; r < p.rows; r++)
        softmaxTfliteRow((x() as Int8Array).subarray(r * p.depth, (r + 1) * p.depth), p as unknown as SoftmaxTfliteParams, out as Int8Array, r * p.depth);
      break;
    case 'LUT':
      out = refLut(p, x(), c);
      break;
    case 'PRELU':
      out = refPrelu(p, x() as Int8Array, c);
      break;
    case 'LAYOUT':
      out = refLayout(p, T(p.in).slice());
      break;
    case 'GATHER':
      out = refGather(p, T(p.ids) as Int32Array, c);
      if (!out) throw new ReferenceError2(13, op.index);
      break;
    case 'LAYER_NORM':
      out = refLayerNorm(p, x() as Int8Array, c);
      break;
    case 'MEAN':
      out = refMean(p, x() as Int8Array);
      break;
    case 'REQUANT':
      out = refRequant(p, T(p.in) as Int8Array | Int16Array, m.tensors[p.out].dtype === DTYPE.INT8 ? 'int8' : 'int16');
      break;
    case 'SIMPLE_RNN':
    case 'GRU':
    case 'LSTM': {
      const q = rnnQuantFromParams(op.name, p, c);
      // h/c are views of their tensors (STATE region or arena): runRnnRef updates them in place
      // and zeroes them first unless KEEP_STATE
      const state = { h: T(p.hState) as Int16Array, c: op.name === 'LSTM' ? (T(p.cState) as Int16Array) : null };
      const ids = p.maskIds === -1 ? null : (T(p.maskIds) as Int32Array);
      out = runRnnRef(q, T(p.in) as Int8Array, p.batch, p.steps, state, ids);
      break;
    }
    default:
      throw new Error(`reference: op ${op.name} not implemented`);
  }
  // every op writes its result to its `out` tensor
  T(p.out).set(out as any);
}
