import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

// One vitest run covers every package (the README's `npm test`).
// Test files talk to the real PostgreSQL at 127.0.0.1:5432; each file creates
// and drops its own database, so files may run in parallel.
export default defineConfig({
  // The web shell's component tests (ui/test, happy-dom per file) import .vue files.
  plugins: [vue()],
  test: {
    include: ['core/test/**/*.test.ts', 'sdk/test/**/*.test.ts', 'sdk/create-mpanel-plugin/test/**/*.test.ts', 'plugins/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'agent/test/**/*.test.ts', 'test/integration/**/*.test.ts', 'ui/test/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
