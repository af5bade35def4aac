// LSTM (op 18), gates i,f,c,o (Keras order), TFLM-style integer cell. Reference:
// tools/quantize/reference-rnn.ts.
import {
  P_LSTM_IN, P_LSTM_OUT, P_LSTM_H_STATE, P_LSTM_C_STATE, P_LSTM_SCRATCH, P_LSTM_MASK_IDS, P_LSTM_BATCH,
  P_LSTM_STEPS, P_LSTM_IN_DIM, P_LSTM_UNITS, P_LSTM_FLAGS, P_LSTM_WX, P_LSTM_BX, P_LSTM_MX, P_LSTM_SX,
  P_LSTM_WH, P_LSTM_BH, P_LSTM_MH, P_LSTM_SH, P_LSTM_REC_KIND, P_LSTM_REC_TABLE, P_LSTM_ACT_KIND,
  P_LSTM_ACT_TABLE, P_LSTM_CELL_SHIFT, P_LSTM_FC_SHIFT, P_LSTM_IG_SHIFT, P_LSTM_OH_SHIFT, P_LSTM_OUT_MULT,
  P_LSTM_OUT_SHIFT, P_LSTM_OUT_ZP, ERR_OK, ERR_BAD_PARAMS, ERR_BAD_CONST,
} from '../abi.gen';
import {
  prm, tOk, tIsState, cOk, actOk, checkCommon, checkRowArrays, checkOutQ, maybeZero, inputRows,
  matRowsI16, rowConsts, REC_BYTES, packW, packWords, actCall, tableLookup, tableMid, half, sat16, writeOut, timeIndex, outPos, RF_RESET_AFTER, RF_KEEP,
} from './rnn-common';
import { gConsts, gP, gErr, setErr, tAddr } from '../check';

/** Validate the op record at gP against tensors and consts (sticky error via setErr). */
export function prepare(): void {
  if (gErr) return;
  const e = checkLstm(gP);
  if (e != ERR_OK) setErr(e);
}


function checkLstm(P: usize): i32 {
  const u = prm(P, P_LSTM_UNITS);
  let e = checkCommon(P, P_LSTM_SCRATCH, 4, 4 * u + 24 * u);
  if (e != ERR_OK) return e;
  const flags = prm(P, P_LSTM_FLAGS);
  if ((flags & RF_RESET_AFTER) != 0) return ERR_BAD_PARAMS;
  const c = prm(P, P_LSTM_C_STATE);
  if (!tOk(c, 2, <i64>prm(P, P_LSTM_BATCH) * <i64>u)) return ERR_BAD_PARAMS;
  if ((flags & RF_KEEP) != 0 && !tIsState(c)) return ERR_BAD_PARAMS;
  if (c == prm(P, P_LSTM_H_STATE)) return ERR_BAD_PARAMS;
  if (!cOk(prm(P, P_LSTM_WH), <i64>(4 * u) * <i64>u, 1)) return ERR_BAD_CONST;
  e = checkRowArrays(P, P_LSTM_BH, 4 * u);
  if (e != ERR_OK) return e;
  if (!actOk(prm(P, P_LSTM_REC_KIND), prm(P, P_LSTM_REC_TABLE))) return ERR_BAD_PARAMS;
  if (!actOk(prm(P, P_LSTM_ACT_KIND), prm(P, P_LSTM_ACT_TABLE))) return ERR_BAD_PARAMS;
  const cs = prm(P, P_LSTM_CELL_SHIFT);
  if (cs < -15 || cs > 15) return ERR_BAD_PARAMS;
  for (let i = P_LSTM_FC_SHIFT; i <= P_LSTM_OH_SHIFT; i++) {
    const s = prm(P, i);
    if (s < 0 || s > 30) return ERR_BAD_PARAMS;
  }
  return checkOutQ(P, P_LSTM_OUT_MULT);
}

export function evalOp(P: usize): i32 {
  const consts = gConsts;
  const x = tAddr(prm(P, P_LSTM_IN));
  const y = tAddr(prm(P, P_LSTM_OUT));
  const h = tAddr(prm(P, P_LSTM_H_STATE));
  const c = tAddr(prm(P, P_LSTM_C_STATE));
  const S = tAddr(prm(P, P_LSTM_SCRATCH));
  const mi = prm(P, P_LSTM_MASK_IDS);
  const mask: usize = mi == -1 ? 0 : tAddr(mi);
  const batch = prm(P, P_LSTM_BATCH);
  const steps = prm(P, P_LSTM_STEPS);
  const D = prm(P, P_LSTM_IN_DIM);
  const u = prm(P, P_LSTM_UNITS);
  const flags = prm(P, P_LSTM_FLAGS);
  const rows = 4 * u;
  const wx = consts + <usize>prm(P, P_LSTM_WX);
  const bx = consts + <usize>prm(P, P_LSTM_BX);
  const mx = consts + <usize>prm(P, P_LSTM_MX);
  const sx = consts + <usize>prm(P, P_LSTM_SX);
  const wh = consts + <usize>prm(P, P_LSTM_WH);
  const bh = consts + <usize>prm(P, P_LSTM_BH);
  const mh = consts + <usize>prm(P, P_LSTM_MH);
  const sh = consts + <usize>prm(P, P_LSTM_SH);
  const rk = prm(P, P_LSTM_REC_KIND);
  const rt = tableMid(rk, consts, prm(P, P_LSTM_REC_TABLE));
  const ak = prm(P, P_LSTM_ACT_KIND);
  const at = tableMid(ak, consts, prm(P, P_LSTM_ACT_TABLE));
  const cellShift = prm(P, P_LSTM_CELL_SHIFT);
  const fcS = prm(P, P_LSTM_FC_SHIFT);
  const igS = prm(P, P_LSTM_IG_SHIFT);
  const ohS = prm(P, P_LSTM_OH_SHIFT);
  const fcH = half(fcS), igH = half(igS), ohH = half(ohS);
  // act(c) input: c << cl (cellShift >= 0) or rsr(c, cr) (cellShift < 0), one expression
  const cl = cellShift > 0 ? cellShift : 0;
  const cr = cl - cellShift;
  const crH = half(cr);
  const om = prm(P, P_LSTM_OUT_MULT);
  const os = prm(P, P_LSTM_OUT_SHIFT);
  const oz = prm(P, P_LSTM_OUT_ZP);
  const outSteps = (flags & 1) != 0 ? steps : 1;
  maybeZero(flags, h, batch * u * 2);
  maybeZero(flags, c, batch * u * 2);
  const uw = <usize>u << 2;
  const rec = S + 4 * uw; // requantisation records of the 4u recurrent rows
  const wk = rec + <usize>rows * REC_BYTES; // packed recurrent weights (packW)
  const Px = wk + (<usize>packWords(rows, u) << 2); // int16 input parts [steps][4u]
  rowConsts(mh, sh, rows, rec);
  packW(wh, rows, u, wk);
  const pb = <usize>rows << 1;
  for (let b = 0; b < batch; b++) {
    const hb = h + (<usize>(b * u) << 1);
    const cb = c + (<usize>(b * u) << 1);
    inputRows(x + <usize>(b * steps) * <usize>D, steps, D, wx, rows, bx, mx, sx, Px);
    for (let s = 0; s < steps; s++) {
      const t = timeIndex(flags, steps, s);
      const bt = b * steps + t;
      if (mask == 0 || load<i32>(mask + (<usize>bt << 2)) != 0) {
        matRowsI16(hb, u, wh, rows, bh, rec, S, Px + <usize>t * pb, wk);
        if (rk == 2 && ak == 2) cells(S, uw, u, cb, hb, rk, rt, ak, at, fcS, fcH, igS, igH, ohS, ohH, cl, cr, crH, true);
        else cells(S, uw, u, cb, hb, rk, rt, ak, at, fcS, fcH, igS, igH, ohS, ohH, cl, cr, crH, false);
      }
      const pos = outPos(flags, steps, s, t);
      if (pos >= 0) writeOut(hb, u, y + <usize>((b * outSteps + pos) * u), om, os, oz);
    }
  }
  return ERR_OK;
}

/**
 * One step's cell and state update over the u units from the gate pre-activations in S (i, f,
 * c, o rows of uw bytes). tables: both kinds are 2, so the kind branches fold away (the two
 * calls are the table-table loop and the general loop).
 */
// @ts-ignore: decorator
@inline
function cells(
  S: usize, uw: usize, u: i32, cb: usize, hb: usize, rk: i32, rt: usize, ak: i32, at: usize,
  fcS: i32, fcH: i32, igS: i32, igH: i32, ohS: i32, ohH: i32, cl: i32, cr: i32, crH: i32, tables: bool,
): void {
  const uw2 = uw << 1, uw3 = uw * 3;
  let pk = S;
  let ck = cb;
  let hk = hb;
  const he = hb + (<usize>u << 1);
  do {
    const i = tables ? tableLookup(rt, load<i32>(pk)) : actCall(rk, rt, load<i32>(pk));
    const f = tables ? tableLookup(rt, load<i32>(pk + uw)) : actCall(rk, rt, load<i32>(pk + uw));
    const g = tables ? tableLookup(at, load<i32>(pk + uw2)) : actCall(ak, at, load<i32>(pk + uw2));
    const o = tables ? tableLookup(rt, load<i32>(pk + uw3)) : actCall(rk, rt, load<i32>(pk + uw3));
    const cv = sat16(((f * <i32>load<i16>(ck) + fcH) >> fcS) + ((i * g + igH) >> igS));
    store<i16>(ck, <i16>cv);
    let a: i32;
    if (tables || ak == 2) a = tableLookup(at, sat16(((cv << cl) + crH) >> cr));
    else a = actCall(ak, at, cv);
    store<i16>(hk, <i16>sat16((o * a + ohH) >> ohS));
    pk += 4;
    ck += 2;
    hk += 2;
  } while (hk < he);
}
