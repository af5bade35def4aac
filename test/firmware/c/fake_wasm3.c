/* TEST DOUBLE of the wasm3 API (see README.md): routes calls to toy_runtime.c. */
#include <stdarg.h>
#include <string.h>
#include "wasm3.h"
#include "m3_env.h"
#include "toy_runtime.h"
#include "kw_abi.h"

const M3Result m3Err_none = NULL;
const M3Result m3Err_mallocFailed = "memory allocation failed";
const M3Result m3Err_functionLookupFailed = "function lookup failed";
const M3Result m3Err_trapAbort = "[trap] program called abort";
const M3Result m3Err_trapOutOfBoundsMemoryAccess = "[trap] out of bounds memory access";
static const M3Result fake_malformed = "malformed Wasm binary";
static const M3Result fake_load_failed = "fake: m3_LoadModule failed";

/* Ownership as in wasm3: m3_LoadModule hands the module to the runtime (m3_FreeRuntime frees
 * it); a module that was parsed but not loaded must be freed with m3_FreeModule. toy_live
 * counts what is still allocated. */
struct M3Environment { int x; };
struct M3Module { int x; };
struct M3Function { int id; int32_t result; };

static struct M3Environment env1;
static struct M3Runtime rt1;
static struct M3Module mod1;
static struct M3Function fns[64];
static M3RawCall read_blob_fn;

/* the import as wasm3 calls a raw function: return slot, then one 64-bit slot per argument */
static int32_t call_read_blob(int32_t offset, int32_t dst, int32_t len) {
  uint64_t sp[4];
  int32_t ret;
  M3ImportContext ctx;
  memset(sp, 0, sizeof sp);
  memset(&ctx, 0, sizeof ctx);
  memcpy(&sp[1], &offset, 4);
  memcpy(&sp[2], &dst, 4);
  memcpy(&sp[3], &len, 4);
  if (read_blob_fn(&rt1, &ctx, sp, toy_memory) != m3Err_none) return -1;
  memcpy(&ret, &sp[0], 4);
  return ret;
}

IM3Environment m3_NewEnvironment(void) { toy_live++; return &env1; }
void m3_FreeEnvironment(IM3Environment e) { (void)e; toy_live--; }
IM3Runtime m3_NewRuntime(IM3Environment e, uint32_t stack, void *ud) {
  (void)e;
  if (stack < 64) return NULL;
  memset(&rt1, 0, sizeof rt1);
  rt1.userdata = ud;
  toy_live++;
  return &rt1;
}
void m3_FreeRuntime(IM3Runtime r) { if (r->loaded) toy_live--; r->loaded = 0; read_blob_fn = NULL; toy_read_import = NULL; toy_live--; }
/* like wasm3: memoryLimit caps the bytes allocated, even below a page */
uint8_t *m3_GetMemory(IM3Runtime r, uint32_t *size, uint32_t idx) { (void)idx; if (size) *size = toy_memory_size; (void)r; return toy_memory; }
void *m3_GetUserData(IM3Runtime r) { return r->userdata; }
M3Result m3_ParseModule(IM3Environment e, IM3Module *m, const uint8_t *const bytes, uint32_t n) {
  (void)e;
  if (n < 8 || memcmp(bytes, "\0asm", 4) != 0) return fake_malformed;
  *m = &mod1;
  toy_live++;
  return m3Err_none;
}
void m3_FreeModule(IM3Module m) { (void)m; toy_live--; }
M3Result m3_LoadModule(IM3Runtime r, IM3Module m) {
  (void)m;
  if (toy_fail_load) return fake_load_failed;
  toy_memory_size = r->memoryLimit && r->memoryLimit < TOY_MEMORY ? r->memoryLimit : TOY_MEMORY;
  r->loaded = 1;
  return m3Err_none;
}
M3Result m3_LinkRawFunction(IM3Module m, const char *const mod, const char *const fn, const char *const sig, M3RawCall f) {
  (void)m;
  if (toy_flash && strcmp(mod, "kw") == 0 && strcmp(fn, "read_blob") == 0) {
    if (strcmp(sig, "i(iii)") != 0) return "function signature mismatch";
    read_blob_fn = f;
    toy_read_import = call_read_blob;
    return m3Err_none;
  }
  return m3Err_functionLookupFailed; /* like wasm3 when the module does not import it */
}
M3Result m3_FindFunction(IM3Function *o, IM3Runtime r, const char *const name) {
  int id;
  (void)r;
  if (!toy_find(name, &id)) return m3Err_functionLookupFailed;
  fns[id].id = id;
  *o = &fns[id];
  return m3Err_none;
}
M3Result m3_CallV(IM3Function f, ...) {
  va_list ap;
  int32_t arg = 0;
  va_start(ap, f);
  if (kw_export_nargs[f->id]) arg = va_arg(ap, int32_t); /* like wasm3: as many as the signature has */
  va_end(ap);
  if (toy_call(f->id, arg, &f->result) != 0) return m3Err_trapAbort;
  return m3Err_none;
}
M3Result m3_GetResultsV(IM3Function f, ...) {
  va_list ap;
  int32_t *out;
  va_start(ap, f);
  out = va_arg(ap, int32_t *);
  va_end(ap);
  *out = f->result;
  return m3Err_none;
}
void m3_GetErrorInfo(IM3Runtime r, M3ErrorInfo *info) { (void)r; memset(info, 0, sizeof *info); info->message = "fake wasm3"; }
