// Runs real containers through a Docker Engine API: DOCKER_HOST, a Docker daemon, or (here) a Podman
// service this file starts in a temporary folder. No mocks.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerApi, ensureDockerApi } from '../devstack/podman.js';
import {
  CONNECT_SCRIPT,
  EXIT_3_SCRIPT,
  LINES_SCRIPT,
  OOM_SCRIPT,
  WRITE_SCRIPT,
  waitingScript,
} from '../test/support/sandbox/scripts.js';
import { collect, newJob, removeJobDirs, testScope } from '../test/support/sandboxJobs.js';
import { DockerSandbox, sandboxContainerName } from './dockerSandbox.js';
import { buildSandboxImage } from './image.js';
import { SANDBOX_KIND, SANDBOX_LABELS } from './types.js';

const GRACE_MS = 1_500;
const node =
  (script: string, ...args: string[]) =>
  () => ['node', `/job/${script}`, ...args];

let apiDir: string;
let api: DockerApi;
let docker: Dockerode;
let image: string;
let sandbox: DockerSandbox;
const scope = testScope();

beforeAll(async () => {
  apiDir = mkdtempSync(join(tmpdir(), 'tradeflow-docker-api-'));
  api = await ensureDockerApi({ dir: apiDir });
  docker = new Dockerode({ socketPath: api.socketPath });
  ({ image } = await buildSandboxImage(docker));
  sandbox = new DockerSandbox({ docker, image, stopGraceMs: GRACE_MS, scope });
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanupOrphans();
  await api?.stop();
  removeJobDirs();
  if (apiDir) rmSync(apiDir, { recursive: true, force: true });
});

async function containersOfJob(jobId: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABELS.job}=${jobId}`] } });
  return list.map((c) => c.Id);
}

describe('DockerSandbox', () => {
  it('streams stdout and stderr lines in order, with a minimal environment, and removes the container', async () => {
    const job = newJob({ files: { 'lines.js': LINES_SCRIPT }, command: node('lines.js'), env: { EXTRA: 'yes' } });
    const run = await collect(sandbox, job);

    expect(run.outcome).toMatchObject({ exitCode: 0, signal: null, oomKilled: false, stopped: false, timedOut: false });
    expect(run.stdout.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `out ${i + 1}`));
    expect(run.stderr).toEqual(Array.from({ length: 20 }, (_, i) => `err ${i + 1}`));
    expect(run.stdout.at(-1)).toBe('partial without newline');
    const { env, cwd } = JSON.parse(run.stdout[50]!) as { env: Record<string, string>; cwd: string };
    expect(cwd).toBe('/job');
    expect(env).toMatchObject({ JOB_DIR: '/job', TZ: 'UTC', EXTRA: 'yes' });
    expect(Object.keys(env)).not.toContain('MONGODB_URI');
    expect(run.startedIds).toEqual([run.outcome.sandboxId]);
    expect(run.outcome.firstOutputMs).toBeGreaterThan(0);
    expect(run.outcome.firstOutputMs!).toBeLessThanOrEqual(run.outcome.durationMs);
    expect(await containersOfJob(job.jobId)).toEqual([]);
  });

  it('reports a non-zero exit code', async () => {
    const job = newJob({ files: { 'fail.js': EXIT_3_SCRIPT }, command: node('fail.js') });
    const run = await collect(sandbox, job);
    expect(run.outcome).toMatchObject({ exitCode: 3, signal: null, stopped: false, timedOut: false });
    expect(run.stdout).toEqual(['failing']);
  });

  it('stops on abort with SIGTERM: a process that does not trap it ends at once', async () => {
    const job = newJob({ files: { 'wait.js': waitingScript('default') }, command: node('wait.js') });
    const abort = new AbortController();
    const run = await collect(sandbox, job, { abort, onLine: (l) => l === 'ready' && abort.abort() });
    expect(run.outcome).toMatchObject({ stopped: true, timedOut: false, exitCode: 143, signal: 'SIGTERM' });
    expect(run.outcome.durationMs).toBeLessThan(GRACE_MS + 5_000);
    expect(await containersOfJob(job.jobId)).toEqual([]);
  });

  it('stops on abort: a process that traps SIGTERM exits on its own terms', async () => {
    const job = newJob({ files: { 'wait.js': waitingScript('trap') }, command: node('wait.js') });
    const abort = new AbortController();
    const run = await collect(sandbox, job, { abort, onLine: (l) => l === 'ready' && abort.abort() });
    expect(run.outcome).toMatchObject({ stopped: true, exitCode: 0 });
    expect(run.stdout).toEqual(['ready', 'bye']);
    expect(await containersOfJob(job.jobId)).toEqual([]);
  });

  it('stops on abort: a process that ignores SIGTERM is killed after the grace period', async () => {
    const job = newJob({ files: { 'wait.js': waitingScript('ignore') }, command: node('wait.js') });
    const abort = new AbortController();
    let abortedAt = 0;
    const run = await collect(sandbox, job, {
      abort,
      onLine: (l) => {
        if (l !== 'ready') return;
        abortedAt = performance.now();
        abort.abort();
      },
    });
    const stopMs = performance.now() - abortedAt;
    expect(run.outcome).toMatchObject({ stopped: true, exitCode: 137, signal: 'SIGKILL', oomKilled: false });
    expect(run.stdout).toContain('ignoring SIGTERM');
    expect(stopMs).toBeGreaterThanOrEqual(GRACE_MS - 100);
    expect(await containersOfJob(job.jobId)).toEqual([]);
  });

  it('ends a run that exceeds its time limit', async () => {
    const job = newJob({
      files: { 'wait.js': waitingScript('ignore') },
      command: node('wait.js'),
      limits: { timeoutMs: 1_000 },
    });
    const run = await collect(sandbox, job);
    expect(run.outcome).toMatchObject({ timedOut: true, stopped: false, exitCode: 137 });
    expect(run.outcome.durationMs).toBeGreaterThanOrEqual(1_000 + GRACE_MS - 100);
    expect(await containersOfJob(job.jobId)).toEqual([]);
  });

  it('reports an out-of-memory kill at the memory limit', async () => {
    const job = newJob({ files: { 'oom.js': OOM_SCRIPT }, command: node('oom.js'), limits: { memoryMb: 64 } });
    const run = await collect(sandbox, job);
    expect(run.outcome).toMatchObject({ oomKilled: true, exitCode: 137, stopped: false, timedOut: false });
    // No swap: it dies around the limit, not far beyond it.
    const last = Number(run.stdout.at(-1)?.match(/allocated (\d+) MiB/)?.[1]);
    expect(last).toBeLessThanOrEqual(64);
  });

  describe('network', () => {
    let server: Server;
    let port: number;
    const hostAddress =
      Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';

    beforeAll(async () => {
      server = createServer((s) => s.end());
      await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('has no network at all when the job asks for none', async () => {
      const job = newJob({
        files: { 'connect.js': CONNECT_SCRIPT },
        command: node('connect.js', hostAddress, String(port)),
      });
      const run = await collect(sandbox, job);
      expect(run.stdout[0]).toMatch(/^failed /);
      expect(run.outcome.exitCode).toBe(1);
    });

    it('reaches the host through a named network (the control case)', async () => {
      const job = newJob({
        files: { 'connect.js': CONNECT_SCRIPT },
        command: node('connect.js', hostAddress, String(port)),
        network: 'host',
      });
      const run = await collect(sandbox, job);
      expect(run.stdout).toEqual(['connected']);
      expect(run.outcome.exitCode).toBe(0);
    });
  });

  it('mounts the job folder read-write at /job', async () => {
    const job = newJob({ files: { 'write.js': WRITE_SCRIPT }, command: node('write.js') });
    const run = await collect(sandbox, job);
    expect(run.outcome.exitCode).toBe(0);
    expect(readFileSync(join(job.runDir, 'written-relative.txt'), 'utf8')).toBe('relative');
    expect(readFileSync(join(job.runDir, 'written-via-env.txt'), 'utf8')).toBe('via JOB_DIR');
  });

  it('keeps the root file system read-only, with a writable /tmp', async () => {
    const job = newJob({
      command: () => [
        'node',
        '-e',
        "const fs=require('fs');fs.writeFileSync('/tmp/ok','x');try{fs.writeFileSync('/app/x','x')}catch(e){console.log(e.code)}",
      ],
    });
    const run = await collect(sandbox, job);
    expect(run.stdout).toEqual(['EROFS']);
    expect(run.outcome.exitCode).toBe(0);
  });

  it('removes a leftover container of the same job before running it again', async () => {
    const job = newJob({ command: () => ['node', '-e', "console.log('second run')"] });
    const leftover = await docker.createContainer({
      name: sandboxContainerName(job.jobId),
      Image: image,
      Entrypoint: ['node', '-e', 'setInterval(() => {}, 1000)'],
      Labels: { [SANDBOX_LABELS.job]: job.jobId, [SANDBOX_LABELS.managed]: 'true' },
      HostConfig: { NetworkMode: 'none' },
    });
    await leftover.start();
    const run = await collect(sandbox, job);
    expect(run.stdout).toEqual(['second run']);
    expect(run.outcome.sandboxId).not.toBe(leftover.id);
    expect(await containersOfJob(job.jobId)).toEqual([]);
  });

  it('cleanupOrphans removes this scope’s labelled containers except the kept jobs', async () => {
    const create = async (jobId: string, labelScope: string) => {
      const c = await docker.createContainer({
        name: sandboxContainerName(jobId),
        Image: image,
        Entrypoint: ['node', '-e', 'setInterval(() => {}, 1000)'],
        Labels: {
          [SANDBOX_LABELS.job]: jobId,
          [SANDBOX_LABELS.managed]: 'true',
          [SANDBOX_LABELS.kind]: SANDBOX_KIND,
          [SANDBOX_LABELS.scope]: labelScope,
        },
        HostConfig: { NetworkMode: 'none' },
      });
      await c.start();
      return c.id;
    };
    const suffix = scope.slice(-8);
    const orphan = await create(`orphan-${suffix}`, scope);
    const stopped = await create(`orphan-stopped-${suffix}`, scope);
    await docker.getContainer(stopped).kill();
    const kept = await create(`kept-${suffix}`, scope);
    const otherScope = await create(`other-${suffix}`, `${scope}-other`);
    try {
      const removed = await sandbox.cleanupOrphans(new Set([`kept-${suffix}`]));
      expect(removed.sort()).toEqual([orphan, stopped].sort());
      expect(await containersOfJob(`orphan-${suffix}`)).toEqual([]);
      expect(await containersOfJob(`kept-${suffix}`)).toEqual([kept]);
      expect(await containersOfJob(`other-${suffix}`)).toEqual([otherScope]);
    } finally {
      for (const id of [kept, otherScope]) await docker.getContainer(id).remove({ force: true });
    }
  });

  it('builds an image of node, its fonts and the bundled pipeline, once per content', async () => {
    expect(image).toMatch(/^tradeflow-pipeline:[0-9a-f]{12}$/);
    // Same content, same tag: the second build is skipped. (A fixed entry: the real pipeline may be
    // edited while the tests run.)
    const entry = fileURLToPath(new URL('../test/support/sandbox/echoPipeline.ts', import.meta.url));
    const first = await buildSandboxImage(docker, { entry });
    expect(await buildSandboxImage(docker, { entry })).toMatchObject({ image: first.image, built: false });
    const job = newJob({
      command: () => [
        'node',
        '-e',
        "const fs=require('fs');console.log(JSON.stringify({v:process.version,fonts:fs.readdirSync(process.env.TRADEFLOW_FONTS_DIR),app:fs.readdirSync('/app')}))",
      ],
    });
    const run = await collect(sandbox, job);
    const seen = JSON.parse(run.stdout[0]!) as { v: string; fonts: string[]; app: string[] };
    expect(seen.v).toBe(process.version);
    expect(seen.fonts).toEqual(expect.arrayContaining(['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSansMono.ttf']));
    expect(seen.app.sort()).toEqual(['fonts', 'pipeline.mjs']);
  });

  it('runs the pipeline image’s entrypoint by default, with the job folder as its argument', async () => {
    const job = newJob({});
    const run = await collect(sandbox, job);
    const first = JSON.parse(run.stdout[0] ?? 'null') as { t?: unknown } | null;
    expect(first?.t, `stdout: ${run.stdout.join('\n')}\nstderr: ${run.stderr.join('\n')}`).toBeTypeOf('string');
    expect(run.outcome.exitCode).not.toBeNull();
  });
});
