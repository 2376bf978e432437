// Docker mode: one container per job through the Docker Engine API (Docker, or Podman's compatible
// service), with the job folder bind-mounted at /job, hard memory/CPU/pids limits and, unless the
// job needs one, no network at all.
import { createHash } from 'node:crypto';
import { constants } from 'node:os';
import { type Duplex, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { RunOutput, StopWatch } from './runControl.js';
import {
  DEFAULT_SANDBOX_SCOPE,
  DEFAULT_STOP_GRACE_MS,
  SANDBOX_KIND,
  SANDBOX_LABELS,
  type SandboxCallbacks,
  type SandboxJob,
  type SandboxLog,
  type SandboxOutcome,
  type SandboxRunner,
} from './types.js';

export const JOB_MOUNT = '/job';
const PIDS_LIMIT = 256;

export interface DockerSandboxOptions {
  docker: Dockerode;
  image: string;
  stopGraceMs?: number;
  /** See SANDBOX_LABELS.scope. */
  scope?: string;
  log?: SandboxLog;
}

/** `tradeflow-job-<jobId>`; ids that are not valid container names get sanitised plus a hash against collisions. */
export function sandboxContainerName(jobId: string): string {
  if (/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$/.test(jobId)) return `tradeflow-job-${jobId}`;
  const safe = jobId.replace(/[^a-zA-Z0-9_.-]+/g, '-').slice(0, 80);
  const hash = createHash('sha256').update(jobId).digest('hex').slice(0, 10);
  return `tradeflow-job-${safe}-${hash}`;
}

export class DockerSandbox implements SandboxRunner {
  readonly mode = 'docker' as const;
  private readonly docker: Dockerode;
  private readonly image: string;
  private readonly graceMs: number;
  private readonly scope: string;
  private readonly log: SandboxLog;

  constructor(opts: DockerSandboxOptions) {
    this.docker = opts.docker;
    this.image = opts.image;
    this.graceMs = opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    this.scope = opts.scope ?? DEFAULT_SANDBOX_SCOPE;
    this.log = opts.log ?? (() => {});
  }

  async run(job: SandboxJob, callbacks: SandboxCallbacks, abort: AbortSignal): Promise<SandboxOutcome> {
    const output = new RunOutput(callbacks);
    const name = sandboxContainerName(job.jobId);
    // A retried job whose previous worker crashed may have left its container (running or not).
    await this.removeQuietly(this.docker.getContainer(name), 'leftover container of a retried job');
    if (abort.aborted) return notStarted(output);

    const container = await this.docker.createContainer(this.containerSpec(job, name));
    const watch = new StopWatch({
      abort,
      timeoutMs: job.limits.timeoutMs,
      graceMs: this.graceMs,
      terminate: () => this.signal(container, 'SIGTERM'),
      kill: () => this.signal(container, 'SIGKILL'),
      onError: (err) => this.log('could not signal a sandbox container', { name, err: String(err) }),
    });
    try {
      // Attached before start, so not even the first line can be missed.
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const ended = new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        stream.once('error', () => resolve());
      });
      this.docker.modem.demuxStream(stream, lineSink(output.stdout), lineSink(output.stderr));
      if (abort.aborted) return notStarted(output);
      await container.start();
      callbacks.onStarted?.({ sandboxId: container.id });
      watch.arm();

      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      // The engine ends the attach stream once the container's output is drained; the cap guards
      // against an engine that keeps it open.
      await Promise.race([ended, sleep(5_000, undefined, { ref: false })]);
      (stream as unknown as Duplex).destroy();
      output.flush();
      const state = (await container.inspect()).State;
      const exitCode = typeof state.ExitCode === 'number' ? state.ExitCode : StatusCode;
      return {
        exitCode,
        signal: signalOfExitCode(exitCode),
        oomKilled: state.OOMKilled === true,
        timedOut: watch.reason === 'timedOut',
        stopped: watch.reason === 'stopped',
        durationMs: output.elapsedMs(),
        firstOutputMs: output.firstOutputMs,
        sandboxId: container.id,
      };
    } finally {
      watch.dispose();
      await this.removeQuietly(container, null);
    }
  }

  async cleanupOrphans(keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: {
        label: [
          `${SANDBOX_LABELS.managed}=true`,
          `${SANDBOX_LABELS.kind}=${SANDBOX_KIND}`,
          `${SANDBOX_LABELS.scope}=${this.scope}`,
        ],
      },
    });
    const orphans = containers.filter((c) => !keep.has(c.Labels?.[SANDBOX_LABELS.job] ?? ''));
    await Promise.all(orphans.map((c) => this.removeQuietly(this.docker.getContainer(c.Id), 'orphaned container')));
    return orphans.map((c) => c.Id);
  }

  private containerSpec(job: SandboxJob, name: string): Dockerode.ContainerCreateOptions {
    const memoryBytes = job.limits.memoryMb * 1024 * 1024;
    return {
      name,
      Image: this.image,
      // The image's entrypoint is the pipeline; its argument is the job folder.
      ...(job.command ? { Entrypoint: job.command.slice(0, 1), Cmd: job.command.slice(1) } : { Cmd: [JOB_MOUNT] }),
      Env: Object.entries({ HOME: '/tmp', TZ: 'UTC', ...job.env, JOB_DIR: JOB_MOUNT }).map(([k, v]) => `${k}=${v}`),
      WorkingDir: JOB_MOUNT,
      Labels: {
        [SANDBOX_LABELS.job]: job.jobId,
        [SANDBOX_LABELS.managed]: 'true',
        [SANDBOX_LABELS.kind]: SANDBOX_KIND,
        [SANDBOX_LABELS.scope]: this.scope,
      },
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      OpenStdin: false,
      HostConfig: {
        Binds: [`${job.runDir}:${JOB_MOUNT}:rw`],
        Memory: memoryBytes,
        MemorySwap: memoryBytes, // equal to Memory: no swap
        NanoCpus: Math.round(job.limits.cpus * 1e9),
        NetworkMode: job.network ?? 'none',
        PidsLimit: PIDS_LIMIT,
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${job.limits.memoryMb}m` },
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        // A tiny init as PID 1 (tini/catatonit): the pipeline then gets default signal handling, so
        // SIGTERM ends it unless it traps it, as in process mode (PID 1 ignores untrapped SIGTERM).
        Init: true,
      },
    };
  }

  private async signal(container: Dockerode.Container, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    try {
      await container.kill({ signal });
    } catch (err) {
      // 404 gone, 409 (or Podman's 500) not running: it already ended.
      if (!isGoneOrNotRunning(err)) throw err;
    }
  }

  /** Force-removes a container if it exists; `what` names it in the log (null: routine, not logged). */
  private async removeQuietly(container: Dockerode.Container, what: string | null): Promise<void> {
    try {
      await container.remove({ force: true, v: true });
      if (what) this.log(`removed the ${what}`, { id: container.id });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404) return;
      // 409: removal already in progress (e.g. a parallel cleanup).
      if (status === 409) return;
      throw err;
    }
  }
}

function lineSink(splitter: { push(chunk: Buffer): void }): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      splitter.push(chunk);
      done();
    },
  });
}

function notStarted(output: RunOutput): SandboxOutcome {
  return {
    exitCode: null,
    signal: null,
    oomKilled: false,
    timedOut: false,
    stopped: true,
    durationMs: output.elapsedMs(),
    firstOutputMs: null,
    sandboxId: '',
  };
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, num]) => [num, name]));

/** Engines report a signal death as 128 + signal number. */
function signalOfExitCode(exitCode: number): string | null {
  return exitCode > 128 ? (SIGNAL_NAMES.get(exitCode - 128) ?? null) : null;
}

function isGoneOrNotRunning(err: unknown): boolean {
  const status = (err as { statusCode?: number }).statusCode;
  const message = String((err as { message?: string }).message ?? '');
  return status === 404 || status === 409 || /not running|state improper|no such/i.test(message);
}
