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
static int fn_ids[64];
static int inited;

/* toy_live counts the runtime, modules, instances and exec envs not yet freed. */
bool wasm_runtime_full_init(RuntimeInitArgs *a) { if (a->mem_alloc_type == Alloc_With_Pool && a->mem_alloc_option.pool.heap_size < 1024) return false; inited = 1; toy_live++; return true; }
void wasm_runtime_destroy(void) { inited = 0; toy_live--; }
bool wasm_runtime_register_natives(const char *m, NativeSymbol *s, uint32_t n) { return inited && m && s && n > 0; }
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
  toy_live++;
  return &inst1;
}
void wasm_runtime_deinstantiate(wasm_module_inst_t i) { (void)i; toy_live--; }
wasm_exec_env_t wasm_runtime_create_exec_env(wasm_module_inst_t i, uint32_t s) { if (s < 64) return NULL; env1.inst = i; toy_live++; return &env1; }
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
