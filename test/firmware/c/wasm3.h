/* TEST DOUBLE of wasm3's source/wasm3.h (v0.5.0): only what kw_wasm3.c uses, same signatures.
 * Used only by test/firmware/firmware-c.test.ts; build real firmware against the real wasm3. */
#ifndef wasm3_h
#define wasm3_h
#include <stdint.h>
#include <stdlib.h>

typedef const char *M3Result;
struct M3Environment; typedef struct M3Environment *IM3Environment;
struct M3Runtime;     typedef struct M3Runtime *IM3Runtime;
struct M3Module;      typedef struct M3Module *IM3Module;
struct M3Function;    typedef struct M3Function *IM3Function;

typedef struct M3ErrorInfo {
  M3Result result;
  IM3Runtime runtime;
  IM3Module module;
  IM3Function function;
  const char *file;
  uint32_t line;
  const char *message;
} M3ErrorInfo;

typedef struct M3ImportContext { void *userdata; IM3Function function; } M3ImportContext, *IM3ImportContext;

extern const M3Result m3Err_none;
extern const M3Result m3Err_mallocFailed;
extern const M3Result m3Err_functionLookupFailed;
extern const M3Result m3Err_trapAbort;
extern const M3Result m3Err_trapOutOfBoundsMemoryAccess;

IM3Environment m3_NewEnvironment(void);
void m3_FreeEnvironment(IM3Environment i_environment);
IM3Runtime m3_NewRuntime(IM3Environment io_environment, uint32_t i_stackSizeInBytes, void *i_userdata);
void m3_FreeRuntime(IM3Runtime i_runtime);
uint8_t *m3_GetMemory(IM3Runtime i_runtime, uint32_t *o_memorySizeInBytes, uint32_t i_memoryIndex);
void *m3_GetUserData(IM3Runtime i_runtime);
M3Result m3_ParseModule(IM3Environment i_environment, IM3Module *o_module, const uint8_t *const i_wasmBytes, uint32_t i_numWasmBytes);
void m3_FreeModule(IM3Module i_module);
M3Result m3_LoadModule(IM3Runtime io_runtime, IM3Module io_module);
typedef const void *(*M3RawCall)(IM3Runtime runtime, IM3ImportContext _ctx, uint64_t *_sp, void *_mem);
M3Result m3_LinkRawFunction(IM3Module io_module, const char *const i_moduleName, const char *const i_functionName,
                            const char *const i_signature, M3RawCall i_function);
M3Result m3_FindFunction(IM3Function *o_function, IM3Runtime i_runtime, const char *const i_functionName);
M3Result m3_CallV(IM3Function i_function, ...);
M3Result m3_GetResultsV(IM3Function i_function, ...);
void m3_GetErrorInfo(IM3Runtime i_runtime, M3ErrorInfo *o_info);
#endif
