// LAYER_NORM: Keras LayerNormalization over the last axis, int8 in/out (tools/blob/spec.ts has
// the exact arithmetic). Per row: integer mean and variance, an integer square root, then a
// per-channel requantisation that carries gamma; beta is the per-channel bias.
import { prm, gP, tP, cP, cTensor, cDim, cProd, cZp8, cRange, cConst, cShiftArray, cFail, M_I8 } from '../check';
import {
  P_LAYER_NORM_IN, P_LAYER_NORM_OUT, P_LAYER_NORM_ROWS, P_LAYER_NORM_CHANNELS, P_LAYER_NORM_ZP_IN, P_LAYER_NORM_ZP_OUT,
  P_LAYER_NORM_EPS_TERM, P_LAYER_NORM_MULT, P_LAYER_NORM_SHIFT, P_LAYER_NORM_BIAS,
} from '../abi.gen';
import { mbqm, clampI } from '../fixedpoint';
import { gConsts } from '../check';

const MAX_CHANNELS: i32 = 4096;
const MAX_BIAS: i32 = 1 << 24;

export function prepare(): void {
  let rows = cDim(P_LAYER_NORM_ROWS);
  let C = cDim(P_LAYER_NORM_CHANNELS);
  if (C > MAX_CHANNELS) cFail();
  cProd(cTensor(P_LAYER_NORM_IN, M_I8), rows, C);
  cProd(cTensor(P_LAYER_NORM_OUT, M_I8), rows, C);
  cZp8(P_LAYER_NORM_ZP_IN);
  cZp8(P_LAYER_NORM_ZP_OUT);
  cRange(P_LAYER_NORM_EPS_TERM, 0, i32.MAX_VALUE);
  let mo = cConst(P_LAYER_NORM_MULT, <i64>C * 4, 4);
  let so = cConst(P_LAYER_NORM_SHIFT, <i64>C, 1);
  let bo = cConst(P_LAYER_NORM_BIAS, <i64>C * 4, 4);
  cShiftArray(so, C);
  if (mo < 0 || bo < 0) return;
  for (let c = 0; c < C; c++) {
    let m = load<i32>(gConsts + <usize>mo + (<usize>c << 2));
    let b = load<i32>(gConsts + <usize>bo + (<usize>c << 2));
    if ((m != 0 && m > -0x40000000 && m < 0x40000000) || m == i32.MIN_VALUE || b <= -MAX_BIAS || b >= MAX_BIAS) { cFail(); return; }
  }
}

/** floor(sqrt(v)), bit by bit (no float). */
function isqrt64(v: u64): u64 {
  let res: u64 = 0;
  let bit: u64 = <u64>1 << 62;
  while (bit > v) bit >>= 2;
  while (bit != 0) {
    if (v >= res + bit) {
      v -= res + bit;
      res = (res >> 1) + bit;
    } else res >>= 1;
    bit >>= 2;
  }
  return res;
}

export function evalOp(p: usize): i32 {
  let x = tP(p, P_LAYER_NORM_IN), y = tP(p, P_LAYER_NORM_OUT);
  let rows = prm(p, P_LAYER_NORM_ROWS), C = prm(p, P_LAYER_NORM_CHANNELS);
  let zpIn = prm(p, P_LAYER_NORM_ZP_IN), zpOut = prm(p, P_LAYER_NORM_ZP_OUT), eps = <i64>prm(p, P_LAYER_NORM_EPS_TERM);
  let mult = cP(p, P_LAYER_NORM_MULT), shift = cP(p, P_LAYER_NORM_SHIFT), bias = cP(p, P_LAYER_NORM_BIAS);
  for (let r = 0; r < rows; r++) {
    let xr = x + <usize>(r * C), yr = y + <usize>(r * C);
    let sum: i32 = 0, sumSq: i32 = 0;
    for (let c = 0; c < C; c++) {
      let v = <i32>load<i8>(xr + <usize>c) - zpIn;
      sum += v;
      sumSq += v * v;
    }
    let V = <i64>C * <i64>sumSq - <i64>sum * <i64>sum + eps;
    let s = <i64>isqrt64(<u64>V << 16);
    for (let c = 0; c < C; c++) {
      let d = <i64>(C * (<i32>load<i8>(xr + <usize>c) - zpIn) - sum);
      let t = s == 0 ? 0 : <i32>((d << 24) / s);
      let o = <usize>c << 2;
      let q = zpOut + load<i32>(bias + o) + mbqm(t, load<i32>(mult + o), <i32>load<i8>(shift + <usize>c));
      store<i8>(yr + <usize>c, clampI(q, -128, 127));
    }
  }
  return 0;
}
