import type { z } from '@hono/zod-openapi';
import { SIMULATION_LIFECYCLE } from '../../jobs/lifecycle.js';
import type { SimulationJob } from '../../jobs/records.js';
import { simulationProgressQuery } from '../../workflows/definitions.js';
import { type AppDeps, workflowUiLink } from '../context.js';
import { withDeadline } from '../deadline.js';
import { simulationDetailedStatus } from '../detailedStatus.js';
import { ApiError } from '../errors.js';
import { type LiveProgress, simulationStatus, simulationSummary } from '../presenters.js';
import type { RetryAccepted } from '../responses.js';
import { TriggerSimulationBody } from '../schemas.js';
import type { JobViews } from './index.js';

/** How long a status request waits for the workflow's live progress before answering from the record. */
const LIVE_PROGRESS_WAIT_MS = 2_000;

/** The stored record of a job plus, while it runs, what its workflow is doing right now. */
export async function simulationStatusOf(deps: AppDeps, job: SimulationJob) {
  let live: LiveProgress | undefined;
  if (SIMULATION_LIFECYCLE.isActive(job.status)) {
    try {
      live = await withDeadline(
        deps.temporal.workflow.getHandle(job.workflowId).query(simulationProgressQuery),
        LIVE_PROGRESS_WAIT_MS,
        undefined,
      );
    } catch {
      // A workflow between runs (continue-as-new) or not yet started has no answer: the stored record stands.
    }
  }
  const links = { webUi: workflowUiLink(deps, job.workflowId) };
  return simulationStatus(job, await deps.jobs.modelDays(job._id), links, live);
}

export function simulationViews(deps: AppDeps, job: SimulationJob): JobViews {
  const links = { webUi: workflowUiLink(deps, job.workflowId) };
  return {
    status: () => simulationStatusOf(deps, job),
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
