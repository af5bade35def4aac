// GRU (op 17), gates z,r,h (Keras order), reset_after true or false. Reference:
// tools/quantize/reference-rnn.ts; scheme in docs/RECURRENT.md.
import {
  P_GRU_IN, P_GRU_OUT, P_GRU_H_STATE, P_GRU_SCRATCH, P_GRU_MASK_IDS, P_GRU_BATCH, P_GRU_STEPS, P_GRU_IN_DIM,
  P_GRU_UNITS, P_GRU_FLAGS, P_GRU_WX, P_GRU_BX, P_GRU_MX, P_GRU_SX, P_GRU_WH_ZR, P_GRU_WH_H, P_GRU_BH,
  P_GRU_MH, P_GRU_SH, P_GRU_REC_KIND, P_GRU_REC_TABLE, P_GRU_ACT_KIND, P_GRU_ACT_TABLE, P_GRU_GATE_SHIFT,
  P_GRU_OUT_MULT, P_GRU_OUT_SHIFT, P_GRU_OUT_ZP, ERR_OK, ERR_BAD_PARAMS, ERR_BAD_CONST,
} from '../abi.gen';
import {
  prm, cOk, actOk, checkCommon, checkRowArrays, checkOutQ, maybeZero, inputRows, matRowsI16, rowConsts, REC_BYTES, packW, packWords, zeroBytes,
  actCall, tableLookup, tableMid, half, sat16, writeOut, timeIndex, outPos, RF_RESET_AFTER,
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
  let e = checkCommon(P, P_GRU_SCRATCH, 3, 4 * u + 18 * u);
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
  const rt = tableMid(rk, consts, prm(P, P_GRU_REC_TABLE));
  const ak = prm(P, P_GRU_ACT_KIND);
  const at = tableMid(ak, consts, prm(P, P_GRU_ACT_TABLE));
  const gs = prm(P, P_GRU_GATE_SHIFT);
  const hg = half(gs);
  const om = prm(P, P_GRU_OUT_MULT);
  const os = prm(P, P_GRU_OUT_SHIFT);
  const oz = prm(P, P_GRU_OUT_ZP);
  const resetAfter = (flags & RF_RESET_AFTER) != 0;
  const outSteps = (flags & 1) != 0 ? steps : 1;
  maybeZero(flags, h, batch * u * 2);
  const uw = <usize>u << 2;
  const S2 = S + 2 * uw; // candidate pre-activation rows
  const S3 = S + 3 * uw; // reset_after: recurrent candidate part; else r*h as int16
  const rec = S + 4 * uw; // requantisation records of the 3u recurrent rows
  const wk = rec + <usize>(3 * u) * REC_BYTES; // packed recurrent weights (packW): zr, then h
  const wk2 = wk + (<usize>packWords(2 * u, u) << 2);
  const Px = wk + (<usize>packWords(3 * u, u) << 2); // int16 input parts [steps][3u]
  rowConsts(mh, sh, 3 * u, rec);
  packW(whZR, 2 * u, u, wk);
  packW(whH, u, u, wk2);
  if (resetAfter) zeroBytes(S2, u << 1);
  const pb = <usize>(3 * u) << 1;
  const o2 = <usize>(2 * u) << 2; // row offset of the candidate rows in bh
  const rc2 = rec + <usize>(2 * u) * REC_BYTES;
  const tabs = rk == 2 && ak == 2 && gs <= 15;
  for (let b = 0; b < batch; b++) {
    const hb = h + (<usize>(b * u) << 1);
    inputRows(x + <usize>(b * steps) * <usize>D, steps, D, wx, 3 * u, bx, mx, sx, Px);
    for (let s = 0; s < steps; s++) {
      const t = timeIndex(flags, steps, s);
      const bt = b * steps + t;
      if (mask == 0 || load<i32>(mask + (<usize>bt << 2)) != 0) {
        const pt = Px + <usize>t * pb;
        const pc = pt + (<usize>(2 * u) << 1); // candidate input parts
        matRowsI16(hb, u, whZR, 2 * u, bh, rec, S, pt, wk);
        if (resetAfter) {
          matRowsI16(hb, u, whH, u, bh + o2, rc2, S3, S2, wk2); // S2: zeros (unused with reset_after)
        } else {
          if (tabs) resetGate(S + uw, hb, S3, u, rk, rt, hg, gs, true);
          else resetGate(S + uw, hb, S3, u, rk, rt, hg, gs, false);
          matRowsI16(S3, u, whH, u, bh + o2, rc2, S2, pc, wk2);
        }
        if (tabs) update(S, uw, pc, hb, u, rk, rt, ak, at, hg, gs, resetAfter, true);
        else update(S, uw, pc, hb, u, rk, rt, ak, at, hg, gs, resetAfter, false);
      }
      const pos = outPos(flags, steps, s, t);
      if (pos >= 0) writeOut(hb, u, y + <usize>((b * outSteps + pos) * u), om, os, oz);
    }
  }
  return ERR_OK;
}

// The two loops of a step, each inlined twice: tables = both kinds are 2 and gateShift <= 15
// (the update in int32), else the general form (binaryen folds the two copies into one loop with
// a branch per activation: smaller code than two functions).

/** rh[k] = sat16(rsr(r[k] * h[k], gs)) as int16 at rh; r = rec(pre) from the words at pr */
// @ts-ignore: decorator
@inline
function resetGate(pr: usize, hb: usize, rh: usize, u: i32, rk: i32, rt: usize, hg: i32, gs: i32, tables: bool): void {
  const he = hb + (<usize>u << 1);
  do {
    const r = tables ? tableLookup(rt, load<i32>(pr)) : actCall(rk, rt, load<i32>(pr));
    store<i16>(rh, <i16>sat16((r * <i32>load<i16>(hb) + hg) >> gs));
    pr += 4;
    hb += 2;
    rh += 2;
  } while (hb < he);
}

/**
 * h = sat16(rsr(z*h + (2^gs - z)*n, gs)) (64-bit), z = rec(S[k]), n = act(pre): pre = the word
 * at S + 2uw (reset_after false), else sat16(pc[k] + sat16(rsr(r * S[3uw + k], gs)))
 */
// @ts-ignore: decorator
@inline
function update(S: usize, uw: usize, pc: usize, hb: usize, u: i32, rk: i32, rt: usize, ak: i32, at: usize, hg: i32, gs: i32, resetAfter: bool, tables: bool): void {
  const one: i64 = <i64>1 << <i64>gs;
  const hg64 = <i64>hg;
  const gs64 = <i64>gs;
  const uw2 = uw << 1, uw3 = uw * 3;
  const he = hb + (<usize>u << 1);
  do {
    let pre: i32;
    if (resetAfter) {
      const r = tables ? tableLookup(rt, load<i32>(S + uw)) : actCall(rk, rt, load<i32>(S + uw));
      pre = sat16(<i32>load<i16>(pc) + sat16((r * load<i32>(S + uw3) + hg) >> gs));
    } else pre = load<i32>(S + uw2);
    if (tables) {
      // = nv + rsr(z*(h - nv), gs) (nv*2^gs is a multiple of 2^gs): |z| <= 2^15, |h - nv| < 2^16
      // and hg <= 2^14 (gs <= 15 on this path) keep it inside int32
      const z = tableLookup(rt, load<i32>(S));
      const nv = tableLookup(at, pre);
      store<i16>(hb, <i16>sat16(nv + ((z * (<i32>load<i16>(hb) - nv) + hg) >> gs)));
    } else {
      const z = <i64>actCall(rk, rt, load<i32>(S));
      const nv = <i64>actCall(ak, at, pre);
      const v = (z * <i64>load<i16>(hb) + (one - z) * nv + hg64) >> gs64;
      store<i16>(hb, <i16>(v > 32767 ? 32767 : v < -32768 ? -32768 : <i32>v));
    }
    S += 4;
    pc += 2;
    hb += 2;
  } while (hb < he);
}
