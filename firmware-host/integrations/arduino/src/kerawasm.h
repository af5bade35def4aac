/* kerawasm for Arduino: the C API of firmware-host/include/kw_runtime.h on the Wasm3 library.
 * Sketches include this header; see ../README.md and the KerawasmModel example. */
#ifndef KERAWASM_ARDUINO_H
#define KERAWASM_ARDUINO_H
#include "kw_runtime.h"
#endif
