import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { endsRun } from '../../jobs/events.js';
import { isTerminalStatus } from '../../jobs/lifecycle.js';
import { runOf } from '../../jobs/records.js';
import type { JobEventDoc } from '../../storage/jobEvents.js';
import type { AppDeps, JobEnv } from '../context.js';
import { ApiError, errorResponses } from '../http/errors.js';
import { ownedJob } from '../http/middleware/ownedJob.js';
import { validationHook } from '../http/validation.js';
import { JobIdParams } from '../schemas.js';

// A job's live events over SSE, every kind alike (the event hub, server/eventHub.ts, feeds every stream).

const HEARTBEAT_MS = 12_000;

/** Each event is encoded once, however many streams it goes to: a thousand clients share one string. */
const encoded = new WeakMap<JobEventDoc, Uint8Array>();
const utf8 = new TextEncoder();
function frame(e: JobEventDoc): Uint8Array {
  let bytes = encoded.get(e);
  if (!bytes) {
    // Bytes, not a string: a string would be encoded again for every stream it is written to.
    bytes = utf8.encode(
      `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...e.data, timestamp: e.at.toISOString() })}\n\n`,
    );
    encoded.set(e, bytes);
  }
  return bytes;
}
const KEEP_ALIVE = utf8.encode(': keep-alive\n\n');

/** A position in a job's events (`after`, `Last-Event-ID`): 0 when absent. */
export function eventPosition(raw: string | undefined, what: string): number {
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,10}$/.test(raw)) {
    throw new ApiError('bad_request', `${what} must be an event id (a whole number), got '${raw.slice(0, 20)}'`);
  }
  return Number(raw);
}

const stream = createRoute({
  method: 'get',
  path: '/{jobId}/logs/stream',
  summary:
    'Live events (SSE: connection, status, log, completed, error); resume with Last-Event-ID. The stream ends after the job’s last event.',
  request: {
    params: JobIdParams,
    headers: z.object({ 'last-event-id': z.string().max(20).optional() }),
    query: z.object({ last_event_id: z.string().max(20).optional() }).strict(),
  },
  responses: {
    200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...errorResponses('not_found', 'bad_request'),
  },
});

/** What these routes use of the app's dependencies. */
export type JobStreamDeps = Pick<AppDeps, 'eventHub' | 'events' | 'jobs' | 'responses'>;

export function jobStreamRoutes(deps: JobStreamDeps) {
  const app = new OpenAPIHono<JobEnv>({ defaultHook: validationHook });
  app.use('/:jobId/logs/stream', ownedJob(deps.jobs, deps.responses));

  /**
   * The live stream: typed SSE events with ids. A client that reconnects with `Last-Event-ID` gets
   * exactly the events after it, also when the job ended meanwhile; the stream closes after the job's
   * last event, and a stream of an ended job with nothing left to send closes at once (browsers'
   * EventSource reconnects with the last id it saw, so this is what ends its loop).
   */
  app.openapi(stream, async (c) => {
    const job = c.var.job;
    const after = eventPosition(c.req.header('last-event-id') ?? c.req.valid('query').last_event_id, 'Last-Event-ID');
    c.header('Cache-Control', 'no-cache');
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (sse) => {
      await sse.writeSSE({
        event: 'connection',
        data: JSON.stringify({
          job_id: job._id,
          status: job.status,
          resumed_after: after,
          timestamp: new Date().toISOString(),
        }),
      });
      const last = await deps.events.lastSeq(job._id);
      if (isTerminalStatus(job) && after >= last) {
        // Ended, and the client has seen everything: nothing will ever come.
        return;
      }
      // A position past the end claims events nobody has written: this client has seen all there is. The
      // job's stream is shared, so a made-up position must not become where it starts for everyone.
      const from = Math.min(after, last);
      // The run this client follows: an earlier run's end (a job that ran again) does not end its stream.
      const run = runOf(job);
      let queue = Promise.resolve();
      let finish: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      let done = false;
      const unsubscribe = deps.eventHub.subscribe(job._id, from, {
        deliver: (e) => {
          if (done) return;
          const ends = endsRun(e, run);
          if (ends) done = true;
          queue = queue.then(async () => {
            await sse.write(frame(e));
            if (ends) finish();
          });
        },
        // The hub found the job ended with nothing more for this stream.
        end: () => finish(),
      });
      const heartbeat = setInterval(() => {
        queue = queue.then(() => sse.write(KEEP_ALIVE)).then(() => undefined);
      }, HEARTBEAT_MS);
      sse.onAbort(() => finish());
      try {
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
