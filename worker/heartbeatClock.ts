import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { lastCheckpoint } from '../activities/checkpoint.js';

/**
 * Every activity scheduled with a heartbeat timeout heartbeats on a clock while it runs, so the timeout
 * measures whether its worker is alive, not how long its work takes: a worker killed mid-activity is
 * noticed within that timeout (seconds) instead of the activity's start-to-close bound (minutes), and a
 * slow but live activity (a database outage waited out) is never cut short by it. Each beat carries the
 * activity's last checkpoint: the server keeps only the latest details, and a bare beat would erase them.
 */
export function heartbeatClock(ctx: Context): ReturnType<ActivityInterceptorsFactory> {
  return {
    inbound: {
      async execute(input, next) {
        const timeoutMs = ctx.info.heartbeatTimeoutMs;
        if (!timeoutMs) return next(input);
        // A third of the timeout: two beats may be lost or throttled before the server gives up on us.
        // Before its first checkpoint, a retried activity's is the one its last attempt left.
        const details = () => lastCheckpoint(ctx) ?? ctx.info.heartbeatDetails;
        const beat = setInterval(() => ctx.heartbeat(details()), Math.max(100, Math.floor(timeoutMs / 3)));
        try {
          return await next(input);
        } finally {
          clearInterval(beat);
        }
      },
    },
  };
}
