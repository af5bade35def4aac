/* TEST DOUBLE of WAMR's core/iwasm/include/lib_export.h (NativeSymbol only). */
#ifndef _LIB_EXPORT_H_
#define _LIB_EXPORT_H_
typedef struct NativeSymbol {
  const char *symbol;
  void *func_ptr;
  const char *signature;
  void *attachment;
} NativeSymbol;
#endif
