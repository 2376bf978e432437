import { defineConfig } from 'vitest/config';

/**
 * Two layers. `unit` starts nothing (pure logic, routes over in-memory stores, replay of committed
 * histories) and runs files in parallel; `e2e` (`*.e2e.test.ts`) runs on a real Temporal dev server,
 * FerretDB and Podman started once by its globalSetup, one file after another (two cores).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.e2e.test.ts', 'node_modules/**', '.data/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['**/*.e2e.test.ts'],
          exclude: ['node_modules/**', '.data/**'],
          // One real Temporal dev server and one FerretDB for the whole run; every test file gets its own
          // database and task queues, so files stay independent.
          globalSetup: ['test/globalSetup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
