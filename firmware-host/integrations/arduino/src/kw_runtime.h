/* Forwards to the C API in the kerawasm checkout (the library folder is used in place, or linked;
 * README.md). A copied library replaces this file with firmware-host/include/kw_runtime.h. */
#include "../../../include/kw_runtime.h"
