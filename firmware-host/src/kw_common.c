/*
 * kw_common.c - interpreter-independent part of the C API (kw_runtime.h): blob header and I/O
 * descriptor reading, version/op-mask checks, the call sequence of the runtime ABI, float
 * quantisation, error texts. Uses no libc beyond memcpy/memset/strcmp and no floating-point
 * library (no libm), no malloc.
 */
#include <string.h>

#include "kw_backend.h"

/* Names of the exports, from the generated macros (a renamed export breaks the build here). */
const char *const kw_fn_names[KW_FN_COUNT] = {
  KW_EXPORT_ABI_VERSION,
  KW_EXPORT_FORMAT_VERSION,
  KW_EXPORT_OP_MASK,
  KW_EXPORT_SET_MEMORY_LIMIT,
  KW_EXPORT_BLOB_BUFFER,
  KW_EXPORT_BLOB_EXTERNAL,
  KW_EXPORT_INIT,
  KW_EXPORT_NUM_INPUTS,
  KW_EXPORT_NUM_OUTPUTS,
  KW_EXPORT_INPUT_PTR,
  KW_EXPORT_INPUT_SIZE,
  KW_EXPORT_OUTPUT_PTR,
  KW_EXPORT_OUTPUT_SIZE,
  KW_EXPORT_INVOKE,
  KW_EXPORT_RESET_STATE,
  KW_EXPORT_SELF_TEST,
  KW_EXPORT_LAST_ERROR,
  KW_EXPORT_ERROR_OP,
  KW_EXPORT_MEMORY_USED,
};

/* An export added to spec.ts without glue support fails to compile here. */
typedef char kw_check_export_count[(KW_FN_COUNT == KW_EXPORT_COUNT) ? 1 : -1];

uint32_t kw_fn_nargs(int fn) {
  return (fn >= 0 && fn < KW_FN_COUNT) ? kw_export_nargs[fn] : 0u;
}

int kw_fn_optional(int fn) {
  return (fn >= 0 && fn < KW_FN_COUNT) ? kw_export_flash_only[fn] : 0;
}

/* ---------------------------------------------------------------- small helpers */

static uint32_t rd_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint16_t rd_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static float rd_f32(const uint8_t *p) {
  uint32_t u = rd_u32(p);
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static void msg_append(char *dst, size_t cap, const char *s) {
  size_t n = strlen(dst);
  while (s && *s && n + 1 < cap) dst[n++] = *s++;
  dst[n] = '\0';
}

static void msg_append_int(char *dst, size_t cap, int64_t v) {
  char buf[24];
  int i = 0;
  uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1u : (uint64_t)v;
  do { buf[i++] = (char)('0' + (int)(u % 10u)); u /= 10u; } while (u && i < 22);
  if (v < 0) buf[i++] = '-';
  {
    char out[24];
    int j;
    for (j = 0; j < i; j++) out[j] = buf[i - 1 - j];
    out[i] = '\0';
    msg_append(dst, cap, out);
  }
}

/* m->message = a + ": " + b (either may point into m->message). */
void kw_set_message(kw_model *m, const char *a, const char *b) {
  char buf[KW_MESSAGE_SIZE];
  buf[0] = '\0';
  msg_append(buf, sizeof buf, a);
  if (b && *b) {
    msg_append(buf, sizeof buf, ": ");
    msg_append(buf, sizeof buf, b);
  }
  memcpy(m->message, buf, sizeof buf);
}

static int fail(kw_model *m, int code, const char *detail) {
  m->last_error = code;
  kw_set_message(m, kw_strerror(code), detail);
  return code;
}

/* ---------------------------------------------------------------- errors */

const char *kw_strerror(int code) {
  if (code >= 0 && code <= KW_ERR_MAX) return kw_error_text[code];
  switch (code) {
    case KW_E_ARG: return "bad argument (NULL pointer or size mismatch)";
    case KW_E_WASM_LOAD: return "the interpreter could not load the runtime .wasm";
    case KW_E_MISSING_EXPORT: return "the runtime .wasm lacks an export the ABI needs (wrong .wasm?)";
    case KW_E_ABI: return "runtime ABI version differs from kw_abi.h (rebuild the firmware or the runtime)";
    case KW_E_TRAP: return "the interpreter trapped while running the runtime";
    case KW_E_NO_MEMORY: return "the interpreter ran out of memory";
    case KW_E_BLOB: return "not a readable model blob (too short, bad magic or descriptors)";
    case KW_E_FORMAT: return "blob format version differs from what the runtime reads";
    case KW_E_OPS: return "the blob uses ops this runtime build does not implement";
    case KW_E_NOT_LOADED: return "kw_load has not succeeded";
    default: return "unknown error";
  }
}

const char *kw_message(const kw_model *m) {
  if (!m) return kw_strerror(KW_E_ARG);
  if (m->message[0]) return m->message;
  return kw_strerror(m->last_error);
}

const char *kw_interpreter(void) { return kw_backend_name(); }

uint32_t kw_linear_memory_size(kw_model *m) { return (m && m->backend) ? kw_backend_memory_size(m) : 0u; }

void *kw_interpreter_handle(kw_model *m) { return (m && m->backend) ? kw_backend_handle(m) : NULL; }

const char *kw_dtype_name(uint8_t dtype) {
  switch (dtype) {
    case KW_DTYPE_INT8: return "int8";
    case KW_DTYPE_INT16: return "int16";
    case KW_DTYPE_INT32: return "int32";
    default: return "?";
  }
}

static uint32_t dtype_bytes(uint8_t dtype) {
  return dtype == KW_DTYPE_INT8 ? 1u : dtype == KW_DTYPE_INT16 ? 2u : dtype == KW_DTYPE_INT32 ? 4u : 0u;
}

/* ---------------------------------------------------------------- numbers */

uint32_t kw_crc32(const uint8_t *data, uint32_t n) {
  uint32_t c = 0xFFFFFFFFu;
  uint32_t i;
  int k;
  for (i = 0; i < n; i++) {
    c ^= data[i];
    for (k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

/* q = clamp(round_half_away_from_zero(x / scale) + zp) with the division in double, exactly
 * as the Node host (tools/quantize/fixedpoint.ts quantize) does, so C and Node agree bit for
 * bit. NaN maps to the zero point. Soft-float on most MCUs, but only per input element. */
int32_t kw_quantize_value(float x, float scale, int32_t zero_point, uint8_t dtype) {
  double v;
  int64_t r, q, lo, hi;
  if (dtype == KW_DTYPE_INT8) { lo = -128; hi = 127; }
  else if (dtype == KW_DTYPE_INT16) { lo = -32768; hi = 32767; }
  else { lo = -2147483647 - 1; hi = 2147483647; }
  if (x != x) return zero_point < lo ? (int32_t)lo : zero_point > hi ? (int32_t)hi : zero_point; /* NaN */
  v = scale != 0.0f ? (double)x / (double)scale : (double)x;
  if (v != v) return zero_point;
  if (v >= 4.0e18) return (int32_t)hi;
  if (v <= -4.0e18) return (int32_t)lo;
  /* round half away from zero without libm: truncate, then adjust by the (exact) fraction */
  r = (int64_t)v;
  {
    double frac = v - (double)r;
    if (frac >= 0.5) r += 1;
    else if (frac <= -0.5) r -= 1;
  }
  q = r + zero_point;
  if (q < lo) q = lo;
  if (q > hi) q = hi;
  return (int32_t)q;
}

float kw_dequantize_value(int32_t q, float scale, int32_t zero_point) {
  return (float)((double)((int64_t)q - (int64_t)zero_point) * (double)scale);
}

/* ---------------------------------------------------------------- blob header */

/* Where the glue reads the blob's header and I/O descriptors from: a pointer (copy-in, mapped)
 * or the user's read function (streamed). */
struct kw_src {
  kw_read_fn read;
  void *user;
  uint32_t size;
};

static int32_t kw_mapped_read(void *user, uint32_t offset, uint8_t *dst, uint32_t len) {
  memcpy(dst, (const uint8_t *)user + offset, len);
  return (int32_t)len;
}

static int src_read(const struct kw_src *s, uint32_t offset, uint8_t *dst, uint32_t len) {
  if ((uint64_t)offset + len > s->size) return 0;
  return s->read(s->user, offset, dst, len) == (int32_t)len;
}

/* Reads the header (into hdr) and the I/O descriptors; blob stays NULL for a streamed blob. */
static int read_info(kw_model *m, const struct kw_src *src, const uint8_t *blob, uint8_t hdr[KW_HEADER_SIZE]) {
  uint32_t total, io_off, tensors_off, n_tensors, n_in, n_out, i, k, blob_size = src->size;
  uint8_t d[KW_IO_SIZE], tbytes[4];
  if (blob_size < KW_HEADER_SIZE) return fail(m, KW_E_BLOB, "shorter than the header");
  if (!src_read(src, 0, hdr, KW_HEADER_SIZE)) return fail(m, KW_ERR_READ_FAILED, "reading the header");
  if (rd_u32(hdr + KW_H_MAGIC) != KW_MAGIC) return fail(m, KW_E_BLOB, "bad magic (not a KWNN blob)");
  total = rd_u32(hdr + KW_H_TOTAL_SIZE);
  if (total != blob_size) return fail(m, KW_ERR_BAD_SIZE, "header totalSize differs from the buffer size");
  n_tensors = rd_u16(hdr + KW_H_N_TENSORS);
  n_in = rd_u16(hdr + KW_H_N_INPUTS);
  n_out = rd_u16(hdr + KW_H_N_OUTPUTS);
  if (n_in > KW_MAX_IO || n_out > KW_MAX_IO) return fail(m, KW_E_BLOB, "more inputs/outputs than KW_MAX_IO");
  io_off = rd_u32(hdr + KW_H_IO_OFF);
  tensors_off = rd_u32(hdr + KW_H_TENSORS_OFF);
  if (io_off < KW_HEADER_SIZE || io_off > blob_size || (uint64_t)(n_in + n_out) * KW_IO_SIZE > (uint64_t)(blob_size - io_off))
    return fail(m, KW_ERR_BAD_HEADER, "I/O descriptors outside the blob");
  if (tensors_off < KW_HEADER_SIZE || tensors_off > blob_size || (uint64_t)n_tensors * KW_TENSOR_SIZE > (uint64_t)(blob_size - tensors_off))
    return fail(m, KW_ERR_BAD_HEADER, "tensor table outside the blob");
  m->blob = blob;
  m->blob_size = blob_size;
  m->num_inputs = n_in;
  m->num_outputs = n_out;
  for (i = 0; i < n_in + n_out; i++) {
    kw_io_info *io = i < n_in ? &m->inputs[i] : &m->outputs[i - n_in];
    uint32_t elements = 1;
    if (!src_read(src, io_off + i * KW_IO_SIZE, d, KW_IO_SIZE)) return fail(m, KW_ERR_READ_FAILED, "reading an I/O descriptor");
    memset(io, 0, sizeof *io);
    io->tensor = rd_u16(d + KW_IO_TENSOR);
    io->dtype = d[KW_IO_DTYPE];
    io->rank = d[KW_IO_RANK];
    if (io->rank < 1 || io->rank > KW_IO_MAX_RANK || dtype_bytes(io->dtype) == 0 || io->tensor >= n_tensors)
      return fail(m, KW_ERR_BAD_IO, i < n_in ? "input descriptor" : "output descriptor");
    for (k = 0; k < io->rank; k++) {
      io->dims[k] = rd_u32(d + KW_IO_DIMS + 4 * k);
      elements *= io->dims[k];
    }
    io->elements = elements;
    io->bytes = elements * dtype_bytes(io->dtype);
    io->scale = rd_f32(d + KW_IO_SCALE);
    io->zero_point = (int32_t)rd_u32(d + KW_IO_ZERO_POINT);
    memcpy(io->name, d + KW_IO_NAME, 16);
    io->name[16] = '\0';
    if (!src_read(src, tensors_off + io->tensor * KW_TENSOR_SIZE + KW_T_BYTES, tbytes, 4))
      return fail(m, KW_ERR_READ_FAILED, "reading the tensor table");
    if (rd_u32(tbytes) != io->bytes) return fail(m, KW_ERR_BAD_IO, "I/O shape disagrees with its tensor size");
  }
  return KW_OK;
}

int kw_read_blob_info(kw_model *m, const uint8_t *blob, uint32_t blob_size) {
  struct kw_src src;
  uint8_t hdr[KW_HEADER_SIZE];
  if (!m || !blob) return KW_E_ARG;
  src.read = kw_mapped_read;
  src.user = (void *)blob;
  src.size = blob_size;
  return read_info(m, &src, blob, hdr);
}

/* ---------------------------------------------------------------- the host import */

int32_t kw_host_read_blob(kw_model *m, uint32_t offset, uint32_t dst, uint32_t len, uint8_t *mem, uint64_t mem_size) {
  int kind = 0;
  if (!m || !m->read) return -1; /* copy-in mode: nothing to read from */
  if ((uint64_t)offset + len > m->blob_size) kind = 1;
  else if (!mem || (uint64_t)dst + len > mem_size) kind = 2;
  else if (m->read(m->read_user, offset, mem + dst, len) != (int32_t)len) kind = 3;
  if (kind) {
    if (!m->bad_read) {
      m->bad_read = kind;
      m->bad_read_offset = kind == 2 ? dst : offset;
      m->bad_read_len = len;
    }
    return -1;
  }
  m->read_calls++;
  m->read_bytes += len;
  return (int32_t)len;
}

/* One line on the first refused read, appended to m->message. */
static void append_bad_read(kw_model *m) {
  uint64_t end = (uint64_t)m->bad_read_offset + m->bad_read_len;
  char *msg = m->message;
  size_t cap = sizeof m->message;
  if (!m->bad_read) return;
  if (m->bad_read == 3) {
    msg_append(msg, cap, ": the read function failed for bytes [");
  } else {
    msg_append(msg, cap, m->bad_read == 1 ? ": blob offsets outside the range the host gave: bytes [" : ": destination outside linear memory: [");
  }
  msg_append_int(msg, cap, m->bad_read_offset);
  msg_append(msg, cap, ", ");
  msg_append_int(msg, cap, (int64_t)end);
  msg_append(msg, cap, ")");
  if (m->bad_read == 1) {
    msg_append(msg, cap, " of a ");
    msg_append_int(msg, cap, m->blob_size);
    msg_append(msg, cap, "-byte blob");
  }
}

/* ---------------------------------------------------------------- calls */

static int call(kw_model *m, int fn, int32_t arg, int32_t *out) {
  int rc;
  if (!m->backend) return fail(m, KW_E_NOT_LOADED, NULL);
  rc = kw_backend_call(m, fn, arg, out);
  if (rc != KW_OK) {
    m->last_error = rc;
    m->ready = 0;
  }
  return rc;
}

/* After a runtime call returned an error code: record it with the op index the runtime blames. */
static int runtime_error(kw_model *m, int32_t code, const char *what) {
  int32_t last = code, op = -1;
  if (call(m, KW_FN_LAST_ERROR, 0, &last) != KW_OK) return m->last_error;
  if (call(m, KW_FN_ERROR_OP, 0, &op) != KW_OK) return m->last_error;
  m->last_error = code;
  m->error_op = op;
  kw_set_message(m, what, kw_strerror(code));
  if (code == KW_ERR_READ_FAILED) append_bad_read(m);
  if (op >= 0) {
    msg_append(m->message, sizeof m->message, " (op ");
    msg_append_int(m->message, sizeof m->message, op);
    msg_append(m->message, sizeof m->message, ")");
  }
  if (last != code) {
    msg_append(m->message, sizeof m->message, "; last error ");
    msg_append_int(m->message, sizeof m->message, last);
  }
  return code;
}

int kw_load(kw_model *m, const uint8_t *wasm, uint32_t wasm_size, const kw_config *cfg) {
  kw_config def = KW_CONFIG_DEFAULT;
  int32_t abi = 0;
  int rc, i;
  if (!m || !wasm || wasm_size < 8) return KW_E_ARG;
  memset(m, 0, sizeof *m);
  m->error_op = -1;
  if (!cfg) cfg = &def;
  m->memory_limit = cfg->memory_limit;
  /* sanity: the generated name table and ours agree (catches a reordered spec.ts) */
  for (i = 0; i < KW_FN_COUNT; i++)
    if (strcmp(kw_fn_names[i], kw_export_names[i]) != 0) return fail(m, KW_E_ABI, kw_export_names[i]);
  rc = kw_backend_load(m, wasm, wasm_size, cfg);
  if (rc != KW_OK) {
    m->last_error = rc;
    return rc;
  }
  rc = call(m, KW_FN_ABI_VERSION, 0, &abi);
  if (rc != KW_OK) return rc;
  if (abi != KW_ABI_VERSION) {
    fail(m, KW_E_ABI, "runtime .wasm reports a different kw_abi_version");
    kw_backend_unload(m);
    return KW_E_ABI;
  }
  return KW_OK;
}

static const char *op_name(int code) {
  return (code >= 0 && code <= KW_OP_CODE_MAX && kw_op_names[code]) ? kw_op_names[code] : "?";
}

/* Reads the blob's header and descriptors from src and checks it against this runtime build
 * (format version, op mask) before anything is copied or streamed; then sets the memory limit. */
static int begin_init(kw_model *m, const struct kw_src *src, const uint8_t *blob) {
  uint8_t hdr[KW_HEADER_SIZE];
  int32_t fmt = 0, mask0 = 0, mask1 = 0;
  uint32_t need0, need1;
  int rc;
  if (!m->backend) return fail(m, KW_E_NOT_LOADED, NULL);
  m->ready = 0;
  m->message[0] = '\0';
  m->error_op = -1;
  m->read = NULL;
  m->read_user = NULL;
  m->read_calls = m->read_bytes = 0;
  m->bad_read = 0;
  rc = read_info(m, src, blob, hdr);
  if (rc != KW_OK) return rc;

  if ((rc = call(m, KW_FN_FORMAT_VERSION, 0, &fmt)) != KW_OK) return rc;
  if ((uint32_t)fmt != rd_u16(hdr + KW_H_VERSION)) {
    fail(m, KW_E_FORMAT, "blob format ");
    msg_append_int(m->message, sizeof m->message, rd_u16(hdr + KW_H_VERSION));
    msg_append(m->message, sizeof m->message, ", runtime reads ");
    msg_append_int(m->message, sizeof m->message, fmt);
    return KW_E_FORMAT;
  }
  if ((rc = call(m, KW_FN_OP_MASK, 0, &mask0)) != KW_OK) return rc;
  if ((rc = call(m, KW_FN_OP_MASK, 1, &mask1)) != KW_OK) return rc;
  need0 = rd_u32(hdr + KW_H_OP_MASK0) & ~(uint32_t)mask0;
  need1 = rd_u32(hdr + KW_H_OP_MASK1) & ~(uint32_t)mask1;
  if (need0 || need1) {
    int code = 0;
    while (code < 64 && !((code < 32 ? need0 >> code : need1 >> (code - 32)) & 1u)) code++;
    fail(m, KW_E_OPS, "first missing op ");
    msg_append(m->message, sizeof m->message, op_name(code));
    return KW_E_OPS;
  }
  if (m->memory_limit) {
    int32_t ignored = 0;
    if ((rc = call(m, KW_FN_SET_MEMORY_LIMIT, (int32_t)m->memory_limit, &ignored)) != KW_OK) return rc;
  }
  return KW_OK;
}

/* kw_init export, then the runtime and the descriptors we read must agree. */
static int finish_init(kw_model *m) {
  int32_t rc32 = 0, n = 0, size = 0;
  uint32_t i;
  int rc;
  if ((rc = call(m, KW_FN_INIT, 0, &rc32)) != KW_OK) return rc;
  if (rc32 != KW_ERR_OK) return runtime_error(m, rc32, "kw_init");
  if ((rc = call(m, KW_FN_NUM_INPUTS, 0, &n)) != KW_OK) return rc;
  if ((uint32_t)n != m->num_inputs) return fail(m, KW_ERR_BAD_IO, "runtime reports a different input count");
  if ((rc = call(m, KW_FN_NUM_OUTPUTS, 0, &n)) != KW_OK) return rc;
  if ((uint32_t)n != m->num_outputs) return fail(m, KW_ERR_BAD_IO, "runtime reports a different output count");
  for (i = 0; i < m->num_inputs; i++) {
    if ((rc = call(m, KW_FN_INPUT_SIZE, (int32_t)i, &size)) != KW_OK) return rc;
    if ((uint32_t)size != m->inputs[i].bytes) return fail(m, KW_ERR_BAD_IO, "runtime input size differs from the descriptor");
  }
  for (i = 0; i < m->num_outputs; i++) {
    if ((rc = call(m, KW_FN_OUTPUT_SIZE, (int32_t)i, &size)) != KW_OK) return rc;
    if ((uint32_t)size != m->outputs[i].bytes) return fail(m, KW_ERR_BAD_IO, "runtime output size differs from the descriptor");
  }
  if ((rc = call(m, KW_FN_MEMORY_USED, 0, &size)) != KW_OK) return rc;
  m->memory_used = (uint32_t)size;
  m->ready = 1;
  m->last_error = KW_OK;
  return KW_OK;
}

int kw_init(kw_model *m, const uint8_t *blob, uint32_t blob_size) {
  struct kw_src src;
  int32_t addr = 0;
  uint8_t *dst;
  int rc;
  if (!m || !blob) return KW_E_ARG;
  src.read = kw_mapped_read;
  src.user = (void *)blob;
  src.size = blob_size;
  if ((rc = begin_init(m, &src, blob)) != KW_OK) return rc;
  if ((rc = call(m, KW_FN_BLOB_BUFFER, (int32_t)blob_size, &addr)) != KW_OK) return rc;
  if (addr == 0) return fail(m, KW_ERR_OUT_OF_MEMORY, "kw_blob_buffer could not reserve the blob");
  dst = kw_backend_memory(m, (uint32_t)addr, blob_size);
  if (!dst) return fail(m, KW_E_TRAP, "blob buffer outside linear memory");
  memcpy(dst, blob, blob_size);
  return finish_init(m);
}

int kw_init_external(kw_model *m, kw_read_fn read, void *user, uint32_t blob_size) {
  struct kw_src src;
  int32_t rc32 = 0;
  int rc;
  if (!m || !read) return KW_E_ARG;
  src.read = read;
  src.user = user;
  src.size = blob_size;
  if ((rc = begin_init(m, &src, NULL)) != KW_OK) return rc;
  m->read = read;
  m->read_user = user;
  rc = call(m, KW_FN_BLOB_EXTERNAL, (int32_t)blob_size, &rc32);
  if (rc == KW_E_MISSING_EXPORT)
    return fail(m, rc, "kw_blob_external: streamed weights need runtime-flash.wasm (this one is copy-in only)");
  if (rc != KW_OK) return rc;
  if (rc32 != KW_ERR_OK) return runtime_error(m, rc32, "kw_blob_external");
  return finish_init(m);
}

int kw_init_mapped(kw_model *m, const uint8_t *blob, uint32_t blob_size) {
  int rc;
  if (!m || !blob) return KW_E_ARG;
  rc = kw_init_external(m, kw_mapped_read, (void *)blob, blob_size);
  m->blob = blob;
  return rc;
}

static int simple(kw_model *m, int fn, const char *what) {
  int32_t r = 0;
  int rc;
  if (!m) return KW_E_ARG;
  if (!m->ready) return fail(m, m->backend ? KW_ERR_NOT_READY : KW_E_NOT_LOADED, what);
  m->bad_read = 0;
  if ((rc = call(m, fn, 0, &r)) != KW_OK) return rc;
  if (r != KW_ERR_OK) return runtime_error(m, r, what);
  m->last_error = KW_OK;
  return KW_OK;
}

int kw_invoke(kw_model *m) { return simple(m, KW_FN_INVOKE, "kw_invoke"); }
int kw_reset_state(kw_model *m) { return simple(m, KW_FN_RESET_STATE, "kw_reset_state"); }
int kw_self_test(kw_model *m) { return simple(m, KW_FN_SELF_TEST, "kw_self_test"); }

void kw_unload(kw_model *m) {
  if (!m) return;
  if (m->backend) kw_backend_unload(m);
  m->backend = NULL;
  m->ready = 0;
}

/* ---------------------------------------------------------------- I/O */

uint32_t kw_num_inputs(const kw_model *m) { return m ? m->num_inputs : 0u; }
uint32_t kw_num_outputs(const kw_model *m) { return m ? m->num_outputs : 0u; }

const kw_io_info *kw_input_info(const kw_model *m, uint32_t index) {
  return (m && index < m->num_inputs) ? &m->inputs[index] : NULL;
}
const kw_io_info *kw_output_info(const kw_model *m, uint32_t index) {
  return (m && index < m->num_outputs) ? &m->outputs[index] : NULL;
}

static uint8_t *tensor_ptr(kw_model *m, int fn, uint32_t index, uint32_t bytes) {
  int32_t addr = 0;
  if (!m || !m->ready) return NULL;
  if (call(m, fn, (int32_t)index, &addr) != KW_OK || addr == 0) return NULL;
  return kw_backend_memory(m, (uint32_t)addr, bytes);
}

void *kw_input_buffer(kw_model *m, uint32_t index, uint32_t *bytes) {
  if (!m || index >= m->num_inputs) return NULL;
  if (bytes) *bytes = m->inputs[index].bytes;
  return tensor_ptr(m, KW_FN_INPUT_PTR, index, m->inputs[index].bytes);
}

const void *kw_output_buffer(kw_model *m, uint32_t index, uint32_t *bytes) {
  if (!m || index >= m->num_outputs) return NULL;
  if (bytes) *bytes = m->outputs[index].bytes;
  return tensor_ptr(m, KW_FN_OUTPUT_PTR, index, m->outputs[index].bytes);
}

static int check_io(kw_model *m, int is_input, uint32_t index) {
  if (!m) return KW_E_ARG;
  if (!m->ready) return fail(m, m->backend ? KW_ERR_NOT_READY : KW_E_NOT_LOADED, NULL);
  if (index >= (is_input ? m->num_inputs : m->num_outputs)) return fail(m, KW_ERR_BAD_INDEX, NULL);
  return KW_OK;
}

int kw_set_input_raw(kw_model *m, uint32_t index, const void *data, uint32_t bytes) {
  uint8_t *p;
  int rc = check_io(m, 1, index);
  if (rc != KW_OK) return rc;
  if (!data || bytes != m->inputs[index].bytes) return fail(m, KW_E_ARG, "input byte count differs from the tensor");
  p = tensor_ptr(m, KW_FN_INPUT_PTR, index, bytes);
  if (!p) return fail(m, KW_ERR_BAD_INDEX, "kw_input_ptr");
  memcpy(p, data, bytes);
  return KW_OK;
}

int kw_get_output_raw(kw_model *m, uint32_t index, void *data, uint32_t bytes) {
  uint8_t *p;
  int rc = check_io(m, 0, index);
  if (rc != KW_OK) return rc;
  if (!data || bytes != m->outputs[index].bytes) return fail(m, KW_E_ARG, "output byte count differs from the tensor");
  p = tensor_ptr(m, KW_FN_OUTPUT_PTR, index, bytes);
  if (!p) return fail(m, KW_ERR_BAD_INDEX, "kw_output_ptr");
  memcpy(data, p, bytes);
  return KW_OK;
}

/* Linear memory is little-endian; store/load element by element so this works on any host. */
static void put_elem(uint8_t *p, uint8_t dtype, uint32_t i, int32_t q) {
  uint32_t u = (uint32_t)q;
  if (dtype == KW_DTYPE_INT8) p[i] = (uint8_t)u;
  else if (dtype == KW_DTYPE_INT16) { p[2 * i] = (uint8_t)u; p[2 * i + 1] = (uint8_t)(u >> 8); }
  else { p[4 * i] = (uint8_t)u; p[4 * i + 1] = (uint8_t)(u >> 8); p[4 * i + 2] = (uint8_t)(u >> 16); p[4 * i + 3] = (uint8_t)(u >> 24); }
}

static int32_t get_elem(const uint8_t *p, uint8_t dtype, uint32_t i) {
  if (dtype == KW_DTYPE_INT8) return (int32_t)(int8_t)p[i];
  if (dtype == KW_DTYPE_INT16) return (int32_t)(int16_t)rd_u16(p + 2 * i);
  return (int32_t)rd_u32(p + 4 * i);
}

int kw_set_input_float(kw_model *m, uint32_t index, const float *x, uint32_t n) {
  const kw_io_info *io;
  uint8_t *p;
  uint32_t i;
  int rc = check_io(m, 1, index);
  if (rc != KW_OK) return rc;
  io = &m->inputs[index];
  if (!x || n != io->elements) return fail(m, KW_E_ARG, "input element count differs from the tensor");
  p = tensor_ptr(m, KW_FN_INPUT_PTR, index, io->bytes);
  if (!p) return fail(m, KW_ERR_BAD_INDEX, "kw_input_ptr");
  for (i = 0; i < n; i++) put_elem(p, io->dtype, i, kw_quantize_value(x[i], io->scale, io->zero_point, io->dtype));
  return KW_OK;
}

int kw_get_output_float(kw_model *m, uint32_t index, float *y, uint32_t n) {
  const kw_io_info *io;
  const uint8_t *p;
  uint32_t i;
  int rc = check_io(m, 0, index);
  if (rc != KW_OK) return rc;
  io = &m->outputs[index];
  if (!y || n != io->elements) return fail(m, KW_E_ARG, "output element count differs from the tensor");
  p = tensor_ptr(m, KW_FN_OUTPUT_PTR, index, io->bytes);
  if (!p) return fail(m, KW_ERR_BAD_INDEX, "kw_output_ptr");
  for (i = 0; i < n; i++) y[i] = kw_dequantize_value(get_elem(p, io->dtype, i), io->scale, io->zero_point);
  return KW_OK;
}
