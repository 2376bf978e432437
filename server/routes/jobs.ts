import { Hono } from 'hono';
import { analysisDetailedStatus, analysisJobStatus } from '../analysisPresenter.js';
import { type AppDeps, type AppEnv, workflowUiLink } from '../context.js';
import { detailedStatus } from '../detailedStatus.js';
import { ApiError } from '../errors.js';
import { jobSummary } from '../presenters.js';
import { JobsQuery, StopBody, TriggerSimulationBody } from '../schemas.js';
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
      jobs: jobs.map((j) =>
        j.kind === 'analysis'
          ? analysisJobStatus(j, { webUi: workflowUiLink(deps, j.workflowId) })
          : jobSummary(j, { webUi: workflowUiLink(deps, j.workflowId) }),
      ),
      total,
      limit: q.limit,
      offset: q.offset,
    });
  });

  app.get('/:jobId', async (c) => {
    const job = await deps.jobs.get(c.req.param('jobId'));
    if (!job || job.owner !== c.get('owner')) throw new ApiError('not_found', `no job ${c.req.param('jobId')}`);
    if (job.kind === 'analysis') return c.json(analysisJobStatus(job, { webUi: workflowUiLink(deps, job.workflowId) }));
    return c.json(await statusOf(deps, job));
  });

  app.get('/:jobId/status/detailed', async (c) => {
    const job = await deps.jobs.get(c.req.param('jobId'));
    if (!job || job.owner !== c.get('owner')) throw new ApiError('not_found', `no job ${c.req.param('jobId')}`);
    if (job.kind === 'analysis')
      return c.json(analysisDetailedStatus(job, { webUi: workflowUiLink(deps, job.workflowId) }));
    return c.json(detailedStatus(job, await deps.jobs.modelDays(job._id), deps.models));
  });

  /** Runs what a stopped, failed or partial job left undone: its own request again, which resumes it. */
  app.post('/:jobId/retry', async (c) => {
    const job = await deps.jobs.get(c.req.param('jobId'));
    if (!job || job.owner !== c.get('owner')) throw new ApiError('not_found', `no job ${c.req.param('jobId')}`);
    if (job.kind === 'analysis') {
      const again = await deps.analyses.retry(job);
      return c.json(
        { ...analysisJobStatus(again, { webUi: workflowUiLink(deps, again.workflowId) }), retried_job_id: job._id },
        202,
      );
    }
    if (!['stopped', 'failed', 'partial'].includes(job.status)) {
      throw new ApiError(
        'not_retryable',
        `job ${job._id} is ${job.status}; only stopped, failed or partial jobs can be retried`,
        {
          status: job.status,
        },
      );
    }
    const request = TriggerSimulationBody.parse(job.request);
    const result = await deps.simulations.trigger(c.get('owner'), request);
    if (result.kind === 'current') {
      return c.json({ status: 'current', message: 'nothing is left to run for this job', retried_job_id: job._id });
    }
    return c.json(
      { ...jobSummary(result.job, { webUi: workflowUiLink(deps, result.job.workflowId) }), retried_job_id: job._id },
      result.kind === 'started' ? 202 : 200,
    );
  });

  app.post('/:jobId/stop', async (c) => {
    const { reason } = parseWith(StopBody, await jsonBody(c), 'request body');
    const existing = await deps.jobs.get(c.req.param('jobId'));
    if (!existing || existing.owner !== c.get('owner'))
      throw new ApiError('not_found', `no job ${c.req.param('jobId')}`);
    const job = await deps.simulations.stop(existing._id, reason);
    if (job.kind === 'analysis') {
      return c.json(
        {
          ...analysisJobStatus(job),
          message: 'stop requested: the sandbox gets SIGTERM, then a kill after the grace period',
        },
        202,
      );
    }
    return c.json({ ...jobSummary(job), message: 'stop requested: running model-days finish or are cancelled' }, 202);
  });

  return app;
}
