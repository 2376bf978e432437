import type { ManagedProcess } from './processes.js';

export interface SupervisorOptions {
  log: (message: string) => void;
  /** Longest wait between restarts; the wait doubles from 1 s after each start that did not last. */
  maxBackoffMs?: number;
  /** A process that ran this long counts as having started fine: the next restart waits 1 s again. */
  stableMs?: number;
  /**
   * True once the whole instance is shutting down: a Ctrl-C reaches every process of the terminal's
   * group at once, so a service may exit before its own `stop` is called, and is not started again.
   */
  shuttingDown?: () => boolean;
}

/**
 * Keeps a service running: started once (a failure then is the caller's to report), and started
 * again, with backoff, whenever it exits without being asked to. Returns a handle that reads like the
 * process (its `child` is the current one) and whose `stop` ends the service for good.
 */
export async function supervise(
  name: string,
  start: () => Promise<ManagedProcess>,
  o: SupervisorOptions,
): Promise<ManagedProcess & { restarts(): number }> {
  const maxBackoffMs = o.maxBackoffMs ?? 30_000;
  const stableMs = o.stableMs ?? 60_000;
  let current = await start();
  let stopping = false;
  let restarts = 0;
  let backoffMs = 1_000;
  let timer: NodeJS.Timeout | undefined;

  const watch = (proc: ManagedProcess) => {
    const startedAt = Date.now();
    proc.child.once('exit', (code, signal) => {
      if (stopping || o.shuttingDown?.() || proc !== current) return;
      if (Date.now() - startedAt >= stableMs) backoffMs = 1_000;
      o.log(`${name} exited (${signal ?? code}); starting it again in ${Math.round(backoffMs / 1000)} s`);
      schedule();
    });
  };
  const schedule = () => {
    timer = setTimeout(async () => {
      timer = undefined;
      if (stopping || o.shuttingDown?.()) return;
      try {
        current = await start();
        restarts += 1;
        o.log(`${name} is running again (restart ${restarts})`);
        watch(current);
      } catch (err) {
        o.log(`${name} did not start: ${(err as Error).message}`);
        schedule();
      }
      backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
    }, backoffMs);
  };
  watch(current);

  return {
    name,
    get child() {
      return current.child;
    },
    get logFile() {
      return current.logFile;
    },
    restarts: () => restarts,
    stop: async () => {
      stopping = true;
      clearTimeout(timer);
      await current.stop();
    },
  };
}
