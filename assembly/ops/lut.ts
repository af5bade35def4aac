// LUT: int8 y = table[x + 128]; int16 (TFLite's int16 LUT): 513 int16 entries, interpolated (lut16)
import { P_LUT_COUNT, P_LUT_IN, P_LUT_OUT, P_LUT_TABLE } from '../abi.gen';
import { prm, tP, cP, cTensor, cDim, cProd, cSameDtype, cLutDt, is16, M_I8, M_I16A } from '../check';
import { lut16 } from '../fixedpoint';

export function prepare(): void {
  let count = cDim(P_LUT_COUNT);
  cProd(cTensor(P_LUT_IN, M_I8 | M_I16A), count);
  cProd(cTensor(P_LUT_OUT, M_I8 | M_I16A), count);
  cLutDt(P_LUT_TABLE, cSameDtype(P_LUT_IN, P_LUT_OUT), false);
}

export function evalOp(p: usize): i32 {
  let x = tP(p, P_LUT_IN), y = tP(p, P_LUT_OUT);
  let count = prm(p, P_LUT_COUNT);
  if (is16(p, P_LUT_IN)) {
    let t16 = cP(p, P_LUT_TABLE);
    for (let i = 0; i < count; i++) store<i16>(y + (<usize>i << 1), lut16(<i32>load<i16>(x + (<usize>i << 1)), t16));
    return 0;
  }
  let t = cP(p, P_LUT_TABLE) + 128;
  let end4 = x + <usize>(count & ~3);
  let end = x + <usize>count;
  while (x < end4) {
    let a = <i32>load<i8>(x), b = <i32>load<i8>(x, 1), c = <i32>load<i8>(x, 2), d = <i32>load<i8>(x, 3);
    store<u8>(y, load<u8>(t + <usize>a));
    store<u8>(y, load<u8>(t + <usize>b), 1);
    store<u8>(y, load<u8>(t + <usize>c), 2);
    store<u8>(y, load<u8>(t + <usize>d), 3);
    x += 4; y += 4;
  }
  while (x < end) { store<u8>(y, load<u8>(t + <usize>(<i32>load<i8>(x)))); x++; y++; }
  return 0;
}
