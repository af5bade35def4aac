/* Desktop example driver shared by main_wasm3.c and main_wamr.c (the interpreter is chosen by
 * which glue is linked). Standard C99 + stdio; not for microcontrollers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw_runtime.h"
#include "example_io.h"

uint8_t *kw_ex_read_file(const char *path, uint32_t *size) {
  FILE *f = fopen(path, "rb");
  long n;
  uint8_t *buf;
  if (!f) { fprintf(stderr, "error: %s: cannot open\n", path); return NULL; }
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); fprintf(stderr, "error: %s: cannot read\n", path); return NULL; }
  buf = (uint8_t *)malloc(n > 0 ? (size_t)n : 1u);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(buf); fprintf(stderr, "error: %s: cannot read\n", path); return NULL; }
  fclose(f);
  *size = (uint32_t)n;
  return buf;
}

static uint32_t le32(const uint8_t *p) { return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24); }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32); }

float *kw_ex_read_floats(const char *path, uint32_t *count) {
  uint32_t size = 0, hlen, off, esize, n, i;
  uint8_t *b = kw_ex_read_file(path, &size);
  const char *descr;
  char kind;
  float *out;
  char header[1024];
  if (!b) return NULL;
  if (size >= 10 && memcmp(b, "\x93NUMPY", 6) == 0) {
    if (b[6] == 1) { hlen = b[8] | (b[9] << 8); off = 10; }
    else { if (size < 12) goto bad; hlen = le32(b + 8); off = 12; }
    if (off + hlen > size || hlen >= sizeof header) goto bad;
    memcpy(header, b + off, hlen);
    header[hlen] = '\0';
    off += hlen;
    if (strstr(header, "'fortran_order': True")) { fprintf(stderr, "error: %s: Fortran-order arrays are not supported; save with np.ascontiguousarray\n", path); free(b); return NULL; }
    descr = strstr(header, "'descr': '");
    if (!descr) goto bad;
    descr += 10;
    if (descr[0] != '<' && descr[0] != '|') { fprintf(stderr, "error: %s: big-endian arrays are not supported\n", path); free(b); return NULL; }
    kind = descr[1];
    esize = (uint32_t)atoi(descr + 2);
    if (!((kind == 'f' && (esize == 4 || esize == 8)) || (kind == 'i' && (esize == 1 || esize == 2 || esize == 4 || esize == 8)))) {
      fprintf(stderr, "error: %s: dtype %.4s not supported (float32/64, int8/16/32/64)\n", path, descr);
      free(b);
      return NULL;
    }
    n = (size - off) / esize;
    out = (float *)malloc((n ? n : 1) * sizeof(float));
    if (!out) { free(b); return NULL; }
    for (i = 0; i < n; i++) {
      const uint8_t *p = b + off + i * esize;
      if (kind == 'f' && esize == 4) { uint32_t u = le32(p); memcpy(&out[i], &u, 4); }
      else if (kind == 'f') { uint64_t u = le64(p); double d; memcpy(&d, &u, 8); out[i] = (float)d; }
      else if (esize == 1) out[i] = (float)(int8_t)p[0];
      else if (esize == 2) out[i] = (float)(int16_t)(p[0] | (p[1] << 8));
      else if (esize == 4) out[i] = (float)(int32_t)le32(p);
      else out[i] = (float)(int64_t)le64(p);
    }
  } else {
    if (size % 4) { fprintf(stderr, "error: %s: raw .f32 size %u is not a multiple of 4\n", path, (unsigned)size); free(b); return NULL; }
    n = size / 4;
    out = (float *)malloc((n ? n : 1) * sizeof(float));
    if (!out) { free(b); return NULL; }
    for (i = 0; i < n; i++) { uint32_t u = le32(b + 4 * i); memcpy(&out[i], &u, 4); }
  }
  free(b);
  *count = n;
  return out;
bad:
  fprintf(stderr, "error: %s: not a valid .npy file\n", path);
  free(b);
  return NULL;
}

static void print_shape(const kw_io_info *io) {
  uint32_t k;
  printf("[");
  for (k = 0; k < io->rank; k++) printf("%s%u", k ? "," : "", (unsigned)io->dims[k]);
  printf("]");
}

int kw_ex_main(int argc, char **argv) {
  static kw_model m;
  kw_config cfg = KW_CONFIG_DEFAULT;
  uint8_t *wasm = NULL, *blob = NULL;
  uint32_t wasm_size = 0, blob_size = 0, i, s, samples = 0;
  float *inputs[KW_MAX_IO] = {0};
  uint32_t counts[KW_MAX_IO] = {0};
  int self_test = 1, n_files = 0, rc = 1;
  const char *files[KW_MAX_IO];
  int a;

  if (argc < 3) {
    fprintf(stderr, "usage: %s RUNTIME.wasm MODEL.blob [INPUT.npy|INPUT.f32 ...] [--no-self-test]\n"
                    "  one input file per model input; a file may hold several samples back to back\n", argv[0]);
    return 2;
  }
  for (a = 3; a < argc; a++) {
    if (strcmp(argv[a], "--no-self-test") == 0) self_test = 0;
    else if (n_files < KW_MAX_IO) files[n_files++] = argv[a];
  }
  if (!(wasm = kw_ex_read_file(argv[1], &wasm_size)) || !(blob = kw_ex_read_file(argv[2], &blob_size))) goto done;
  if (kw_load(&m, wasm, wasm_size, &cfg) != KW_OK) { fprintf(stderr, "error: kw_load (%s): %s\n", kw_interpreter(), kw_message(&m)); goto done; }
  if (kw_init(&m, blob, blob_size) != KW_OK) { fprintf(stderr, "error: %s\n", kw_message(&m)); /* runtime/trap messages already name kw_init */ goto done; }
  printf("interpreter %s, linear memory used %u bytes\n", kw_interpreter(), (unsigned)m.memory_used);
  for (i = 0; i < kw_num_inputs(&m); i++) {
    const kw_io_info *io = kw_input_info(&m, i);
    printf("input %u '%s' %s ", (unsigned)i, io->name, kw_dtype_name(io->dtype));
    print_shape(io);
    printf(" scale %g zero_point %d\n", (double)io->scale, (int)io->zero_point);
  }
  for (i = 0; i < kw_num_outputs(&m); i++) {
    const kw_io_info *io = kw_output_info(&m, i);
    printf("output %u '%s' %s ", (unsigned)i, io->name, kw_dtype_name(io->dtype));
    print_shape(io);
    printf(" scale %g zero_point %d\n", (double)io->scale, (int)io->zero_point);
  }
  if (self_test) {
    int st = kw_self_test(&m);
    printf("self-test: %s\n", st == KW_OK ? "PASS" : kw_message(&m));
    if (st != KW_OK && st != KW_ERR_NO_SELFTEST) goto done;
  }
  if (n_files == 0) { rc = 0; goto done; }
  if ((uint32_t)n_files != kw_num_inputs(&m)) { fprintf(stderr, "error: the model has %u input(s), got %d file(s)\n", (unsigned)kw_num_inputs(&m), n_files); goto done; }
  for (i = 0; i < (uint32_t)n_files; i++) {
    uint32_t per = kw_input_info(&m, i)->elements;
    if (!(inputs[i] = kw_ex_read_floats(files[i], &counts[i]))) goto done;
    if (counts[i] == 0 || counts[i] % per) {
      fprintf(stderr, "error: %s: %u values is not a multiple of input %u's %u elements\n", files[i], (unsigned)counts[i], (unsigned)i, (unsigned)per);
      goto done;
    }
    if (i == 0) samples = counts[i] / per;
    else if (counts[i] / per != samples) { fprintf(stderr, "error: %s: %u samples, input 0 has %u\n", files[i], (unsigned)(counts[i] / per), (unsigned)samples); goto done; }
  }
  for (s = 0; s < samples; s++) {
    for (i = 0; i < kw_num_inputs(&m); i++) {
      uint32_t per = kw_input_info(&m, i)->elements;
      if (kw_set_input_float(&m, i, inputs[i] + s * per, per) != KW_OK) { fprintf(stderr, "error: input %u: %s\n", (unsigned)i, kw_message(&m)); goto done; }
    }
    if (kw_invoke(&m) != KW_OK) { fprintf(stderr, "error: %s\n", kw_message(&m)); goto done; }
    for (i = 0; i < kw_num_outputs(&m); i++) {
      const kw_io_info *io = kw_output_info(&m, i);
      float *y = (float *)malloc(io->elements * sizeof(float));
      uint32_t k;
      if (!y || kw_get_output_float(&m, i, y, io->elements) != KW_OK) { free(y); fprintf(stderr, "error: output %u: %s\n", (unsigned)i, kw_message(&m)); goto done; }
      printf("sample %u output %u:", (unsigned)s, (unsigned)i);
      for (k = 0; k < io->elements; k++) printf(" %.9g", (double)y[k]);
      printf("\n");
      free(y);
    }
  }
  rc = 0;
done:
  kw_unload(&m);
  for (i = 0; i < KW_MAX_IO; i++) free(inputs[i]);
  free(wasm);
  free(blob);
  return rc;
}
