import { performance } from 'node:perf_hooks';
import { LineSplitter } from './lines.js';
import type { SandboxCallbacks } from './types.js';

/** Times a run from the run() call and turns both output streams into lines. */
export class RunOutput {
  private readonly startedAt = performance.now();
  firstOutputMs: number | null = null;
  readonly stdout: LineSplitter;
  readonly stderr: LineSplitter;

  constructor(callbacks: SandboxCallbacks) {
    const emit = (stream: 'stdout' | 'stderr') => (line: string) => {
      if (this.firstOutputMs === null) this.firstOutputMs = Math.round(performance.now() - this.startedAt);
      callbacks.onLine(line, stream);
    };
    this.stdout = new LineSplitter(emit('stdout'));
    this.stderr = new LineSplitter(emit('stderr'));
  }

  elapsedMs(): number {
    return Math.round(performance.now() - this.startedAt);
  }

  flush(): void {
    this.stdout.flush();
    this.stderr.flush();
  }
}

export type StopReason = 'stopped' | 'timedOut';

/**
 * Abort (a user's stop) and the job's time limit end a run the same way a container engine stops a
 * container: `terminate` (SIGTERM), then `kill` (SIGKILL) if it is still running after `graceMs`.
 * The first of the two wins and is the reason reported.
 */
export class StopWatch {
  reason: StopReason | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly onAbort = () => this.trigger('stopped');

  constructor(
    private readonly o: {
      abort: AbortSignal;
      timeoutMs: number;
      graceMs: number;
      terminate: () => Promise<void> | void;
      kill: () => Promise<void> | void;
      onError?: (err: unknown) => void;
    },
  ) {
    if (o.abort.aborted) this.reason = 'stopped';
  }

  /** Arms the abort listener and the time limit; call once the sandbox runs. */
  arm(): void {
    if (this.o.abort.aborted) this.reason ??= 'stopped';
    if (this.reason) {
      this.trigger(this.reason, true);
      return;
    }
    this.o.abort.addEventListener('abort', this.onAbort, { once: true });
    if (Number.isFinite(this.o.timeoutMs) && this.o.timeoutMs > 0) {
      this.timers.push(setTimeout(() => this.trigger('timedOut'), this.o.timeoutMs));
    }
  }

  private trigger(reason: StopReason, force = false): void {
    if (this.reason && !force) return;
    this.reason = reason;
    this.call(this.o.terminate);
    this.timers.push(setTimeout(() => this.call(this.o.kill), this.o.graceMs));
  }

  private call(fn: () => Promise<void> | void): void {
    Promise.resolve()
      .then(fn)
      .catch((err) => this.o.onError?.(err));
  }

  dispose(): void {
    this.o.abort.removeEventListener('abort', this.onAbort);
    for (const t of this.timers) clearTimeout(t);
  }
}
