/*
 * kerawasm example: runs a converted Keras model on the Wasm3 interpreter.
 *
 * Generate the two headers into this sketch's folder first (../../README.md, step 3):
 *   npx tools/convert MODEL --calibration CAL.npy -o model.blob --c-header SKETCH/model.h
 *   npx tools/wasm2h build/runtime-flash.wasm --name runtime_wasm -o SKETCH/runtime_wasm.h
 *
 * setup() loads the runtime, checks the model with its embedded self-test vector and prints the
 * memory it uses; loop() runs one inference per second on the features you fill in and prints
 * the outputs and the time it took.
 *
 * The weights stay in flash: kw_init_mapped streams model[] into a small staging area as each
 * layer runs. Define KW_WEIGHTS_IN_RAM to copy the whole blob into RAM instead (kw_init).
 */
#include <kerawasm.h>

#include "model.h"
#include "runtime_wasm.h"

#ifdef SET_LOOP_TASK_STACK_SIZE
// ESP32 cores run setup() and loop() in a task with an 8 KiB stack; Wasm3 on Xtensa needs more.
SET_LOOP_TASK_STACK_SIZE(16 * 1024);
#endif

static kw_model model_state;
static bool model_ready = false;
static float features[MODEL_INPUT0_ELEMENTS];
static float scores[MODEL_OUTPUT0_ELEMENTS];

void setup() {
  Serial.begin(115200);
  while (!Serial) {
  }
  kw_config cfg = KW_CONFIG_DEFAULT;  // 8 KiB Wasm3 value stack, no memory limit
  // Wasm3 reads runtime_wasm[] in place, so it can stay in flash.
  if (kw_load(&model_state, runtime_wasm, RUNTIME_WASM_LEN, &cfg) != KW_OK ||
#ifdef KW_WEIGHTS_IN_RAM
      kw_init(&model_state, model, MODEL_LEN) != KW_OK) {
#else
      kw_init_mapped(&model_state, model, MODEL_LEN) != KW_OK) {
#endif
    Serial.print("kerawasm: ");
    Serial.println(kw_message(&model_state));
    return;
  }
  Serial.print("kerawasm on ");
  Serial.print(kw_interpreter());
  Serial.print(": linear memory in use ");
  Serial.print((unsigned long)model_state.memory_used);
  Serial.println(" bytes");
  if (kw_self_test(&model_state) == KW_OK) {
    Serial.println("self-test: PASS");
  } else {
    Serial.print("self-test: ");
    Serial.println(kw_message(&model_state));
  }
  model_ready = true;
}

void loop() {
  if (!model_ready) {
    delay(1000);
    return;
  }
  // Put your features here, in the units the model was trained on. A model with more inputs
  // (MODEL_NUM_INPUTS > 1) takes each one with kw_set_input_float(&model_state, index, ...).
  for (uint32_t i = 0; i < MODEL_INPUT0_ELEMENTS; i++) features[i] = 0.0f;
  unsigned long t0 = micros();
  if (kw_set_input_float(&model_state, 0, features, MODEL_INPUT0_ELEMENTS) != KW_OK ||
      kw_invoke(&model_state) != KW_OK ||
      kw_get_output_float(&model_state, 0, scores, MODEL_OUTPUT0_ELEMENTS) != KW_OK) {
    Serial.print("inference: ");
    Serial.println(kw_message(&model_state));
    model_ready = false;
    return;
  }
  unsigned long t1 = micros();
  Serial.print("inference: ");
  Serial.print(t1 - t0);
  Serial.println(" us");
  for (uint32_t i = 0; i < MODEL_OUTPUT0_ELEMENTS && i < 16; i++) {
    Serial.print("output[");
    Serial.print((unsigned long)i);
    Serial.print("] = ");
    Serial.println(scores[i], 6);
  }
  delay(1000);
}
