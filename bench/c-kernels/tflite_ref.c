/*
 * Plain C int8 kernels with TensorFlow Lite's reference arithmetic, compiled to wasm32 by
 * bench/interp.ts (clang --target=wasm32 -mcpu=mvp -nostdlib) and run under the same interpreter
 * as the runtime, on the same layer shapes. They follow
 *   tensorflow/lite/kernels/internal/common.h                     (MultiplyByQuantizedMultiplier)
 *   tensorflow/lite/kernels/internal/reference/integer_ops/fully_connected.h  (FullyConnected)
 *   tensorflow/lite/kernels/internal/reference/integer_ops/conv.h  (ConvPerChannel)
 * literally: one output at a time, offsets added inside the inner loop, 64-bit SRDHM with a
 * division, and the bounds test per tap.
 *
 * The host copies a job into `arena` (bench_arena gives its address) and calls bench_run. The job
 * is int32 words: [0] layer count, [1] byte offset of the final output, [2] its size, [3] 0, then
 * one 24-word record per layer (below). Every offset is a byte offset into the arena.
 */
#include <stdint.h>

#define ARENA_BYTES (768 * 1024)
static int32_t arena[ARENA_BYTES / 4];

static int32_t srdhm(int32_t a, int32_t b) {
  int overflow = a == b && a == INT32_MIN;
  int64_t ab = (int64_t)a * (int64_t)b;
  int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  int32_t r = (int32_t)((ab + nudge) / (1ll << 31));
  return overflow ? INT32_MAX : r;
}

static int32_t rdbpot(int32_t x, int exponent) {
  int32_t mask = (int32_t)((1ll << exponent) - 1);
  int32_t remainder = x & mask;
  int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static int32_t mbqm(int32_t x, int32_t mult, int shift) {
  int left = shift > 0 ? shift : 0;
  int right = shift > 0 ? 0 : -shift;
  return rdbpot(srdhm((int32_t)((uint32_t)x << left), mult), right);
}

static inline const int8_t *i8(int32_t off) { return (const int8_t *)arena + off; }
static inline const int32_t *i32(int32_t off) { return (const int32_t *)((const int8_t *)arena + off); }

/* record: 1, in, w, bias, out, K, N, inOffset, outOffset, mult, shift, actMin, actMax, filterOffset */
static void fully_connected(const int32_t *r) {
  const int8_t *in = i8(r[1]), *w = i8(r[2]);
  const int32_t *bias = i32(r[3]);
  int8_t *out = (int8_t *)arena + r[4];
  int32_t K = r[5], N = r[6], inOff = r[7], outOff = r[8], mult = r[9], shift = r[10], lo = r[11], hi = r[12], wOff = r[13];
  for (int o = 0; o < N; o++) {
    int32_t acc = 0;
    for (int d = 0; d < K; d++) acc += (w[o * K + d] + wOff) * (in[d] + inOff);
    acc += bias[o];
    acc = mbqm(acc, mult, shift) + outOff;
    acc = acc < lo ? lo : acc;
    acc = acc > hi ? hi : acc;
    out[o] = (int8_t)acc;
  }
}

/* record: 2, in, w, bias, out, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, padH,
 * padW, inOffset, outOffset, mults, shifts, actMin, actMax (NHWC, batch 1, OHWI weights) */
static void conv_per_channel(const int32_t *r) {
  const int8_t *in = i8(r[1]), *w = i8(r[2]);
  const int32_t *bias = i32(r[3]), *mults = i32(r[19]), *shifts = i32(r[20]);
  int8_t *out = (int8_t *)arena + r[4];
  int32_t inH = r[5], inW = r[6], inC = r[7], outH = r[8], outW = r[9], outC = r[10];
  int32_t kH = r[11], kW = r[12], sH = r[13], sW = r[14], padH = r[15], padW = r[16];
  int32_t inOff = r[17], outOff = r[18], lo = r[21], hi = r[22];
  for (int oy = 0; oy < outH; oy++)
    for (int ox = 0; ox < outW; ox++)
      for (int oc = 0; oc < outC; oc++) {
        int32_t acc = 0;
        for (int fy = 0; fy < kH; fy++) {
          int iy = oy * sH - padH + fy;
          for (int fx = 0; fx < kW; fx++) {
            int ix = ox * sW - padW + fx;
            if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) continue;
            for (int ic = 0; ic < inC; ic++)
              acc += w[((oc * kH + fy) * kW + fx) * inC + ic] * (in[(iy * inW + ix) * inC + ic] + inOff);
          }
        }
        acc += bias[oc];
        acc = mbqm(acc, mults[oc], shifts[oc]) + outOff;
        acc = acc < lo ? lo : acc;
        acc = acc > hi ? hi : acc;
        out[(oy * outW + ox) * outC + oc] = (int8_t)acc;
      }
}

__attribute__((export_name("bench_arena"))) int32_t bench_arena(void) { return (int32_t)(uintptr_t)arena; }

__attribute__((export_name("bench_arena_bytes"))) int32_t bench_arena_bytes(void) { return ARENA_BYTES; }

/* runs every layer of the job; returns 0, or the 1-based index of a record of unknown kind */
__attribute__((export_name("bench_run"))) int32_t bench_run(void) {
  int32_t n = arena[0];
  for (int32_t l = 0; l < n; l++) {
    const int32_t *r = arena + 4 + 24 * l;
    if (r[0] == 1) fully_connected(r);
    else if (r[0] == 2) conv_per_channel(r);
    else return l + 1;
  }
  return 0;
}
