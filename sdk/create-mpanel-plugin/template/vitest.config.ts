import { defineConfig } from 'vitest/config';

// The harness boots a real panel on a fresh PostgreSQL database per test
// file; that takes seconds, more than vitest's default hook timeout.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
