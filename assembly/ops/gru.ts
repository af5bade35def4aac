// GRU (op 17), gates z,r,h (Keras order), reset_after true or false. Reference:
// tools/quantize/reference-rnn.ts; scheme in docs/RECURRENT.md.
import {
  P_GRU_IN, P_GRU_OUT, P_GRU_H_STATE, P_GRU_SCRATCH, P_GRU_MASK_IDS, P_GRU_BATCH, P_GRU_STEPS, P_GRU_IN_DIM,
  P_GRU_UNITS, P_GRU_FLAGS, P_GRU_WX, P_GRU_BX, P_GRU_MX, P_GRU_SX, P_GRU_WH_ZR, P_GRU_WH_H, P_GRU_BH,
  P_GRU_MH, P_GRU_SH, P_GRU_REC_KIND, P_GRU_REC_TABLE, P_GRU_ACT_KIND, P_GRU_ACT_TABLE, P_GRU_GATE_SHIFT,
  P_GRU_OUT_MULT, P_GRU_OUT_SHIFT, P_GRU_OUT_ZP, ERR_OK, ERR_BAD_PARAMS, ERR_BAD_CONST,
} from '../abi.gen';
import {
  prm, cOk, actOk, checkCommon, checkRowArrays, checkOutQ, maybeZero, matRowsI8, matRowsI16,
  applyAct, sat16, rsr, rsr64, writeOut, timeIndex, outPos, RF_RESET_AFTER,
} from './rnn-common';
import { gConsts, gP, gErr, setErr, tAddr } from '../check';

/** Validate the op record at gP against tensors and consts (sticky error via setErr). */
export function prepare(): void {
  if (gErr) return;
  const e = checkGru(gP);
  if (e != ERR_OK) setErr(e);
}


function checkGru(P: usize): i32 {
  const u = prm(P, P_GRU_UNITS);
  let e = checkCommon(P, P_GRU_SCRATCH, 3, 4 * u);
  if (e != ERR_OK) return e;
  if (!cOk(prm(P, P_GRU_WH_ZR), <i64>(2 * u) * <i64>u, 1)) return ERR_BAD_CONST;
  if (!cOk(prm(P, P_GRU_WH_H), <i64>u * <i64>u, 1)) return ERR_BAD_CONST;
  e = checkRowArrays(P, P_GRU_BH, 3 * u);
  if (e != ERR_OK) return e;
  if (!actOk(prm(P, P_GRU_REC_KIND), prm(P, P_GRU_REC_TABLE))) return ERR_BAD_PARAMS;
  if (!actOk(prm(P, P_GRU_ACT_KIND), prm(P, P_GRU_ACT_TABLE))) return ERR_BAD_PARAMS;
  const gs = prm(P, P_GRU_GATE_SHIFT);
  if (gs < 0 || gs > 30) return ERR_BAD_PARAMS;
  return checkOutQ(P, P_GRU_OUT_MULT);
}

export function evalOp(P: usize): i32 {
  const consts = gConsts;
  const x = tAddr(prm(P, P_GRU_IN));
  const y = tAddr(prm(P, P_GRU_OUT));
  const h = tAddr(prm(P, P_GRU_H_STATE));
  const S = tAddr(prm(P, P_GRU_SCRATCH));
  const mi = prm(P, P_GRU_MASK_IDS);
  const mask: usize = mi == -1 ? 0 : tAddr(mi);
  const batch = prm(P, P_GRU_BATCH);
  const steps = prm(P, P_GRU_STEPS);
  const D = prm(P, P_GRU_IN_DIM);
  const u = prm(P, P_GRU_UNITS);
  const flags = prm(P, P_GRU_FLAGS);
  const wx = consts + <usize>prm(P, P_GRU_WX);
  const bx = consts + <usize>prm(P, P_GRU_BX);
  const mx = consts + <usize>prm(P, P_GRU_MX);
  const sx = consts + <usize>prm(P, P_GRU_SX);
  const whZR = consts + <usize>prm(P, P_GRU_WH_ZR);
  const whH = consts + <usize>prm(P, P_GRU_WH_H);
  const bh = consts + <usize>prm(P, P_GRU_BH);
  const mh = consts + <usize>prm(P, P_GRU_MH);
  const sh = consts + <usize>prm(P, P_GRU_SH);
  const rk = prm(P, P_GRU_REC_KIND);
  const rt: usize = rk == 2 ? consts + <usize>prm(P, P_GRU_REC_TABLE) : 0;
  const ak = prm(P, P_GRU_ACT_KIND);
  const at: usize = ak == 2 ? consts + <usize>prm(P, P_GRU_ACT_TABLE) : 0;
  const gs = prm(P, P_GRU_GATE_SHIFT);
  const one: i64 = <i64>1 << <i64>gs;
  const om = prm(P, P_GRU_OUT_MULT);
  const os = prm(P, P_GRU_OUT_SHIFT);
  const oz = prm(P, P_GRU_OUT_ZP);
  const resetAfter = (flags & RF_RESET_AFTER) != 0;
  const outSteps = (flags & 1) != 0 ? steps : 1;
  maybeZero(flags, h, batch * u * 2);
  const uw = <usize>u << 2;
  const S2 = S + 2 * uw; // candidate pre-activation rows
  const S3 = S + 3 * uw; // reset_after: recurrent candidate part; else r*h as int16
  const o2 = <usize>(2 * u) << 2; // row offset of the candidate rows in bh/mh/sh
  for (let b = 0; b < batch; b++) {
    const hb = h + (<usize>(b * u) << 1);
    for (let s = 0; s < steps; s++) {
      const t = timeIndex(flags, steps, s);
      const bt = b * steps + t;
      if (mask == 0 || load<i32>(mask + (<usize>bt << 2)) != 0) {
        matRowsI8(x + <usize>bt * <usize>D, D, wx, 3 * u, bx, mx, sx, S, false);
        matRowsI16(hb, u, whZR, 2 * u, bh, mh, sh, S, true);
        for (let k = 0; k < 2 * u; k++) {
          const pk = S + (<usize>k << 2);
          store<i32>(pk, applyAct(rk, rt, load<i32>(pk)));
        }
        if (resetAfter) {
          matRowsI16(hb, u, whH, u, bh + o2, mh + o2, sh + o2, S3, false);
          for (let k = 0; k < u; k++) {
            const kw = <usize>k << 2;
            const r = load<i32>(S + uw + kw);
            store<i32>(S2 + kw, sat16(load<i32>(S2 + kw) + sat16(rsr(r * load<i32>(S3 + kw), gs))));
          }
        } else {
          for (let k = 0; k < u; k++) {
            const r = load<i32>(S + uw + (<usize>k << 2));
            store<i16>(S3 + (<usize>k << 1), <i16>sat16(rsr(r * <i32>load<i16>(hb + (<usize>k << 1)), gs)));
          }
          matRowsI16(S3, u, whH, u, bh + o2, mh + o2, sh + o2, S2, true);
        }
        for (let k = 0; k < u; k++) {
          const kw = <usize>k << 2;
          const hk = hb + (<usize>k << 1);
          const z = <i64>load<i32>(S + kw);
          const nv = <i64>applyAct(ak, at, load<i32>(S2 + kw));
          const v = rsr64(z * <i64>load<i16>(hk) + (one - z) * nv, gs);
          store<i16>(hk, <i16>(v > 32767 ? 32767 : v < -32768 ? -32768 : <i32>v));
        }
      }
      const pos = outPos(flags, steps, s, t);
      if (pos >= 0) writeOut(hb, u, y + <usize>((b * outSteps + pos) * u), om, os, oz);
    }
  }
  return ERR_OK;
}
