// SIMPLE_RNN (op 16): h = act(sat16(px + ph)). Reference: tools/quantize/reference-rnn.ts.
import {
  P_SIMPLE_RNN_IN, P_SIMPLE_RNN_OUT, P_SIMPLE_RNN_H_STATE, P_SIMPLE_RNN_SCRATCH, P_SIMPLE_RNN_MASK_IDS,
  P_SIMPLE_RNN_BATCH, P_SIMPLE_RNN_STEPS, P_SIMPLE_RNN_IN_DIM, P_SIMPLE_RNN_UNITS, P_SIMPLE_RNN_FLAGS,
  P_SIMPLE_RNN_WX, P_SIMPLE_RNN_BX, P_SIMPLE_RNN_MX, P_SIMPLE_RNN_SX, P_SIMPLE_RNN_WH, P_SIMPLE_RNN_BH,
  P_SIMPLE_RNN_MH, P_SIMPLE_RNN_SH, P_SIMPLE_RNN_ACT_KIND, P_SIMPLE_RNN_ACT_TABLE, P_SIMPLE_RNN_OUT_MULT,
  P_SIMPLE_RNN_OUT_SHIFT, P_SIMPLE_RNN_OUT_ZP, ERR_OK, ERR_BAD_PARAMS, ERR_BAD_CONST,
} from '../abi.gen';
import {
  prm, cOk, actOk, checkCommon, checkRowArrays, checkOutQ, maybeZero, inputRows, matRowsI16, rowConsts, REC_BYTES, packW, packWords,
  applyAct, tableMid, sat16, writeOut, timeIndex, outPos, RF_RESET_AFTER,
} from './rnn-common';
import { gConsts, gP, gErr, setErr, tAddr } from '../check';

/** Validate the op record at gP against tensors and consts (sticky error via setErr). */
export function prepare(): void {
  if (gErr) return;
  const e = checkSimpleRnn(gP);
  if (e != ERR_OK) setErr(e);
}


/** Validate an op record (params at P, n words) against the blob's tensors and consts. */
function checkSimpleRnn(P: usize): i32 {
  const units = prm(P, P_SIMPLE_RNN_UNITS);
  let e = checkCommon(P, P_SIMPLE_RNN_SCRATCH, 1, units + 6 * units);
  if (e != ERR_OK) return e;
  if ((prm(P, P_SIMPLE_RNN_FLAGS) & RF_RESET_AFTER) != 0) return ERR_BAD_PARAMS;
  if (!cOk(prm(P, P_SIMPLE_RNN_WH), <i64>units * <i64>units, 1)) return ERR_BAD_CONST;
  e = checkRowArrays(P, P_SIMPLE_RNN_BH, units);
  if (e != ERR_OK) return e;
  if (!actOk(prm(P, P_SIMPLE_RNN_ACT_KIND), prm(P, P_SIMPLE_RNN_ACT_TABLE))) return ERR_BAD_PARAMS;
  return checkOutQ(P, P_SIMPLE_RNN_OUT_MULT);
}

/** Run all timesteps of the input tensor from the stored state. */
export function evalOp(P: usize): i32 {
  const consts = gConsts;
  const x = tAddr(prm(P, P_SIMPLE_RNN_IN));
  const y = tAddr(prm(P, P_SIMPLE_RNN_OUT));
  const h = tAddr(prm(P, P_SIMPLE_RNN_H_STATE));
  const S = tAddr(prm(P, P_SIMPLE_RNN_SCRATCH));
  const mi = prm(P, P_SIMPLE_RNN_MASK_IDS);
  const mask: usize = mi == -1 ? 0 : tAddr(mi);
  const batch = prm(P, P_SIMPLE_RNN_BATCH);
  const steps = prm(P, P_SIMPLE_RNN_STEPS);
  const D = prm(P, P_SIMPLE_RNN_IN_DIM);
  const u = prm(P, P_SIMPLE_RNN_UNITS);
  const flags = prm(P, P_SIMPLE_RNN_FLAGS);
  const wx = consts + <usize>prm(P, P_SIMPLE_RNN_WX);
  const bx = consts + <usize>prm(P, P_SIMPLE_RNN_BX);
  const mx = consts + <usize>prm(P, P_SIMPLE_RNN_MX);
  const sx = consts + <usize>prm(P, P_SIMPLE_RNN_SX);
  const wh = consts + <usize>prm(P, P_SIMPLE_RNN_WH);
  const bh = consts + <usize>prm(P, P_SIMPLE_RNN_BH);
  const mh = consts + <usize>prm(P, P_SIMPLE_RNN_MH);
  const sh = consts + <usize>prm(P, P_SIMPLE_RNN_SH);
  const kind = prm(P, P_SIMPLE_RNN_ACT_KIND);
  const table = tableMid(kind, consts, prm(P, P_SIMPLE_RNN_ACT_TABLE));
  const om = prm(P, P_SIMPLE_RNN_OUT_MULT);
  const os = prm(P, P_SIMPLE_RNN_OUT_SHIFT);
  const oz = prm(P, P_SIMPLE_RNN_OUT_ZP);
  const outSteps = (flags & 1) != 0 ? steps : 1;
  maybeZero(flags, h, batch * u * 2);
  const rec = S + (<usize>u << 2); // requantisation records of the u recurrent rows
  const wk = rec + <usize>u * REC_BYTES; // packed recurrent weights (packW)
  const Px = wk + (<usize>packWords(u, u) << 2); // int16 input parts [steps][u]
  rowConsts(mh, sh, u, rec);
  packW(wh, u, u, wk);
  const pb = <usize>u << 1;
  for (let b = 0; b < batch; b++) {
    const hb = h + (<usize>(b * u) << 1);
    inputRows(x + <usize>(b * steps) * <usize>D, steps, D, wx, u, bx, mx, sx, Px);
    for (let s = 0; s < steps; s++) {
      const t = timeIndex(flags, steps, s);
      const bt = b * steps + t;
      if (mask == 0 || load<i32>(mask + (<usize>bt << 2)) != 0) {
        matRowsI16(hb, u, wh, u, bh, rec, S, Px + <usize>t * pb, wk);
        for (let k = 0; k < u; k++) {
          store<i16>(hb + (<usize>k << 1), <i16>applyAct(kind, table, load<i32>(S + (<usize>k << 2))));
        }
      }
      const pos = outPos(flags, steps, s, t);
      if (pos >= 0) writeOut(hb, u, y + <usize>((b * outSteps + pos) * u), om, os, oz);
    }
  }
  return ERR_OK;
}
