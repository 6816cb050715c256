import { defineConfig } from 'vitest/config';

// Tests mirror the source tree under test/. Integration tests that start
// real processes and sockets get longer timeouts from their own files.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
