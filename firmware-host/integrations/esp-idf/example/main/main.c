/*
 * ESP-IDF example: loads the runtime .wasm and a model from C headers, runs the model's self-test
 * vector, then one inference, and prints the outputs and the time it took.
 *
 * Generate the two headers into this folder first (../../README.md, step 3):
 *   npx tools/convert MODEL --calibration CAL.npy -o model.blob --c-header .../main/model.h
 *   npx tools/wasm2h build/runtime-flash.wasm --name runtime_wasm -o .../main/runtime_wasm.h
 *
 * Weights stay in flash: kw_init_mapped streams model[] from where it is (memory-mapped flash)
 * into a small staging area. Define KW_WEIGHTS_IN_RAM to copy the whole blob into linear memory
 * instead (kw_init; then runtime.wasm, which has no imports, is enough).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_timer.h"
#include "kw_runtime.h"
#include "model.h"
#include "runtime_wasm.h"

static kw_model m;
static float features[MODEL_INPUT0_ELEMENTS];
static float scores[MODEL_OUTPUT0_ELEMENTS];

static int init_model(void) {
#ifdef KW_WEIGHTS_IN_RAM
  return kw_init(&m, model, MODEL_LEN);
#else
  return kw_init_mapped(&m, model, MODEL_LEN);
#endif
}

/* wasm3 reads the .wasm in place (flash is fine); WAMR's loader writes into it: give it RAM. */
static const uint8_t *runtime_bytes(void) {
  uint8_t *copy;
  if (strcmp(kw_interpreter(), "wamr") != 0) return runtime_wasm;
  copy = (uint8_t *)malloc(RUNTIME_WASM_LEN);
  if (copy) memcpy(copy, runtime_wasm, RUNTIME_WASM_LEN);
  return copy;
}

void app_main(void) {
  kw_config cfg = KW_CONFIG_DEFAULT;
  const uint8_t *wasm = runtime_bytes();
  int64_t t0, t1;
  uint32_t i;
  if (!wasm) { printf("kerawasm: no RAM for a copy of the runtime .wasm\n"); return; }
  if (kw_load(&m, wasm, RUNTIME_WASM_LEN, &cfg) != KW_OK || init_model() != KW_OK) {
    printf("kerawasm: %s\n", kw_message(&m));
    return;
  }
  printf("kerawasm on %s: %u bytes of linear memory in use\n", kw_interpreter(), (unsigned)m.memory_used);
  if (kw_self_test(&m) == KW_OK) printf("self-test: PASS\n");
  else printf("self-test: %s\n", kw_message(&m));

  /* Put your features here, in the units the model was trained on. A model with more inputs
   * (MODEL_NUM_INPUTS > 1) takes each one with kw_set_input_float(&m, index, ...). */
  for (i = 0; i < MODEL_INPUT0_ELEMENTS; i++) features[i] = 0.0f;
  t0 = esp_timer_get_time();
  if (kw_set_input_float(&m, 0, features, MODEL_INPUT0_ELEMENTS) != KW_OK || kw_invoke(&m) != KW_OK ||
      kw_get_output_float(&m, 0, scores, MODEL_OUTPUT0_ELEMENTS) != KW_OK) {
    printf("inference: %s\n", kw_message(&m));
    return;
  }
  t1 = esp_timer_get_time();
  printf("inference: %lld us\n", (long long)(t1 - t0));
  for (i = 0; i < MODEL_OUTPUT0_ELEMENTS && i < 16; i++) printf("output[%u] = %f\n", (unsigned)i, (double)scores[i]);
}
