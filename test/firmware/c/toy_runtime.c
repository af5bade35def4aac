/* TEST DOUBLE: C stand-in for the runtime .wasm's exports (see README.md). It validates the
 * blob header like the runtime (magic, version, size, CRC) but does not run ops: kw_invoke
 * copies input 0's bytes to output 0 (truncated/zero-padded). Streamed (kw_blob_external), it
 * reads the blob through the import kw.read_blob like runtime-flash.wasm: the header, then the
 * rest in 64-byte reads at init, and the constants section [constsOff, constsOff + constsSize)
 * into a staging area at init and before every invoke. */
#include <string.h>
#include "toy_runtime.h"
#include "kw_abi.h"

uint8_t toy_memory[TOY_MEMORY];
int32_t toy_abi_version = KW_ABI_VERSION;
uint32_t toy_op_mask0 = KW_OP_MASK_FORMAT_0;
const char *toy_hidden_export;
int toy_trap_on_invoke;
int toy_fail_load;
int toy_flash = 1;
int toy_read_past_memory;
uint32_t toy_memory_size = TOY_MEMORY;
int32_t (*toy_read_import)(int32_t offset, int32_t dst, int32_t len);
int toy_live;

static uint32_t limit, blob_addr, blob_size, used;
static int ready, ext;
static uint32_t staging, staging_size;
static int32_t last_error, error_op = -1;
static uint32_t in_addr[8], in_size[8], out_addr[8], out_size[8], n_in, n_out;

#define STATIC_DATA 1024u

void toy_reset(void) {
  memset(toy_memory, 0, sizeof toy_memory);
  toy_abi_version = KW_ABI_VERSION;
  toy_op_mask0 = KW_OP_MASK_FORMAT_0;
  toy_hidden_export = 0;
  toy_trap_on_invoke = 0;
  toy_fail_load = 0;
  toy_flash = 1;
  toy_read_past_memory = 0;
  limit = blob_addr = blob_size = used = staging = staging_size = 0;
  ready = ext = 0;
  last_error = 0;
  error_op = -1;
}

static uint32_t u32(uint32_t a) { return toy_memory[a] | (toy_memory[a + 1] << 8) | (toy_memory[a + 2] << 16) | ((uint32_t)toy_memory[a + 3] << 24); }
static uint32_t u16(uint32_t a) { return toy_memory[a] | (toy_memory[a + 1] << 8); }

static uint32_t crc(uint32_t a, uint32_t n) {
  uint32_t c = 0xFFFFFFFFu, i;
  int k;
  for (i = 0; i < n; i++) { c ^= toy_memory[a + i]; for (k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1; }
  return ~c;
}

static int32_t err(int32_t e, int32_t op) { last_error = e; error_op = op; return e; }

/* blob bytes [off, off + len) to toy_memory[dst] through the import; 0 when it fails or is short */
static int rd(uint32_t off, uint32_t dst, uint32_t len) {
  return toy_read_import && toy_read_import((int32_t)off, (int32_t)dst, (int32_t)len) == (int32_t)len;
}

static int32_t read_external(uint32_t b) {
  uint32_t off;
  if (blob_size < KW_HEADER_SIZE) return KW_ERR_BAD_SIZE;
  if (b + blob_size > toy_memory_size || (limit && b + blob_size > limit)) return KW_ERR_OUT_OF_MEMORY;
  if (!rd(0, b, KW_HEADER_SIZE)) return KW_ERR_READ_FAILED;
  if (u32(b + KW_H_MAGIC) != KW_MAGIC) return KW_ERR_BAD_MAGIC;
  if (u32(b + KW_H_TOTAL_SIZE) != blob_size) return KW_ERR_BAD_SIZE;
  for (off = KW_HEADER_SIZE; off < blob_size; off += 64)
    if (!rd(off, b + off, blob_size - off < 64 ? blob_size - off : 64)) return KW_ERR_READ_FAILED;
  return KW_ERR_OK;
}

static int32_t init(void) {
  uint32_t b = blob_addr, io, tt, i, next;
  ready = 0;
  if (!blob_addr) return err(KW_ERR_NO_BLOB, -1);
  if (ext) {
    int32_t e = read_external(b);
    if (e != KW_ERR_OK) return err(e, -1);
  }
  if (u32(b + KW_H_MAGIC) != KW_MAGIC) return err(KW_ERR_BAD_MAGIC, -1);
  if (u16(b + KW_H_VERSION) != KW_FORMAT_VERSION) return err(KW_ERR_BAD_VERSION, -1);
  if (u32(b + KW_H_TOTAL_SIZE) != blob_size) return err(KW_ERR_BAD_SIZE, -1);
  if (crc(b + 16, blob_size - 16) != u32(b + KW_H_CRC32)) return err(KW_ERR_BAD_CRC, -1);
  n_in = u16(b + KW_H_N_INPUTS);
  n_out = u16(b + KW_H_N_OUTPUTS);
  io = b + u32(b + KW_H_IO_OFF);
  tt = b + u32(b + KW_H_TENSORS_OFF);
  next = (blob_addr + blob_size + 15u) & ~15u;
  for (i = 0; i < n_in + n_out; i++) {
    uint32_t t = u16(io + i * KW_IO_SIZE + KW_IO_TENSOR);
    uint32_t bytes = u32(tt + t * KW_TENSOR_SIZE + KW_T_BYTES);
    if (i < n_in) { in_addr[i] = next; in_size[i] = bytes; }
    else { out_addr[i - n_in] = next; out_size[i - n_in] = bytes; }
    next = (next + bytes + 15u) & ~15u;
  }
  if (ext) {
    staging = next;
    staging_size = u32(b + KW_H_CONSTS_SIZE);
    next = (next + staging_size + 15u) & ~15u;
  }
  if (next > TOY_MEMORY || next > toy_memory_size || (limit && next > limit)) return err(KW_ERR_OUT_OF_MEMORY, -1);
  /* op 0's constants, read for its validation as the runtime does */
  if (ext && !rd(u32(b + KW_H_CONSTS_OFF), staging, staging_size)) return err(KW_ERR_READ_FAILED, 0);
  used = next;
  ready = 1;
  return err(KW_ERR_OK, -1);
}

static int32_t invoke(void) {
  uint32_t i;
  if (!ready) return err(KW_ERR_NOT_READY, -1);
  if (ext && !rd(u32(blob_addr + KW_H_CONSTS_OFF), toy_read_past_memory ? toy_memory_size - 8u : staging, staging_size))
    return err(KW_ERR_READ_FAILED, 0);
  for (i = 0; i < out_size[0]; i++) toy_memory[out_addr[0] + i] = i < in_size[0] ? toy_memory[in_addr[0] + i] : 0;
  return err(KW_ERR_OK, -1);
}

static int32_t self_test(void) {
  uint32_t st, i, off = 0;
  if (!ready) return err(KW_ERR_NOT_READY, -1);
  st = u32(blob_addr + KW_H_SELF_TEST_OFF);
  if (!(u32(blob_addr + KW_H_FLAGS) & KW_FLAG_HAS_SELFTEST) || !st) return err(KW_ERR_NO_SELFTEST, -1);
  st += blob_addr;
  for (i = 0; i < n_in; i++) { memcpy(toy_memory + in_addr[i], toy_memory + st + off, in_size[i]); off += in_size[i]; }
  if (invoke() != KW_ERR_OK) return last_error;
  for (i = 0; i < n_out; i++) {
    if (memcmp(toy_memory + out_addr[i], toy_memory + st + off, out_size[i]) != 0) return err(KW_ERR_SELFTEST_MISMATCH, (int32_t)i);
    off += out_size[i];
  }
  return err(KW_ERR_OK, -1);
}

int toy_find(const char *name, int *id) {
  int i;
  if (toy_hidden_export && strcmp(name, toy_hidden_export) == 0) return 0;
  if (!toy_flash && strcmp(name, "kw_blob_external") == 0) return 0;
  for (i = 0; i < KW_EXPORT_COUNT; i++)
    if (strcmp(name, kw_export_names[i]) == 0) { *id = i; return 1; }
  return 0;
}

int toy_call(int id, int32_t a, int32_t *r) {
  const char *n = kw_export_names[id];
  int32_t v = 0;
  if (!strcmp(n, "kw_abi_version")) v = toy_abi_version;
  else if (!strcmp(n, "kw_format_version")) v = KW_FORMAT_VERSION;
  else if (!strcmp(n, "kw_op_mask")) v = (int32_t)(a == 0 ? toy_op_mask0 : KW_OP_MASK_FORMAT_1);
  else if (!strcmp(n, "kw_set_memory_limit")) { limit = (uint32_t)a; v = 0; }
  else if (!strcmp(n, "kw_blob_buffer")) {
    if ((limit && STATIC_DATA + (uint32_t)a > limit) || STATIC_DATA + (uint32_t)a > TOY_MEMORY) v = 0;
    else { blob_addr = STATIC_DATA; blob_size = (uint32_t)a; ready = ext = 0; v = (int32_t)blob_addr; }
  }
  else if (!strcmp(n, "kw_blob_external")) { blob_addr = STATIC_DATA; blob_size = (uint32_t)a; ready = 0; ext = 1; v = KW_ERR_OK; }
  else if (!strcmp(n, "kw_init")) v = init();
  else if (!strcmp(n, "kw_num_inputs")) v = ready ? (int32_t)n_in : 0;
  else if (!strcmp(n, "kw_num_outputs")) v = ready ? (int32_t)n_out : 0;
  else if (!strcmp(n, "kw_input_ptr")) v = ready && (uint32_t)a < n_in ? (int32_t)in_addr[a] : 0;
  else if (!strcmp(n, "kw_input_size")) v = ready && (uint32_t)a < n_in ? (int32_t)in_size[a] : 0;
  else if (!strcmp(n, "kw_output_ptr")) v = ready && (uint32_t)a < n_out ? (int32_t)out_addr[a] : 0;
  else if (!strcmp(n, "kw_output_size")) v = ready && (uint32_t)a < n_out ? (int32_t)out_size[a] : 0;
  else if (!strcmp(n, "kw_invoke")) { if (toy_trap_on_invoke) return -1; v = invoke(); }
  else if (!strcmp(n, "kw_reset_state")) v = ready ? 0 : err(KW_ERR_NOT_READY, -1);
  else if (!strcmp(n, "kw_self_test")) v = self_test();
  else if (!strcmp(n, "kw_last_error")) v = last_error;
  else if (!strcmp(n, "kw_error_op")) v = error_op;
  else if (!strcmp(n, "kw_memory_used")) v = (int32_t)used;
  else return -1;
  *r = v;
  return 0;
}
