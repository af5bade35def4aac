/* TEST DOUBLE of the WAMR API (see README.md): routes calls to toy_runtime.c. */
#include <string.h>
#include "wasm_export.h"
#include "toy_runtime.h"

struct WASMModuleCommon { int x; };
struct WASMModuleInstanceCommon { const char *exception; };
struct WASMExecEnv { wasm_module_inst_t inst; };
static struct WASMModuleCommon mod1;
static struct WASMModuleInstanceCommon inst1;
static struct WASMExecEnv env1;
struct WASMMemoryInstance { int x; };
static struct WASMMemoryInstance mem1;
static int fn_ids[64];
static int inited;
static void *user_data;
static NativeSymbol *kw_natives;
static uint32_t n_kw_natives;
typedef int32_t (*read_blob_native)(wasm_exec_env_t, int32_t, int32_t, int32_t);
static read_blob_native read_blob_fn;

/* the import as WAMR calls a native with signature "(iii)i": exec env, then the raw i32s */
static int32_t call_read_blob(int32_t offset, int32_t dst, int32_t len) { return read_blob_fn(&env1, offset, dst, len); }

/* toy_live counts the runtime, modules, instances and exec envs not yet freed. */
bool wasm_runtime_full_init(RuntimeInitArgs *a) { if (a->mem_alloc_type == Alloc_With_Pool && a->mem_alloc_option.pool.heap_size < 1024) return false; inited = 1; toy_live++; return true; }
void wasm_runtime_destroy(void) { inited = 0; kw_natives = NULL; n_kw_natives = 0; toy_live--; }
bool wasm_runtime_register_natives(const char *m, NativeSymbol *s, uint32_t n) {
  if (!inited || !m || !s || n == 0) return false;
  if (strcmp(m, "kw") == 0) { kw_natives = s; n_kw_natives = n; }
  return true;
}
wasm_module_t wasm_runtime_load(uint8_t *buf, uint32_t size, char *eb, uint32_t ebs) {
  if (size < 8 || memcmp(buf, "\0asm", 4) != 0) { strncpy(eb, "WASM module load failed: magic header not detected", ebs - 1); eb[ebs - 1] = 0; return NULL; }
  toy_live++;
  return &mod1;
}
void wasm_runtime_unload(wasm_module_t m) { (void)m; toy_live--; }
wasm_module_inst_t wasm_runtime_instantiate(const wasm_module_t m, uint32_t s, uint32_t h, char *eb, uint32_t ebs) {
  (void)m; (void)s; (void)h;
  if (toy_fail_load) { strncpy(eb, "fake: instantiation failed", ebs - 1); eb[ebs - 1] = 0; return NULL; }
  inst1.exception = NULL;
  toy_memory_size = TOY_MEMORY;
  read_blob_fn = NULL;
  toy_read_import = NULL;
  if (toy_flash) {
    uint32_t k;
    for (k = 0; k < n_kw_natives; k++)
      if (strcmp(kw_natives[k].symbol, "read_blob") == 0 && strcmp(kw_natives[k].signature, "(iii)i") == 0) {
        read_blob_fn = (read_blob_native)kw_natives[k].func_ptr;
        toy_read_import = call_read_blob;
      }
  }
  toy_live++;
  return &inst1;
}
void wasm_runtime_deinstantiate(wasm_module_inst_t i) { (void)i; toy_read_import = NULL; toy_live--; }
wasm_exec_env_t wasm_runtime_create_exec_env(wasm_module_inst_t i, uint32_t s) { if (s < 64) return NULL; env1.inst = i; user_data = NULL; toy_live++; return &env1; }
void wasm_runtime_set_user_data(wasm_exec_env_t e, void *u) { (void)e; user_data = u; }
void *wasm_runtime_get_user_data(wasm_exec_env_t e) { (void)e; return user_data; }
wasm_memory_inst_t wasm_runtime_get_default_memory(const wasm_module_inst_t i) { (void)i; return &mem1; }
uint64_t wasm_memory_get_cur_page_count(const wasm_memory_inst_t m) { (void)m; return TOY_MEMORY / 65536u; }
uint64_t wasm_memory_get_bytes_per_page(const wasm_memory_inst_t m) { (void)m; return 65536u; }
void wasm_runtime_destroy_exec_env(wasm_exec_env_t e) { (void)e; toy_live--; }
wasm_module_inst_t wasm_runtime_get_module_inst(wasm_exec_env_t e) { return e->inst; }
wasm_function_inst_t wasm_runtime_lookup_function(const wasm_module_inst_t i, const char *name) {
  int id;
  (void)i;
  if (!toy_find(name, &id)) return NULL;
  fn_ids[id] = id;
  return &fn_ids[id];
}
bool wasm_runtime_call_wasm(wasm_exec_env_t e, wasm_function_inst_t f, uint32_t argc, uint32_t argv[]) {
  int32_t r = 0;
  if (toy_call(*(int *)f, argc ? (int32_t)argv[0] : 0, &r) != 0) { e->inst->exception = "Exception: unreachable"; return false; }
  argv[0] = (uint32_t)r;
  return true;
}
const char *wasm_runtime_get_exception(wasm_module_inst_t i) { return i->exception; }
void wasm_runtime_set_exception(wasm_module_inst_t i, const char *ex) { i->exception = ex; }
void wasm_runtime_clear_exception(wasm_module_inst_t i) { i->exception = NULL; }
bool wasm_runtime_validate_app_addr(wasm_module_inst_t i, uint64_t off, uint64_t size) {
  if (off > TOY_MEMORY || size > TOY_MEMORY - off) { i->exception = "out of bounds memory access"; return false; }
  return true;
}
void *wasm_runtime_addr_app_to_native(wasm_module_inst_t i, uint64_t off) { (void)i; return off <= TOY_MEMORY ? toy_memory + off : NULL; }
