import { setTimeout as sleep } from 'node:timers/promises';
import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';

/**
 * The database could not be reached (down, restarting, network, or a client that never got through):
 * an outage, which passes, as opposed to an error of the request itself. MongoNetworkTimeoutError is a
 * MongoNetworkError.
 */
export function isUnreachable(err: unknown): boolean {
  return (
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNetworkError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError
  );
}

/**
 * Runs `f` until the database answers: an outage is waited out with backoff (1 s to 10 s), calling
 * `onWait` each time (a heartbeat, a log line), so it never counts as the caller's own failure. Any
 * other error is the caller's. Stops waiting when `signal` aborts.
 */
export async function untilReachable<T>(
  f: () => Promise<T>,
  o: { onWait?: (err: unknown, waitedMs: number) => void; signal?: AbortSignal } = {},
): Promise<T> {
  let delay = 1_000;
  const since = Date.now();
  for (;;) {
    try {
      return await f();
    } catch (err) {
      if (!isUnreachable(err) || o.signal?.aborted) throw err;
      o.onWait?.(err, Date.now() - since);
      await sleep(delay, undefined, o.signal ? { signal: o.signal } : {}).catch(() => undefined);
      if (o.signal?.aborted) throw err;
      delay = Math.min(delay * 2, 10_000);
    }
  }
}
