/*
 * Internal interface between kw_common.c (interpreter-independent logic) and one interpreter
 * glue (kw_wasm3.c or kw_wamr.c). Not part of the public API.
 */
#ifndef KW_BACKEND_H
#define KW_BACKEND_H

#include "kw_runtime.h"

/* One id per runtime export, in the order of kw_export_names[] in kw_abi.h (checked at
 * compile time by count and at load time by name). */
enum kw_fn {
  KW_FN_ABI_VERSION,
  KW_FN_FORMAT_VERSION,
  KW_FN_OP_MASK,
  KW_FN_SET_MEMORY_LIMIT,
  KW_FN_BLOB_BUFFER,
  KW_FN_BLOB_EXTERNAL,
  KW_FN_INIT,
  KW_FN_NUM_INPUTS,
  KW_FN_NUM_OUTPUTS,
  KW_FN_INPUT_PTR,
  KW_FN_INPUT_SIZE,
  KW_FN_OUTPUT_PTR,
  KW_FN_OUTPUT_SIZE,
  KW_FN_INVOKE,
  KW_FN_RESET_STATE,
  KW_FN_SELF_TEST,
  KW_FN_LAST_ERROR,
  KW_FN_ERROR_OP,
  KW_FN_MEMORY_USED,
  KW_FN_COUNT
};

/* Export names indexed by enum kw_fn (defined in kw_common.c from the KW_EXPORT_* macros). */
extern const char *const kw_fn_names[KW_FN_COUNT];
/* Argument count of each export (0 or 1), from kw_export_nargs in kw_abi.h. */
uint32_t kw_fn_nargs(int fn);
/* 1 when the export may be missing (flash-only, kw_export_flash_only in kw_abi.h): the glue
 * resolves it as optional and kw_backend_call returns KW_E_MISSING_EXPORT for it. */
int kw_fn_optional(int fn);

/* The host import KW_IMPORT_MODULE.KW_IMPORT_READ_BLOB(offset, dst, len), shared by both glues:
 * `mem`/`mem_size` are linear memory as the interpreter has it now. Checks [offset, offset + len)
 * against the blob size the host gave and [dst, dst + len) against linear memory, calls the
 * model's read function, and returns len or -1 (never traps); the first refused read is kept for
 * kw_message. */
int32_t kw_host_read_blob(kw_model *m, uint32_t offset, uint32_t dst, uint32_t len, uint8_t *mem, uint64_t mem_size);

/* Implemented by the glue. All return KW_OK or a KW_E_* code and fill m->message on error. */
int kw_backend_load(kw_model *m, const uint8_t *wasm, uint32_t wasm_size, const kw_config *cfg);
/* Calls export `fn` with `arg` (ignored when the export takes none); result in *result. */
int kw_backend_call(kw_model *m, int fn, int32_t arg, int32_t *result);
/* Native pointer to [addr, addr + size) of linear memory, NULL when out of bounds. */
uint8_t *kw_backend_memory(kw_model *m, uint32_t addr, uint32_t size);
void kw_backend_unload(kw_model *m);
/* Bytes of linear memory allocated now; the interpreter object (kw_interpreter_handle). */
uint32_t kw_backend_memory_size(kw_model *m);
void *kw_backend_handle(kw_model *m);
/* Name of the interpreter ("wasm3", "wamr"). */
const char *kw_backend_name(void);

/* Helper for the glue: formats m->message (snprintf-like, truncates). */
void kw_set_message(kw_model *m, const char *a, const char *b);

#endif /* KW_BACKEND_H */
