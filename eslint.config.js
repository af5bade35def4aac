// Lint: typescript-eslint's recommended rules, one direction of imports (no cycles), and
// functions that fit on a screen in the shipped code (tools/, assembly/, firmware-host/).
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

// Stages in the order data flows; a stage may import only from the stages before it. Each of
// graph, float and quantize is split in two: a kit (types and helpers the layer entries are
// built from) before the layer table (tools/layers/), and the drivers that walk a model through
// the table after it. The leaf modules every stage shares: tools/errors.ts, tools/fixedpoint.ts
// and the runtime contract tools/blob/spec.ts (op codes and parameter names that lowering emits
// and the runtime reads).
const STAGES = [
  ['tools/readers'],
  ['tools/graph/ir.ts', 'tools/graph/config.ts', 'tools/graph/shapes.ts'],
  ['tools/float/types.ts', 'tools/float/tensor.ts', 'tools/float/activations.ts', 'tools/float/layers'],
  [
    'tools/quantize/qparams.ts',
    'tools/quantize/gemmlowp.ts',
    'tools/quantize/lut-tflite.ts',
    'tools/quantize/lower-util.ts',
    'tools/quantize/lower-ctx.ts',
    'tools/quantize/lower-rnn.ts',
    'tools/quantize/reference.ts',
    'tools/quantize/reference-rnn.ts',
    'tools/quantize/softmax-tflite.ts',
    'tools/quantize/weights16.ts',
    'tools/quantize/mean-tflite.ts',
  ],
  ['tools/layers'],
  ['tools/graph/normalize.ts', 'tools/graph/build-tflite.ts', 'tools/graph/build.ts', 'tools/graph/summary-format.ts', 'tools/graph/summary.ts'],
  ['tools/float/forward.ts'],
  ['tools/quantize/ranges.ts', 'tools/quantize/precision-search.ts', 'tools/quantize/calibrate.ts', 'tools/quantize/prepare.ts', 'tools/quantize/lower.ts'],
  ['tools/blob'],
  ['tools/pipeline.ts', 'tools/calibration-search.ts', 'tools/precision-auto.ts'],
  ['firmware-host/node'],
  ['tools/cli'],
  ['tools/api.ts'],
];
const LEAVES = ['tools/blob/spec.ts'];
const STAGE_ZONES = STAGES.flatMap((targets, i) =>
  targets.flatMap((target) =>
    STAGES.slice(i + 1)
      .flat()
      .map((from) => ({
        target: `./${target}`,
        from: `./${from}`,
        except: from === 'tools/blob' ? LEAVES.map((l) => `./${l.slice(from.length + 1)}`) : [],
        message: `${target} comes before ${from} in the data flow (docs/ARCHITECTURE.md)`,
      })),
  ),
);

const screen = { max: 120, skipBlankLines: true, skipComments: true };

export default tseslint.config(
  { ignores: ['build/**', 'dist/**', 'node_modules/**', 'assembly/abi.gen.ts', 'tools/readers/tflite/generated/**'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.recommended],
    // AssemblyScript puts decorators on functions (`@inline`); accept them when the import rules
    // parse assembly/ files as dependencies.
    languageOptions: { parserOptions: { allowInvalidAST: true } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      // dependencies are not parsed: cycles and stage order concern the project's own files
      'import-x/ignore': ['node_modules'],
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs'] })],
    },
    rules: {
      // Readers and the Keras config walk untyped JSON; `any` is the honest type there.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: STAGE_ZONES }],
    },
  },
  {
    files: ['tools/**/*.ts', 'tools/**/*.mjs', 'firmware-host/**/*.ts', 'assembly/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', screen] },
  },
  {
    // AssemblyScript: decorators on functions and its builtins are not TypeScript.
    files: ['assembly/**/*.ts', 'bench/kernels/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': 'off',
      'prefer-const': 'off',
      '@typescript-eslint/no-namespace': 'off',
      // AssemblyScript sources mark decorators for editors with @ts-ignore
      '@typescript-eslint/ban-ts-comment': 'off',
    },
  },
);
