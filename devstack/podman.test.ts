// ensureDockerApi's wait for an engine that is there but slow: no fixed deadline shorter than a fresh machine needs.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDockerApi, pingSocket } from './podman.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A Docker-API look-alike on a unix socket that answers every request only after `delayMs`. */
async function slowEngine(delayMs: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tradeflow-slow-engine-'));
  const socketPath = join(dir, 'engine.sock');
  const server: Server = createServer((_req, res) => {
    const timer = setTimeout(() => res.end('OK'), delayMs);
    res.once('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });
  return socketPath;
}

describe('waiting for a container engine', () => {
  it('takes an engine that answers in 1.5 s (Podman on a fresh machine took 1.1-1.4 s)', async () => {
    const socketPath = await slowEngine(1_500);
    expect(await pingSocket(socketPath, '/version')).toBe(200);
    const api = await ensureDockerApi({ dir: tmpdir(), env: { DOCKER_HOST: `unix://${socketPath}` } });
    expect(api).toMatchObject({ socketPath, started: false });
  });

  it('still tells a missing socket at once', async () => {
    const started = Date.now();
    expect(await pingSocket(join(tmpdir(), 'tradeflow-no-such-engine.sock'))).toBeNull();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
