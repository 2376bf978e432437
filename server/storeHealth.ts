import type { Logger } from 'pino';

export type WriteState =
  | { writable: true; checkedAt: Date }
  | { writable: false; checkedAt: Date; since: Date; error: string };

export interface StoreHealthOptions {
  /** How long one probe's answer stands for every request that asks. */
  freshMs: number;
  /** How long a probe may take before the store counts as unable to write. */
  timeoutMs: number;
}

/**
 * Whether the database can write, found by writing: a database whose files went read-only (or full, or
 * immutable) still answers reads and pings, so only a write tells. One small upsert per `freshMs` at most
 * answers every asker (health checks, job statuses); a change either way is logged once.
 */
export class StoreHealth {
  private last: { at: number; state: Promise<WriteState> } | undefined;
  private failingSince: Date | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly logger: Logger,
    private readonly o: StoreHealthOptions = { freshMs: 2_000, timeoutMs: 1_000 },
  ) {}

  check(): Promise<WriteState> {
    const now = Date.now();
    if (this.last && now - this.last.at < this.o.freshMs) return this.last.state;
    const state = this.run();
    this.last = { at: now, state };
    return state;
  }

  /** What a job's status says while the store cannot write; undefined while it can. */
  async warning(): Promise<string | undefined> {
    const s = await this.check();
    if (s.writable) return undefined;
    return `the database cannot write (since ${s.since.toISOString()}: ${s.error}): jobs cannot record progress until it can, and wait`;
  }

  /** Probes every `everyMs` even when nobody asks, so the log tells of a store that stopped writing. */
  watch(everyMs: number): () => void {
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
    return () => clearInterval(this.timer);
  }

  private async run(): Promise<WriteState> {
    let timer: NodeJS.Timeout | undefined;
    const checkedAt = new Date();
    try {
      await Promise.race([
        this.probe(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer to a write within ${this.o.timeoutMs} ms`)),
            this.o.timeoutMs,
          );
        }),
      ]);
      if (this.failingSince) {
        this.logger.info({ since: this.failingSince }, 'the database writes again');
        this.failingSince = undefined;
      }
      return { writable: true, checkedAt };
    } catch (err) {
      const error = (err as Error).message.slice(0, 500);
      if (!this.failingSince) {
        this.failingSince = checkedAt;
        this.logger.error({ err: error }, 'the database cannot write: jobs cannot record progress until it can');
      }
      return { writable: false, checkedAt, since: this.failingSince, error };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A job's status, saying so while the database cannot write (the job then makes no progress, and waits). */
export async function withStorageWarning<T extends object>(
  deps: { storeHealth: StoreHealth },
  body: T,
): Promise<T & { storage_warning?: string }> {
  const warning = await deps.storeHealth.warning();
  return warning ? { ...body, storage_warning: warning } : body;
}
