import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Every activity scheduled with a heartbeat timeout heartbeats on a clock while it runs, so the timeout
 * measures whether its worker is alive, not how long its work takes: a worker killed mid-activity is
 * noticed within that timeout (seconds) instead of the activity's start-to-close bound (minutes), and a
 * slow but live activity (a database outage waited out) is never cut short by it.
 */
export function heartbeatClock(ctx: Context): ReturnType<ActivityInterceptorsFactory> {
  return {
    inbound: {
      async execute(input, next) {
        const timeoutMs = ctx.info.heartbeatTimeoutMs;
        if (!timeoutMs) return next(input);
        // A third of the timeout: two beats may be lost or throttled before the server gives up on us.
        const beat = setInterval(() => ctx.heartbeat(), Math.max(100, Math.floor(timeoutMs / 3)));
        try {
          return await next(input);
        } finally {
          clearInterval(beat);
        }
      },
    },
  };
}
