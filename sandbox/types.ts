// Where an analysis job's code runs: a child process or a container. The orchestrator only sees this
// interface, so a `kubernetes` mode (a Job per analysis, a PVC as the job folder) can be added later.

export type SandboxMode = 'process' | 'docker';

export interface SandboxJob {
  jobId: string;
  /** Absolute host path of the job folder; the sandbox sees it as its job folder (docker: bind-mounted rw at /job). */
  runDir: string;
  env: Record<string, string>;
  limits: { memoryMb: number; cpus: number; timeoutMs: number };
  /** null: no network at all (docker NetworkMode 'none'); else a network name (e.g. 'bridge'/'host'). */
  network: string | null;
  /** Overrides what runs (program + args, inside the sandbox); default: the analysis pipeline with the job folder as last arg. */
  command?: string[];
}

export interface SandboxCallbacks {
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
  onStarted?(info: { sandboxId: string }): void;
}

export interface SandboxOutcome {
  /** The exit code; in docker mode a signal death shows as 128 + signal (what the engine reports). */
  exitCode: number | null;
  signal: string | null;
  oomKilled: boolean;
  timedOut: boolean;
  stopped: boolean;
  durationMs: number;
  /** From the run() call to the first complete line on either stream. */
  firstOutputMs: number | null;
  sandboxId: string;
}

export interface SandboxRunner {
  readonly mode: SandboxMode;
  run(job: SandboxJob, callbacks: SandboxCallbacks, abort: AbortSignal): Promise<SandboxOutcome>;
  /** Removes sandboxes left behind by a crashed worker; returns their ids. Jobs in `keep` are left alone. */
  cleanupOrphans(keep?: ReadonlySet<string>): Promise<string[]>;
}

export type SandboxLog = (msg: string, fields?: Record<string, unknown>) => void;

/** Labels (docker) or environment markers (process) that identify a sandbox; see `cleanupOrphans`. */
export const SANDBOX_LABELS = {
  job: 'tradeflow.job',
  managed: 'tradeflow.managed',
  kind: 'tradeflow.sandbox',
  /** Separates workers (or test runs) that share one engine so one's cleanup never kills another's jobs. */
  scope: 'tradeflow.scope',
} as const;

export const SANDBOX_KIND = 'analysis';
export const DEFAULT_SANDBOX_SCOPE = 'default';
export const DEFAULT_STOP_GRACE_MS = 10_000;
