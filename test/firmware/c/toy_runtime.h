/* TEST DOUBLE: C stand-in for the runtime .wasm's exports (see README.md). */
#ifndef TOY_RUNTIME_H
#define TOY_RUNTIME_H
#include <stdint.h>
#define TOY_MEMORY (2u * 65536u)
extern uint8_t toy_memory[TOY_MEMORY];
/* knobs for tests */
extern int32_t toy_abi_version;        /* reported by kw_abi_version */
extern uint32_t toy_op_mask0;          /* reported by kw_op_mask(0) */
extern const char *toy_hidden_export;  /* lookup of this name fails */
extern int toy_trap_on_invoke;         /* kw_invoke traps */
extern int toy_fail_load;              /* the interpreter parses the module but fails to load/instantiate it */
extern int toy_flash;                  /* 1 (default): like runtime-flash.wasm, imports kw.read_blob and exports
                                        * kw_blob_external; 0: like runtime.wasm, neither */
extern int toy_read_past_memory;       /* kw_invoke asks the import to write past the end of linear memory */
extern uint32_t toy_memory_size;       /* linear memory the interpreter gave (the fakes set it at load) */
/* the import kw.read_blob as the interpreter linked it (set by the fakes; NULL = not linked) */
extern int32_t (*toy_read_import)(int32_t offset, int32_t dst, int32_t len);
/* interpreter objects the fakes handed out and were not freed yet (a leak shows as > 0, a double
 * free as < 0); toy_reset does not clear it */
extern int toy_live;
void toy_reset(void);
/* returns 1 and sets *id when `name` is an export of the toy runtime */
int toy_find(const char *name, int *id);
/* calls export id; returns 0 on success, -1 on trap */
int toy_call(int id, int32_t arg, int32_t *result);
#endif
