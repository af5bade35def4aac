/**
 * Quantisation and lowering of SimpleRNN / GRU / LSTM (and Bidirectional) to the recurrent ops
 * SIMPLE_RNN, GRU, LSTM (tools/blob/spec.ts). The integer scheme is in docs/RECURRENT.md; the
 * integer reference (bit-identical to the kernels) is reference-rnn.ts.
 *
 * quantizeRnn() is the core: float weights + calibrated internal ranges (the float forward's
 * RecurrentInfo keys) + input/output qparams -> RnnQuant. lowerRecurrent() adapts a graph node
 * to op records for the converter.
 */
import { UserError, EXIT } from '../errors.ts';
import type { FloatTensor, Graph, IRNode } from '../graph/ir.ts';
import { ACTIVATION_KERAS_NAMES } from '../graph/config.ts';
import type { RecurrentInfo, Range } from '../float/types.ts';
import { quantizeMultiplier } from '../fixedpoint.ts';
import { asymmetricQParams, type QParams } from './qparams.ts';
import {
  ACT,
  RNN_FLAG,
  TABLE_IN_EXP,
  TABLE_OUT_EXP,
  blockRows4,
  buildActTable,
  gateCount,
  scratchWords,
  type CellKind,
  type RnnQuant,
  type TableFn,
} from './reference-rnn.ts';

export interface RnnFloatLayer {
  cell: CellKind;
  name: string;
  units: number;
  inDim: number;
  activation: string;
  /** recurrent_activation ('linear' for SimpleRNN, ignored there). */
  recurrentActivation: string;
  resetAfter: boolean;
  /** [inDim][G*units] (Keras kernel layout). */
  kernel: ArrayLike<number>;
  /** [units][G*units]. */
  recurrent: ArrayLike<number>;
  /** [G*units] input bias or null (use_bias false). */
  inBias: ArrayLike<number> | null;
  /** [G*units] recurrent bias (GRU reset_after only) or null. */
  recBias: ArrayLike<number> | null;
  returnSequences: boolean;
  goBackwards: boolean;
}

export interface RnnQuantOptions {
  /** State persists between invokes (stateful=True or --stream). */
  keepState: boolean;
  /** Bidirectional backward half: outputs written at the input time index. */
  outputInInputOrder?: boolean;
}

/** An activation as Keras names it (the canonical hard_sigmoid_k3 and gelu_tanh are the converter's own). */
function kerasName(a: string): string {
  return ACTIVATION_KERAS_NAMES[a] ?? a;
}

/** Activation name -> op kind and table. Unsupported names throw UserError naming the layer. */
function actOf(name: string, layer: string, option: string): { kind: number; table: Int16Array | null; fn: TableFn | null } {
  switch (name) {
    case 'tanh':
    case 'sigmoid':
    case 'hard_sigmoid':
    case 'hard_sigmoid_k3':
      return { kind: ACT.TABLE, table: buildActTable(name), fn: name };
    case 'relu':
      return { kind: ACT.RELU, table: null, fn: null };
    case 'linear':
      return { kind: ACT.LINEAR, table: null, fn: null };
    default:
      throw new UserError(
        `layer '${layer}': ${option}='${kerasName(name)}' is not supported for recurrent layers; supported: tanh, sigmoid, hard_sigmoid, relu, linear`,
        EXIT.UNSUPPORTED,
      );
  }
}

const maxAbs = (r: Range | undefined) => (r ? Math.max(Math.abs(r.min), Math.abs(r.max)) : 0);

/**
 * Power-of-two exponent for an int16 value range: smallest e with 32767 * 2^e >= m (at least
 * -15 so state stays above the Q0.15 resolution limit, at most 0).
 */
function expFor(m: number): number {
  if (!(m > 0) || !Number.isFinite(m)) return -15;
  let e = Math.ceil(Math.log2(m / 32767));
  if (32767 * 2 ** e < m) e += 1;
  return Math.max(-15, Math.min(0, e));
}

/**
 * Symmetric per-row int8 weights for W given as Keras [K][rows] (column = row of the op).
 * The row scale is raised where needed so that (a) |bias / (sIn * scale)| < 2^29 and (b) the
 * int32 accumulator of sum |w| * maxIn cannot overflow.
 */
function quantRows(w: ArrayLike<number>, K: number, rows: number, sIn: number, maxIn: number, bias: ArrayLike<number> | null) {
  const q = new Int8Array(rows * K);
  const scales = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    let l1 = 0;
    for (let k = 0; k < K; k++) {
      const a = Math.abs(w[k * rows + r]);
      m = Math.max(m, a);
      l1 += a;
    }
    let s = m > 0 ? m / 127 : 1;
    if (bias) s = Math.max(s, Math.abs(bias[r]) / (sIn * 2 ** 29));
    // sum |q| <= l1 / s + K/2 ; keep (l1/s + K) * maxIn + 2^29 < 2^31
    const lim = (2 ** 31 - 2 ** 30) / maxIn - K;
    if (lim > 0 && l1 / s > lim) s = l1 / lim;
    scales[r] = s;
    for (let k = 0; k < K; k++) {
      const v = Math.round(w[k * rows + r] / s);
      q[r * K + k] = v > 127 ? 127 : v < -127 ? -127 : v;
    }
  }
  return { q, scales };
}

/** Offline multiplier of layer `layer`; a ratio no int32 multiplier can hold is a bad input file. */
function qm(d: number, layer: string, what: string): [number, number] {
  const { mult, shift } = qmOrThrow(d, layer, what);
  return [mult, shift];
}

/** Fixed-point exponents and shifts of an LSTM cell (fills the gate pre-activation exponents). */
function lstmExponents(L: RnnFloatLayer, info: RecurrentInfo, act: { kind: number }, rec: { kind: number }, preExp: Int32Array) {
  const u = L.units;
  const rows = preExp.length;
  const tab = (k: number) => k === ACT.TABLE;
  let rExp = TABLE_IN_EXP;
  let gVal = TABLE_OUT_EXP; // exponent of i, f, o values
  if (!tab(rec.kind)) {
    rExp = expFor(
      Math.max(
        maxAbs(info.i),
        maxAbs(info.f),
        maxAbs(info.o),
        rec.kind === ACT.LINEAR ? Math.max(maxAbs(info.i_pre), maxAbs(info.f_pre), maxAbs(info.o_pre)) : 0,
      ),
    );
    gVal = rExp;
  }
  const cExp = expFor(maxAbs(info.c));
  let gExpPre = TABLE_IN_EXP;
  let gValExp = TABLE_OUT_EXP; // exponent of g = act(c_pre)
  let aExp = TABLE_OUT_EXP; // exponent of act(c)
  if (!tab(act.kind)) {
    gExpPre = expFor(Math.max(maxAbs(info.g), act.kind === ACT.LINEAR ? maxAbs(info.c_pre) : 0));
    gValExp = gExpPre;
    aExp = cExp;
  }
  for (let j = 0; j < rows; j++) preExp[j] = j >= 2 * u && j < 3 * u ? gExpPre : rExp;
  const hExp = tab(act.kind) && tab(rec.kind) ? TABLE_OUT_EXP : expFor(maxAbs(info.h));
  const cellShift = cExp + 12;
  const fcShift = -gVal;
  const igShift = cExp - gVal - gValExp;
  const ohShift = hExp - gVal - aExp;
  if (igShift < 0 || ohShift < 0 || fcShift < 0 || igShift > 30 || ohShift > 30 || fcShift > 30) {
    throw new UserError(
      `layer '${L.name}' (LSTM): calibrated ranges give unsupported fixed-point shifts (activation ${kerasName(L.activation)}, recurrent_activation ${kerasName(L.recurrentActivation)})`,
      EXIT.UNSUPPORTED,
    );
  }
  return { hExp, cExp, cellShift, fcShift, igShift, ohShift };
}

/**
 * Quantise one recurrent layer (one direction). `info` holds the float internal ranges of this
 * direction (keys without the 'forward/'/'backward/' prefix).
 */
export function quantizeRnn(L: RnnFloatLayer, info: RecurrentInfo, inQ: QParams, outQ: QParams, opt: RnnQuantOptions): RnnQuant {
  const u = L.units;
  const D = L.inDim;
  const G = gateCount(L.cell);
  const rows = G * u;
  const act = actOf(L.activation, L.name, 'activation');
  const rec = L.cell === 'SimpleRNN' ? { kind: ACT.LINEAR, table: null, fn: null } : actOf(L.recurrentActivation, L.name, 'recurrent_activation');
  const tab = (k: number) => k === ACT.TABLE;

  // --- exponents -----------------------------------------------------------------------
  // gate pre-activation exponent per row (table: Q3.12), gate value exponents
  const preExp = new Int32Array(rows);
  let hExp = -15;
  let cExp = -15;
  let gateShift = 15;
  let cellShift = 0;
  let fcShift = 0;
  let igShift = 0;
  let ohShift = 0;
  const bounded = (k: number, fn: TableFn | null) => k === ACT.TABLE && fn !== null; // outputs in [-1, 1]
  if (L.cell === 'SimpleRNN') {
    if (tab(act.kind)) {
      preExp.fill(TABLE_IN_EXP);
      hExp = TABLE_OUT_EXP;
    } else {
      hExp = expFor(Math.max(maxAbs(info.h), act.kind === ACT.LINEAR ? maxAbs(info.pre) : 0));
      preExp.fill(hExp);
    }
  } else if (L.cell === 'GRU') {
    let zrExp = TABLE_IN_EXP;
    if (!tab(rec.kind))
      zrExp = expFor(Math.max(maxAbs(info.z), maxAbs(info.r), rec.kind === ACT.LINEAR ? Math.max(maxAbs(info.z_pre), maxAbs(info.r_pre)) : 0));
    preExp.fill(zrExp, 0, 2 * u);
    gateShift = tab(rec.kind) ? -TABLE_OUT_EXP : -zrExp;
    if (tab(act.kind) && bounded(act.kind, act.fn)) {
      preExp.fill(TABLE_IN_EXP, 2 * u);
      hExp = TABLE_OUT_EXP;
    } else {
      hExp = expFor(Math.max(maxAbs(info.h), maxAbs(info.hh), act.kind === ACT.LINEAR ? maxAbs(info.h_pre) : 0));
      preExp.fill(hExp, 2 * u);
    }
  } else {
    ({ hExp, cExp, cellShift, fcShift, igShift, ohShift } = lstmExponents(L, info, act, rec, preExp));
  }
  if (gateShift < 0 || gateShift > 30) throw new UserError(`layer '${L.name}' (GRU): calibrated gate range is not supported`, EXIT.UNSUPPORTED);

  // --- weights ----------------------------------------------------------------------------
  const sX = inQ.scale;
  const wx = quantRows(L.kernel, D, rows, sX, 128, L.inBias);
  const sH = 2 ** hExp;
  const wh = quantRows(L.recurrent, u, rows, sH, 32768, L.recBias);
  const bx = new Int32Array(rows);
  const mx = new Int32Array(rows);
  const sx = new Int32Array(rows);
  const bh = new Int32Array(rows);
  const mh = new Int32Array(rows);
  const sh = new Int32Array(rows);
  for (let j = 0; j < rows; j++) {
    let sum = 0;
    for (let k = 0; k < D; k++) sum += wx.q[j * D + k];
    const b = L.inBias ? Math.round(L.inBias[j] / (sX * wx.scales[j])) : 0;
    bx[j] = (b - inQ.zeroPoint * sum) | 0;
    [mx[j], sx[j]] = qm((sX * wx.scales[j]) / 2 ** preExp[j], L.name, 'input kernel');
    bh[j] = L.recBias ? Math.round(L.recBias[j] / (sH * wh.scales[j])) : 0;
    [mh[j], sh[j]] = qm((sH * wh.scales[j]) / 2 ** preExp[j], L.name, 'recurrent kernel');
  }
  const [outMult, outShift] = qm(sH / outQ.scale, L.name, 'output');
  let flags = 0;
  if (L.returnSequences) flags |= RNN_FLAG.RETURN_SEQUENCES;
  if (L.goBackwards) flags |= RNN_FLAG.GO_BACKWARDS;
  if (opt.outputInInputOrder) flags |= RNN_FLAG.OUTPUT_INPUT_ORDER;
  if (opt.keepState) flags |= RNN_FLAG.KEEP_STATE;
  if (L.cell === 'GRU' && L.resetAfter) flags |= RNN_FLAG.RESET_AFTER;
  return {
    cell: L.cell,
    inDim: D,
    units: u,
    flags,
    wx: wx.q,
    bx,
    mx,
    sx,
    wh: wh.q,
    bh,
    mh,
    sh,
    recKind: rec.kind,
    recTable: rec.table,
    actKind: act.kind,
    actTable: act.table,
    gateShift,
    cellShift,
    fcShift,
    igShift,
    ohShift,
    outMult,
    outShift,
    outZp: outQ.zeroPoint,
    hExp,
    cExp,
  };
}

/** Float layer description from Keras-layout weights (tools/graph/ir.ts names). */
export function rnnFloatLayer(
  cell: CellKind,
  name: string,
  config: Record<string, any>,
  weights: Record<string, FloatTensor>,
  inDim: number,
  prefix = '',
): RnnFloatLayer {
  const u = Number(config.units);
  const G = gateCount(cell);
  const kernel = weights[prefix + 'kernel'];
  const recurrent = weights[prefix + 'recurrent_kernel'];
  if (!kernel || !recurrent) throw new UserError(`layer '${name}' (${cell}): missing ${prefix}kernel or ${prefix}recurrent_kernel weights`, EXIT.BAD_INPUT);
  if (kernel.data.length !== inDim * G * u || recurrent.data.length !== u * G * u) {
    throw new UserError(
      `layer '${name}' (${cell}): weight shapes [${kernel.shape}], [${recurrent.shape}] do not match units=${u} and input dim ${inDim}`,
      EXIT.BAD_INPUT,
    );
  }
  const resetAfter = cell === 'GRU' && config.reset_after === true;
  let inBias: Float32Array | null = null;
  let recBias: Float32Array | null = null;
  const b = config.use_bias === false ? undefined : weights[prefix + 'bias'];
  if (b) {
    if (resetAfter) {
      if (b.data.length !== 2 * G * u)
        throw new UserError(`layer '${name}' (GRU reset_after=True): bias must be [2, ${G * u}], got [${b.shape}]`, EXIT.BAD_INPUT);
      inBias = b.data.subarray(0, G * u);
      recBias = b.data.subarray(G * u);
    } else {
      if (b.data.length !== G * u) throw new UserError(`layer '${name}' (${cell}): bias must be [${G * u}], got [${b.shape}]`, EXIT.BAD_INPUT);
      inBias = b.data;
    }
  }
  return {
    cell,
    name,
    units: u,
    inDim,
    activation: config.activation ?? 'tanh',
    recurrentActivation: cell === 'SimpleRNN' ? 'linear' : (config.recurrent_activation ?? 'sigmoid'),
    resetAfter,
    kernel: kernel.data,
    recurrent: recurrent.data,
    inBias,
    recBias,
    returnSequences: !!config.return_sequences,
    goBackwards: !!config.go_backwards,
  };
}

/** Strip a direction prefix from RecurrentInfo keys ('forward/' or 'backward/'). */
function infoFor(info: RecurrentInfo, prefix: string): RecurrentInfo {
  if (!prefix) return info;
  const out: RecurrentInfo = {};
  for (const [k, v] of Object.entries(info)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** Op name of a cell. */
export function rnnOpName(cell: CellKind): 'SIMPLE_RNN' | 'GRU' | 'LSTM' {
  return cell === 'SimpleRNN' ? 'SIMPLE_RNN' : cell === 'GRU' ? 'GRU' : 'LSTM';
}

export interface RnnOpTensors {
  in: number;
  out: number;
  hState: number;
  cState?: number; // LSTM
  scratch: number;
  maskIds?: number; // -1 / undefined = none
}

const bytesOf = (a: Int8Array | Int16Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Op params (spec names) of a quantised layer. `konst(bytes, align, what)` stores a constant and
 * returns what the caller uses as a const param (a byte offset for BlobBuilder, a ConstRef for
 * the converter). Weights are written in DENSE layout 1.
 */
export function rnnOpParams<C>(
  q: RnnQuant,
  batch: number,
  steps: number,
  t: RnnOpTensors,
  konst: (bytes: Uint8Array, align: number, what: string) => C,
): Record<string, number | C> {
  const u = q.units;
  const G = gateCount(q.cell);
  const rows = G * u;
  const i32c = (a: Int32Array, what: string) => konst(bytesOf(a), 16, what);
  const tbl = (a: Int16Array | null, what: string): number | C => (a ? konst(bytesOf(a), 16, what) : -1);
  const p: Record<string, number | C> = {
    in: t.in,
    out: t.out,
    hState: t.hState,
    scratch: t.scratch,
    maskIds: t.maskIds ?? -1,
    batch,
    steps,
    inDim: q.inDim,
    units: u,
    flags: q.flags,
    wx: konst(bytesOf(blockRows4(q.wx, rows, q.inDim)), 16, 'rnn wx'),
    bx: i32c(q.bx, 'rnn bx'),
    mx: i32c(q.mx, 'rnn mx'),
    sx: i32c(q.sx, 'rnn sx'),
    bh: i32c(q.bh, 'rnn bh'),
    mh: i32c(q.mh, 'rnn mh'),
    sh: i32c(q.sh, 'rnn sh'),
    actKind: q.actKind,
    actTable: tbl(q.actTable, 'rnn act table'),
    outMult: q.outMult,
    outShift: q.outShift,
    outZp: q.outZp,
  };
  if (q.cell === 'GRU') {
    p.whZR = konst(bytesOf(blockRows4(q.wh.subarray(0, 2 * u * u), 2 * u, u)), 16, 'gru whZR');
    p.whH = konst(bytesOf(blockRows4(q.wh.subarray(2 * u * u), u, u)), 16, 'gru whH');
  } else {
    p.wh = konst(bytesOf(blockRows4(q.wh, rows, u)), 16, 'rnn wh');
  }
  if (q.cell !== 'SimpleRNN') {
    p.recKind = q.recKind;
    p.recTable = tbl(q.recTable, 'rnn rec table');
  }
  if (q.cell === 'GRU') p.gateShift = q.gateShift;
  if (q.cell === 'LSTM') {
    if (t.cState === undefined) throw new Error('LSTM op needs a cState tensor');
    p.cState = t.cState;
    p.cellShift = q.cellShift;
    p.fcShift = q.fcShift;
    p.igShift = q.igShift;
    p.ohShift = q.ohShift;
  }
  return p;
}

// ---- graph lowering (called by tools/quantize/lower.ts) -------------------------------------

/** What lowerRecurrent needs from the converter (implemented inside lowerGraph). */
export interface RecurrentLowerCtx {
  batch: number;
  /** convert --stream: keep state between invokes for every recurrent layer (time dim = chunk). */
  stream: boolean;
  /** LTensor index of an IR tensor (created on first use, optionally with forced qparams). */
  tensorOf(irId: number, q?: QParams): number;
  /** Calibrated qparams of an IR tensor. */
  qOf(irId: number): QParams;
  /** Static shape of an IR tensor (batch resolved). */
  tensorShape(irId: number): number[];
  /** New internal tensor; storage 'state' = STATE region (persistent, zeroed by kw_reset_state). */
  newTensor(name: string, shape: number[], dtype: 'int8' | 'int16' | 'int32', q: QParams, storage?: 'arena' | 'state'): number;
  /** Append an op (params by spec name; repeat groups under `rep`). */
  emit(op: string, params: Record<string, unknown>, inputs: number[], outputs: number[], layer: string): void;
  /** A constant (becomes a const offset at assembly). */
  konst(bytes: Uint8Array, align: number, what: string): unknown;
  /** Internal ranges of this node from the float forward's onRecurrent hook (RecurrentInfo keys). */
  recurrentInfo(nodeName: string): RecurrentInfo;
  /** LTensor of int32 token ids whose zeros mask this node's input steps (Embedding mask_zero), or -1. */
  maskIds(inputIrId: number): number;
}

const RNN_CELLS = new Set(['SimpleRNN', 'GRU', 'LSTM']);

/** The one message for a requantisation ratio outside what an int32 multiplier with shift in [-31, 30] holds. */
export function outOfRange(layer: string, what: string, d: number): string {
  return `${layer}: weights out of the representable range: ${what} scale ratio ${d.toPrecision(4)} needs a multiplier shift outside [-31, 30] (check for absurd weights, e.g. |w| > 1e20, or a degenerate calibration)`;
}

function qmOrThrow(d: number, layer: string, what: string): { mult: number; shift: number } {
  try {
    return quantizeMultiplier(d);
  } catch {
    throw new UserError(outOfRange(`layer '${layer}'`, what, d), EXIT.BAD_INPUT);
  }
}

function checkCellOptions(name: string, cls: string, c: Record<string, any>): void {
  if (!RNN_CELLS.has(cls))
    throw new UserError(
      `layer '${name}' (${cls}): not supported; supported recurrent layers: SimpleRNN, GRU, LSTM (and Bidirectional of them)`,
      EXIT.UNSUPPORTED,
    );
  if (c.time_major) throw new UserError(`layer '${name}' (${cls}) option time_major=true: not supported; supported: time_major=false`, EXIT.UNSUPPORTED);
}

interface DirResult {
  out: number; // int8 output tensor
  h: number; // int16 state tensor
  c: number | null;
  q: RnnQuant;
}

/** One direction: quantise, allocate state/scratch, emit the op. */
function lowerDirection(
  ctx: RecurrentLowerCtx,
  cls: CellKind,
  layerName: string,
  cfg: Record<string, any>,
  weights: Record<string, FloatTensor>,
  prefix: string,
  inIr: number,
  outQ: QParams,
  outTensor: number | null,
  keep: boolean,
  outputInInputOrder: boolean,
): DirResult {
  const inL = ctx.tensorOf(inIr);
  const shape = ctx.tensorShape(inIr);
  const [B, T, D] = shape;
  const L = rnnFloatLayer(cls, layerName, cfg, weights, D, prefix);
  const info = infoFor(ctx.recurrentInfo(layerName), prefix ? prefix : '');
  if (!info.h) throw new Error(`no recurrent calibration ranges for layer '${layerName}'${prefix ? ` (${prefix})` : ''}`);
  const q = quantizeRnn(L, info, ctx.qOf(inIr), outQ, { keepState: keep, outputInInputOrder });
  const u = L.units;
  const tag = `${layerName}${prefix ? '/' + prefix.replace(/\/$/, '') : ''}`;
  const out = outTensor ?? ctx.newTensor(`${tag}/out`, L.returnSequences ? [B, T, u] : [B, u], 'int8', outQ);
  const st = keep ? 'state' : 'arena';
  const h = ctx.newTensor(`${tag}/h`, [B, u], 'int16', { scale: 2 ** q.hExp, zeroPoint: 0 }, st);
  const c = cls === 'LSTM' ? ctx.newTensor(`${tag}/c`, [B, u], 'int16', { scale: 2 ** q.cExp, zeroPoint: 0 }, st) : null;
  const scratch = ctx.newTensor(`${tag}/scratch`, [scratchWords(cls, u, T)], 'int32', { scale: 1, zeroPoint: 0 });
  const mask = ctx.maskIds(inIr);
  if (mask >= 0 && cfg.zero_output_for_mask) {
    throw new UserError(
      `layer '${layerName}' (${cls}) option zero_output_for_mask=true on a masked input: not supported; supported: zero_output_for_mask=false (masked steps repeat the previous output)`,
      EXIT.UNSUPPORTED,
    );
  }
  const params = rnnOpParams(q, B, T, { in: inL, out, hState: h, cState: c ?? undefined, scratch, maskIds: mask }, ctx.konst);
  const ins = [inL, h, scratch, ...(c !== null ? [c] : []), ...(mask >= 0 ? [mask] : [])];
  ctx.emit(rnnOpName(cls), params, ins, [out, h, scratch, ...(c !== null ? [c] : [])], layerName);
  return { out, h, c, q };
}

/** REQUANT an int16 state tensor (scale 2^exp) to an int8 model tensor (return_state outputs). */
function emitStateOut(ctx: RecurrentLowerCtx, layer: string, state: number, exp: number, irId: number, count: number): void {
  const oq = ctx.qOf(irId);
  const outL = ctx.tensorOf(irId);
  const m = qmOrThrow(2 ** exp / oq.scale, layer, 'state output');
  ctx.emit(
    'REQUANT',
    { in: state, out: outL, count, zpIn: 0, zpOut: oq.zeroPoint, mult: m.mult, shift: m.shift, outMin: -128, outMax: 127 },
    [state],
    [outL],
    layer,
  );
}

/**
 * Lower a SimpleRNN / GRU / LSTM / Bidirectional node. Emits one recurrent op per direction,
 * the Bidirectional merge (CONCAT / ADD_N / MUL, or two outputs for merge_mode None) and a
 * REQUANT per return_state output.
 */
export function lowerRecurrent(node: IRNode, ctx: RecurrentLowerCtx): void {
  const name = node.name;
  const cls = node.className;
  if (cls === 'Bidirectional') return lowerBidirectional(node, ctx);
  const c = node.config;
  checkCellOptions(name, cls, c);
  if (node.inputs.length > 1) {
    throw new UserError(
      `layer '${name}' (${cls}) called with initial_state: not supported; supported: zero initial state (or stateful=True)`,
      EXIT.UNSUPPORTED,
    );
  }
  const stateful = !!c.stateful;
  if (ctx.stream && c.go_backwards && !stateful) {
    throw new UserError(
      `layer '${name}' (${cls}) option go_backwards=true: cannot be converted with --stream (a backward pass needs the whole sequence); supported: go_backwards=false`,
      EXIT.UNSUPPORTED,
    );
  }
  const keep = stateful || ctx.stream;
  const cell = cls as CellKind;
  const outIr = node.outputs[0];
  const d = lowerDirection(ctx, cell, name, c, node.weights, '', node.inputs[0], ctx.qOf(outIr), ctx.tensorOf(outIr), keep, false);
  if (c.return_state) {
    const B = ctx.batch;
    emitStateOut(ctx, name, d.h, d.q.hExp, node.outputs[1], B * d.q.units);
    if (cell === 'LSTM') emitStateOut(ctx, name, d.c!, d.q.cExp, node.outputs[2], B * d.q.units);
  }
}

function lowerBidirectional(node: IRNode, ctx: RecurrentLowerCtx): void {
  const name = node.name;
  const c = node.config;
  const inner = c.layer ?? {};
  const cls = String(inner.class_name);
  const fcfg = inner.config ?? {};
  checkCellOptions(name, cls, fcfg);
  if (ctx.stream || fcfg.stateful) {
    throw new UserError(
      `layer '${name}' (Bidirectional): cannot be stateful or converted with --stream (the backward pass needs the whole sequence); supported: non-streaming conversion`,
      EXIT.UNSUPPORTED,
    );
  }
  if (node.inputs.length > 1)
    throw new UserError(`layer '${name}' (Bidirectional) called with initial_state: not supported; supported: zero initial state`, EXIT.UNSUPPORTED);
  const bcfg = c.backward_layer?.config ?? { ...fcfg, go_backwards: !fcfg.go_backwards };
  const mode: string | null = c.merge_mode === undefined ? 'concat' : c.merge_mode;
  const cell = cls as CellKind;
  const inIr = node.inputs[0];
  const seq = !!fcfg.return_sequences;
  const outIr = node.outputs[0];
  const [B, T] = ctx.tensorShape(inIr);
  const u = Number(fcfg.units);
  const dirQ = (p: string) => {
    const r = infoFor(ctx.recurrentInfo(name), p).h ?? { min: -1, max: 1 };
    return asymmetricQParams(r.min, r.max);
  };
  let f: DirResult;
  let b: DirResult;
  if (mode === null) {
    f = lowerDirection(ctx, cell, name, fcfg, node.weights, 'forward/', inIr, ctx.qOf(node.outputs[0]), ctx.tensorOf(node.outputs[0]), false, false);
    b = lowerDirection(ctx, cell, name, bcfg, node.weights, 'backward/', inIr, ctx.qOf(node.outputs[1]), ctx.tensorOf(node.outputs[1]), false, true);
  } else if (mode === 'concat') {
    const oq = ctx.qOf(outIr);
    const outL = ctx.tensorOf(outIr);
    f = lowerDirection(ctx, cell, name, fcfg, node.weights, 'forward/', inIr, oq, null, false, false);
    b = lowerDirection(ctx, cell, name, bcfg, node.weights, 'backward/', inIr, oq, null, false, true);
    const rep = [f.out, b.out].map((t) => ({ tensor: t, inner: u, zp: oq.zeroPoint, mult: 0, shift: 0, identity: 1 }));
    ctx.emit('CONCAT', { out: outL, outer: B * (seq ? T : 1), zpOut: oq.zeroPoint, n: 2, rep }, [f.out, b.out], [outL], name);
  } else if (mode === 'sum' || mode === 'ave' || mode === 'mul') {
    const qf = dirQ('forward/');
    const qb = dirQ('backward/');
    f = lowerDirection(ctx, cell, name, fcfg, node.weights, 'forward/', inIr, qf, null, false, false);
    b = lowerDirection(ctx, cell, name, bcfg, node.weights, 'backward/', inIr, qb, null, false, true);
    const oq = ctx.qOf(outIr);
    const outL = ctx.tensorOf(outIr);
    const count = B * (seq ? T : 1) * u;
    if (mode === 'mul') {
      const m = qmOrThrow((qf.scale * qb.scale) / oq.scale, name, 'merge');
      ctx.emit(
        'MUL',
        {
          a: f.out,
          b: b.out,
          out: outL,
          count,
          zpA: qf.zeroPoint,
          zpB: qb.zeroPoint,
          zpOut: oq.zeroPoint,
          mult: m.mult,
          shift: m.shift,
          actMin: -128,
          actMax: 127,
        },
        [f.out, b.out],
        [outL],
        name,
      );
    } else {
      const twiceMax = 2 * Math.max(qf.scale, qb.scale);
      const leftShift = 20;
      const rep = [
        { tensor: f.out, zp: qf.zeroPoint, ...qmOrThrow(qf.scale / twiceMax, name, 'merge input') },
        { tensor: b.out, zp: qb.zeroPoint, ...qmOrThrow(qb.scale / twiceMax, name, 'merge input') },
      ];
      const o = qmOrThrow(twiceMax / (2 ** leftShift * oq.scale * (mode === 'ave' ? 2 : 1)), name, 'merge output');
      ctx.emit(
        'ADD_N',
        { out: outL, count, zpOut: oq.zeroPoint, actMin: -128, actMax: 127, leftShift, outMult: o.mult, outShift: o.shift, n: 2, rep },
        [f.out, b.out],
        [outL],
        name,
      );
    }
  } else {
    throw new UserError(
      `layer '${name}' (Bidirectional) option merge_mode=${JSON.stringify(mode)}: not supported; supported: concat, sum, mul, ave, None`,
      EXIT.UNSUPPORTED,
    );
  }
  if (fcfg.return_state) {
    // Keras outputs: merged (1 or 2), then forward states, then backward states
    let k = mode === null ? 2 : 1;
    for (const d of [f, b]) {
      emitStateOut(ctx, name, d.h, d.q.hExp, node.outputs[k++], B * u);
      if (cell === 'LSTM') emitStateOut(ctx, name, d.c!, d.q.cExp, node.outputs[k++], B * u);
    }
  }
}

/**
 * The ids tensor (IR id) whose zeros mask `irId`'s time steps: follows the layers that pass a
 * mask on (`passesMask`, the layer table's mask rule) and recurrent layers that return sequences
 * back to an Embedding(mask_zero=True) applied to a model input. -1 when unmasked.
 */
export function maskSourceIds(graph: Graph, irId: number, passesMask: (className: string) => boolean): number {
  let t = irId;
  for (let guard = 0; guard < 1000; guard++) {
    const p = graph.tensors[t]?.producer ?? -1;
    if (p < 0) return -1;
    const n = graph.nodes[p];
    if (n.className === 'Embedding') return n.config.mask_zero ? n.inputs[0] : -1;
    if (RNN_CELLS.has(n.className) || n.className === 'Bidirectional') {
      const cfg = n.className === 'Bidirectional' ? (n.config.layer?.config ?? {}) : n.config;
      if (!cfg.return_sequences) return -1;
    } else if (!passesMask(n.className)) return -1;
    t = n.inputs[0];
  }
  return -1;
}

/**
 * Merge one onRecurrent report (tools/float/forward.ts RunFloatOptions.onRecurrent, called per
 * node per calibration batch) into the accumulated ranges of that node.
 */
export function mergeRecurrentInfo(acc: Map<number, RecurrentInfo>, nodeId: number, info: RecurrentInfo): void {
  let a = acc.get(nodeId);
  if (!a) acc.set(nodeId, (a = {}));
  for (const [k, r] of Object.entries(info)) {
    const cur = a[k];
    if (!cur) a[k] = { min: r.min, max: r.max };
    else {
      if (r.min < cur.min) cur.min = r.min;
      if (r.max > cur.max) cur.max = r.max;
    }
  }
}
