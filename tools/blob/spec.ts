/**
 * THE CONTRACT between the Node tools and the runtime .wasm (and the C glue).
 *
 * Everything the two sides must agree on lives here: format version, header layout, tensor
 * and I/O descriptor layouts, op codes with their parameter layouts, error codes and the ABI
 * version. `npm run gen:abi` (tools/blob/gen-abi.ts) writes assembly/abi.gen.ts and
 * firmware-host/include/kw_abi.h from this file; a test fails when they are stale.
 *
 * All multi-byte values are little-endian. Params are 32-bit signed words.
 */

export const MAGIC = 0x4e4e574b; // bytes 'K','W','N','N'
export const FORMAT_VERSION = 9; // 2: per-channel shift arrays int8; CONV2D layout param. 3: recurrent scratch holds per-row records and the input parts of every step. 4: recurrent scratch holds the packed recurrent weights (units < 512). 5: op records carry their constants' range; header stagingSize (weights streamed from flash). 6: header flag bits 2..3 give the rounding mode (ROUNDING); names section (whole I/O and layer names; header namesOff/namesSize) 7: DENSE layout 2 (packed weight pairs). 8: the names section becomes the metadata section (header metaOff/metaSize): it also holds every tensor's name, scale, zero point and writing op (TENSOR_META). 9: DENSE layout 2 holds offset-binary bytes in 8-row blocks (one byte per weight).
export const ABI_VERSION = 2;

/** Byte offsets of header fields. The header is HEADER_SIZE bytes. */
export const HEADER = {
  magic: 0, // u32 MAGIC
  version: 4, // u16 FORMAT_VERSION
  headerSize: 6, // u16 HEADER_SIZE
  totalSize: 8, // u32 bytes of the whole blob
  crc32: 12, // u32 CRC-32 (IEEE 802.3, zlib's) over bytes [16, totalSize)
  flags: 16, // u32 FLAG_*
  nTensors: 20, // u16
  nOps: 22, // u16
  nInputs: 24, // u16
  nOutputs: 26, // u16
  arenaSize: 28, // u32 bytes of activation arena (planned offsets live inside it)
  stateSize: 32, // u32 bytes of persistent state (RNN state), kept between invokes
  scratchSize: 36, // u32 bytes of per-op scratch (not persistent), placed after the arena
  tensorsOff: 40, // u32 offset of the tensor table (nTensors * TENSOR_SIZE)
  opsOff: 44, // u32 offset of the op list
  opsSize: 48, // u32 bytes of the op list
  ioOff: 52, // u32 offset of I/O descriptors ((nInputs + nOutputs) * IO_SIZE; inputs first)
  constsOff: 56, // u32 offset of the constants section (16-aligned)
  constsSize: 60, // u32
  selfTestOff: 64, // u32 offset of the self-test section, 0 if none
  selfTestSize: 68, // u32
  opMask0: 72, // u32 bit i set = op code i used (codes 0..31)
  opMask1: 76, // u32 codes 32..63
  batch: 80, // u32 static batch the blob was built with
  stagingSize: 84, // u32 bytes of the staging area a streaming runtime reads each op's constants into (>= every op's constsSize); 0 = copy-in only
  metaOff: 88, // u32 offset of the metadata section (META_DOC), 0 if none
  metaSize: 92, // u32 bytes of the metadata section, 0 if none
} as const;
export const HEADER_SIZE = 96;

export const FLAG = {
  HAS_SELFTEST: 1,
  STATEFUL: 2, // has persistent state (RNN stateful or streaming)
  ROUNDING_MASK: 12, // bits 2..3: the rounding mode, ROUNDING value << 2; value 3 is invalid (BAD_HEADER)
  ROUNDING_SINGLE: 4, // ROUNDING.single << 2
  ROUNDING_FLOAT: 8, // ROUNDING.float << 2
} as const;

/**
 * Rounding mode of every MBQM in the blob (header flags bits 2..3), see the requantisation note
 * above OpSpec and docs/FORMAT.md:
 *   double: TFLite's reference kernels and TFLite Micro (SaturatingRoundingDoublingHighMul, then
 *           RoundingDivideByPOT). The default.
 *   single: TFLite built with TFLITE_SINGLE_ROUNDING (its optimised / XNNPACK kernels):
 *           (x * mult + 2^(30 - shift)) >> (31 - shift) in 64-bit, truncated to int32.
 *   float:  the TFLite interpreter with XNNPACK (what tfjs-tflite runs): DENSE, CONV2D and
 *           DEPTHWISE_CONV2D outputs requantize in float32, round-half-even(f32(acc) * S) with
 *           S = mult * 2^(shift - 31) an exact float32 (the converter writes S = f32(f32(s_in *
 *           s_w) / s_out) as XNNPACK forms it); every other MBQM is single.
 */
export const ROUNDING = { double: 0, single: 1, float: 2 } as const;
export type Rounding = keyof typeof ROUNDING;
export const ROUNDING_SHIFT = 2;
export const ROUNDINGS = Object.keys(ROUNDING) as Rounding[];

/** The rounding mode held in header flags (validated blobs only hold 0, 1 or 2). */
export function roundingOfFlags(flags: number): Rounding {
  const r = (flags & FLAG.ROUNDING_MASK) >> ROUNDING_SHIFT;
  return ROUNDINGS.find((k) => ROUNDING[k] === r) ?? 'double';
}

export const DTYPE = { INT8: 1, INT16: 2, INT32: 3 } as const;
export const DTYPE_BYTES: Record<number, number> = { 1: 1, 2: 2, 3: 4 };

export const STORAGE = { ARENA: 0, STATE: 1 } as const;

/** Tensor table entry, TENSOR_SIZE bytes. */
export const TENSOR = {
  dtype: 0, // u8 DTYPE
  storage: 1, // u8 STORAGE
  reserved: 2, // u16
  offset: 4, // u32 byte offset inside its region (arena or state)
  bytes: 8, // u32 size in bytes
  elements: 12, // u32 element count (bytes / dtype size)
} as const;
export const TENSOR_SIZE = 16;

/** I/O descriptor, IO_SIZE bytes. Inputs first, then outputs. */
export const IO = {
  tensor: 0, // u16 tensor index
  dtype: 2, // u8 DTYPE
  rank: 3, // u8 1..5 (includes the batch)
  dims: 4, // u32[5]
  scale: 24, // f32 quantization scale (real = (q - zeroPoint) * scale); 1.0 for INT32 ids
  zeroPoint: 28, // i32
  name: 32, // 16 bytes, NUL-padded UTF-8: the name's first 16 bytes, cut at a character boundary (whole in the metadata section)
} as const;
export const IO_SIZE = 48;
export const IO_MAX_RANK = 5;

/**
 * Section alignment (byte offsets from the blob start). The blob buffer itself is 16-aligned in
 * linear memory, so these are also address alignments.
 *   tensor table, I/O descriptors, op list: 4;  constants section: 16;  self-test: any.
 * Sections start at or after HEADER_SIZE and end at or before totalSize (overlap is not checked).
 * A tensor's offset must be a multiple of its dtype size. 32-bit const arrays (bias, mult, RNN shift,
 * softmax table) must be 4-aligned inside the constants section; int8 consts may be anywhere
 * (the writer aligns weights to 16).
 */
export const ALIGN = { TABLE: 4, CONSTS: 16 } as const;

/**
 * Self-test section (present iff FLAG.HAS_SELFTEST, selfTestOff != 0, selfTestSize != 0):
 * the raw bytes of every input tensor in input order, then the expected raw bytes of every
 * output tensor in output order, back to back, no padding. selfTestSize must equal
 * sum(input tensor bytes) + sum(output tensor bytes).
 */
/**
 * Metadata section (present iff metaSize != 0; after the constants and the self-test, so a
 * streaming runtime never reads it; the runtime checks only that it lies inside the blob). Only
 * the tools read it (verify's per-layer report, summaries, the C header's comments):
 *  1. whole UTF-8 names, each followed by one NUL byte: the I/O names in descriptor order (inputs,
 *     then outputs), the Keras layer name of every op in op order, then the name of every tensor
 *     in tensor-table order (the Keras tensor it holds, or the converter's name for an internal
 *     one). A NUL inside a name is written as U+FFFD.
 *  2. zero bytes up to a 4-aligned blob offset, then one TENSOR_META record per tensor, in
 *     tensor-table order.
 */
export const META_DOC = 'I/O names, layer name per op, tensor names (UTF-8, NUL-terminated); 4-aligned TENSOR_META records';

/** Metadata record of one tensor, TENSOR_META_SIZE bytes (real = (q - zeroPoint) * scale). */
export const TENSOR_META = {
  scale: 0, // f32; 0 for int32 tensors (ids, accumulators)
  zeroPoint: 4, // i32
  writer: 8, // u16: 1 + the index of the last op that writes the tensor; 0 if no op writes it (inputs, state read first)
  flags: 10, // u16 TENSOR_META_FLAG
} as const;
export const TENSOR_META_SIZE = 12;
export const TENSOR_META_FLAG = {
  LAYER_OUTPUT: 1, // holds the output of the Keras layer its name gives (not an alias, not int32)
} as const;

export const SELFTEST_DOC = 'inputs then expected outputs, raw tensor bytes back to back';

/**
 * Recurrent ops (SIMPLE_RNN, GRU, LSTM): the constants the converter, the integer reference and
 * the kernels share. Gate rows per unit by Keras class; op flags (param flags); activation kinds
 * (params actKind / recKind); interpolated int16 tables: input Q3.12, 256 segments of 2^8 LSB,
 * TABLE_ENTRIES entries, output Q0.15.
 */
export const RECURRENT = {
  GATES: { SimpleRNN: 1, GRU: 3, LSTM: 4 },
  FLAG: { RETURN_SEQUENCES: 1, GO_BACKWARDS: 2, OUTPUT_INPUT_ORDER: 4, KEEP_STATE: 8, RESET_AFTER: 16 },
  ACT: { LINEAR: 0, RELU: 1, TABLE: 2 },
  TABLE_ENTRIES: 257,
  TABLE_IN_EXP: -12,
  TABLE_OUT_EXP: -15,
} as const;

/** Validation limits checked by the runtime (BAD_PARAMS when exceeded). */
export const LIMITS = {
  /** max |padding| / padBefore, max stride, dilation, kernel size, LAYOUT div */
  MAX_GEOM: 65535,
  /** max repeat-group count (ADD_N / MAXMIN / CONCAT inputs, LAYOUT rank) */
  MAX_GROUP: 16,
  /** max LAYOUT rank */
  MAX_RANK: 8,
  /** max ADD_N leftShift */
  MAX_LEFT_SHIFT: 30,
  /** arena, state and scratch sizes are each below this many bytes */
  MAX_REGION: 0x40000000,
} as const;

/**
 * Op record header, OP_HEADER_SIZE bytes, followed by i32 params[nParams]. constsOff/constsSize
 * give the range of the constants section the op reads (every const param of the op lies inside
 * it; 0/0 for an op without constants): a streaming runtime copies exactly that range into its
 * staging area before the op's prepare and eval.
 */
export const OP_RECORD = {
  code: 0, // u16
  nParams: 2, // u16
  constsOff: 4, // u32 offset inside the constants section
  constsSize: 8, // u32 bytes
} as const;
export const OP_HEADER_SIZE = 12;

/**
 * Op list: records of [OP_RECORD header][i32 params[nParams]], back to back.
 * Tensor params are tensor-table indices. Const params are byte offsets into the constants
 * section (16-aligned for weights), or -1 for "none" where allowed. Every kernel reads its
 * inputs and writes its outputs only through tensors, so the runtime can check every access
 * against the tensor sizes at init.
 *
 * Requantisation everywhere (MBQM) is TFLite's MultiplyByQuantizedMultiplier in the blob's
 * rounding mode (ROUNDING: double, TFLite's reference, or single, TFLITE_SINGLE_ROUNDING):
 *   mult in [2^30, 2^31) (or 0), shift in [-31, 30] (positive = left). Every scalar and per-channel
 *   multiplier is VALIDATED at init (BAD_PARAMS, runtime and parseBlob alike): 0 or in [2^30, 2^31)
 *   (what TFLite QuantizeMultiplier produces); only ADD_N's per-input mult may also be negative,
 *   in (-2^31, -2^30] (Subtract). -2^31 is never valid. The zero point is then added in int32
 *   (wrap-around, as TFLite's int32 add) before the clamp.
 */
export interface OpSpec {
  code: number;
  name: string;
  /** Fixed params, in order. */
  params: string[];
  /** Params that are byte offsets into the constants section (-1 = none where allowed). */
  consts?: string[];
  /** Repeated group appended after the fixed params (count given by param `countParam`). */
  repeat?: { countParam: string; fields: string[] };
  doc: string;
}

export const OPS: OpSpec[] = [
  {
    code: 1,
    name: 'DENSE',
    consts: ['weights', 'bias', 'mult', 'shift', 'lut'],
    params: ['in', 'out', 'rows', 'inDim', 'outDim', 'weights', 'bias', 'mult', 'shift', 'zpOut', 'actMin', 'actMax', 'lut', 'layout'],
    doc: 'int8 x[rows][inDim] -> int8 y[rows][outDim]. bias may be -1 (all zero) here and in CONV2D/DEPTHWISE_CONV2D; lut -1 = none. weights int8 (layout 0: [outDim][inDim] row-major; layout 1: blocks of 4 rows interleaved [outDim/4][inDim][4], remainder rows row-major; layout 2: blocks of 8 rows interleaved [outDim/8][inDim][8] as offset-binary bytes u = w + 128 (0..255), 8-byte aligned, inDim <= 65535, then the outDim % 8 remainder rows int8 row-major; layout 3, int16 activations only (convert --weight-precision int16, 16x16): weights int16 in the order of layout 1, 2-byte aligned, every weight in [-32767, 32767], inDim <= 65536, and bias int64[outDim] (8-byte aligned, each in [-2^46, 2^46], nothing folded: zero points are 0) in place of int32), bias int32[outDim] with -zpIn*sum(w) folded in, mult int32[outDim] and shift int8[outDim] (per channel). y = clamp(MBQM(acc) + zpOut, actMin, actMax); then y = lut[y+128] when lut != -1.',
  },
  {
    code: 2,
    name: 'CONV2D',
    consts: ['weights', 'bias', 'mult', 'shift', 'lut'],
    params: [
      'in',
      'out',
      'batch',
      'inH',
      'inW',
      'inC',
      'outH',
      'outW',
      'outC',
      'kH',
      'kW',
      'strideH',
      'strideW',
      'dilH',
      'dilW',
      'padTop',
      'padLeft',
      'zpIn',
      'weights',
      'bias',
      'mult',
      'shift',
      'zpOut',
      'actMin',
      'actMax',
      'lut',
      'groups',
      'layout',
    ],
    doc: 'NHWC int8 conv (Conv1D is H=1). weights int8, layout 0: [outC][kH][kW][inC/groups]; layout 1 (groups must be 1): the [outC][kH*kW*inC] matrix in DENSE layout 1; layout 2 (int16 activations only, groups 1, kH*kW*inC <= 65536; convert --weight-precision int16, 16x16): the layout 1 matrix with int16 weights (2-byte aligned, none -32768) and bias int64[outC] (8-byte aligned, each in [-2^46, 2^46], nothing folded), as DENSE layout 3. bias int32[outC] with -zpIn*sum(w) folded in over ALL taps; mult int32[outC], shift int8[outC]; taps outside the input read as zpIn (so they contribute nothing, as TFLite skips them).',
  },
  {
    code: 3,
    name: 'DEPTHWISE_CONV2D',
    consts: ['weights', 'bias', 'mult', 'shift', 'lut'],
    params: [
      'in',
      'out',
      'batch',
      'inH',
      'inW',
      'inC',
      'outH',
      'outW',
      'depthMult',
      'kH',
      'kW',
      'strideH',
      'strideW',
      'dilH',
      'dilW',
      'padTop',
      'padLeft',
      'zpIn',
      'weights',
      'bias',
      'mult',
      'shift',
      'zpOut',
      'actMin',
      'actMax',
      'lut',
    ],
    doc: 'NHWC depthwise conv; out channel = c*depthMult + m. weights int8 [kH][kW][inC*depthMult]; bias int32, mult int32, shift int8 per out channel; borders as CONV2D. Also used for standalone BatchNormalization (k=1).',
  },
  {
    code: 4,
    name: 'MAX_POOL2D',
    params: ['in', 'out', 'batch', 'inH', 'inW', 'channels', 'outH', 'outW', 'kH', 'kW', 'strideH', 'strideW', 'padTop', 'padLeft', 'actMin', 'actMax'],
    doc: 'int8 max over in-bounds taps; input and output share scale and zero point.',
  },
  {
    code: 5,
    name: 'AVG_POOL2D',
    params: ['in', 'out', 'batch', 'inH', 'inW', 'channels', 'outH', 'outW', 'kH', 'kW', 'strideH', 'strideW', 'padTop', 'padLeft', 'actMin', 'actMax'],
    doc: 'int8 average over in-bounds taps (count = in-bounds taps, as Keras/TFLite): acc>0 ? (acc+n/2)/n : (acc-n/2)/n with truncating division; same qparams in and out.',
  },
  {
    code: 6,
    name: 'ADD_N',
    params: ['out', 'count', 'zpOut', 'actMin', 'actMax', 'leftShift', 'outMult', 'outShift', 'n'],
    repeat: { countParam: 'n', fields: ['tensor', 'zp', 'mult', 'shift'] },
    doc: 'TFLite ADD generalised to n inputs (Add, Subtract (negative mult), Average): s = sum_i MBQM((x_i - zp_i) << leftShift, mult_i, shift_i); y = clamp(MBQM(s, outMult, outShift) + zpOut). All tensors have `count` int8 elements.',
  },
  {
    code: 7,
    name: 'MUL',
    params: ['a', 'b', 'out', 'count', 'zpA', 'zpB', 'zpOut', 'mult', 'shift', 'actMin', 'actMax'],
    doc: 'y[i] = clamp(zpOut + MBQM((a[i] - zpA) * (b[i mod nB] - zpB), mult, shift)), a and out of `count` elements; b holds nB elements, nB dividing count (nB < count repeats b: broadcasting along leading axes, as [1,H,W,C] x [1,1,1,C]). Multiply of n inputs is a chain.',
  },
  {
    code: 8,
    name: 'MAXMIN',
    params: ['out', 'count', 'isMin', 'zpOut', 'actMin', 'actMax', 'n'],
    repeat: { countParam: 'n', fields: ['tensor', 'zp', 'mult', 'shift'] },
    doc: 'each input rescaled to the output qparams: r_i = zpOut + MBQM(x_i - zp_i, mult_i, shift_i); y = clamp(max_i r_i) (or min).',
  },
  {
    code: 9,
    name: 'CONCAT',
    params: ['out', 'outer', 'zpOut', 'n'],
    repeat: { countParam: 'n', fields: ['tensor', 'inner', 'zp', 'mult', 'shift', 'identity'] },
    doc: 'for each of `outer` blocks, copy `inner` int8 elements of each input in turn; identity=1 copies bytes, else y = clamp(zpOut + MBQM(x - zp, mult, shift), -128, 127).',
  },
  {
    code: 10,
    name: 'SOFTMAX',
    consts: ['table'],
    params: ['in', 'out', 'rows', 'depth', 'table'],
    doc: 'per row: d = max - x (0..255); e = table[d] (u32, round(2^20 * exp(-beta*scaleIn*d))); y = clamp(((e << 8) + sum/2) / sum - 128, -128, 127) in 64-bit integers. Output qparams are fixed (1/256, -128).',
  },
  {
    code: 11,
    name: 'LUT',
    consts: ['table'],
    params: ['in', 'out', 'count', 'table'],
    doc: 'int8 -> int8 elementwise through a 256-byte table indexed by x + 128 (sigmoid, tanh, elu, leaky_relu, swish, softplus, ...; built in Node).',
  },
  {
    code: 12,
    name: 'PRELU',
    consts: ['alpha'],
    params: ['in', 'out', 'count', 'channels', 'zpIn', 'zpOut', 'posMult', 'posShift', 'alpha', 'negMult', 'negShift'],
    doc: 'x >= zpIn ? zpOut + MBQM(x - zpIn, posMult, posShift) : zpOut + MBQM((x - zpIn) * alpha[c], negMult, negShift); alpha int8 per channel (c = index % channels); clamp to int8.',
  },
  {
    code: 13,
    name: 'LAYOUT',
    params: ['in', 'out', 'elemSize', 'rank', 'fill'],
    repeat: { countParam: 'rank', fields: ['outDim', 'inDim', 'inStride', 'padBefore', 'div'] },
    doc: 'generic copy: for every output index (row-major over outDim), per axis i = floor((o - padBefore) / div); if any i is outside [0, inDim) the element is `fill`, else in[sum(i * inStride)]. Covers ZeroPadding, Cropping (negative padBefore), UpSampling (div), RepeatVector (div = n), Permute and channels_first transposes (inStride).',
  },
  {
    code: 14,
    name: 'GATHER',
    consts: ['table'],
    params: ['ids', 'out', 'count', 'vocab', 'dim', 'table'],
    doc: 'Embedding: int32 ids[count] -> int8 out[count][dim] = table[id] (int8 [vocab][dim]); an id outside [0, vocab) makes invoke fail with E_BAD_INPUT_VALUE.',
  },
  {
    code: 15,
    name: 'REQUANT',
    params: ['in', 'out', 'count', 'zpIn', 'zpOut', 'mult', 'shift', 'outMin', 'outMax'],
    doc: 'y = clamp(zpOut + MBQM(x - zpIn, mult, shift), outMin, outMax); dtypes of in/out from the tensor table (int8 or int16).',
  },
  {
    code: 19,
    name: 'LAYER_NORM',
    consts: ['mult', 'shift', 'bias'],
    params: ['in', 'out', 'rows', 'channels', 'zpIn', 'zpOut', 'epsTerm', 'mult', 'shift', 'bias'],
    doc:
      'Keras LayerNormalization over the last axis, int8 in/out, channels <= 4096. Per row, with x_k - zpIn: sum, sumSq (int32); ' +
      'V = channels*sumSq - sum^2 + epsTerm (int64, epsTerm = round(channels^2 * epsilon / s_in^2) in [0, 2^31)); s = isqrt(V << 16); ' +
      'd_c = channels*(x_c - zpIn) - sum; t_c = (d_c << 24) / s truncated toward zero (0 when s = 0); ' +
      'y_c = clamp(zpOut + bias[c] + MBQM(t_c, mult[c], shift[c]), -128, 127). mult int32[channels] (0, [2^30, 2^31) or (-2^31, -2^30]: ' +
      'gamma_c / (s_out * 2^16)), shift int8[channels], bias int32[channels] = round(beta_c / s_out), |bias| < 2^24.',
  },
  {
    code: 20,
    name: 'SOFTMAX_TFLITE',
    params: ['in', 'out', 'rows', 'depth', 'inputMult', 'inputLeftShift', 'diffMin'],
    doc:
      "TFLite's int8 reference softmax (reference/softmax.h), output qparams fixed (1/256, -128), depth <= 4095. Per row, d = x - max: " +
      'for d >= diffMin, e = exp_on_negative_values(Q5.26 MBQM(d, inputMult, inputLeftShift)) (gemmlowp, Q0.31); sum = sum of RDPOT(e, 12) (Q12.19); ' +
      'scale = one_over_one_plus_x_for_x_in_0_1 of the sum normalised by its leading zeros (GetReciprocal); ' +
      'y = clamp(RDPOT(SRDHM(scale, e), bitsOverUnit + 23) - 128, -128, 127) (RDPOT in 64 bits); d < diffMin gives -128. ' +
      'inputMult in [2^30, 2^31), inputLeftShift in [0, 30] (PreprocessSoftmaxScaling with 5 integer bits), diffMin <= 0 with -diffMin * 2^inputLeftShift <= 31 * 2^26 ' +
      '(CalculateInputRadius). The MBQM follows the blob rounding mode, as TFLite does under TFLITE_SINGLE_ROUNDING.',
  },
  {
    code: 21,
    name: 'MEAN',
    params: ['in', 'out', 'batch', 'inH', 'inW', 'channels', 'zpIn', 'zpOut', 'mult', 'shift'],
    doc:
      "TFLite's int8 MEAN over the two spatial axes of NHWC (in [batch][inH][inW][channels] -> out [batch][channels]). Per channel, " +
      'acc = sum of x - zpIn * inH * inW (int32); y = clamp(zpOut + MBQM(acc, mult, shift), -128, 127) in the blob rounding mode, ' +
      'in mode float round-half-even(f32(acc) * mult * 2^(shift - 31)) + zpOut as XNNPACK (as the DENSE outputs). ' +
      "mult in [0, 2^31): TFLite's QuantizedMeanOrSum divides the multiplier of s_in/s_out by the count, which may leave it below 2^30; shift in [-31, 30].",
  },
  // 16..18: recurrent ops; layouts added with the recurrent issue.
  // Recurrent ops (docs/RECURRENT.md has the full integer scheme). Common conventions:
  //  x int8 [batch][steps][inDim] (zp folded into bx); h state int16 [batch][units] at 2^hExp
  //  (zp 0); c state (LSTM) int16 at 2^cExp; scratch int32 of (SIMPLE_RNN units, LSTM/GRU 4*units)
  //  + 6*G*units + (units < 512 ? G*units*units : 0) + ceil(steps*G*units/2) words (format 4:
  //  gate words, one requantisation record per recurrent row, the recurrent weights packed two
  //  rows per i64, the int16 input parts of every step; reference-rnn.ts scratchWords);
  //  out int8 [batch][steps or 1][units] = clamp(outZp + MBQM(h, outMult, outShift)).
  //  Weights int8, DENSE layout 1 (blocks of 4 rows interleaved, remainder rows row-major):
  //  wx [G*units][inDim], wh [G*units][units] (GRU: whZR [2u][u], whH [u][u]); bx/mx/sx and
  //  bh/mh/sh int32 per row (G*units). pre = sat16(sat16(MBQM(bx+Wx.x, mx, sx)) +
  //  sat16(MBQM(bh+Wh.h, mh, sh))). Activation kinds: 0 linear, 1 relu (output at the input
  //  scale), 2 table (input int16 Q3.12 -> Q0.15 via 257 int16 entries at -8 + i/16, linear
  //  interpolation on the low 8 bits). flags: 1 return_sequences, 2 go_backwards, 4 write outputs
  //  at input time index (Bidirectional backward), 8 keep state between invokes (else zeroed at
  //  the start of every invoke), 16 GRU reset_after. maskIds: int32 ids [batch][steps] (step is
  //  skipped, state kept, when id == 0: Embedding mask_zero) or -1.
  {
    code: 16,
    name: 'SIMPLE_RNN',
    consts: ['wx', 'bx', 'mx', 'sx', 'wh', 'bh', 'mh', 'sh', 'actTable'],
    params: [
      'in',
      'out',
      'hState',
      'scratch',
      'maskIds',
      'batch',
      'steps',
      'inDim',
      'units',
      'flags',
      'wx',
      'bx',
      'mx',
      'sx',
      'wh',
      'bh',
      'mh',
      'sh',
      'actKind',
      'actTable',
      'outMult',
      'outShift',
      'outZp',
    ],
    doc: 'h = act(pre) (table kind: h Q0.15; linear/relu: pre is produced at the h scale).',
  },
  {
    code: 17,
    name: 'GRU',
    consts: ['wx', 'bx', 'mx', 'sx', 'whZR', 'whH', 'bh', 'mh', 'sh', 'recTable', 'actTable'],
    params: [
      'in',
      'out',
      'hState',
      'scratch',
      'maskIds',
      'batch',
      'steps',
      'inDim',
      'units',
      'flags',
      'wx',
      'bx',
      'mx',
      'sx',
      'whZR',
      'whH',
      'bh',
      'mh',
      'sh',
      'recKind',
      'recTable',
      'actKind',
      'actTable',
      'gateShift',
      'outMult',
      'outShift',
      'outZp',
    ],
    doc: 'gates z,r = rec(pre) at 2^-gateShift; reset_after: n = act(sat16(px_h + rsr(r*sat16(MBQM(bh_h+Uh.h)), gateShift))); else rh = sat16(rsr(r*h, gateShift)), n = act(sat16(px_h + sat16(MBQM(bh_h+Uh.rh)))); n is at the h scale; h = sat16(rsr(z*h + (2^gateShift - z)*n, gateShift)) (64-bit). rsr = rounding (half up) arithmetic shift right.',
  },
  {
    code: 18,
    name: 'LSTM',
    consts: ['wx', 'bx', 'mx', 'sx', 'wh', 'bh', 'mh', 'sh', 'recTable', 'actTable'],
    params: [
      'in',
      'out',
      'hState',
      'cState',
      'scratch',
      'maskIds',
      'batch',
      'steps',
      'inDim',
      'units',
      'flags',
      'wx',
      'bx',
      'mx',
      'sx',
      'wh',
      'bh',
      'mh',
      'sh',
      'recKind',
      'recTable',
      'actKind',
      'actTable',
      'cellShift',
      'fcShift',
      'igShift',
      'ohShift',
      'outMult',
      'outShift',
      'outZp',
    ],
    doc: 'gates i,f,c,o (Keras order). i,f,o = rec(pre); g = act(pre); c = sat16(rsr(f*c, fcShift) + rsr(i*g, igShift)); a = act(c) (table kind: c shifted to Q3.12 by cellShift, positive = saturating left shift, negative = rounding right); h = sat16(rsr(o*a, ohShift)).',
  },
];

/**
 * Ops that also run on int16 activations (TFLite's 16x8 scheme): the dtype of their tensors
 * (all int8, or all int16) picks the path. int16: zero points 0; DENSE/CONV2D/DEPTHWISE_CONV2D
 * accumulate in int64 and requantise with the reduced-multiplier MBQM (shifts in [-31, 14]); a
 * fused or LUT table is 513 int16 entries (TFLite's int16 LUT, interpolated); SOFTMAX's table is
 * i32 mult, i32 shift and a 513-entry int16 exp table, its output scale 2^-15. DENSE layout 3 and
 * CONV2D layout 2 (int16 weights, int64 bias: 16x16) run on int16 activations only. docs/FORMAT.md §4.
 */
export const INT16_OPS: readonly string[] = [
  'DENSE',
  'CONV2D',
  'DEPTHWISE_CONV2D',
  'MAX_POOL2D',
  'AVG_POOL2D',
  'ADD_N',
  'MUL',
  'MAXMIN',
  'CONCAT',
  'LUT',
  'SOFTMAX',
  'LAYOUT',
  'REQUANT',
];

export const OP_BY_NAME: Record<string, OpSpec> = Object.fromEntries(OPS.map((o) => [o.name, o]));

/** Error codes returned by the runtime exports (0 = OK). */
export const ERR = {
  OK: 0,
  NO_BLOB: 1, // kw_init before a blob buffer was reserved/filled
  BAD_MAGIC: 2,
  BAD_VERSION: 3,
  BAD_SIZE: 4, // truncated, or header sizes disagree with the buffer
  BAD_CRC: 5,
  BAD_HEADER: 6, // section offsets/sizes/counts out of bounds or misaligned
  BAD_TENSOR: 7, // a tensor outside its region, bad dtype/storage
  BAD_OP: 8, // unknown op code or truncated op record
  BAD_PARAMS: 9, // op params inconsistent with its tensors
  BAD_CONST: 10, // const reference outside the constants section
  OUT_OF_MEMORY: 11, // linear memory cannot hold blob + arena + state (limit or grow failure)
  NOT_READY: 12, // invoke/reset/self-test without a successful init
  BAD_INPUT_VALUE: 13, // e.g. embedding id out of range
  BAD_INDEX: 14, // input/output index out of range
  SELFTEST_MISMATCH: 15,
  NO_SELFTEST: 16,
  UNSUPPORTED_OP: 17, // op known to the format but not compiled into this runtime
  BAD_IO: 18, // I/O descriptor inconsistent with its tensor
  NO_STAGING: 19, // streamed blob without a staging size, or an op's constants larger than it
  READ_FAILED: 20, // the host's kw.read_blob failed, was short, or was asked for bytes outside the blob
} as const;

export const ERR_TEXT: Record<number, string> = {
  0: 'ok',
  1: 'no blob: reserve a buffer with kw_blob_buffer and copy the blob in before kw_init',
  2: 'bad magic: not a model blob',
  3: 'unsupported blob format version',
  4: 'blob size mismatch (truncated or extended)',
  5: 'CRC mismatch: blob corrupted',
  6: 'bad header: section out of bounds',
  7: 'bad tensor descriptor',
  8: 'bad or unknown op',
  9: 'op parameters inconsistent with tensors',
  10: 'constant out of bounds',
  11: 'out of memory: blob, arena and state do not fit the memory limit',
  12: 'not ready: kw_init has not succeeded',
  13: 'input value out of range',
  14: 'input/output index out of range',
  15: 'self-test output mismatch',
  16: 'blob has no self-test vector',
  17: 'op not supported by this runtime build',
  18: 'bad input/output descriptor',
  19: 'blob built for copy-in only (no staging size) or an op larger than its staging: convert with --weights flash',
  20: 'reading the blob from the host failed (kw.read_blob)',
};

/**
 * Runtime exports (all i32 in, i32 out). Firmware and the Node host call exactly these.
 * Call order, copy-in: kw_set_memory_limit? -> kw_blob_buffer(size) -> copy blob -> kw_init ->
 *   (write inputs at kw_input_ptr(i) -> kw_invoke -> read outputs at kw_output_ptr(i))*
 * Streamed (runtime-flash.wasm only): kw_set_memory_limit? -> kw_blob_external(size) -> kw_init
 *   -> ... as above; the runtime reads the blob through the import IMPORT_READ_BLOB.
 */
export const EXPORTS: { name: string; args: string[]; doc: string; flashOnly?: boolean }[] = [
  { name: 'kw_abi_version', args: [], doc: 'ABI_VERSION' },
  { name: 'kw_format_version', args: [], doc: 'FORMAT_VERSION this runtime reads' },
  { name: 'kw_op_mask', args: ['word'], doc: 'bitmask of op codes implemented (word 0: codes 0..31, 1: 32..63)' },
  { name: 'kw_set_memory_limit', args: ['bytes'], doc: 'cap on linear memory the runtime may grow to (0 = no cap); call before kw_blob_buffer' },
  { name: 'kw_blob_buffer', args: ['size'], doc: 'reserve room for a blob of `size` bytes (16-aligned); returns its address, 0 when it does not fit' },
  {
    name: 'kw_blob_external',
    args: ['size'],
    doc: 'runtime-flash.wasm only: the blob (`size` bytes) stays with the host and is read through kw.read_blob; returns an error code',
    flashOnly: true,
  },
  { name: 'kw_init', args: [], doc: 'validate the blob in the buffer, lay out arena/state, zero state; returns an error code' },
  { name: 'kw_num_inputs', args: [], doc: '' },
  { name: 'kw_num_outputs', args: [], doc: '' },
  { name: 'kw_input_ptr', args: ['index'], doc: 'address of input tensor bytes (0 if bad index/not ready)' },
  { name: 'kw_input_size', args: ['index'], doc: 'bytes' },
  { name: 'kw_output_ptr', args: ['index'], doc: '' },
  { name: 'kw_output_size', args: ['index'], doc: '' },
  { name: 'kw_invoke', args: [], doc: 'run all ops once; returns an error code' },
  { name: 'kw_reset_state', args: [], doc: 'zero the persistent state (RNN hidden/cell state)' },
  { name: 'kw_self_test', args: [], doc: 'run the embedded self-test vector; returns OK, SELFTEST_MISMATCH or NO_SELFTEST; state is reset before and after' },
  { name: 'kw_last_error', args: [], doc: 'last error code' },
  { name: 'kw_error_op', args: [], doc: 'index of the op (or tensor) the last error refers to, -1 if none' },
  { name: 'kw_memory_used', args: [], doc: 'bytes of linear memory in use after init (static data + blob or its tables + arena + state + scratch + staging)' },
];

/**
 * The one host import of runtime-flash.wasm: module "kw", field "read_blob",
 * (offset: i32, dst: i32, len: i32) -> i32. Copies blob bytes [offset, offset + len) to linear
 * memory at dst and returns len, or a negative value when the range is outside the blob or the
 * read fails (the runtime then returns READ_FAILED; it never traps). runtime.wasm has no imports.
 */
export const IMPORT_READ_BLOB = { module: 'kw', name: 'read_blob', args: ['offset', 'dst', 'len'] } as const;
