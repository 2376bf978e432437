import type { Logger } from 'pino';
import type { Settings } from '../config/settings.js';
import { createSandboxRunner, dockerClient } from '../sandbox/factory.js';
import { buildSandboxImage } from '../sandbox/image.js';
import type { SandboxLog, SandboxRunner } from '../sandbox/types.js';

/**
 * The sandbox this worker runs pipelines in. Docker mode without SANDBOX_IMAGE builds the pipeline
 * image from local parts first (skipped when an image with the same content hash exists).
 */
export async function sandboxRunnerFor(
  sandbox: Settings['sandbox'],
  logger: Logger,
  scope = 'default',
): Promise<{ runner: SandboxRunner; image?: string }> {
  const log: SandboxLog = (msg, fields) => logger.info(fields ?? {}, msg);
  if (sandbox.mode === 'process') {
    return { runner: createSandboxRunner({ mode: 'process', stopGraceMs: sandbox.stopGraceMs, scope }, log) };
  }
  let image = sandbox.image;
  if (!image) {
    const built = await buildSandboxImage(dockerClient(sandbox.dockerHost), { log });
    logger.info({ image: built.image, built: built.built, ms: built.ms }, 'pipeline image ready');
    image = built.image;
  }
  const runner = createSandboxRunner(
    {
      mode: 'docker',
      ...(sandbox.dockerHost ? { dockerHost: sandbox.dockerHost } : {}),
      image,
      stopGraceMs: sandbox.stopGraceMs,
      scope,
    },
    log,
  );
  return { runner, image };
}
