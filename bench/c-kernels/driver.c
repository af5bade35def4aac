/*
 * kernel_driver: runs bench/c-kernels/tflite_ref.c's wasm module under WASM3 or WAMR (the library
 * given at link time; -DKW_BENCH_WASM3 selects WASM3), for bench/interp.ts.
 *
 *   kernel_driver MODULE.wasm JOB.bin OUT.bin
 *
 * Copies the job into the module's arena, runs bench_run once to warm up (WASM3 compiles each
 * function on its first call) and once inside bench_invoke, the function callgrind counts
 * (--toggle-collect=bench_invoke), then writes the job's output bytes to OUT.bin.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef KW_BENCH_WASM3
#include "wasm3.h"
static IM3Runtime rt;
static IM3Function f_run, f_arena, f_bytes;
static int call0(IM3Function f, int32_t *out) {
  if (m3_CallV(f) || m3_GetResultsV(f, out)) return 1;
  return 0;
}
static uint8_t *memory(uint32_t *size) { return m3_GetMemory(rt, size, 0); }
static int load(uint8_t *wasm, uint32_t n, char *err) {
  IM3Environment env = m3_NewEnvironment();
  IM3Module mod;
  rt = env ? m3_NewRuntime(env, 64 * 1024, NULL) : NULL;
  if (!rt || m3_ParseModule(env, &mod, wasm, n) || m3_LoadModule(rt, mod)) return strcpy(err, "wasm3 cannot load the module"), 1;
  if (m3_FindFunction(&f_run, rt, "bench_run") || m3_FindFunction(&f_arena, rt, "bench_arena") || m3_FindFunction(&f_bytes, rt, "bench_arena_bytes"))
    return strcpy(err, "missing export"), 1;
  return 0;
}
#else
#include "wasm_export.h"
static wasm_module_inst_t inst;
static wasm_exec_env_t env;
static wasm_function_inst_t f_run, f_arena, f_bytes;
static int call0(wasm_function_inst_t f, int32_t *out) {
  uint32_t argv[2] = {0, 0};
  if (!wasm_runtime_call_wasm(env, f, 0, argv)) return 1;
  *out = (int32_t)argv[0];
  return 0;
}
static uint8_t *memory(uint32_t *size) {
  wasm_memory_inst_t m = wasm_runtime_get_default_memory(inst);
  *size = (uint32_t)(wasm_memory_get_cur_page_count(m) * wasm_memory_get_bytes_per_page(m));
  return wasm_memory_get_base_address(m);
}
static int load(uint8_t *wasm, uint32_t n, char *err) {
  wasm_module_t mod;
  if (!wasm_runtime_init()) return strcpy(err, "wasm_runtime_init failed"), 1;
  if (!(mod = wasm_runtime_load(wasm, n, err, 128))) return 1;
  if (!(inst = wasm_runtime_instantiate(mod, 64 * 1024, 0, err, 128))) return 1;
  if (!(env = wasm_runtime_create_exec_env(inst, 64 * 1024))) return strcpy(err, "exec env"), 1;
  f_run = wasm_runtime_lookup_function(inst, "bench_run");
  f_arena = wasm_runtime_lookup_function(inst, "bench_arena");
  f_bytes = wasm_runtime_lookup_function(inst, "bench_arena_bytes");
  if (!f_run || !f_arena || !f_bytes) return strcpy(err, "missing export"), 1;
  return 0;
}
#endif

static uint8_t *read_file(const char *path, uint32_t *n) {
  FILE *f = fopen(path, "rb");
  uint8_t *b;
  long size;
  if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) return NULL;
  b = malloc((size_t)size + 1);
  if (!b || fread(b, 1, (size_t)size, f) != (size_t)size) return NULL;
  fclose(f);
  *n = (uint32_t)size;
  return b;
}

/* the measured call: callgrind collects only inside this function */
__attribute__((noinline)) int32_t bench_invoke(void) {
  int32_t rc = -1;
  return call0(f_run, &rc) ? -1 : rc;
}

int main(int argc, char **argv) {
  uint32_t wasm_n, job_n, mem_n;
  int32_t base, bytes, rc, words[3];
  uint8_t *wasm, *job, *mem;
  char err[128] = "";
  FILE *out;
  if (argc != 4) return fprintf(stderr, "usage: kernel_driver MODULE.wasm JOB.bin OUT.bin\n"), 2;
  if (!(wasm = read_file(argv[1], &wasm_n)) || !(job = read_file(argv[2], &job_n))) return fprintf(stderr, "error: cannot read %s or %s\n", argv[1], argv[2]), 2;
  if (load(wasm, wasm_n, err)) return fprintf(stderr, "error: %s\n", err), 2;
  if (call0(f_arena, &base) || call0(f_bytes, &bytes)) return fprintf(stderr, "error: bench_arena failed\n"), 2;
  mem = memory(&mem_n);
  if (job_n < 12 || job_n > (uint32_t)bytes || (uint32_t)base + job_n > mem_n) return fprintf(stderr, "error: job of %u bytes does not fit the arena\n", job_n), 2;
  memcpy(mem + base, job, job_n);
  memcpy(words, job, 12);
  if ((uint32_t)words[1] + (uint32_t)words[2] > job_n) return fprintf(stderr, "error: output range outside the job\n"), 2;
  if (call0(f_run, &rc) || rc != 0) return fprintf(stderr, "error: bench_run failed (%d)\n", rc), 1;
  if ((rc = bench_invoke()) != 0) return fprintf(stderr, "error: bench_run failed (%d)\n", rc), 1;
  mem = memory(&mem_n);
  if (!(out = fopen(argv[3], "wb")) || fwrite(mem + base + words[1], 1, (size_t)words[2], out) != (size_t)words[2]) return fprintf(stderr, "error: cannot write %s\n", argv[3]), 2;
  fclose(out);
  return 0;
}
