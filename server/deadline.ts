/**
 * `promise`'s value, or `fallback` once `ms` have passed, whichever comes first. The timer is cleared
 * either way: a status request or a retry leaves nothing pending behind it.
 */
export async function withDeadline<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<F>((resolve) => {
        timer = setTimeout(() => resolve(fallback), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long a request waits for one Temporal call. A server that is down fails at once; one that is
 * frozen (SIGSTOP, a stalled disk) keeps its connection open and answers nothing, so without a deadline a
 * request would wait as long as the client library does (30 s and more) and then act anyway.
 */
export const TEMPORAL_CALL_MS = 3_000;

/** Runs `f`'s Temporal calls under a gRPC deadline `ms` from now: past it they fail with DEADLINE_EXCEEDED. */
export function temporalDeadline<T>(
  temporal: { withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R> },
  f: () => Promise<T>,
  ms: number = TEMPORAL_CALL_MS,
): Promise<T> {
  return temporal.withDeadline(Date.now() + ms, f);
}

/**
 * How long the API waits for one database call. A database that is down fails fast (server selection),
 * but a frozen one (SIGSTOP, a stalled disk) keeps its connections open and answers nothing; the driver
 * notices only when its monitor's next check times out, tens of seconds later. Past this deadline a
 * request answers 503 at once; the call itself ends when the driver gives up on the connection.
 */
export const DATABASE_CALL_MS = 1_500;
/** The deadline of the few reads whose size grows with a job or a range (a job's every model-day, say). */
export const DATABASE_SCAN_MS = 10_000;

/** A database call that got no answer within the API's deadline: the database is frozen or overloaded. */
export class DatabaseDeadlineError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`the database did not answer ${what} within ${ms} ms`);
    this.name = 'DatabaseDeadlineError';
  }
}

/**
 * `target` with every method that returns a promise bounded by `ms`: past it the call rejects with
 * DatabaseDeadlineError. Methods that return anything else (a cursor, a value) are passed through.
 */
export function withCallDeadlines<T extends object>(
  target: T,
  ms: number = DATABASE_CALL_MS,
  name = 'store',
  /** Methods that read a whole job or range, whose own deadline is longer. */
  slower: Partial<Record<keyof T, number>> = {},
): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      const limit = (slower as Record<PropertyKey, number | undefined>)[prop] ?? ms;
      return function (this: unknown, ...args: unknown[]) {
        const result = value.apply(this === receiver ? obj : this, args);
        if (!(result instanceof Promise)) return result;
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new DatabaseDeadlineError(`${name}.${String(prop)}`, limit)), limit);
        });
        // The call may still settle after the deadline: its outcome is then nobody's, and not an unhandled rejection.
        result.catch(() => undefined);
        return Promise.race([result, deadline]).finally(() => clearTimeout(timer));
      };
    },
  });
}
