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
