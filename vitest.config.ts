import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Slow suites (long fuzz, benchmarks) are separate npm scripts, not part of `npm test`.
    exclude: ['**/node_modules/**', 'test/long/**'],
  },
});
