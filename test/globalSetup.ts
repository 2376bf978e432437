import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { binariesFromEnv, startLocalStack } from '../devstack/stack.js';
import { DAILY_H1, DAILY_H2, SHARED_DATA } from './paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    mongoUri: string;
    stackDir: string;
  }
}

/** Starts a private Temporal dev server and FerretDB on free ports for the test run. */
export default async function setup(project: TestProject) {
  if (!existsSync(DAILY_H1) || !existsSync(DAILY_H2)) {
    throw new Error(
      `the shared market data is missing at ${SHARED_DATA}: check out ../shared beside the project or set TRADEFLOW_SHARED_DATA`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'tradeflow-test-'));
  const stack = await startLocalStack({
    dataDir: dir,
    ...binariesFromEnv(),
    headless: true,
  });
  project.provide('temporalAddress', stack.temporalAddress);
  project.provide('mongoUri', stack.mongoUri);
  project.provide('stackDir', dir);
  return async () => {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
