/* Tests kw_common.c (and one glue) against the test doubles (see README.md).
 * Usage: test_kw [OUTDIR]  -- with OUTDIR, also writes OUTDIR/toy.blob and OUTDIR/fake.wasm
 * for the desktop example. Prints "N passed, M failed". */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "kw_runtime.h"
#include "toy_runtime.h"

static int passed, failed;
#define CHECK(cond, what) do { if (cond) passed++; else { failed++; printf("FAIL %s:%d %s\n", __FILE__, __LINE__, what); } } while (0)

static void w16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static void wf32(uint8_t *p, float f) { uint32_t u; memcpy(&u, &f, 4); w32(p, u); }

/* A blob with 2 int8 tensors of 4 bytes: input [1,4] (scale 0.5, zp -3), output [1,4]
 * (scale 0.25, zp 10), op mask DENSE, and a self-test vector. Ops are not run by the toy. */
static uint32_t make_blob(uint8_t *b, int with_selftest) {
  uint32_t tensors = KW_HEADER_SIZE, io = tensors + 2 * KW_TENSOR_SIZE, ops = io + 2 * KW_IO_SIZE;
  uint32_t consts = (ops + 15u) & ~15u, st = consts + 16, total = st + (with_selftest ? 8 : 0);
  static const int8_t st_in[4] = {1, -2, 3, 127};
  memset(b, 0, total);
  w32(b + KW_H_MAGIC, KW_MAGIC);
  w16(b + KW_H_VERSION, KW_FORMAT_VERSION);
  w16(b + KW_H_HEADER_SIZE, KW_HEADER_SIZE);
  w32(b + KW_H_TOTAL_SIZE, total);
  w32(b + KW_H_FLAGS, with_selftest ? KW_FLAG_HAS_SELFTEST : 0);
  w16(b + KW_H_N_TENSORS, 2);
  w16(b + KW_H_N_INPUTS, 1);
  w16(b + KW_H_N_OUTPUTS, 1);
  w32(b + KW_H_ARENA_SIZE, 8);
  w32(b + KW_H_TENSORS_OFF, tensors);
  w32(b + KW_H_OPS_OFF, ops);
  w32(b + KW_H_IO_OFF, io);
  w32(b + KW_H_CONSTS_OFF, consts);
  w32(b + KW_H_CONSTS_SIZE, 16);
  w32(b + KW_H_SELF_TEST_OFF, with_selftest ? st : 0);
  w32(b + KW_H_SELF_TEST_SIZE, with_selftest ? 8 : 0);
  w32(b + KW_H_OP_MASK0, 1u << KW_OP_DENSE);
  w32(b + KW_H_BATCH, 1);
  {
    int t;
    for (t = 0; t < 2; t++) {
      uint8_t *e = b + tensors + t * KW_TENSOR_SIZE;
      e[KW_T_DTYPE] = KW_DTYPE_INT8;
      w32(e + KW_T_OFFSET, (uint32_t)t * 4u);
      w32(e + KW_T_BYTES, 4);
      w32(e + KW_T_ELEMENTS, 4);
    }
    for (t = 0; t < 2; t++) {
      uint8_t *d = b + io + t * KW_IO_SIZE;
      w16(d + KW_IO_TENSOR, (uint32_t)t);
      d[KW_IO_DTYPE] = KW_DTYPE_INT8;
      d[KW_IO_RANK] = 2;
      w32(d + KW_IO_DIMS, 1);
      w32(d + KW_IO_DIMS + 4, 4);
      wf32(d + KW_IO_SCALE, t == 0 ? 0.5f : 0.25f);
      w32(d + KW_IO_ZERO_POINT, (uint32_t)(t == 0 ? -3 : 10));
      memcpy(d + KW_IO_NAME, t == 0 ? "input_1" : "dense_out", t == 0 ? 7 : 9);
    }
  }
  if (with_selftest) { memcpy(b + st, st_in, 4); memcpy(b + st + 4, st_in, 4); }
  w32(b + KW_H_CRC32, kw_crc32(b + 16, total - 16));
  return total;
}

static const uint8_t fake_wasm[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

static int contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

/* a blob read by a function, as from SPI flash or a file: fails once `budget` reads are used */
struct reader { const uint8_t *blob; int budget; int calls; };
static int32_t read_fn(void *user, uint32_t offset, uint8_t *dst, uint32_t len) {
  struct reader *r = (struct reader *)user;
  r->calls++;
  if (r->budget >= 0 && r->calls > r->budget) return -1;
  memcpy(dst, r->blob + offset, len);
  return (int32_t)len;
}

static void streamed_tests(uint8_t *blob) {
  static kw_model m;
  kw_config cfg = KW_CONFIG_DEFAULT;
  struct reader rd;
  uint32_t n, calls;
  int rc;
  int wasm3 = strcmp(kw_interpreter(), "wasm3") == 0;

  /* happy path: init reads through the import, every invoke reads the constants again */
  toy_reset();
  n = make_blob(blob, 1);
  CHECK(kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg) == KW_OK, kw_message(&m));
  rc = kw_init_mapped(&m, blob, n);
  CHECK(rc == KW_OK, kw_message(&m));
  CHECK(m.read_calls > 1 && m.read_bytes >= n - KW_HEADER_SIZE, "streamed init read the blob through kw.read_blob");
  calls = m.read_calls;
  {
    const float x[4] = {0.25f, -0.25f, 1.0f, 100.0f};
    float y[4];
    CHECK(kw_set_input_float(&m, 0, x, 4) == KW_OK && kw_invoke(&m) == KW_OK, kw_message(&m));
    CHECK(m.read_calls == calls + 1, "invoke read the constants through the import");
    CHECK(kw_get_output_float(&m, 0, y, 4) == KW_OK && y[0] == -3.0f && y[3] == 29.25f, "streamed output");
  }
  CHECK(kw_self_test(&m) == KW_OK, kw_message(&m));
  /* copy-in still works on the same (flash) runtime */
  CHECK(kw_init(&m, blob, n) == KW_OK && m.read == NULL && kw_self_test(&m) == KW_OK, kw_message(&m));
  kw_unload(&m);

  /* the user's read function fails: at init, then at invoke -> READ_FAILED, never a trap */
  toy_reset();
  CHECK(kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg) == KW_OK, "load s2");
  rd.blob = blob; rd.calls = 0; rd.budget = 6; /* the glue reads the header and descriptors (5 reads), the runtime its header */
  rc = kw_init_external(&m, read_fn, &rd, n);
  CHECK(rc == KW_ERR_READ_FAILED && contains(kw_message(&m), "kw.read_blob") && contains(kw_message(&m), "read function failed"), kw_message(&m));
  rd.calls = 0; rd.budget = -1;
  CHECK(kw_init_external(&m, read_fn, &rd, n) == KW_OK, kw_message(&m));
  rd.budget = rd.calls; /* no more reads */
  CHECK(kw_invoke(&m) == KW_ERR_READ_FAILED && m.error_op == 0 && contains(kw_message(&m), "kw_invoke"), kw_message(&m));
  CHECK(kw_self_test(&m) == KW_ERR_READ_FAILED, kw_message(&m));
  rd.budget = -1;
  CHECK(kw_invoke(&m) == KW_OK, "invoke once the reads work again");
  /* the runtime asks for a destination past the end of linear memory: refused */
  toy_read_past_memory = 1;
  CHECK(kw_invoke(&m) == KW_ERR_READ_FAILED && contains(kw_message(&m), "destination outside linear memory"), kw_message(&m));
  kw_unload(&m);

  /* weight offsets outside the range the host gave: the import refuses, one line says which bytes */
  toy_reset();
  n = make_blob(blob, 1);
  w32(blob + KW_H_CONSTS_SIZE, n); /* constants run past the end of the blob */
  w32(blob + KW_H_CRC32, kw_crc32(blob + 16, n - 16));
  CHECK(kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg) == KW_OK, "load s3");
  rc = kw_init_mapped(&m, blob, n);
  CHECK(rc == KW_ERR_READ_FAILED && contains(kw_message(&m), "outside the range the host gave") && !strchr(kw_message(&m), '\n'), kw_message(&m));
  {
    char want[64];
    snprintf(want, sizeof want, "of a %u-byte blob", (unsigned)n);
    CHECK(contains(kw_message(&m), want), kw_message(&m));
  }
  kw_unload(&m);

  /* a copy-in runtime (runtime.wasm: no kw_blob_external, no import) loads; streaming says why not */
  toy_reset();
  toy_flash = 0;
  n = make_blob(blob, 1);
  CHECK(kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg) == KW_OK, kw_message(&m));
  rc = kw_init_mapped(&m, blob, n);
  CHECK(rc == KW_E_MISSING_EXPORT && contains(kw_message(&m), "runtime-flash.wasm"), kw_message(&m));
  CHECK(kw_init(&m, blob, n) == KW_OK && kw_self_test(&m) == KW_OK, kw_message(&m));
  kw_unload(&m);

  /* memory_limit below a page: wasm3 allocates only that much; WAMR whole pages */
  toy_reset();
  cfg.memory_limit = 40000;
  CHECK(kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg) == KW_OK, "load s5");
  CHECK(kw_linear_memory_size(&m) == (wasm3 ? 40000u : TOY_MEMORY), "linear memory under a page on wasm3");
  CHECK(kw_init_mapped(&m, blob, n) == KW_OK && m.memory_used < 40000u, kw_message(&m));
  CHECK(kw_interpreter_handle(&m) != NULL, "interpreter handle");
  kw_unload(&m);
  CHECK(kw_linear_memory_size(&m) == 0 && kw_interpreter_handle(&m) == NULL, "nothing after unload");
  CHECK(toy_live == 0, "every interpreter object freed once (streamed)");
}


int main(int argc, char **argv) {
  static uint8_t blob[1024];
  static kw_model m;
  kw_config cfg = KW_CONFIG_DEFAULT;
  uint32_t n;
  int rc;

  if (argc > 2 && strcmp(argv[1], "--quantize") == 0) {
    /* lines "x scale zero_point dtype" -> "q" (compared with the Node host by the vitest test) */
    FILE *f = fopen(argv[2], "r");
    double x, scale;
    int zp, dt;
    if (!f) return 2;
    while (fscanf(f, "%lf %lf %d %d", &x, &scale, &zp, &dt) == 4) printf("%d\n", (int)kw_quantize_value((float)x, (float)scale, zp, (uint8_t)dt));
    fclose(f);
    return 0;
  }
  printf("backend %s\n", kw_interpreter());

  /* error texts come from kw_abi.h (generated from spec.ts) */
  CHECK(strcmp(kw_strerror(KW_ERR_BAD_CRC), "CRC mismatch: blob corrupted") == 0, "CRC text");
  CHECK(strcmp(kw_strerror(KW_ERR_OK), "ok") == 0, "ok text");
  CHECK(strcmp(kw_strerror(KW_ERR_UNSUPPORTED_OP), "op not supported by this runtime build") == 0, "unsupported text");
  CHECK(contains(kw_strerror(KW_E_OPS), "ops this runtime build"), "glue text");
  CHECK(strcmp(kw_strerror(9999), "unknown error") == 0, "unknown text");

  /* quantisation: TFLite's round-half-away-from-zero, clamped */
  CHECK(kw_quantize_value(0.25f, 0.5f, -3, KW_DTYPE_INT8) == -2, "q 0.25");
  CHECK(kw_quantize_value(-0.25f, 0.5f, -3, KW_DTYPE_INT8) == -4, "q -0.25 half away");
  CHECK(kw_quantize_value(0.74f, 0.5f, -3, KW_DTYPE_INT8) == -2, "q 0.74");
  CHECK(kw_quantize_value(0.76f, 0.5f, -3, KW_DTYPE_INT8) == -1, "q 0.76");
  CHECK(kw_quantize_value(1000.0f, 0.5f, -3, KW_DTYPE_INT8) == 127, "q clamp hi");
  CHECK(kw_quantize_value(-1000.0f, 0.5f, -3, KW_DTYPE_INT8) == -128, "q clamp lo");
  CHECK(kw_quantize_value(NAN, 0.5f, -3, KW_DTYPE_INT8) == -3, "q NaN");
  CHECK(kw_quantize_value(3.0f, 0.001f, 0, KW_DTYPE_INT16) == 3000, "q int16");
  CHECK(kw_quantize_value(100.0f, 0.001f, 0, KW_DTYPE_INT16) == 32767, "q int16 clamp");
  CHECK(kw_quantize_value(7.6f, 1.0f, 0, KW_DTYPE_INT32) == 8, "q int32 id");
  CHECK(kw_dequantize_value(-2, 0.5f, -3) == 0.5f, "dq");
  CHECK(kw_dequantize_value(127, 0.25f, 10) == 29.25f, "dq out");
  CHECK(kw_crc32((const uint8_t *)"123456789", 9) == 0xCBF43926u, "crc32 check value");

  /* happy path */
  toy_reset();
  n = make_blob(blob, 1);
  rc = kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg);
  CHECK(rc == KW_OK, kw_message(&m));
  rc = kw_init(&m, blob, n);
  CHECK(rc == KW_OK, kw_message(&m));
  CHECK(kw_num_inputs(&m) == 1 && kw_num_outputs(&m) == 1, "io counts");
  CHECK(kw_input_info(&m, 0)->dims[1] == 4 && kw_input_info(&m, 0)->zero_point == -3 && kw_input_info(&m, 0)->scale == 0.5f, "input info");
  CHECK(strcmp(kw_output_info(&m, 0)->name, "dense_out") == 0, "output name");
  CHECK(m.memory_used > n, "memory used");
  {
    const float x[4] = {0.25f, -0.25f, 1.0f, 100.0f};
    float y[4];
    int8_t raw[4];
    uint32_t bytes = 0;
    const int8_t *ib;
    CHECK(kw_set_input_float(&m, 0, x, 4) == KW_OK, "set input");
    ib = (const int8_t *)kw_input_buffer(&m, 0, &bytes);
    CHECK(ib && bytes == 4 && ib[0] == -2 && ib[1] == -4 && ib[2] == -1 && ib[3] == 127, "quantised input in linear memory");
    CHECK(kw_invoke(&m) == KW_OK, "invoke");
    CHECK(kw_get_output_raw(&m, 0, raw, 4) == KW_OK && raw[3] == 127, "raw out");
    CHECK(kw_get_output_float(&m, 0, y, 4) == KW_OK, "get output");
    CHECK(y[0] == -3.0f && y[1] == -3.5f && y[2] == -2.75f && y[3] == 29.25f, "dequantised output");
    CHECK(kw_set_input_float(&m, 0, x, 3) == KW_E_ARG, "count mismatch");
    CHECK(kw_set_input_float(&m, 1, x, 4) == KW_ERR_BAD_INDEX, "bad index");
  }
  CHECK(kw_self_test(&m) == KW_OK, kw_message(&m));
  CHECK(kw_reset_state(&m) == KW_OK, "reset");
  kw_unload(&m);
  CHECK(kw_invoke(&m) == KW_E_NOT_LOADED, "invoke after unload");

  /* corrupted blob: the runtime's CRC check, reported with the spec's text */
  toy_reset();
  n = make_blob(blob, 1);
  blob[n - 1] ^= 0x40;
  CHECK(kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg) == KW_OK, "load 2");
  rc = kw_init(&m, blob, n);
  CHECK(rc == KW_ERR_BAD_CRC && contains(kw_message(&m), "CRC mismatch"), kw_message(&m));
  CHECK(kw_invoke(&m) == KW_ERR_NOT_READY, "invoke after failed init");
  /* self-test mismatch: expected output differs (CRC recomputed) */
  n = make_blob(blob, 1);
  blob[n - 1] ^= 0x01;
  w32(blob + KW_H_CRC32, kw_crc32(blob + 16, n - 16));
  CHECK(kw_init(&m, blob, n) == KW_OK, kw_message(&m));
  CHECK(kw_self_test(&m) == KW_ERR_SELFTEST_MISMATCH && contains(kw_message(&m), "self-test output mismatch"), kw_message(&m));
  n = make_blob(blob, 0);
  CHECK(kw_init(&m, blob, n) == KW_OK && kw_self_test(&m) == KW_ERR_NO_SELFTEST, "no self-test");
  /* truncated buffer: caught before copying */
  CHECK(kw_init(&m, blob, n - 1) == KW_ERR_BAD_SIZE, "size");
  kw_unload(&m);

  /* runtime without DENSE */
  toy_reset();
  toy_op_mask0 = KW_OP_MASK_FORMAT_0 & ~(1u << KW_OP_DENSE);
  n = make_blob(blob, 1);
  CHECK(kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg) == KW_OK, "load 3");
  rc = kw_init(&m, blob, n);
  CHECK(rc == KW_E_OPS && contains(kw_message(&m), "DENSE"), kw_message(&m));
  kw_unload(&m);

  /* memory limit too small for the blob */
  toy_reset();
  cfg.memory_limit = 512;
  CHECK(kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg) == KW_OK, "load 4");
  rc = kw_init(&m, blob, n);
  CHECK(rc == KW_ERR_OUT_OF_MEMORY, kw_message(&m));
  kw_unload(&m);
  cfg.memory_limit = 0;

  /* ABI mismatch, missing export, bad wasm, trap */
  toy_reset();
  toy_abi_version = KW_ABI_VERSION + 1;
  CHECK(kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg) == KW_E_ABI, "abi");
  toy_reset();
  toy_hidden_export = "kw_self_test";
  rc = kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg);
  CHECK(rc == KW_E_MISSING_EXPORT && contains(kw_message(&m), "kw_self_test"), kw_message(&m));
  toy_reset();
  CHECK(kw_load(&m, blob, 64, &cfg) == KW_E_WASM_LOAD, "not wasm");
  CHECK(toy_live == 0, "interpreter objects freed after a parse failure");
  /* parsed but not loadable (wasm3: m3_LoadModule fails, WAMR: instantiation fails): the glue
   * frees what the interpreter handed out, the module included */
  toy_reset();
  toy_fail_load = 1;
  rc = kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg);
  CHECK(rc == KW_E_WASM_LOAD && contains(kw_message(&m), "fake:"), kw_message(&m));
  CHECK(toy_live == 0, "interpreter objects freed after a load failure (no leaked module)");
  toy_reset();
  CHECK(kw_load(&m, fake_wasm, sizeof fake_wasm, &cfg) == KW_OK && kw_init(&m, blob, make_blob(blob, 1)) == KW_OK, "load 5");
  toy_trap_on_invoke = 1;
  CHECK(kw_invoke(&m) == KW_E_TRAP && contains(kw_message(&m), "kw_invoke"), kw_message(&m));
  kw_unload(&m);
  CHECK(toy_live == 0, "every interpreter object freed once");

  /* ---- streamed weights (kw_init_mapped / kw_init_external through the import kw.read_blob) */
  streamed_tests(blob);

  if (argc > 1) {
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/toy.blob", argv[1]);
    f = fopen(path, "wb");
    if (f) { fwrite(blob, 1, make_blob(blob, 1), f); fclose(f); }
    snprintf(path, sizeof path, "%s/fake.wasm", argv[1]);
    f = fopen(path, "wb");
    if (f) { fwrite(fake_wasm, 1, sizeof fake_wasm, f); fclose(f); }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
