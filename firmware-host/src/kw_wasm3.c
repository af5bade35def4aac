/*
 * kw_wasm3.c - kw_runtime.h on wasm3 (public wasm3.h API only: m3_NewEnvironment,
 * m3_NewRuntime, m3_ParseModule, m3_LoadModule, m3_LinkRawFunction, m3_FindFunction,
 * m3_CallV, m3_GetResultsV, m3_GetMemory, m3_GetUserData, m3_GetErrorInfo). Build with wasm3's
 * source/ on the include path; see docs/FIRMWARE.md.
 *
 * wasm3 keeps a pointer to the .wasm bytes for the module's lifetime: they may stay in
 * memory-mapped flash. Linear memory is allocated by wasm3 (m3_Malloc/m3_Realloc) in 64 KiB
 * pages as the runtime grows it, or only kw_config.memory_limit bytes when that is set and
 * m3_env.h (wasm3's internal header, in source/) is on the include path: the runtime's
 * memoryLimit field has no public setter.
 */
#include <string.h>

#include "wasm3.h"
#include "kw_backend.h"

#ifndef KW_WASM3_MEMORY_LIMIT
#if defined(__has_include)
#if __has_include("m3_env.h")
#define KW_WASM3_MEMORY_LIMIT 1
#endif
#endif
#endif
#ifndef KW_WASM3_MEMORY_LIMIT
#define KW_WASM3_MEMORY_LIMIT 0
#endif
#if KW_WASM3_MEMORY_LIMIT
#include "m3_env.h"
#endif

#ifndef KW_MAX_MODELS
#define KW_MAX_MODELS 1
#endif

struct kw_backend {
  int in_use;
  IM3Environment env;
  IM3Runtime runtime;
  IM3Module module;
  int module_loaded;          /* after m3_LoadModule succeeds the runtime owns (and frees) the module */
  IM3Function fn[KW_FN_COUNT];
};

static struct kw_backend kw_wasm3_pool[KW_MAX_MODELS];

const char *kw_backend_name(void) { return "wasm3"; }

/* AssemblyScript's env.abort(msg, file, line, col): trap. Linked only if the module imports it. */
static const void *kw_wasm3_abort(IM3Runtime runtime, IM3ImportContext ctx, uint64_t *sp, void *mem) {
  (void)runtime; (void)ctx; (void)sp; (void)mem;
  return m3Err_trapAbort;
}

/* kw.read_blob(offset, dst, len) -> len or -1, signature "i(iii)": wasm3 passes the return slot
 * first, then one 64-bit slot per argument. The model comes from the runtime's user data. */
static const void *kw_wasm3_read_blob(IM3Runtime runtime, IM3ImportContext ctx, uint64_t *sp, void *mem) {
  int32_t *ret = (int32_t *)(void *)(sp++);
  uint32_t offset = *(uint32_t *)(void *)(sp++);
  uint32_t dst = *(uint32_t *)(void *)(sp++);
  uint32_t len = *(uint32_t *)(void *)(sp++);
  uint32_t mem_size = 0;
  uint8_t *base = m3_GetMemory(runtime, &mem_size, 0);
  (void)ctx; (void)mem;
  *ret = kw_host_read_blob((kw_model *)m3_GetUserData(runtime), offset, dst, len, base, mem_size);
  return m3Err_none;
}

static int wasm3_fail(kw_model *m, int code, const char *what, M3Result r) {
  kw_set_message(m, what, r);
  if (m->backend && m->backend->runtime) {
    M3ErrorInfo info;
    memset(&info, 0, sizeof info);
    m3_GetErrorInfo(m->backend->runtime, &info);
    /* wasm3 often repeats the result text (or the whole message) in info.message: add it only if new */
    if (info.message && *info.message && !strstr(m->message, info.message)) kw_set_message(m, m->message, info.message);
  }
  return code;
}

void kw_backend_unload(kw_model *m) {
  struct kw_backend *b = m->backend;
  if (!b) return;
  /* a parsed module that was never loaded belongs to us, not to the runtime */
  if (b->module && !b->module_loaded) m3_FreeModule(b->module);
  if (b->runtime) m3_FreeRuntime(b->runtime); /* frees the loaded module too */
  if (b->env) m3_FreeEnvironment(b->env);
  memset(b, 0, sizeof *b);
  m->backend = NULL;
}

int kw_backend_load(kw_model *m, const uint8_t *wasm, uint32_t wasm_size, const kw_config *cfg) {
  struct kw_backend *b = NULL;
  M3Result r;
  int i;
  for (i = 0; i < KW_MAX_MODELS; i++)
    if (!kw_wasm3_pool[i].in_use) { b = &kw_wasm3_pool[i]; break; }
  if (!b) { kw_set_message(m, kw_strerror(KW_E_NO_MEMORY), "all KW_MAX_MODELS slots in use"); return KW_E_NO_MEMORY; }
  memset(b, 0, sizeof *b);
  b->in_use = 1;
  m->backend = b;

  b->env = m3_NewEnvironment();
  if (!b->env) { kw_backend_unload(m); kw_set_message(m, kw_strerror(KW_E_NO_MEMORY), "m3_NewEnvironment"); return KW_E_NO_MEMORY; }
  b->runtime = m3_NewRuntime(b->env, cfg->stack_size ? cfg->stack_size : 8192u, m);
  if (!b->runtime) { kw_backend_unload(m); kw_set_message(m, kw_strerror(KW_E_NO_MEMORY), "m3_NewRuntime"); return KW_E_NO_MEMORY; }
#if KW_WASM3_MEMORY_LIMIT
  /* before m3_LoadModule allocates the initial memory: wasm3 then allocates at most this many
   * bytes, even less than a page, and bounds-checks every access against it */
  b->runtime->memoryLimit = cfg->memory_limit;
#endif
  r = m3_ParseModule(b->env, &b->module, wasm, wasm_size);
  if (r) { int rc = wasm3_fail(m, KW_E_WASM_LOAD, "m3_ParseModule", r); kw_backend_unload(m); return rc; }
  r = m3_LoadModule(b->runtime, b->module);
  /* on failure the module stays ours: kw_backend_unload frees it with m3_FreeModule */
  if (r) { int rc = wasm3_fail(m, KW_E_WASM_LOAD, "m3_LoadModule", r); kw_backend_unload(m); return rc; }
  b->module_loaded = 1;
  r = m3_LinkRawFunction(b->module, "env", "abort", "v(iiii)", kw_wasm3_abort);
  if (r && r != m3Err_functionLookupFailed) { int rc = wasm3_fail(m, KW_E_WASM_LOAD, "m3_LinkRawFunction env.abort", r); kw_backend_unload(m); return rc; }
  /* runtime-flash.wasm imports it; runtime.wasm does not (lookup failed) */
  r = m3_LinkRawFunction(b->module, KW_IMPORT_MODULE, KW_IMPORT_READ_BLOB, "i(iii)", kw_wasm3_read_blob);
  if (r && r != m3Err_functionLookupFailed) { int rc = wasm3_fail(m, KW_E_WASM_LOAD, "m3_LinkRawFunction kw.read_blob", r); kw_backend_unload(m); return rc; }
  for (i = 0; i < KW_FN_COUNT; i++) {
    r = m3_FindFunction(&b->fn[i], b->runtime, kw_fn_names[i]);
    if (r && kw_fn_optional(i)) { b->fn[i] = NULL; continue; }
    if (r) { kw_set_message(m, kw_strerror(KW_E_MISSING_EXPORT), kw_fn_names[i]); kw_backend_unload(m); return KW_E_MISSING_EXPORT; }
  }
  return KW_OK;
}

int kw_backend_call(kw_model *m, int fn, int32_t arg, int32_t *result) {
  struct kw_backend *b = m->backend;
  M3Result r;
  int32_t out = 0;
  if (!b || fn < 0 || fn >= KW_FN_COUNT) return KW_E_ARG;
  if (!b->fn[fn]) return KW_E_MISSING_EXPORT;
  r = kw_fn_nargs(fn) ? m3_CallV(b->fn[fn], arg) : m3_CallV(b->fn[fn]);
  if (r) return wasm3_fail(m, r == m3Err_mallocFailed ? KW_E_NO_MEMORY : KW_E_TRAP, kw_fn_names[fn], r);
  r = m3_GetResultsV(b->fn[fn], &out);
  if (r) return wasm3_fail(m, KW_E_TRAP, kw_fn_names[fn], r);
  if (result) *result = out;
  return KW_OK;
}

uint8_t *kw_backend_memory(kw_model *m, uint32_t addr, uint32_t size) {
  uint32_t mem_size = 0;
  uint8_t *base;
  if (!m->backend) return NULL;
  base = m3_GetMemory(m->backend->runtime, &mem_size, 0);
  if (!base || addr > mem_size || size > mem_size - addr) return NULL;
  return base + addr;
}

uint32_t kw_backend_memory_size(kw_model *m) {
  uint32_t mem_size = 0;
  if (!m->backend || !m3_GetMemory(m->backend->runtime, &mem_size, 0)) return 0;
  return mem_size;
}

void *kw_backend_handle(kw_model *m) { return m->backend ? (void *)m->backend->runtime : NULL; }
