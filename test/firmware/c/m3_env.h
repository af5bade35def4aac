/* TEST DOUBLE of wasm3's internal source/m3_env.h (v0.5.0): only the M3Runtime fields that
 * kw_wasm3.c, fake_wasm3.c and firmware-host/measure use. The real struct has many more; the glue sets memoryLimit. */
#ifndef m3_env_h
#define m3_env_h
#include "wasm3.h"
typedef uint64_t m3slot_t;    /* m3_core.h: one value-stack slot */
typedef struct M3Runtime {
  int loaded;
  void *userdata;
  uint32_t memoryLimit;       /* bytes wasm3 allocates for linear memory at most (0 = pages) */
  void *stack;                /* the value stack (firmware-host/measure paints and scans it) */
  uint32_t numStackSlots;
} M3Runtime;
#endif
