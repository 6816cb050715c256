import { defineConfig } from 'vitest/config';

// Tests mirror the source tree under test/. Integration tests that start
// real processes and sockets get longer timeouts from their own files.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A young generation large enough that the parser's linear-time checks
    // (test/sip/message/parser-fuzz.test.ts) measure the parser, not the
    // moment V8 starts promoting a message's thousands of parsed headers.
    execArgv: ['--max-semi-space-size=64'],
    reporters: ['default'],
  },
});
