import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureDockerApi } from '../devstack/podman.js';
import { binariesFromEnv, startLocalStack } from '../devstack/stack.js';
import { dockerClient } from '../sandbox/factory.js';
import { buildSandboxImage } from '../sandbox/image.js';
import { DAILY_H1, DAILY_H2, SHARED_DATA } from './paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    mongoUri: string;
    stackDir: string;
    /** A Docker Engine API (Podman's here) and the pipeline image built for this run. */
    dockerHost: string;
    sandboxImage: string;
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
  // The container engine, found or started like Temporal and FerretDB; the image is built once per run.
  const dockerApi = await ensureDockerApi({ dir: join(dir, 'podman') });
  const dockerHost = `unix://${dockerApi.socketPath}`;
  const image = await buildSandboxImage(dockerClient(dockerHost));
  console.log(`pipeline image ${image.image} ${image.built ? 'built' : 'found'} in ${image.ms} ms`);
  // Test files that start their own engine client find this one first.
  process.env.DOCKER_HOST = dockerHost;
  project.provide('dockerHost', dockerHost);
  project.provide('sandboxImage', image.image);
  project.provide('temporalAddress', stack.temporalAddress);
  project.provide('mongoUri', stack.mongoUri);
  project.provide('stackDir', dir);
  return async () => {
    await dockerApi.stop();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
