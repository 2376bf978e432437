// `npm run sandbox:image`: builds the analysis pipeline image from local parts through the Docker API
// (DOCKER_HOST, a Docker daemon, or a Podman service started for the build) and prints its tag.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDockerApi } from '../devstack/podman.js';
import { dockerClient } from '../sandbox/factory.js';
import { buildSandboxImage } from '../sandbox/image.js';

const dir = mkdtempSync(join(tmpdir(), 'tradeflow-image-'));
const api = await ensureDockerApi({ dir, log: (m) => console.error(m) });
try {
  const image = await buildSandboxImage(dockerClient(`unix://${api.socketPath}`), {
    log: (msg, fields) => console.error(msg, fields ?? ''),
  });
  console.error(`${image.built ? 'built' : 'already there'} in ${image.ms} ms`);
  console.log(image.image);
} finally {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
}
