// SOFTMAX_TFLITE: TFLite's int8 reference softmax (kernels/internal/reference/softmax.h) with
// gemmlowp's fixed-point exp and reciprocal (fixedpoint.h), output at (1/256, -128).
// Raw int32 fixed point: Q5.26 scaled differences, Q0.31 exponentials, Q12.19 sum, Q2.29 Newton.
import { P_SOFTMAX_TFLITE_DEPTH, P_SOFTMAX_TFLITE_DIFF_MIN, P_SOFTMAX_TFLITE_IN, P_SOFTMAX_TFLITE_INPUT_LEFT_SHIFT, P_SOFTMAX_TFLITE_INPUT_MULT, P_SOFTMAX_TFLITE_OUT, P_SOFTMAX_TFLITE_ROWS } from '../abi.gen';
import { prm, tP, cTensor, cDim, cProd, cRange, cMult, cFail, M_I8 } from '../check';
import { mbqm } from '../fixedpoint';

const MAX_DEPTH = 4095; // the Q12.19 sum of up to 4095 ones (2^19 each) stays below 2^31

export function prepare(): void {
  let eIn = cTensor(P_SOFTMAX_TFLITE_IN, M_I8);
  let eOut = cTensor(P_SOFTMAX_TFLITE_OUT, M_I8);
  let rows = cDim(P_SOFTMAX_TFLITE_ROWS);
  let depth = cRange(P_SOFTMAX_TFLITE_DEPTH, 1, MAX_DEPTH);
  cProd(eIn, rows, depth);
  cProd(eOut, rows, depth);
  cMult(P_SOFTMAX_TFLITE_INPUT_MULT);
  let ls = cRange(P_SOFTMAX_TFLITE_INPUT_LEFT_SHIFT, 0, 30);
  let dm = cRange(P_SOFTMAX_TFLITE_DIFF_MIN, i32.MIN_VALUE, 0);
  // d << ls must not overflow for any int8 difference d >= diffMin (TFLite's input radius
  // guarantees it; differences never go below -255)
  let dMin = dm < -255 ? -255 : dm;
  if ((<i64>(-dMin) << <i64>ls) > <i64>(31 << 26)) cFail();
}

// gemmlowp SaturatingRoundingDoublingHighMul: (a*b + 2^30) >> 31, INT32_MAX for MIN * MIN
function srdhm(a: i32, b: i32): i32 {
  if (a == b && a == i32.MIN_VALUE) return i32.MAX_VALUE;
  return <i32>((<i64>a * <i64>b + 0x40000000) >> 31);
}

// gemmlowp RoundingDivideByPOT: half away from zero (64-bit so e up to 34 stays defined)
function rdpot(x: i64, e: i64): i64 {
  let mask = (<i64>1 << e) - 1;
  return (x >> e) + <i64>((x & mask) > (mask >> 1) + (x >>> 63));
}

// gemmlowp SaturatingRoundingMultiplyByPOT<e> for e > 0: saturating left shift
function satShl(x: i32, e: i32): i32 {
  let t = (1 << (31 - e)) - 1;
  return x > t ? i32.MAX_VALUE : (x < -t ? i32.MIN_VALUE : x << e);
}

// exp(a) for a in [-1/4, 0), Q0.31 in and out: Taylor series around -1/8
function expQuarter(a: i32): i32 {
  const c = 1895147668; // exp(-1/8)
  let x = a + (1 << 28);
  let x2 = srdhm(x, x);
  let x3 = srdhm(x2, x);
  let x4 = srdhm(x2, x2);
  let t = <i32>rdpot(<i64>(srdhm(<i32>rdpot(<i64>x4, 2) + x3, 715827883) + x2), 1);
  return c + srdhm(c, x + t);
}

// exp(a) for a <= 0 in Q5.26, result Q0.31 (gemmlowp exp_on_negative_values)
function expNeg(a: i32): i32 {
  let amq = (a & ((1 << 24) - 1)) - (1 << 24);
  let r = expQuarter(amq << 5);
  let rem = amq - a;
  if (rem & (1 << 24)) r = srdhm(r, 1672461947);
  if (rem & (1 << 25)) r = srdhm(r, 1302514674);
  if (rem & (1 << 26)) r = srdhm(r, 790015084);
  if (rem & (1 << 27)) r = srdhm(r, 290630308);
  if (rem & (1 << 28)) r = srdhm(r, 39332535);
  if (rem & (1 << 29)) r = srdhm(r, 720401);
  if (rem & (1 << 30)) r = srdhm(r, 242);
  return a == 0 ? i32.MAX_VALUE : r;
}

// 1 / (1 + a) for a in [0, 1), Q0.31 (gemmlowp one_over_one_plus_x_for_x_in_0_1, Newton-Raphson)
function recipOnePlus(a: i32): i32 {
  let s = <i64>a + <i64>i32.MAX_VALUE;
  let hd = <i32>((s + 1) / 2); // RoundingHalfSum, s >= 0
  let x = 1515870810 + srdhm(hd, -1010580540); // 48/17 - 32/17 * hd, Q2.29
  for (let i = 0; i < 3; i++) x = x + satShl(srdhm(x, (1 << 29) - srdhm(hd, x)), 2);
  return satShl(x, 1);
}

function row(x: usize, y: usize, depth: i32, m: i32, ls: i32, dm: i32): void {
  let mx: i32 = -128;
  for (let c = 0; c < depth; c++) { let v = <i32>load<i8>(x + <usize>c); if (v > mx) mx = v; }
  let sum: i32 = 0;
  for (let c = 0; c < depth; c++) {
    let d = <i32>load<i8>(x + <usize>c) - mx;
    if (d >= dm) sum += <i32>rdpot(<i64>expNeg(mbqm(d, m, ls)), 12);
  }
  // GetReciprocal: sum in Q12.19 > 0 normalised to [1, 2)
  let hp1 = <i32>clz(sum);
  let bits = <i64>(12 - hp1 + 23);
  let scale = recipOnePlus(<i32>((<u32>sum << <u32>hp1) - 0x80000000));
  for (let c = 0; c < depth; c++) {
    let d = <i32>load<i8>(x + <usize>c) - mx;
    let v: i32 = -128;
    if (d >= dm) {
      let u = <i32>rdpot(<i64>srdhm(scale, expNeg(mbqm(d, m, ls))), bits) - 128;
      v = u > 127 ? 127 : (u < -128 ? -128 : u);
    }
    store<i8>(y + <usize>c, v);
  }
}

export function evalOp(p: usize): i32 {
  let x = tP(p, P_SOFTMAX_TFLITE_IN);
  let y = tP(p, P_SOFTMAX_TFLITE_OUT);
  let rows = prm(p, P_SOFTMAX_TFLITE_ROWS), depth = prm(p, P_SOFTMAX_TFLITE_DEPTH);
  let m = prm(p, P_SOFTMAX_TFLITE_INPUT_MULT), ls = prm(p, P_SOFTMAX_TFLITE_INPUT_LEFT_SHIFT), dm = prm(p, P_SOFTMAX_TFLITE_DIFF_MIN);
  for (let r = 0; r < rows; r++) {
    row(x, y, depth, m, ls, dm);
    x += <usize>depth;
    y += <usize>depth;
  }
  return 0;
}
