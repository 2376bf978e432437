/** A model's result within a date: its computed day, or why it failed for good. */
export type ModelOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

export interface DateBatchOptions<T> {
  models: readonly string[];
  /** Outcomes a previous attempt of the date already reported (its heartbeat details): not run again. */
  done: Readonly<Record<string, ModelOutcome<T>>>;
  /** One attempt of one model's day. */
  run(model: string, attempt: number): Promise<T>;
  maxAttempts: number;
  /** The wait before attempt `n + 1` after attempt `n` failed. */
  backoffMs(attempt: number): number;
  /** An error no retry can fix (a non-retryable failure): the model fails at once. */
  isFinal(err: unknown): boolean;
  /** Called the moment a model's outcome is known: the caller heartbeats it. */
  onDone(model: string, outcome: ModelOutcome<T>): void;
  /** Waits, or rejects when `signal` aborts. */
  sleep(ms: number): Promise<void>;
  signal: AbortSignal;
  /** Models run at once. */
  concurrency: number;
  describe(err: unknown): string;
}

export interface DateBatchResult<T> {
  outcomes: Record<string, ModelOutcome<T>>;
  /** Models a cancellation stopped before they finished: they stay to be run, never counted as failed. */
  cancelled: string[];
}

/**
 * Runs a date's model-days inside one activity: the models concurrently, each with its own attempts and
 * backoff (an agent's error costs only that model an attempt), each outcome reported the moment it is
 * known. A model that fails for good is an outcome, not an exception, so its siblings keep theirs; a
 * cancellation ends the waiting and running models, and the finished ones are still returned.
 */
export async function runDateBatch<T>(o: DateBatchOptions<T>): Promise<DateBatchResult<T>> {
  // A Map: a model id is a configured name, and `__proto__` is one too.
  const outcomes = new Map<string, ModelOutcome<T>>();
  for (const m of o.models) if (Object.hasOwn(o.done, m)) outcomes.set(m, o.done[m]!);
  const queue = o.models.filter((m) => !outcomes.has(m));
  const cancelled: string[] = [];

  async function one(model: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (o.signal.aborted) {
        cancelled.push(model);
        return;
      }
      try {
        const outcome: ModelOutcome<T> = { ok: true, value: await o.run(model, attempt) };
        outcomes.set(model, outcome);
        o.onDone(model, outcome);
        return;
      } catch (err) {
        if (o.signal.aborted) {
          cancelled.push(model);
          return;
        }
        if (o.isFinal(err) || attempt >= o.maxAttempts) {
          const outcome: ModelOutcome<T> = { ok: false, error: o.describe(err) };
          outcomes.set(model, outcome);
          o.onDone(model, outcome);
          return;
        }
        try {
          await o.sleep(o.backoffMs(attempt));
        } catch {
          cancelled.push(model);
          return;
        }
      }
    }
  }

  const workers = Array.from({ length: Math.max(1, Math.min(o.concurrency, queue.length)) }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) await one(next);
  });
  await Promise.all(workers);
  // fromEntries defines own properties, `__proto__` included.
  return { outcomes: Object.fromEntries(outcomes), cancelled };
}
