// devstack/podman.ts's ensureDockerApi against the real Podman (its test lives here, beside its users).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDockerApi, pingSocket } from '../devstack/podman.js';
import { findContainerInit } from '../devstack/requirements.mjs';

const dirs: string[] = [];
const tempDir = (name = 'tradeflow-docker-api-') => {
  const dir = mkdtempSync(join(tmpdir(), name));
  dirs.push(dir);
  return dir;
};
const { DOCKER_HOST: _ignored, ...envWithoutDockerHost } = process.env;
const dockerDaemonPresent = existsSync('/var/run/docker.sock');

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('ensureDockerApi', () => {
  it.skipIf(dockerDaemonPresent)('starts a Podman service that answers the Docker API, and stops it', async () => {
    const dir = tempDir();
    const api = await ensureDockerApi({ dir, env: envWithoutDockerHost });
    expect(api.started).toBe(true);
    expect(await pingSocket(api.socketPath, '/version')).toBe(200);
    // Podman's default init may be absent (Debian's podman only recommends one): the config names the one
    // found, in both tables (the Docker API reads [engine], podman run --init [containers]).
    const init = findContainerInit();
    expect(init).toBeDefined();
    expect(readFileSync(join(dir, 'containers.conf'), 'utf8').match(/^init_path = .*$/gm)).toEqual([
      `init_path = "${init?.path}"`,
      `init_path = "${init?.path}"`,
    ]);

    // DOCKER_HOST wins and is not ours to stop.
    const viaEnv = await ensureDockerApi({
      dir: tempDir(),
      env: { ...envWithoutDockerHost, DOCKER_HOST: `unix://${api.socketPath}` },
    });
    expect(viaEnv).toMatchObject({ socketPath: api.socketPath, started: false });

    await api.stop();
    expect(await pingSocket(api.socketPath)).toBeNull();
  });

  it.skipIf(dockerDaemonPresent)(
    'says what failed, with Podman’s own words, when the service cannot start',
    async () => {
      // Longer than a unix socket address may be (108 bytes).
      const dir = join(tempDir(), 'x'.repeat(100));
      await expect(ensureDockerApi({ dir, env: envWithoutDockerHost, timeoutMs: 10_000 })).rejects.toThrow(
        /podman system service exited with \d+; its output .*\n.*podman\.sock/,
      );
    },
  );

  it.skipIf(dockerDaemonPresent)('asks for Podman (or DOCKER_HOST) when there is no engine at all', async () => {
    await expect(ensureDockerApi({ dir: tempDir(), env: { PATH: '/nonexistent' } })).rejects.toThrow(
      /install Podman \(Debian packages podman and runc\) or set DOCKER_HOST/,
    );
  });

  it('refuses a DOCKER_HOST that does not answer', async () => {
    await expect(
      ensureDockerApi({ dir: tempDir(), env: { DOCKER_HOST: `unix://${join(tempDir(), 'missing.sock')}` } }),
    ).rejects.toThrow(/does not answer/);
  });
});
