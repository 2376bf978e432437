import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  continueAsNew,
  isCancellation,
  log,
  ParentClosePolicy,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReconcilerActivities } from '../activities/jobReconciler.js';
import { closeAbandonedJobWorkflow } from './closeAbandonedJob.js';
import { type CloseAbandonedJobInput, closeJobWorkflowId, WORKER_SILENCE_TIMEOUT } from './definitions.js';
import { failureMessage } from './failures.js';
import type { ReconcileJobsInput } from './reconcileContract.js';

/**
 * Closes jobs whose workflow is gone, so none reads `running` forever or keeps its models locked. One
 * long-lived workflow per deployment (started by every worker, idempotently): it looks, closes what it
 * found with a closeAbandonedJobWorkflow each (the same workflow the API starts, under the same id, so
 * a job is closed once whoever finds it first), sleeps, and continues as new every `roundsPerRun` looks.
 */
export async function reconcileJobsWorkflow(input: ReconcileJobsInput): Promise<void> {
  const { findAbandonedJobs } = proxyActivities<ReconcilerActivities>({
    startToCloseTimeout: '2 minutes',
    // A look lost with its worker is made again elsewhere after seconds, not after its two minutes.
    heartbeatTimeout: WORKER_SILENCE_TIMEOUT,
    // A look that cannot be made (Temporal or the database away) is made again at the next round.
    retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 3 },
  });
  let since = input.since;
  for (let round = 0; round < input.roundsPerRun; round++) {
    try {
      const found = await findAbandonedJobs(since === undefined ? {} : { since });
      since = found.checkedUntil;
      for (const job of found.abandoned) await close(job);
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('job reconciler: a look failed; trying again next round', { error: failureMessage(err) });
    }
    if (workflowInfo().continueAsNewSuggested) break;
    await sleep(input.intervalMs);
  }
  await continueAsNew<typeof reconcileJobsWorkflow>({ ...input, ...(since === undefined ? {} : { since }) });
}

async function close(job: CloseAbandonedJobInput): Promise<void> {
  try {
    await startChild(closeAbandonedJobWorkflow, {
      workflowId: closeJobWorkflowId(job.jobId),
      args: [job],
      // The close outlives this run (which continues as new) and is not cancelled with the reconciler.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `close ${job.kind} job ${job.jobId}: ${job.reason}`,
    });
  } catch (err) {
    // The API (or an earlier round) is closing it already.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
