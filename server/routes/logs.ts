import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { JobEventDoc } from '../../storage/jobEvents.js';
import { TERMINAL_JOB_STATUSES } from '../../storage/types.js';
import type { AppDeps, AppEnv } from '../context.js';
import { ApiError } from '../errors.js';

const HEARTBEAT_MS = 12_000;
const TERMINAL_EVENTS = new Set(['completed', 'error']);

function position(raw: string | undefined, what: string): number {
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,10}$/.test(raw))
    throw new ApiError('bad_request', `${what} must be an event id (a whole number), got '${raw}'`);
  return Number(raw);
}

/** Each event is encoded once, however many streams it goes to: a thousand clients share one string. */
const encoded = new WeakMap<JobEventDoc, string>();
function frame(e: JobEventDoc): string {
  let text = encoded.get(e);
  if (!text) {
    text = `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...e.data, timestamp: e.at.toISOString() })}\n\n`;
    encoded.set(e, text);
  }
  return text;
}

export function logRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  async function ownedJob(jobId: string, owner: string) {
    const job = await deps.jobs.get(jobId);
    if (!job || job.owner !== owner) throw new ApiError('not_found', `no job ${jobId}`);
    return job;
  }

  /** A page of the job's events, for clients that poll instead of streaming. */
  app.get('/:jobId/logs', async (c) => {
    const job = await ownedJob(c.req.param('jobId'), c.get('owner'));
    const after = position(c.req.query('after'), 'after');
    const limit = Math.min(500, Math.max(1, Number(c.req.query('limit') ?? 100) || 100));
    const events = await deps.events.page(job._id, after, limit);
    const last = await deps.events.lastSeq(job._id);
    return c.json({
      job_id: job._id,
      status: job.status,
      events: events.map((e) => ({ id: e.seq, type: e.type, ...e.data, timestamp: e.at.toISOString() })),
      next_after: events.at(-1)?.seq ?? after,
      last_event_id: last,
    });
  });

  /**
   * The live stream: typed SSE events with ids. A client that reconnects with `Last-Event-ID` gets
   * exactly the events after it, also when the job ended meanwhile; the stream closes after the job's
   * `completed` or `error` event. Any server instance can serve it: events live in MongoDB.
   */
  app.get('/:jobId/logs/stream', async (c) => {
    const job = await ownedJob(c.req.param('jobId'), c.get('owner'));
    const after = position(c.req.header('last-event-id') ?? c.req.query('last_event_id'), 'Last-Event-ID');
    c.header('Cache-Control', 'no-cache');
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      await stream.writeSSE({
        event: 'connection',
        data: JSON.stringify({
          job_id: job._id,
          status: job.status,
          resumed_after: after,
          timestamp: new Date().toISOString(),
        }),
      });
      let done = false;
      let queue = Promise.resolve();
      let finish: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const unsubscribe = deps.eventHub.subscribe(job._id, after, (e) => {
        if (done) return;
        if (TERMINAL_EVENTS.has(e.type)) done = true;
        queue = queue.then(async () => {
          await stream.write(frame(e));
          if (TERMINAL_EVENTS.has(e.type)) finish();
        });
      });
      const heartbeat = setInterval(() => {
        queue = queue.then(() => stream.write(': keep-alive\n\n')).then(() => undefined);
      }, HEARTBEAT_MS);
      stream.onAbort(() => finish());
      try {
        // A job that ended before events existed for it has no terminal event: close once it is drained.
        if (TERMINAL_JOB_STATUSES.includes(job.status) && (await deps.events.lastSeq(job._id)) === 0) finish();
        await finished;
      } finally {
        clearInterval(heartbeat);
        unsubscribe();
      }
      await queue;
    });
  });

  return app;
}
