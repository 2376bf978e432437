// Process mode: the pipeline runs as a child process of the worker, in its own process group.
// It isolates far less than a container and says so:
// - memory: only V8's heap is capped (--max-old-space-size); Buffers and native memory are not, and a
//   heap overflow ends the process with an error exit or SIGABRT, so `oomKilled` is always false;
// - CPU (`limits.cpus`) and network (`network: null`) cannot be enforced without cgroups/namespaces;
// - the file system is the worker's (cwd and HOME are the job folder, nothing more).
// What it does guarantee: a minimal environment (no worker secrets), the time limit, stop with
// SIGTERM then SIGKILL reaching grandchildren (the whole group), and no survivors after a crash.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { RunOutput, StopWatch } from './runControl.js';
import {
  DEFAULT_SANDBOX_SCOPE,
  DEFAULT_STOP_GRACE_MS,
  SANDBOX_KIND,
  type SandboxCallbacks,
  type SandboxJob,
  type SandboxLog,
  type SandboxOutcome,
  type SandboxRunner,
} from './types.js';

export const SANDBOX_PID_FILE = '.sandbox.pid';

// Environment markers: the process-mode counterpart of container labels. Every process of the
// sandbox inherits them, which is how a restarted worker recognises its orphans.
const ENV_JOB = 'TRADEFLOW_SANDBOX_JOB';
const ENV_KIND = 'TRADEFLOW_SANDBOX';
const ENV_SCOPE = 'TRADEFLOW_SANDBOX_SCOPE';

const PIPELINE_MAIN = fileURLToPath(new URL('./pipelineMain.ts', import.meta.url));

export interface ProcessSandboxOptions {
  stopGraceMs?: number;
  /** Node binary for the default pipeline command; default: the worker's own. */
  nodePath?: string;
  /** See SANDBOX_LABELS.scope. */
  scope?: string;
  log?: SandboxLog;
}

interface PidFile {
  pid: number;
  jobId: string;
  argv: string[];
}

export class ProcessSandbox implements SandboxRunner {
  readonly mode = 'process' as const;
  private readonly graceMs: number;
  private readonly nodePath: string;
  private readonly scope: string;
  private readonly log: SandboxLog;

  constructor(opts: ProcessSandboxOptions = {}) {
    this.graceMs = opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    this.nodePath = opts.nodePath ?? process.execPath;
    this.scope = opts.scope ?? DEFAULT_SANDBOX_SCOPE;
    this.log = opts.log ?? (() => {});
  }

  async run(job: SandboxJob, callbacks: SandboxCallbacks, abort: AbortSignal): Promise<SandboxOutcome> {
    const output = new RunOutput(callbacks);
    const pidFile = join(job.runDir, SANDBOX_PID_FILE);
    await this.killLeftover(pidFile, job.jobId);

    const [program, ...args] = job.command ?? this.pipelineCommand(job);
    if (!program) throw new Error('ProcessSandbox: empty command');
    let child: ChildProcess | undefined;
    const signalGroup = (signal: NodeJS.Signals) => {
      if (child?.pid) killGroup(child.pid, signal);
    };
    const watch = new StopWatch({
      abort,
      timeoutMs: job.limits.timeoutMs,
      graceMs: this.graceMs,
      terminate: () => signalGroup('SIGTERM'),
      kill: () => signalGroup('SIGKILL'),
    });
    if (watch.reason) return notStarted(output, watch.reason === 'stopped');

    try {
      child = spawn(program, args, {
        cwd: job.runDir,
        env: this.sandboxEnv(job),
        // Own process group: signals to -pid reach the pipeline's children too.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const spawned = child;
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        spawned.once('error', reject);
        spawned.once('exit', (code, signal) => resolve({ code, signal }));
      });
      exited.catch(() => {}); // a spawn failure is thrown below, once
      const closed = new Promise<void>((resolve) => spawned.once('close', () => resolve()));
      spawned.stdout?.on('data', (chunk: Buffer) => output.stdout.push(chunk));
      spawned.stderr?.on('data', (chunk: Buffer) => output.stderr.push(chunk));
      await new Promise<void>((resolve, reject) => {
        spawned.once('spawn', resolve);
        spawned.once('error', reject);
      });
      const pid = spawned.pid!;
      writeFileSync(pidFile, JSON.stringify({ pid, jobId: job.jobId, argv: [program, ...args] } satisfies PidFile));
      callbacks.onStarted?.({ sandboxId: String(pid) });
      watch.arm();

      const { code, signal } = await exited;
      // Like a container whose init died: nothing of the sandbox outlives its main process.
      killGroup(pid, 'SIGKILL');
      // Output still in the pipes arrives before 'close'; a process that escaped the group (setsid)
      // could hold them open forever, hence the cap.
      await Promise.race([closed, sleep(2_000, undefined, { ref: false })]);
      spawned.stdout?.destroy();
      spawned.stderr?.destroy();
      output.flush();
      return {
        exitCode: code,
        signal,
        oomKilled: false,
        timedOut: watch.reason === 'timedOut',
        stopped: watch.reason === 'stopped',
        durationMs: output.elapsedMs(),
        firstOutputMs: output.firstOutputMs,
        sandboxId: String(pid),
      };
    } catch (err) {
      signalGroup('SIGKILL');
      throw err;
    } finally {
      watch.dispose();
      rmSync(pidFile, { force: true });
    }
  }

  /** Kills process groups of this scope's sandboxes whose job is not in `keep`; returns their pids. */
  async cleanupOrphans(keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    const leaders = listProcesses().filter(
      (p) =>
        p.pid === p.pgid &&
        p.state !== 'Z' &&
        p.env.get(ENV_KIND) === SANDBOX_KIND &&
        p.env.get(ENV_SCOPE) === this.scope &&
        !keep.has(p.env.get(ENV_JOB) ?? ''),
    );
    for (const p of leaders) {
      this.log('killing an orphaned sandbox process group', { pid: p.pid, jobId: p.env.get(ENV_JOB) });
      killGroup(p.pid, 'SIGKILL');
    }
    await Promise.all(leaders.map((p) => waitGroupGone(p.pid)));
    return leaders.map((p) => String(p.pid));
  }

  private pipelineCommand(job: SandboxJob): string[] {
    return [
      this.nodePath,
      `--max-old-space-size=${job.limits.memoryMb}`,
      // Resolved here: from the job folder (the child's cwd) a bare `tsx` would not be found.
      '--import',
      import.meta.resolve('tsx'),
      PIPELINE_MAIN,
      job.runDir,
    ];
  }

  // Not the worker's environment: its database URIs and API keys must not reach job code.
  private sandboxEnv(job: SandboxJob): Record<string, string> {
    return {
      PATH: `${dirname(this.nodePath)}:${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`,
      HOME: job.runDir,
      TZ: 'UTC',
      ...job.env,
      JOB_DIR: job.runDir,
      [ENV_KIND]: SANDBOX_KIND,
      [ENV_JOB]: job.jobId,
      [ENV_SCOPE]: this.scope,
    };
  }

  /** A retried job whose previous worker crashed may still have its process running: kill it first. */
  private async killLeftover(pidFile: string, jobId: string): Promise<void> {
    let recorded: PidFile;
    try {
      recorded = JSON.parse(readFileSync(pidFile, 'utf8')) as PidFile;
    } catch {
      return;
    }
    // The pid may have been reused since: only a group whose members carry this job's marker, or
    // whose leader still has the recorded command line, is the leftover.
    const members = listProcesses().filter((p) => p.pgid === recorded.pid);
    const ours = members.some(
      (p) =>
        p.env.get(ENV_JOB) === jobId ||
        (p.pid === recorded.pid && p.argv.join('\0') === recorded.argv.join('\0') && recorded.jobId === jobId),
    );
    if (ours) {
      this.log('killing the leftover sandbox process of a retried job', { jobId, pid: recorded.pid });
      killGroup(recorded.pid, 'SIGKILL');
      await waitGroupGone(recorded.pid);
    }
    rmSync(pidFile, { force: true });
  }
}

function notStarted(output: RunOutput, stopped: boolean): SandboxOutcome {
  return {
    exitCode: null,
    signal: null,
    oomKilled: false,
    timedOut: false,
    stopped,
    durationMs: output.elapsedMs(),
    firstOutputMs: null,
    sandboxId: '',
  };
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Waits until no live member of the group is left; zombies count as gone (their reaping is not ours). */
async function waitGroupGone(pgid: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    if (!listProcesses().some((p) => p.pgid === pgid && p.state !== 'Z')) return;
    await sleep(20);
  }
}

interface ProcInfo {
  pid: number;
  pgid: number;
  state: string;
  argv: string[];
  env: Map<string, string>;
}

/** Processes from /proc (Linux; empty elsewhere); argv/env stay empty where unreadable (another user's). */
function listProcesses(): ProcInfo[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const out: ProcInfo[] = [];
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name: state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({
        pid: Number(entry),
        state: fields[0] ?? '',
        pgid: Number(fields[2]),
        argv: readOr(`/proc/${entry}/cmdline`).split('\0').filter(Boolean),
        env: parseEnviron(readOr(`/proc/${entry}/environ`)),
      });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** A /proc file's text, or '' when it cannot be read (another user's process, a zombie). */
function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function parseEnviron(environ: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const kv of environ.split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return env;
}
