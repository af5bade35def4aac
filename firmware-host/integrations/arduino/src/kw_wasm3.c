/* Compiles the wasm3 glue from the kerawasm checkout (the library folder is used in place, or
 * linked; README.md). A copied library replaces this file with firmware-host/src/kw_wasm3.c.
 * wasm3.h comes from the Wasm3 library (library.properties: depends=Wasm3). */
#include "../../../src/kw_wasm3.c"
