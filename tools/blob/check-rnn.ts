/**
 * Node mirror of the recurrent ops' prepare checks (assembly/ops/rnn-common.ts checkCommon and
 * the prepare of rnn.ts / gru.ts / lstm.ts): same checks, same order, same error codes.
 * tools/blob/parse.ts calls checkRecurrentOp for SIMPLE_RNN / GRU / LSTM.
 */
import { DTYPE, ERR, OP_BY_NAME, STORAGE } from './spec.ts';

export interface RnnCheckInput {
  name: 'SIMPLE_RNN' | 'GRU' | 'LSTM';
  P: Int32Array | number[];
  tensors: { dtype: number; storage: number; elements: number }[];
  consts: DataView;
  constsSize: number;
}

/** Returns null when the record is valid, else { code: ERR.*, detail }. */
export function checkRecurrentOp(c: RnnCheckInput): { code: number; detail: string } | null {
  const spec = OP_BY_NAME[c.name];
  const idx = (n: string) => spec.params.indexOf(n);
  const p = (n: string) => c.P[idx(n)];
  const bad = (n: string, what: string) => ({ code: ERR.BAD_PARAMS, detail: `${c.name}.${n}=${p(n)}: ${what}` });
  const badC = (n: string, what: string) => ({ code: ERR.BAD_CONST, detail: `${c.name}.${n}=${p(n)}: ${what}` });
  const tOk = (t: number, dtype: number, elements: number) =>
    t >= 0 && t < c.tensors.length && c.tensors[t].dtype === dtype && c.tensors[t].elements === elements;
  const cOk = (off: number, bytes: number, align: number) => off >= 0 && off % align === 0 && off + bytes <= c.constsSize;
  const mulShiftOk = (mOff: number, sOff: number, n: number) => {
    for (let j = 0; j < n; j++) {
      const m = c.consts.getInt32(mOff + 4 * j, true);
      const s = c.consts.getInt32(sOff + 4 * j, true);
      if ((m !== 0 && m < 0x40000000) || s < -31 || s > 30) return false;
    }
    return true;
  };
  const gates = c.name === 'LSTM' ? 4 : c.name === 'GRU' ? 3 : 1;
  const [batch, steps, inDim, units, flags] = ['batch', 'steps', 'inDim', 'units', 'flags'].map(p);
  if (batch < 1 || steps < 1 || inDim < 1 || units < 1) return bad('units', 'batch, steps, inDim and units must be >= 1');
  if (batch > 65535 || steps > 0xffffff || inDim > 65535 || units > 4096) return bad('units', 'batch/steps/inDim/units too large');
  if ((flags & ~31) !== 0) return bad('flags', 'unknown flag bits');
  const outSteps = flags & 1 ? steps : 1;
  if (!tOk(p('in'), DTYPE.INT8, batch * steps * inDim)) return bad('in', `needs an int8 tensor of ${batch}*${steps}*${inDim} elements`);
  if (!tOk(p('out'), DTYPE.INT8, batch * outSteps * units)) return bad('out', `needs an int8 tensor of ${batch}*${outSteps}*${units} elements`);
  if (!tOk(p('hState'), DTYPE.INT16, batch * units)) return bad('hState', `needs an int16 tensor of ${batch}*${units} elements`);
  if (flags & 8 && c.tensors[p('hState')].storage !== STORAGE.STATE) return bad('hState', 'kept state must live in the STATE region');
  const sw =
    (c.name === 'SIMPLE_RNN' ? units : 4 * units) + 6 * gates * units + (units < 512 ? gates * units * units : 0) + Math.ceil((steps * gates * units) / 2);
  if (!tOk(p('scratch'), DTYPE.INT32, sw)) return bad('scratch', `needs an int32 tensor of ${sw} elements`);
  if (p('maskIds') !== -1 && !tOk(p('maskIds'), DTYPE.INT32, batch * steps)) return bad('maskIds', `needs -1 or an int32 tensor of ${batch}*${steps} elements`);
  const rows = gates * units;
  if (!cOk(p('wx'), rows * inDim, 1)) return badC('wx', 'outside the constants section');
  for (const n of ['bx', 'mx', 'sx']) if (!cOk(p(n), rows * 4, 4)) return badC(n, 'outside the constants section or not 4-aligned');
  if (!mulShiftOk(p('mx'), p('sx'), rows)) return bad('mx', 'multiplier or shift out of range');
  const actOk = (k: string, t: string) => (p(k) === 2 ? cOk(p(t), 514, 2) : p(k) === 0 || p(k) === 1);
  const rowArrays = () => {
    for (const n of ['bh', 'mh', 'sh']) if (!cOk(p(n), rows * 4, 4)) return badC(n, 'outside the constants section or not 4-aligned');
    if (!mulShiftOk(p('mh'), p('sh'), rows)) return bad('mh', 'multiplier or shift out of range');
    return null;
  };
  const outQ = () => {
    const m = p('outMult');
    const s = p('outShift');
    if ((m !== 0 && m < 0x40000000) || s < -31 || s > 30) return bad('outMult', 'multiplier or shift out of range');
    if (p('outZp') < -128 || p('outZp') > 127) return bad('outZp', 'must be in [-128, 127]');
    return null;
  };
  if (c.name === 'SIMPLE_RNN') {
    if (flags & 16) return bad('flags', 'reset_after is a GRU flag');
    if (!cOk(p('wh'), units * units, 1)) return badC('wh', 'outside the constants section');
    const e = rowArrays();
    if (e) return e;
    if (!actOk('actKind', 'actTable')) return bad('actKind', 'kind must be 0, 1 or 2 (with a 514-byte table)');
    return outQ();
  }
  if (c.name === 'GRU') {
    if (!cOk(p('whZR'), 2 * units * units, 1)) return badC('whZR', 'outside the constants section');
    if (!cOk(p('whH'), units * units, 1)) return badC('whH', 'outside the constants section');
    const e = rowArrays();
    if (e) return e;
    if (!actOk('recKind', 'recTable')) return bad('recKind', 'kind must be 0, 1 or 2 (with a 514-byte table)');
    if (!actOk('actKind', 'actTable')) return bad('actKind', 'kind must be 0, 1 or 2 (with a 514-byte table)');
    if (p('gateShift') < 0 || p('gateShift') > 30) return bad('gateShift', 'must be in [0, 30]');
    return outQ();
  }
  // LSTM
  if (flags & 16) return bad('flags', 'reset_after is a GRU flag');
  if (!tOk(p('cState'), DTYPE.INT16, batch * units)) return bad('cState', `needs an int16 tensor of ${batch}*${units} elements`);
  if (flags & 8 && c.tensors[p('cState')].storage !== STORAGE.STATE) return bad('cState', 'kept state must live in the STATE region');
  if (p('cState') === p('hState')) return bad('cState', 'must differ from hState');
  if (!cOk(p('wh'), rows * units, 1)) return badC('wh', 'outside the constants section');
  const e = rowArrays();
  if (e) return e;
  if (!actOk('recKind', 'recTable')) return bad('recKind', 'kind must be 0, 1 or 2 (with a 514-byte table)');
  if (!actOk('actKind', 'actTable')) return bad('actKind', 'kind must be 0, 1 or 2 (with a 514-byte table)');
  if (p('cellShift') < -15 || p('cellShift') > 15) return bad('cellShift', 'must be in [-15, 15]');
  for (const n of ['fcShift', 'igShift', 'ohShift']) if (p(n) < 0 || p(n) > 30) return bad(n, 'must be in [0, 30]');
  return outQ();
}
