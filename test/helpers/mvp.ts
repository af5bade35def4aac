/** wabt's wasm-validate flags that refuse every post-MVP feature (what microcontroller builds of WASM3 and WAMR accept). */
export const MVP_ONLY = [
  '--disable-mutable-globals',
  '--disable-saturating-float-to-int',
  '--disable-sign-extension',
  '--disable-simd',
  '--disable-multi-value',
  '--disable-bulk-memory',
  '--disable-reference-types',
];
