import type { Context } from '@temporalio/activity';

/** What each running activity last checkpointed in its heartbeat details. */
const checkpoints = new WeakMap<Context, unknown>();

/**
 * Heartbeats `details` as the activity's checkpoint: what its next attempt finds in
 * `info.heartbeatDetails`. The server keeps only the latest heartbeat's details, so the worker's
 * liveness beats (worker/heartbeatClock.ts) repeat these rather than send none and erase them.
 */
export function checkpoint(ctx: Context, details: unknown): void {
  checkpoints.set(ctx, details);
  ctx.heartbeat(details);
}

/** The details `ctx`'s activity last checkpointed (undefined: none yet). */
export function lastCheckpoint(ctx: Context): unknown {
  return checkpoints.get(ctx);
}
