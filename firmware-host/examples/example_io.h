/* Desktop helpers for the examples: read whole files, read float inputs from .npy or raw .f32,
 * and the shared run loop (load -> init -> self-test -> invoke per sample -> print). */
#ifndef KW_EXAMPLE_IO_H
#define KW_EXAMPLE_IO_H
#include <stdint.h>

/* malloc'd file contents (caller frees), NULL on error (message printed). */
uint8_t *kw_ex_read_file(const char *path, uint32_t *size);
/* Floats from a .npy (<f4, <f8, <i4, <i8, |i1, <i2; C order) or a raw little-endian .f32 file. */
float *kw_ex_read_floats(const char *path, uint32_t *count);
/* The whole example: argv = RUNTIME.wasm MODEL.blob [INPUT ...] [--no-self-test] */
int kw_ex_main(int argc, char **argv);
#endif
