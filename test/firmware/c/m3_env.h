/* TEST DOUBLE of wasm3's internal source/m3_env.h (v0.5.0): only the M3Runtime fields that
 * kw_wasm3.c and fake_wasm3.c use. The real struct has many more; the glue sets memoryLimit. */
#ifndef m3_env_h
#define m3_env_h
#include "wasm3.h"
typedef struct M3Runtime {
  int loaded;
  void *userdata;
  uint32_t memoryLimit;       /* bytes wasm3 allocates for linear memory at most (0 = pages) */
} M3Runtime;
#endif
