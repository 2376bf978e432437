import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { isActiveStatus } from '../../jobs/lifecycle.js';
import { WRITER_GONE_AFTER_MS } from '../../storage/jobEvents.js';
import { withJobCapacity } from '../auth/jobCap.js';
import { type AppDeps, type JobEnv, listOwner } from '../context.js';
import { errorResponses, WRITE_ERROR_CODES } from '../http/errors.js';
import { ownedJob } from '../http/middleware/ownedJob.js';
import { jsonBody, jsonResponse } from '../http/openapi.js';
import { validationHook } from '../http/validation.js';
import { jobViews } from '../kinds/index.js';
import { DetailedStatusBody, JobList, JobStatusBody, LogsPage, RetryAccepted, StopAccepted } from '../responses.js';
import { DetailsQuery, JobIdParams, JobsQuery, LogsQuery, StopBody } from '../schemas.js';
import { withStorageWarning } from '../storeHealth.js';
import { eventPosition } from './jobStream.js';

const list = createRoute({
  method: 'get',
  path: '/',
  summary: 'List jobs of every kind, newest first',
  request: { query: JobsQuery },
  responses: {
    200: jsonResponse(JobList, 'a page of jobs, each in its kind’s shape'),
    ...errorResponses('bad_request'),
  },
});

const detail = createRoute({
  method: 'get',
  path: '/{jobId}',
  summary:
    'A job’s status in its kind’s shape (a simulation’s progress and a page of its model-days; an analysis’ result and files)',
  request: { params: JobIdParams, query: DetailsQuery },
  responses: { 200: jsonResponse(JobStatusBody, 'the job'), ...errorResponses('not_found') },
});

const detailed = createRoute({
  method: 'get',
  path: '/{jobId}/status/detailed',
  summary: 'Steps, timings, tokens and cost',
  request: { params: JobIdParams },
  responses: { 200: jsonResponse(DetailedStatusBody, 'detailed status'), ...errorResponses('not_found') },
});

const stop = createRoute({
  method: 'post',
  path: '/{jobId}/stop',
  summary: 'Stop a job: work in flight finishes or is cancelled, then it ends `stopped`',
  request: { params: JobIdParams, body: jsonBody(StopBody, false) },
  responses: {
    202: jsonResponse(StopAccepted, 'stop requested'),
    ...errorResponses('not_found', 'not_running', 'bad_request', 'service_unavailable', ...WRITE_ERROR_CODES),
  },
});

const retry = createRoute({
  method: 'post',
  path: '/{jobId}/retry',
  summary:
    'Run what an ended job left undone: a simulation resumes as a new job, an analysis runs again as its next run',
  request: { params: JobIdParams },
  responses: {
    202: jsonResponse(RetryAccepted, 'the run that was started'),
    200: jsonResponse(RetryAccepted, 'nothing left to run, or the same job already running'),
    ...errorResponses(
      'not_found',
      'not_retryable',
      'conflict',
      'validation_error',
      'unknown_model',
      'service_unavailable',
      ...WRITE_ERROR_CODES,
    ),
  },
});

const logs = createRoute({
  method: 'get',
  path: '/{jobId}/logs',
  summary: 'A page of the job’s events, for clients that poll',
  request: { params: JobIdParams, query: LogsQuery },
  responses: { 200: jsonResponse(LogsPage, 'events'), ...errorResponses('not_found', 'bad_request') },
});

/** Every `/jobs` route: the owned-job middleware loads `{jobId}` once for all of them. */
export function jobRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<JobEnv>({ defaultHook: validationHook });
  const owned = ownedJob(deps.jobs, deps.responses);
  for (const path of ['/:jobId', '/:jobId/status/detailed', '/:jobId/stop', '/:jobId/retry', '/:jobId/logs']) {
    app.use(path, owned);
  }

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const { jobs, total } = await deps.jobs.list(
      {
        ...(listOwner(c) !== undefined ? { owner: listOwner(c) } : {}),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.model ? { model: q.model } : {}),
      },
      q.limit,
      q.offset,
    );
    return c.json(
      { jobs: jobs.map((j) => jobViews(deps, j).listItem()), total, limit: q.limit, offset: q.offset },
      200,
    );
  });

  app.openapi(detail, async (c) =>
    c.json(await withStorageWarning(deps, await jobViews(deps, c.var.job).status(c.req.valid('query'))), 200),
  );

  app.openapi(detailed, async (c) => c.json(await jobViews(deps, c.var.job).detailed(), 200));

  app.openapi(stop, async (c) => {
    const { reason } = c.req.valid('json');
    const job = c.var.job;
    await deps.control.stop(job, reason ?? 'stopped by request');
    const views = jobViews(deps, job);
    return c.json(
      {
        job_id: job._id,
        kind: job.kind,
        // What the stop started: the workflow records `stopping`, then the end.
        status: isActiveStatus(job) ? 'stopping' : job.status,
        stop_requested: true as const,
        message: views.stopMessage,
        job: views.listItem(),
      },
      202,
    );
  });

  app.openapi(retry, async (c) => {
    // A simulation's retry is a new job, under the cap; an analysis' retry runs the same job again (its
    // own start is guarded against a second retry racing it, and needs no extra reads before it).
    const again = () => jobViews(deps, c.var.job).retry(c.var.job.owner);
    const { status, body } =
      c.var.job.kind === 'simulation' ? await withJobCapacity(deps, c.var.job.owner, 1, again) : await again();
    return status === 202 ? c.json(body, 202) : c.json(body, 200);
  });

  app.openapi(logs, async (c) => {
    const job = c.var.job;
    const q = c.req.valid('query');
    const after = eventPosition(q.after, 'after');
    const [events, last] = await Promise.all([
      deps.events.page(job._id, after, q.limit, { untilHole: { graceMs: WRITER_GONE_AFTER_MS } }),
      deps.events.lastSeq(job._id),
    ]);
    return c.json(
      {
        job_id: job._id,
        status: job.status,
        events: events.map((e) => ({ id: e.seq, type: e.type, ...e.data, timestamp: e.at.toISOString() })),
        next_after: events.at(-1)?.seq ?? after,
        last_event_id: last,
      },
      200,
    );
  });

  return app;
}
