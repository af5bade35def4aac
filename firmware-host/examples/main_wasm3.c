/* Desktop example on wasm3: main_wasm3 RUNTIME.wasm MODEL.blob [INPUT.npy|INPUT.f32 ...]
 * Build: make -C firmware-host wasm3 WASM3_INC=/path/to/wasm3/source WASM3_LIB=/path/to/libm3.a (see docs/FIRMWARE.md)
 * The interpreter is selected by linking src/kw_wasm3.c; the code is the same C API. */
#include "example_io.h"

int main(int argc, char **argv) { return kw_ex_main(argc, argv); }
