/*
 * kw_measure: measures what a model costs on a real interpreter, on the desktop. Linked with the
 * project's glue (kw_common.c + kw_wasm3.c or kw_wamr.c) and an interpreter library you built
 * (Makefile in this folder); it never contains interpreter code.
 *
 *   kw_measure RUNTIME.wasm MODEL.blob [--weights ram|flash] [--input IN.npy|IN.f32 ...]
 *              [--expect OUT.npy|OUT.bin ...] [--stack BYTES] [--limit BYTES] [--min-stack]
 *              [--print-outputs]
 *
 * ram: kw_init copies the blob into linear memory (runtime.wasm); flash: kw_init_mapped streams
 * it through kw.read_blob (runtime-flash.wasm). It runs the blob's self-test, then every sample
 * of the inputs (float32 .npy or raw .f32, one file per model input, as `npx tools/run` takes
 * them), and prints one "key: value" line per figure:
 *   heap_*            bytes malloc'd by the interpreter and the glue (malloc/calloc/realloc/free
 *                     are wrapped with -Wl,--wrap): after kw_load, at the end, and the peak
 *   value_stack_*     wasm3: high-water mark of the value stack (painted with a pattern after
 *                     kw_load, scanned at the end); --min-stack: the smallest cfg.stack_size
 *                     that still runs everything (both interpreters, by bisection)
 *   native_stack_*    C stack used below the driver's entry (the run happens on a thread whose
 *                     stack is painted first): by kw_load (native_stack_load) and by init,
 *                     self-test and invokes (native_stack_high_water; painted again after load)
 *   linear_memory     bytes the interpreter allocated for linear memory; kw_memory_used: bytes
 *                     the runtime uses
 *   outputs           sample count, bytes and CRC-32 of all output bytes (--print-outputs: hex)
 * --expect compares every output with what `npx tools/run` wrote (.npy float32: the dequantised
 * values bit for bit; any other file: the raw output bytes) and exits 1 on the first difference.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kw_runtime.h"
#include "example_io.h"

#if defined(KW_MEASURE_WASM3) && defined(__has_include)
#if __has_include("m3_env.h")
#include "m3_env.h"
#define KW_MEASURE_VALUE_STACK 1
#endif
#endif
#ifndef KW_MEASURE_VALUE_STACK
#define KW_MEASURE_VALUE_STACK 0
#endif

/* ------------------------------------------------------------------ heap accounting */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

#define SLOTS (1u << 16)
static struct { void *p; size_t n; } slots[SLOTS];
static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static int counting;
static size_t live, peak, n_allocs;

static uint32_t slot_of(void *p) { return (uint32_t)(((uintptr_t)p >> 4) * 2654435761u) & (SLOTS - 1); }

static void track(void *p, size_t n) {
  uint32_t i = slot_of(p), k;
  for (k = 0; k < SLOTS; k++, i = (i + 1) & (SLOTS - 1))
    if (!slots[i].p) { slots[i].p = p; slots[i].n = n; break; }
  live += n;
  n_allocs++;
  if (live > peak) peak = live;
}

static void untrack(void *p) {
  uint32_t i = slot_of(p), k;
  for (k = 0; k < SLOTS && slots[i].p; k++, i = (i + 1) & (SLOTS - 1))
    if (slots[i].p == p) {
      live -= slots[i].n;
      /* backward-shift deletion keeps the probe chains intact */
      {
        uint32_t j = i;
        slots[i].p = NULL;
        for (;;) {
          uint32_t h;
          j = (j + 1) & (SLOTS - 1);
          if (!slots[j].p) break;
          h = slot_of(slots[j].p);
          if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
            slots[i] = slots[j];
            slots[j].p = NULL;
            i = j;
          }
        }
      }
      return;
    }
}

void *__wrap_malloc(size_t n) {
  void *p = __real_malloc(n);
  pthread_mutex_lock(&heap_lock);
  if (p && counting) track(p, n);
  pthread_mutex_unlock(&heap_lock);
  return p;
}
void *__wrap_calloc(size_t k, size_t n) {
  void *p = __real_calloc(k, n);
  pthread_mutex_lock(&heap_lock);
  if (p && counting) track(p, k * n);
  pthread_mutex_unlock(&heap_lock);
  return p;
}
void *__wrap_realloc(void *old, size_t n) {
  void *p;
  pthread_mutex_lock(&heap_lock);
  if (old && counting) untrack(old);
  pthread_mutex_unlock(&heap_lock);
  p = __real_realloc(old, n);
  pthread_mutex_lock(&heap_lock);
  if (p && counting) track(p, n);
  pthread_mutex_unlock(&heap_lock);
  return p;
}
void __wrap_free(void *p) {
  pthread_mutex_lock(&heap_lock);
  if (p && counting) untrack(p);
  pthread_mutex_unlock(&heap_lock);
  __real_free(p);
}

/* ------------------------------------------------------------------ options */

#define MAX_FILES 8
static struct {
  const char *wasm_path, *blob_path;
  int flash, min_stack, print_outputs, quiet;
  uint32_t stack, limit;
  const char *inputs[MAX_FILES], *expects[MAX_FILES];
  int n_inputs, n_expects;
} opt;

static uint8_t *wasm, *blob;
static uint32_t wasm_size, blob_size;
static float *in_data[MAX_FILES], *exp_floats[MAX_FILES];
static uint8_t *exp_raw[MAX_FILES];
static uint32_t in_count[MAX_FILES], exp_size[MAX_FILES];

/* ------------------------------------------------------------------ one measured run */

static struct result {
  int rc;
  char message[KW_MESSAGE_SIZE + 64];
  size_t heap_after_load, heap_end, heap_peak, allocs;
  uint32_t linear, memory_used, samples, out_bytes, out_crc, read_calls, read_bytes;
  uint32_t value_stack_hw, native_stack_hw, native_stack_load;
  int self_test;
} res;

static kw_model model;
static void native_after_load(void);

static int mismatch(const char *what, uint32_t sample, uint32_t out, uint32_t at) {
  snprintf(res.message, sizeof res.message, "output %u of sample %u differs from %s at element %u", (unsigned)out, (unsigned)sample, what, (unsigned)at);
  return 1;
}

static int check_outputs(uint32_t sample) {
  uint32_t o, k;
  for (o = 0; o < kw_num_outputs(&model) && o < (uint32_t)opt.n_expects; o++) {
    const kw_io_info *io = kw_output_info(&model, o);
    uint32_t bytes = 0;
    const uint8_t *p = (const uint8_t *)kw_output_buffer(&model, o, &bytes);
    if (!p) return mismatch("the runtime (no output buffer)", sample, o, 0);
    if (exp_floats[o]) {
      static float y[1 << 16];
      if (io->elements > sizeof y / sizeof y[0] || (uint64_t)(sample + 1) * io->elements > exp_size[o])
        return mismatch("the expected .npy (too few values)", sample, o, 0);
      kw_get_output_float(&model, o, y, io->elements);
      for (k = 0; k < io->elements; k++)
        if (memcmp(&y[k], &exp_floats[o][(uint64_t)sample * io->elements + k], 4) != 0) return mismatch(opt.expects[o], sample, o, k);
    } else {
      if ((uint64_t)(sample + 1) * bytes > exp_size[o]) return mismatch("the expected bytes (file too short)", sample, o, 0);
      for (k = 0; k < bytes; k++)
        if (p[k] != exp_raw[o][(uint64_t)sample * bytes + k]) return mismatch(opt.expects[o], sample, o, k);
    }
  }
  return 0;
}

static void account_outputs(uint32_t sample) {
  uint32_t o, k;
  for (o = 0; o < kw_num_outputs(&model); o++) {
    uint32_t bytes = 0;
    const uint8_t *p = (const uint8_t *)kw_output_buffer(&model, o, &bytes);
    if (!p) continue;
    /* CRC-32 of all output bytes, continued across samples */
    {
      uint32_t c = ~res.out_crc;
      int b;
      for (k = 0; k < bytes; k++) {
        c ^= p[k];
        for (b = 0; b < 8; b++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
      }
      res.out_crc = ~c;
    }
    res.out_bytes += bytes;
    if (opt.print_outputs && !opt.quiet) {
      printf("output %u sample %u:", (unsigned)o, (unsigned)sample);
      for (k = 0; k < bytes; k++) printf(" %02x", p[k]);
      printf("\n");
    }
  }
}

#if KW_MEASURE_VALUE_STACK
#define PAINT 0xA5u
static void paint_value_stack(void) {
  IM3Runtime rt = (IM3Runtime)kw_interpreter_handle(&model);
  if (rt && rt->stack) memset(rt->stack, PAINT, rt->numStackSlots * sizeof(m3slot_t));
}
/* wasm3's value stack grows up from rt->stack: the high-water mark is the last painted byte
 * that changed */
static uint32_t scan_value_stack(void) {
  IM3Runtime rt = (IM3Runtime)kw_interpreter_handle(&model);
  const uint8_t *s;
  uint32_t n;
  if (!rt || !rt->stack) return 0;
  s = (const uint8_t *)rt->stack;
  for (n = (uint32_t)(rt->numStackSlots * sizeof(m3slot_t)); n > 0 && s[n - 1] == PAINT; n--) {}
  return n;
}
#endif

static int fail_run(int rc, const char *what) {
  res.rc = rc;
  snprintf(res.message, sizeof res.message, "%s: %s", what, kw_message(&model));
  return rc;
}

/* load, init, self-test, every sample; fills res */
static int measured_run(void) {
  kw_config cfg = KW_CONFIG_DEFAULT;
  uint32_t n_samples = 0, s, i;
  int rc;
  cfg.stack_size = opt.stack;
  cfg.memory_limit = opt.limit;
  pthread_mutex_lock(&heap_lock);
  counting = 1;
  live = peak = n_allocs = 0;
  pthread_mutex_unlock(&heap_lock);

  if ((rc = kw_load(&model, wasm, wasm_size, &cfg)) != KW_OK) return fail_run(rc, "kw_load");
  res.heap_after_load = live;
  native_after_load();
#if KW_MEASURE_VALUE_STACK
  paint_value_stack();
#endif
  rc = opt.flash ? kw_init_mapped(&model, blob, blob_size) : kw_init(&model, blob, blob_size);
  if (rc != KW_OK) return fail_run(rc, opt.flash ? "kw_init_mapped" : "kw_init");
  res.memory_used = model.memory_used;
  rc = kw_self_test(&model);
  res.self_test = rc;
  if (rc != KW_OK && rc != KW_ERR_NO_SELFTEST) return fail_run(rc, "kw_self_test");
  if (opt.n_inputs) {
    if ((uint32_t)opt.n_inputs != kw_num_inputs(&model)) {
      res.rc = 2;
      snprintf(res.message, sizeof res.message, "the model has %u inputs, %d --input files given", (unsigned)kw_num_inputs(&model), opt.n_inputs);
      return 2;
    }
    for (i = 0; i < kw_num_inputs(&model); i++) {
      uint32_t e = kw_input_info(&model, i)->elements, n = e ? in_count[i] / e : 0;
      if (e == 0 || in_count[i] % e) {
        res.rc = 2;
        snprintf(res.message, sizeof res.message, "%s: %u values is not a multiple of input %u's %u elements", opt.inputs[i], (unsigned)in_count[i], (unsigned)i, (unsigned)e);
        return 2;
      }
      if (i == 0 || n < n_samples) n_samples = n;
    }
  }
  for (s = 0; s < n_samples; s++) {
    for (i = 0; i < kw_num_inputs(&model); i++) {
      uint32_t e = kw_input_info(&model, i)->elements;
      if ((rc = kw_set_input_float(&model, i, in_data[i] + (uint64_t)s * e, e)) != KW_OK) return fail_run(rc, "kw_set_input_float");
    }
    if ((rc = kw_invoke(&model)) != KW_OK) return fail_run(rc, "kw_invoke");
    account_outputs(s);
    if (check_outputs(s)) { res.rc = 1; return 1; }
  }
  res.samples = n_samples;
  res.linear = kw_linear_memory_size(&model);
  res.read_calls = model.read_calls;
  res.read_bytes = model.read_bytes;
#if KW_MEASURE_VALUE_STACK
  res.value_stack_hw = scan_value_stack();
#endif
  res.heap_end = live;
  kw_unload(&model);
  pthread_mutex_lock(&heap_lock);
  res.heap_peak = peak;
  res.allocs = n_allocs;
  counting = 0;
  pthread_mutex_unlock(&heap_lock);
  res.rc = 0;
  return 0;
}

/* ------------------------------------------------------------------ native stack */

/* page-aligned and as large as a default Linux thread stack: WAMR puts guard pages at its end */
#define THREAD_STACK (8u << 20)
#define NPAINT 0x5Au
static uint8_t *thread_stack;
static uintptr_t entry_sp;
/* WAMR touches the whole thread stack when it initialises (guard pages for its native stack
 * check) and protects the lowest pages: after kw_load the driver records the load's mark, then
 * paints again above this margin and measures the rest of the run from there */
#define GUARD_MARGIN (256u << 10)

static uint32_t native_scan(uint32_t from) {
  uint32_t k;
  for (k = from; k < THREAD_STACK && thread_stack[k] == NPAINT; k++) {}
  return entry_sp > (uintptr_t)thread_stack + k ? (uint32_t)(entry_sp - ((uintptr_t)thread_stack + k)) : 0;
}

static void native_after_load(void) {
  volatile uint8_t here = 0;
  uintptr_t sp = (uintptr_t)&here - 1024u;
  res.native_stack_load = native_scan(GUARD_MARGIN);
  if (sp > (uintptr_t)thread_stack + GUARD_MARGIN) memset(thread_stack + GUARD_MARGIN, NPAINT, sp - ((uintptr_t)thread_stack + GUARD_MARGIN));
}

static void *thread_main(void *arg) {
  volatile uint8_t here = 0;
  (void)arg;
  entry_sp = (uintptr_t)&here;
  measured_run();
  return NULL;
}

/* Runs measured_run on a thread whose stack was painted; the lowest changed byte below the
 * thread's entry frame is the native high-water mark (stacks grow down on the hosts we build for). */
static int run_on_painted_stack(void) {
  pthread_attr_t attr;
  pthread_t th;
  if (!thread_stack) {
    void *p = mmap(NULL, THREAD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    thread_stack = (uint8_t *)p;
  }
  memset(thread_stack, NPAINT, THREAD_STACK);
  pthread_attr_init(&attr);
  if (pthread_attr_setstack(&attr, thread_stack, THREAD_STACK) != 0 || pthread_create(&th, &attr, thread_main, NULL) != 0) {
    fprintf(stderr, "error: cannot start the measuring thread\n");
    return 2;
  }
  pthread_join(th, NULL);
  pthread_attr_destroy(&attr);
  res.native_stack_hw = native_scan(GUARD_MARGIN);
  return res.rc;
}

/* ------------------------------------------------------------------ --min-stack */

/* The run in a child process (a too-small stack must not disturb the next probe): 0 = passed. */
static int probe(uint32_t stack) {
  pid_t pid;
  int status = 0;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    opt.stack = stack;
    opt.quiet = 1;
    _exit(run_on_painted_stack() == 0 ? 0 : 1);
  }
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static uint32_t find_min_stack(uint32_t hi) {
  uint32_t lo = 64; /* fails (the glue's interpreters refuse smaller) */
  if (probe(hi) != 0) return 0;
  while (hi - lo > 16) {
    uint32_t mid = ((lo + hi) / 2) & ~15u;
    if (mid <= lo) break;
    if (probe(mid) == 0) hi = mid;
    else lo = mid;
  }
  return hi;
}

/* ------------------------------------------------------------------ main */

static int usage(void) {
  fprintf(stderr,
          "usage: kw_measure RUNTIME.wasm MODEL.blob [--weights ram|flash] [--input FILE ...] [--expect FILE ...]\n"
          "                  [--stack BYTES] [--limit BYTES] [--min-stack] [--print-outputs]\n");
  return 2;
}

static int load_expect(int i) {
  uint32_t size = 0;
  uint8_t *b = kw_ex_read_file(opt.expects[i], &size);
  if (!b) return 0;
  if (size >= 6 && memcmp(b, "\x93NUMPY", 6) == 0) {
    free(b);
    exp_floats[i] = kw_ex_read_floats(opt.expects[i], &exp_size[i]);
    return exp_floats[i] != NULL;
  }
  exp_raw[i] = b;
  exp_size[i] = size;
  return 1;
}

int main(int argc, char **argv) {
  uint32_t min_stack = 0;
  int i, rc;
  opt.stack = 8192;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--weights") && i + 1 < argc) {
      const char *w = argv[++i];
      if (strcmp(w, "ram") && strcmp(w, "flash")) return usage();
      opt.flash = !strcmp(w, "flash");
    } else if (!strcmp(a, "--input") && i + 1 < argc && opt.n_inputs < MAX_FILES) opt.inputs[opt.n_inputs++] = argv[++i];
    else if (!strcmp(a, "--expect") && i + 1 < argc && opt.n_expects < MAX_FILES) opt.expects[opt.n_expects++] = argv[++i];
    else if (!strcmp(a, "--stack") && i + 1 < argc) opt.stack = (uint32_t)strtoul(argv[++i], NULL, 0);
    else if (!strcmp(a, "--limit") && i + 1 < argc) opt.limit = (uint32_t)strtoul(argv[++i], NULL, 0);
    else if (!strcmp(a, "--min-stack")) opt.min_stack = 1;
    else if (!strcmp(a, "--print-outputs")) opt.print_outputs = 1;
    else if (a[0] == '-') return usage();
    else if (!opt.wasm_path) opt.wasm_path = a;
    else if (!opt.blob_path) opt.blob_path = a;
    else return usage();
  }
  if (!opt.wasm_path || !opt.blob_path) return usage();
  if (opt.n_expects && !opt.n_inputs) { fprintf(stderr, "error: --expect needs --input\n"); return 2; }
  if (!(wasm = kw_ex_read_file(opt.wasm_path, &wasm_size)) || !(blob = kw_ex_read_file(opt.blob_path, &blob_size))) return 2;
  for (i = 0; i < opt.n_inputs; i++)
    if (!(in_data[i] = kw_ex_read_floats(opt.inputs[i], &in_count[i]))) return 2;
  for (i = 0; i < opt.n_expects; i++)
    if (!load_expect(i)) return 2;

  /* the probes fork before this process initialises an interpreter (WAMR does not initialise
   * twice in one process) */
  if (opt.min_stack) min_stack = find_min_stack(opt.stack);
  rc = run_on_painted_stack();
  printf("interpreter: %s\n", kw_interpreter());
  printf("weights: %s\n", opt.flash ? "flash" : "ram");
  printf("runtime_wasm_bytes: %u\n", (unsigned)wasm_size);
  printf("blob_bytes: %u\n", (unsigned)blob_size);
  printf("stack_size: %u\n", (unsigned)opt.stack);
  printf("memory_limit: %u\n", (unsigned)opt.limit);
  if (rc != 0) {
    printf("result: FAIL %s\n", res.message);
    return 1;
  }
  printf("self_test: %s\n", res.self_test == KW_OK ? "PASS" : "none");
  printf("samples: %u\n", (unsigned)res.samples);
  printf("kw_memory_used: %u\n", (unsigned)res.memory_used);
  printf("linear_memory: %u\n", (unsigned)res.linear);
  printf("heap_after_load: %zu\n", res.heap_after_load);
  printf("heap_end: %zu\n", res.heap_end);
  printf("heap_peak: %zu\n", res.heap_peak);
  printf("heap_allocations: %zu\n", res.allocs);
#if KW_MEASURE_VALUE_STACK
  printf("value_stack_high_water: %u\n", (unsigned)res.value_stack_hw);
#else
  printf("value_stack_high_water: n/a (wasm3 with m3_env.h only; use --min-stack)\n");
#endif
  printf("native_stack_high_water: %u\n", (unsigned)res.native_stack_hw);
  if (res.native_stack_load >= THREAD_STACK - 2 * GUARD_MARGIN) printf("native_stack_load: n/a (the interpreter touched its whole thread stack)\n");
  else printf("native_stack_load: %u\n", (unsigned)res.native_stack_load);
  if (opt.flash) printf("blob_reads: %u calls, %u bytes\n", (unsigned)res.read_calls, (unsigned)res.read_bytes);
  printf("outputs: %u samples, %u bytes, crc32 %08x\n", (unsigned)res.samples, (unsigned)res.out_bytes, (unsigned)res.out_crc);
  if (opt.n_expects) printf("expected: %u samples match\n", (unsigned)res.samples);
  if (opt.min_stack) printf("min_stack_size: %u\n", (unsigned)min_stack);
  printf("result: PASS\n");
  return 0;
}
