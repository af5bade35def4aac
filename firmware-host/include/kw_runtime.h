/*
 * kw_runtime.h - C API for running a model blob on the kerawasm runtime (.wasm) inside an
 * embedded WebAssembly interpreter. One API, two glues: link EITHER src/kw_wasm3.c (wasm3,
 * public wasm3.h API) OR src/kw_wamr.c (WAMR, public wasm_export.h API), plus src/kw_common.c.
 *
 * The ABI between this glue and the runtime .wasm (export names, error codes and texts, blob
 * header layout) comes from kw_abi.h, which is generated from tools/blob/spec.ts, the same file
 * the Node host simulation (firmware-host/node/host.ts) uses.
 *
 * Two weight modes:
 *   - streamed (weights stay in flash; the default for firmware): load runtime-flash.wasm, then
 *     kw_init_mapped(m, blob, size) for a blob the CPU can read in place (memory-mapped flash,
 *     the const array of the C header), or kw_init_external(m, read, user, size) for a blob read
 *     by your function (SPI flash, a file). Linear memory holds only the tables, arena, state,
 *     scratch and the staging area; each op's weights are read into the staging area as it runs.
 *   - copy-in: runtime.wasm (or runtime-flash.wasm) and kw_init(m, blob, size): the whole blob is
 *     copied into linear memory, so every weight takes RAM.
 *
 * Typical use (no dynamic allocation in kw_common.c; the interpreters allocate):
 *
 *   static kw_model m;
 *   kw_config cfg = KW_CONFIG_DEFAULT;
 *   if (kw_load(&m, runtime_flash_wasm, RUNTIME_FLASH_WASM_LEN, &cfg) != KW_OK ||
 *       kw_init_mapped(&m, model, MODEL_LEN) != KW_OK) { puts(kw_message(&m)); ... }
 *   (WAMR: wasm_runtime_load may write into the .wasm buffer, so pass a RAM copy, not flash.)
 *   if (kw_self_test(&m) != KW_OK) ...               // once at boot
 *   kw_set_input_float(&m, 0, features, n);           // quantises with the blob's scale/zp
 *   kw_invoke(&m);
 *   kw_get_output_float(&m, 0, scores, n_out);
 *
 * All functions return KW_OK (0) or an error code: the runtime's codes (KW_ERR_* in kw_abi.h,
 * 1..99) or the glue's own (KW_E_* below, >= 100). kw_error_text(code) gives a one-line text;
 * kw_message(m) adds details (interpreter message, failing op index).
 */
#ifndef KW_RUNTIME_H
#define KW_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "kw_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KW_OK 0

/* Glue errors (the runtime's own codes are below 100). */
#define KW_E_ARG 100           /* bad argument (NULL pointer, size mismatch) */
#define KW_E_WASM_LOAD 101     /* the interpreter could not parse/load/instantiate the runtime .wasm */
#define KW_E_MISSING_EXPORT 102 /* the runtime .wasm lacks an export the ABI needs */
#define KW_E_ABI 103           /* runtime ABI version differs from kw_abi.h */
#define KW_E_TRAP 104          /* the interpreter trapped while calling the runtime */
#define KW_E_NO_MEMORY 105     /* the interpreter (not the wasm heap) ran out of memory */
#define KW_E_BLOB 106          /* the blob cannot be read (too short, bad magic/version) */
#define KW_E_FORMAT 107        /* blob format version differs from what the runtime reads */
#define KW_E_OPS 108           /* the blob uses ops this runtime build does not implement */
#define KW_E_NOT_LOADED 109    /* kw_load has not succeeded */

#ifndef KW_MAX_IO
#define KW_MAX_IO 8
#endif
#ifndef KW_MESSAGE_SIZE
#define KW_MESSAGE_SIZE 160
#endif

/* Interpreter settings. Stack sizes are the wasm value/operand stack, not the C stack.
 *
 * memory_limit caps linear memory (bytes, 0 = none). The runtime never grows past it
 * (kw_set_memory_limit: kw_init fails with KW_ERR_OUT_OF_MEMORY instead). On wasm3 the glue also
 * sets the runtime's memoryLimit before loading the module, so wasm3 allocates only that many
 * bytes even when it is less than one 64 KiB page; this needs wasm3's m3_env.h on the include
 * path (wasm3's source/ folder; KW_WASM3_MEMORY_LIMIT=0 turns it off). Get the figure from
 * `npx tools/verify m.blob --board ...` (kw_memory_used, the exact linear memory the model needs)
 * or from m.memory_used after a kw_init without a limit. Below 64 KiB any value of at least
 * kw_memory_used works; above, use a multiple of 65536. WAMR always allocates whole 64 KiB pages
 * (docs/FIRMWARE.md says why). */
typedef struct kw_config {
  uint32_t stack_size;        /* wasm3: m3_NewRuntime stack; WAMR: exec env stack (bytes) */
  uint32_t memory_limit;      /* cap on linear memory (bytes, 0 = none), see above */
  void *heap_pool;            /* WAMR only: Alloc_With_Pool buffer (NULL = system allocator) */
  uint32_t heap_pool_size;
} kw_config;

#define KW_CONFIG_DEFAULT {8192u, 0u, NULL, 0u}

/* One input or output, read from the blob's I/O descriptor. */
typedef struct kw_io_info {
  uint16_t tensor;
  uint8_t dtype;              /* KW_DTYPE_INT8 / INT16 / INT32 */
  uint8_t rank;               /* includes the batch */
  uint32_t dims[KW_IO_MAX_RANK];
  uint32_t elements;
  uint32_t bytes;
  float scale;                /* real = (q - zero_point) * scale */
  int32_t zero_point;
  char name[17];              /* Keras layer name (truncated to 16 bytes) */
} kw_io_info;

struct kw_backend;            /* interpreter state, defined by the glue */

/* Reads blob bytes [offset, offset + len) into dst; returns len, or a negative value on failure.
 * Called by the glue while the runtime runs (kw_init_external and every kw_invoke/kw_self_test);
 * the glue has already checked that the range lies inside the blob and dst inside linear memory. */
typedef int32_t (*kw_read_fn)(void *user, uint32_t offset, uint8_t *dst, uint32_t len);

typedef struct kw_model {
  struct kw_backend *backend;
  const uint8_t *blob;
  uint32_t blob_size;
  uint32_t num_inputs, num_outputs;
  kw_io_info inputs[KW_MAX_IO];
  kw_io_info outputs[KW_MAX_IO];
  int32_t ready;              /* kw_init succeeded */
  int32_t last_error;
  int32_t error_op;           /* op/tensor index the runtime blamed, -1 if none */
  uint32_t memory_used;       /* kw_memory_used() after init */
  uint32_t memory_limit;      /* from kw_config */
  /* streamed weights (kw_init_external / kw_init_mapped) */
  kw_read_fn read;            /* NULL in copy-in mode */
  void *read_user;
  uint32_t read_calls;        /* kw.read_blob calls served since kw_init_* (flash traffic) */
  uint32_t read_bytes;
  int32_t bad_read;           /* first refused read since the last call: 0 none, 1 outside the blob, */
  uint32_t bad_read_offset;   /* 2 destination outside linear memory, 3 the read function failed */
  uint32_t bad_read_len;
  char message[KW_MESSAGE_SIZE];
} kw_model;

/* --- lifecycle --- */
/* Loads and instantiates the runtime .wasm (bytes must stay valid and, for WAMR, writable). */
int kw_load(kw_model *m, const uint8_t *wasm, uint32_t wasm_size, const kw_config *cfg);
/* Checks the blob header against the runtime (format version, op mask), copies the blob into
 * linear memory and validates it there (kw_init export). The blob may live in flash. */
int kw_init(kw_model *m, const uint8_t *blob, uint32_t blob_size);
/* Streamed weights (needs runtime-flash.wasm, else KW_E_MISSING_EXPORT): the blob stays where it
 * is and the runtime reads it through `read` (header and tables at init, each op's constants as it
 * runs). A failed or short read makes the call return KW_ERR_READ_FAILED (never a trap); a read
 * outside [0, blob_size) is refused and kw_message says which bytes were asked for. */
int kw_init_external(kw_model *m, kw_read_fn read, void *user, uint32_t blob_size);
/* kw_init_external for a blob the CPU reads in place (memory-mapped flash, the C header's const
 * array): the glue copies from `blob`, which must stay valid while the model is used. */
int kw_init_mapped(kw_model *m, const uint8_t *blob, uint32_t blob_size);
int kw_invoke(kw_model *m);
int kw_reset_state(kw_model *m);
/* Runs the self-test vector embedded by the converter (call once at boot). */
int kw_self_test(kw_model *m);
void kw_unload(kw_model *m);

/* --- I/O --- */
uint32_t kw_num_inputs(const kw_model *m);
uint32_t kw_num_outputs(const kw_model *m);
const kw_io_info *kw_input_info(const kw_model *m, uint32_t index);
const kw_io_info *kw_output_info(const kw_model *m, uint32_t index);
/* Raw tensor bytes inside linear memory (valid until the next kw_init/kw_unload). */
void *kw_input_buffer(kw_model *m, uint32_t index, uint32_t *bytes);
const void *kw_output_buffer(kw_model *m, uint32_t index, uint32_t *bytes);
/* Copy raw int8/int16/int32 values (n = element count, must equal the tensor's). */
int kw_set_input_raw(kw_model *m, uint32_t index, const void *data, uint32_t bytes);
int kw_get_output_raw(kw_model *m, uint32_t index, void *data, uint32_t bytes);
/* Float helpers: q = clamp(round_half_away(x / scale) + zero_point) and back. For INT32 inputs
 * (embedding ids) the value is rounded to the nearest integer. */
int kw_set_input_float(kw_model *m, uint32_t index, const float *x, uint32_t n);
int kw_get_output_float(kw_model *m, uint32_t index, float *y, uint32_t n);

/* --- errors --- */
const char *kw_strerror(int code);
const char *kw_message(const kw_model *m);
const char *kw_dtype_name(uint8_t dtype);
/* "wasm3" or "wamr": the glue linked in. */
const char *kw_interpreter(void);
/* Bytes of linear memory the interpreter has allocated now (less than a page on wasm3 with a
 * memory_limit), 0 when not loaded. */
uint32_t kw_linear_memory_size(kw_model *m);
/* The interpreter object behind the model, for measurements and extra host functions:
 * wasm3 IM3Runtime, WAMR wasm_exec_env_t. NULL when not loaded. */
void *kw_interpreter_handle(kw_model *m);

/* --- pure helpers (no interpreter; used by the glue and tested on the desktop) --- */
int32_t kw_quantize_value(float x, float scale, int32_t zero_point, uint8_t dtype);
float kw_dequantize_value(int32_t q, float scale, int32_t zero_point);
/* Reads the header and I/O descriptors of a blob into m (no interpreter needed). */
int kw_read_blob_info(kw_model *m, const uint8_t *blob, uint32_t blob_size);
/* CRC-32 (IEEE, zlib's) as used for the blob's crc32 field. */
uint32_t kw_crc32(const uint8_t *data, uint32_t n);

#ifdef __cplusplus
}
#endif
#endif /* KW_RUNTIME_H */
