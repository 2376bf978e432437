import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { diesWithParent, stopProcess } from './processes.js';
import { CONMON, findContainerInit, locate } from './requirements.mjs';

export interface DockerApi {
  /** Unix socket serving the Docker Engine API (for dockerode's `socketPath`). */
  socketPath: string;
  /** True when this call started a Podman service (then `stop()` ends it). */
  started: boolean;
  stop(): Promise<void>;
}

export interface EnsureDockerApiOptions {
  /** Where the Podman service's config, socket and log live when one has to be started. */
  dir: string;
  log?: (msg: string) => void;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

// runc, because crun fails on this kernel's cgroups; no default ulimits, because Podman's default
// nofile/nproc limits are above what this (nested) host allows and every container start fails.
// conmon_path: see conmonWrapper. init_path: the sandbox starts containers with Init, and Podman's default
// init (/usr/libexec/podman/catatonit) is only a recommendation of Debian's podman package. Both tables:
// containers.conf(5) documents [containers] (podman run --init reads it), but Podman 4.3's Docker-API
// create falls back to [engine] init_path, whose default is still catatonit.
function containersConf(conmonPath: string, initPath: string): string {
  const init = `init_path = ${JSON.stringify(initPath)}`;
  return [
    '[containers]',
    'default_ulimits = []',
    init,
    '[engine]',
    'runtime = "runc"',
    init,
    `conmon_path = [${JSON.stringify(conmonPath)}]`,
    '',
  ].join('\n');
}

// Podman 4.3 decides State.OOMKilled by looking for an `oom` file in the container's bundle folder,
// but conmon 2.1.6 (both Debian 12) writes that file into its working directory on cgroup v1, and
// Podman starts conmon in its own working directory: OOM kills were reported as OOMKilled=false.
// Starting conmon inside its bundle folder (`-b`) puts the file where Podman looks.
function conmonWrapper(conmon: string): string {
  return `#!/bin/sh
prev=
for arg in "$@"; do
  if [ "$prev" = "-b" ] || [ "$prev" = "--bundle" ]; then cd "$arg" 2>/dev/null; break; fi
  prev=$arg
done
exec ${conmon} "$@"
`;
}

/**
 * GET `path` on a unix-socket HTTP server; resolves with the status code, or null if nothing answers.
 * A missing or closed socket fails at once, so the bound only waits on a service that is there but slow:
 * Podman's first `/version` took 1.1-1.4 s on a fresh machine, and a 1 s bound made it look absent.
 */
export function pingSocket(socketPath: string, path = '/_ping', timeoutMs = 15_000): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path, method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

async function answers(socketPath: string): Promise<boolean> {
  const status = (await pingSocket(socketPath, '/_ping')) ?? (await pingSocket(socketPath, '/version'));
  return status !== null && status < 500;
}

function commandPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const r = spawnSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8', env });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * A Docker Engine API for dockerode: `DOCKER_HOST` (unix://) if set, else a Docker daemon on
 * /var/run/docker.sock if it answers, else a Podman service started on `<dir>/podman.sock`.
 */
export async function ensureDockerApi(opts: EnsureDockerApiOptions): Promise<DockerApi> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const external = (socketPath: string): DockerApi => ({ socketPath, started: false, stop: async () => {} });

  if (env.DOCKER_HOST) {
    if (!env.DOCKER_HOST.startsWith('unix://')) {
      throw new Error(`DOCKER_HOST=${env.DOCKER_HOST}: only unix:// sockets are supported here`);
    }
    const socketPath = env.DOCKER_HOST.slice('unix://'.length);
    if (!(await answers(socketPath))) throw new Error(`DOCKER_HOST=${env.DOCKER_HOST} does not answer /_ping`);
    return external(socketPath);
  }
  if (await answers(DEFAULT_DOCKER_SOCKET)) return external(DEFAULT_DOCKER_SOCKET);

  mkdirSync(opts.dir, { recursive: true });
  const socketPath = join(opts.dir, 'podman.sock');
  // A service left running by an earlier run in the same folder is as good as a new one.
  if (await answers(socketPath)) {
    log(`reusing the Podman API on ${socketPath}`);
    return external(socketPath);
  }
  const podman = commandPath('podman', env);
  if (!podman) {
    throw new Error(
      'no Docker Engine API: install Podman (Debian packages podman and runc) or set DOCKER_HOST=unix:///path/to/docker.sock',
    );
  }
  if (!commandPath('runc', env)) {
    throw new Error('Podman needs the runc runtime here (crun fails on this kernel): install the Debian package runc');
  }

  const conmon = locate(CONMON, env)?.path;
  if (!conmon) throw new Error('Podman is installed without conmon: reinstall the Debian package podman');
  const init = findContainerInit(env);
  if (!init) {
    throw new Error(
      'Podman has no container init for containers started with Init (the docker sandbox does): install the Debian package catatonit (or tini, or dumb-init)',
    );
  }
  const wrapper = join(opts.dir, 'conmon-in-bundle.sh');
  writeFileSync(wrapper, conmonWrapper(conmon));
  chmodSync(wrapper, 0o755);
  const confFile = join(opts.dir, 'containers.conf');
  writeFileSync(confFile, containersConf(wrapper, init.path));
  rmSync(socketPath, { force: true });
  const logFile = join(opts.dir, 'podman.log');
  const service = startPodmanService({ podman, socketPath, confFile, logFile, cwd: opts.dir, env });
  const { child } = service;
  log(`starting the Podman API on ${socketPath} (container init ${init.path}; log ${logFile})`);

  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });
  child.once('error', (err) => {
    exited = err.message;
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (!(await answers(socketPath))) {
    const failure = exited
      ? `podman system service ${exited}`
      : Date.now() > deadline
        ? `podman system service did not answer /_ping on ${socketPath} within ${opts.timeoutMs ?? 30_000} ms`
        : undefined;
    if (failure) {
      await stopProcess(child, 2_000);
      await Promise.race([service.closed, sleep(1_000)]);
      throw new Error(`${failure}; its output (${logFile}):\n${service.recentOutput() || '(none)'}`);
    }
    await sleep(50);
  }
  return {
    socketPath,
    started: true,
    stop: async () => {
      await stopProcess(child);
      rmSync(socketPath, { force: true });
    },
  };
}

function startPodmanService(o: {
  podman: string;
  socketPath: string;
  confFile: string;
  logFile: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}): { child: ChildProcess; closed: Promise<void>; recentOutput(): string } {
  const file = createWriteStream(o.logFile, { flags: 'a' });
  const [command, args] = diesWithParent(o.podman, ['system', 'service', '--time=0', `unix://${o.socketPath}`]);
  const child = spawn(command, args, {
    cwd: o.cwd,
    env: { ...o.env, CONTAINERS_CONF: o.confFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The start-up output is also kept in memory: a failure is reported before the file is flushed.
  let recent = '';
  const keep = (chunk: Buffer) => {
    recent = (recent + chunk.toString('utf8')).slice(-4_000);
    file.write(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const closed = new Promise<void>((resolve) =>
    child.once('close', () => {
      file.end();
      resolve();
    }),
  );
  return { child, closed, recentOutput: () => recent.trim() };
}
