import { patched, proxyActivities } from '@temporalio/workflow';
import type { AnalysisActivities } from '../activities/analysis.js';
import type { SimulationActivities } from '../activities/simulation/activities.js';
import { BOOKKEEPING_RETRY, type CloseAbandonedJobInput, WORKER_SILENCE_TIMEOUT } from './definitions.js';
import { startJobEndWebhook } from './jobWebhook.js';
import { WEBHOOK_PATCH } from './webhookContract.js';

/**
 * Ends a job whose own workflow is gone (terminated from the Web UI, or never started after a crash):
 * its record still says it is going and its models stay locked until something records the end. The
 * API finds such jobs and starts this; like every status change, the end is written by an activity.
 */
export async function closeAbandonedJobWorkflow(input: CloseAbandonedJobInput): Promise<void> {
  const { finishSimulationJob, finishAnalysisJob } = proxyActivities<SimulationActivities & AnalysisActivities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: WORKER_SILENCE_TIMEOUT,
    retry: BOOKKEEPING_RETRY,
  });
  const failed = input.status === 'failed';
  switch (input.kind) {
    case 'simulation':
      await finishSimulationJob({
        jobId: input.jobId,
        owner: input.owner,
        stopped: !failed,
        // Why it ended goes in its record, also when it ends stopped (the end's status comes from `stopped`).
        error: input.reason,
        remaining: [],
        remainingFromPlan: true,
      });
      break;
    case 'analysis':
      await finishAnalysisJob({
        jobId: input.jobId,
        status: input.status,
        error: input.reason,
        ...(failed ? { errorType: 'sandbox_error' } : {}),
      });
      break;
  }
  // Patched: histories from before completion webhooks start no delivery. This workflow does not read the
  // job, so the delivery does: a job without a callback_url is skipped there.
  if (patched(WEBHOOK_PATCH)) await startJobEndWebhook(input.jobId);
}
