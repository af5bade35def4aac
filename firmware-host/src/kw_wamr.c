/*
 * kw_wamr.c - kw_runtime.h on WAMR (public wasm_export.h API only: wasm_runtime_full_init,
 * wasm_runtime_register_natives, wasm_runtime_load, wasm_runtime_instantiate,
 * wasm_runtime_create_exec_env, wasm_runtime_lookup_function, wasm_runtime_call_wasm,
 * wasm_runtime_validate_app_addr, wasm_runtime_addr_app_to_native, wasm_runtime_get_exception,
 * wasm_runtime_set_user_data / get_user_data, wasm_runtime_get_default_memory).
 * Build with WAMR's core/iwasm/include on the include path and its runtime library linked;
 * see docs/FIRMWARE.md.
 *
 * wasm_runtime_load may modify the .wasm buffer and keeps referring to it until unload: pass a
 * writable RAM copy that outlives the model (not a const array in flash).
 *
 * WAMR allocates linear memory in whole 64 KiB pages: kw_config.memory_limit only caps how far
 * the runtime grows (kw_set_memory_limit). WAMR 2.4.5 has no custom page sizes, and its only
 * smaller-than-a-page path (WASM_ENABLE_SHRUNK_MEMORY) applies to modules without memory.grow
 * that export LLVM's __heap_base/__data_end, shrinking memory to the static data alone.
 */
#include <string.h>

#include "wasm_export.h"
#include "kw_backend.h"

#ifndef KW_MAX_MODELS
#define KW_MAX_MODELS 1
#endif

struct kw_backend {
  int in_use;
  wasm_module_t module;
  wasm_module_inst_t inst;
  wasm_exec_env_t exec_env;
  wasm_function_inst_t fn[KW_FN_COUNT];
};

static struct kw_backend kw_wamr_pool[KW_MAX_MODELS];
static int kw_wamr_runtime_users = 0;
static char kw_wamr_err[128];

const char *kw_backend_name(void) { return "wamr"; }

/* AssemblyScript's env.abort(msg, file, line, col): raise an exception (a trap). */
static void kw_wamr_abort(wasm_exec_env_t exec_env, int32_t msg, int32_t file, int32_t line, int32_t col) {
  (void)msg; (void)file; (void)line; (void)col;
  wasm_runtime_set_exception(wasm_runtime_get_module_inst(exec_env), "abort");
}

static NativeSymbol kw_wamr_natives[] = {
  {"abort", (void *)kw_wamr_abort, "(iiii)", NULL},
};

/* kw.read_blob(offset, dst, len) -> len or -1. The model is the exec env's user data; dst is
 * checked against linear memory here (a failed check must not leave an exception: no trap). */
static int32_t kw_wamr_read_blob(wasm_exec_env_t exec_env, int32_t offset, int32_t dst, int32_t len) {
  kw_model *m = (kw_model *)wasm_runtime_get_user_data(exec_env);
  wasm_module_inst_t inst = wasm_runtime_get_module_inst(exec_env);
  uint8_t *p;
  if (!m) return -1;
  if (!wasm_runtime_validate_app_addr(inst, (uint32_t)dst, (uint32_t)len)) {
    wasm_runtime_clear_exception(inst);
    return kw_host_read_blob(m, (uint32_t)offset, (uint32_t)dst, (uint32_t)len, NULL, 0);
  }
  p = (uint8_t *)wasm_runtime_addr_app_to_native(inst, (uint32_t)dst);
  /* the range [dst, dst + len) is valid: present it as memory that ends right after it */
  return kw_host_read_blob(m, (uint32_t)offset, 0u, (uint32_t)len, p, (uint64_t)(uint32_t)len);
}

static NativeSymbol kw_wamr_kw_natives[] = {
  {KW_IMPORT_READ_BLOB, (void *)kw_wamr_read_blob, "(iii)i", NULL},
};

void kw_backend_unload(kw_model *m) {
  struct kw_backend *b = m->backend;
  if (!b) return;
  if (b->exec_env) wasm_runtime_destroy_exec_env(b->exec_env);
  if (b->inst) wasm_runtime_deinstantiate(b->inst);
  if (b->module) wasm_runtime_unload(b->module);
  memset(b, 0, sizeof *b);
  m->backend = NULL;
  if (kw_wamr_runtime_users > 0 && --kw_wamr_runtime_users == 0) wasm_runtime_destroy();
}

int kw_backend_load(kw_model *m, const uint8_t *wasm, uint32_t wasm_size, const kw_config *cfg) {
  struct kw_backend *b = NULL;
  uint32_t stack = cfg->stack_size ? cfg->stack_size : 8192u;
  int i;
  for (i = 0; i < KW_MAX_MODELS; i++)
    if (!kw_wamr_pool[i].in_use) { b = &kw_wamr_pool[i]; break; }
  if (!b) { kw_set_message(m, kw_strerror(KW_E_NO_MEMORY), "all KW_MAX_MODELS slots in use"); return KW_E_NO_MEMORY; }

  if (kw_wamr_runtime_users == 0) {
    RuntimeInitArgs args;
    memset(&args, 0, sizeof args);
    if (cfg->heap_pool && cfg->heap_pool_size) {
      args.mem_alloc_type = Alloc_With_Pool;
      args.mem_alloc_option.pool.heap_buf = cfg->heap_pool;
      args.mem_alloc_option.pool.heap_size = cfg->heap_pool_size;
    } else {
      args.mem_alloc_type = Alloc_With_System_Allocator;
    }
    if (!wasm_runtime_full_init(&args)) { kw_set_message(m, kw_strerror(KW_E_NO_MEMORY), "wasm_runtime_full_init"); return KW_E_NO_MEMORY; }
    if (!wasm_runtime_register_natives("env", kw_wamr_natives, (uint32_t)(sizeof kw_wamr_natives / sizeof kw_wamr_natives[0])) ||
        !wasm_runtime_register_natives(KW_IMPORT_MODULE, kw_wamr_kw_natives, (uint32_t)(sizeof kw_wamr_kw_natives / sizeof kw_wamr_kw_natives[0]))) {
      wasm_runtime_destroy();
      kw_set_message(m, kw_strerror(KW_E_WASM_LOAD), "wasm_runtime_register_natives");
      return KW_E_WASM_LOAD;
    }
  }
  kw_wamr_runtime_users++;
  memset(b, 0, sizeof *b);
  b->in_use = 1;
  m->backend = b;

  kw_wamr_err[0] = '\0';
  b->module = wasm_runtime_load((uint8_t *)wasm, wasm_size, kw_wamr_err, sizeof kw_wamr_err);
  if (!b->module) { kw_set_message(m, "wasm_runtime_load", kw_wamr_err); kw_backend_unload(m); return KW_E_WASM_LOAD; }
  b->inst = wasm_runtime_instantiate(b->module, stack, 0, kw_wamr_err, sizeof kw_wamr_err);
  if (!b->inst) { kw_set_message(m, "wasm_runtime_instantiate", kw_wamr_err); kw_backend_unload(m); return KW_E_WASM_LOAD; }
  b->exec_env = wasm_runtime_create_exec_env(b->inst, stack);
  if (!b->exec_env) { kw_set_message(m, kw_strerror(KW_E_NO_MEMORY), "wasm_runtime_create_exec_env"); kw_backend_unload(m); return KW_E_NO_MEMORY; }
  wasm_runtime_set_user_data(b->exec_env, m);
  for (i = 0; i < KW_FN_COUNT; i++) {
    b->fn[i] = wasm_runtime_lookup_function(b->inst, kw_fn_names[i]);
    if (!b->fn[i] && kw_fn_optional(i)) continue;
    if (!b->fn[i]) { kw_set_message(m, kw_strerror(KW_E_MISSING_EXPORT), kw_fn_names[i]); kw_backend_unload(m); return KW_E_MISSING_EXPORT; }
  }
  return KW_OK;
}

int kw_backend_call(kw_model *m, int fn, int32_t arg, int32_t *result) {
  struct kw_backend *b = m->backend;
  uint32_t argv[1];
  if (!b || fn < 0 || fn >= KW_FN_COUNT) return KW_E_ARG;
  if (!b->fn[fn]) return KW_E_MISSING_EXPORT;
  argv[0] = (uint32_t)arg;
  if (!wasm_runtime_call_wasm(b->exec_env, b->fn[fn], kw_fn_nargs(fn), argv)) {
    const char *ex = wasm_runtime_get_exception(b->inst);
    kw_set_message(m, kw_fn_names[fn], ex ? ex : "exception");
    wasm_runtime_clear_exception(b->inst);
    return KW_E_TRAP;
  }
  if (result) *result = (int32_t)argv[0];
  return KW_OK;
}

uint8_t *kw_backend_memory(kw_model *m, uint32_t addr, uint32_t size) {
  struct kw_backend *b = m->backend;
  if (!b) return NULL;
  if (!wasm_runtime_validate_app_addr(b->inst, addr, size)) {
    wasm_runtime_clear_exception(b->inst);
    return NULL;
  }
  return (uint8_t *)wasm_runtime_addr_app_to_native(b->inst, addr);
}

uint32_t kw_backend_memory_size(kw_model *m) {
  wasm_memory_inst_t mem;
  uint64_t bytes;
  if (!m->backend || !m->backend->inst) return 0;
  mem = wasm_runtime_get_default_memory(m->backend->inst);
  if (!mem) return 0;
  bytes = wasm_memory_get_cur_page_count(mem) * wasm_memory_get_bytes_per_page(mem);
  return bytes > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)bytes;
}

void *kw_backend_handle(kw_model *m) { return m->backend ? (void *)m->backend->exec_env : NULL; }
