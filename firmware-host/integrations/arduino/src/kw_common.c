/* Compiles the glue from the kerawasm checkout (the library folder is used in place, or linked;
 * README.md). A copied library replaces this file with firmware-host/src/kw_common.c. */
#include "../../../src/kw_common.c"
