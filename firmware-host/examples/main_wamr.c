/* Desktop example on WAMR: main_wamr RUNTIME.wasm MODEL.blob [INPUT.npy|INPUT.f32 ...]
 * Build: make -C firmware-host wamr WAMR_INC=/path/to/wamr/core/iwasm/include WAMR_LIB=/path/to/libvmlib.a (see docs/FIRMWARE.md)
 * The interpreter is selected by linking src/kw_wamr.c; the code is the same C API. The .wasm
 * is read into a malloc'd (writable) buffer, as wasm_runtime_load requires. */
#include "example_io.h"

int main(int argc, char **argv) { return kw_ex_main(argc, argv); }
