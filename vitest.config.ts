import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.data/**'],
    // One real Temporal dev server and one FerretDB for the whole run; every test file gets its own
    // database and task queues, so files stay independent.
    globalSetup: ['test/globalSetup.ts'],
    // Two cores: integration files share the servers, so they run one after another.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
