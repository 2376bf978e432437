import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { locate, SETPRIV } from './requirements.mjs';

/** A free TCP port on loopback, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.setTimeout(500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.connect(port, host);
  });
}

/**
 * `command args`, run so that it gets SIGTERM when the process that started it dies, even by SIGKILL:
 * util-linux's setpriv sets Linux's parent-death signal and execs the command (same pid). Without it a
 * killed `npm run bench` or `npm start` left FerretDB and the Temporal dev server running. Where setpriv
 * is missing the command runs as it is.
 */
export function diesWithParent(command: string, args: string[]): [string, string[]] {
  const setpriv = locate(SETPRIV)?.path;
  return setpriv ? [setpriv, ['--pdeathsig', 'SIGTERM', '--', command, ...args]] : [command, args];
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartServiceOptions {
  name: string;
  command: string;
  args: string[];
  port: number;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Starts a service, logging to a file, and resolves once it accepts TCP connections on `port`. */
export async function startService(opts: StartServiceOptions): Promise<ManagedProcess> {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const [command, args] = diesWithParent(opts.command, opts.args);
  const child = spawn(command, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });
  child.once('error', (err) => {
    exited = err.message;
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (!(await canConnect(opts.port))) {
    if (exited) throw new Error(`${opts.name} ${exited} before listening on ${opts.port}; see ${opts.logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.name} did not listen on ${opts.port} in time; see ${opts.logFile}`);
    }
    await sleep(100);
  }
  return {
    name: opts.name,
    child,
    logFile: opts.logFile,
    stop: () => stopProcess(child),
  };
}

/** SIGTERM, then SIGKILL after `graceMs`: the same escalation a container runtime uses. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
