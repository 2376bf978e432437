import { Hono } from 'hono';
import { type AppDeps, type AppEnv, workflowUiLink } from '../context.js';
import { detailedStatus } from '../detailedStatus.js';
import { ApiError } from '../errors.js';
import { jobSummary } from '../presenters.js';
import { JobsQuery, StopBody } from '../schemas.js';
import { statusOf } from '../status.js';
import { jsonBody, parseWith } from '../validation.js';

export function jobRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    const q = parseWith(JobsQuery, c.req.query(), 'query');
    const { jobs, total } = await deps.jobs.list(
      {
        owner: c.get('owner'),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.model ? { model: q.model } : {}),
      },
      q.limit,
      q.offset,
    );
    return c.json({
      jobs: jobs.map((j) => jobSummary(j, { webUi: workflowUiLink(deps, j.workflowId) })),
      total,
      limit: q.limit,
      offset: q.offset,
    });
  });

  app.get('/:jobId', async (c) => {
    const job = await deps.jobs.get(c.req.param('jobId'));
    if (!job || job.owner !== c.get('owner')) throw new ApiError('not_found', `no job ${c.req.param('jobId')}`);
    return c.json(await statusOf(deps, job));
  });

  app.get('/:jobId/status/detailed', async (c) => {
    const job = await deps.jobs.get(c.req.param('jobId'));
    if (!job || job.owner !== c.get('owner')) throw new ApiError('not_found', `no job ${c.req.param('jobId')}`);
    return c.json(detailedStatus(job, await deps.jobs.modelDays(job._id), deps.models));
  });

  app.post('/:jobId/stop', async (c) => {
    const { reason } = parseWith(StopBody, await jsonBody(c), 'request body');
    const existing = await deps.jobs.get(c.req.param('jobId'));
    if (!existing || existing.owner !== c.get('owner'))
      throw new ApiError('not_found', `no job ${c.req.param('jobId')}`);
    const job = await deps.simulations.stop(existing._id, reason);
    return c.json({ ...jobSummary(job), message: 'stop requested: running model-days finish or are cancelled' }, 202);
  });

  return app;
}
