import type { z } from '@hono/zod-openapi';
import { SIMULATION_LIFECYCLE } from '../../jobs/lifecycle.js';
import type { SimulationJob } from '../../jobs/records.js';
import { modelDaysOf } from '../../jobs/simulationPlan.js';
import { countModelDays } from '../../storage/jobStore.js';
import { type AppDeps, workflowUiLink } from '../context.js';
import { ApiError } from '../http/errors.js';
import type { JobViews } from '../kinds/views.js';
import type { RetryAccepted } from '../responses.js';
import { type DetailsQuery, TriggerSimulationBody } from '../schemas.js';
import { simulationDetailedStatus } from './detailedStatus.js';
import { simulationStatus, simulationSummary } from './presenters.js';

/**
 * A simulation's status: whole counts (from its recorded end, or its workflow's live progress) and one
 * page of its planned model-days, whose records are read by key. Nothing scans the job's history.
 */
export function simulationStatusOf(
  deps: AppDeps,
  job: SimulationJob,
  query: DetailsQuery = { details_limit: 100 },
): Promise<ReturnType<typeof simulationStatus>> {
  // An ended job's answer holds until its record changes; a running one's for a quarter second.
  const key = `${job._id}|${job.updatedAt.getTime()}|${query.details_limit}|${query.details_cursor ?? 0}`;
  const ttlMs = SIMULATION_LIFECYCLE.isTerminal(job.status) ? 60_000 : 250;
  return deps.responses.get(key, ttlMs, () => computeStatus(deps, job, query)) as Promise<
    ReturnType<typeof simulationStatus>
  >;
}

async function computeStatus(deps: AppDeps, job: SimulationJob, query: DetailsQuery) {
  const live = SIMULATION_LIFECYCLE.isActive(job.status) ? await deps.liveProgress.get(job.workflowId) : undefined;
  const planned = modelDaysOf(job.plan, job.models);
  const from = Math.min(Number(query.details_cursor ?? 0), planned.length);
  const entries = planned.slice(from, from + query.details_limit);
  const next = from + entries.length;
  const records = await deps.jobs.modelDaysByKeys(job._id, entries);
  // Only when neither the end nor the workflow can say (a run between two of its runs, say): count records.
  const fallback =
    !live && !(job.summary && SIMULATION_LIFECYCLE.isTerminal(job.status))
      ? countModelDays(await deps.jobs.modelDays(job._id))
      : undefined;
  const links = { webUi: workflowUiLink(deps, job.workflowId) };
  return simulationStatus(
    job,
    {
      entries,
      records,
      total: planned.length,
      // A page of none (the counts alone) has nothing to go on to: a cursor here would be followed forever.
      nextCursor: entries.length > 0 && next < planned.length ? String(next) : null,
    },
    links,
    live,
    fallback,
  );
}

export function simulationViews(deps: AppDeps, job: SimulationJob): JobViews {
  const links = { webUi: workflowUiLink(deps, job.workflowId) };
  return {
    status: (query) => simulationStatusOf(deps, job, query),
    listItem: () => simulationSummary(job, links),
    detailed: async () => simulationDetailedStatus(job, await deps.jobs.modelDays(job._id), deps.models),
    stopMessage: 'stop requested: running model-days finish or are cancelled',
    /** A simulation is retried by its own request again, which resumes where it ended, as a new job. */
    retry: async (owner): Promise<{ status: 200 | 202; body: z.infer<typeof RetryAccepted> }> => {
      if (!SIMULATION_LIFECYCLE.isRetryable(job.status)) {
        throw new ApiError(
          'not_retryable',
          `job ${job._id} is ${job.status}; only ${SIMULATION_LIFECYCLE.retryable.join(', ')} simulation jobs can be retried`,
          { status: job.status },
        );
      }
      const request = TriggerSimulationBody.safeParse(job.request);
      if (!request.success) {
        throw new ApiError('not_retryable', `job ${job._id}'s request no longer fits the trigger: trigger it anew`, {
          status: job.status,
        });
      }
      const result = await deps.simulations.trigger(owner, request.data);
      if (result.kind === 'current') {
        return {
          status: 200,
          body: { status: 'current', message: 'nothing is left to run for this job', retried_job_id: job._id },
        };
      }
      const again = simulationSummary(result.job, { webUi: workflowUiLink(deps, result.job.workflowId) });
      return { status: result.kind === 'started' ? 202 : 200, body: { ...again, retried_job_id: job._id } };
    },
  };
}
