import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Logger } from 'pino';
import {
  DEFAULT_RECONCILE_INTERVAL_MS,
  DEFAULT_RECONCILE_ROUNDS_PER_RUN,
  type ReconcileJobsInput,
  reconcilerWorkflowId,
} from '../workflows/reconcileContract.js';
import { reconcileJobsWorkflow } from '../workflows/reconcileJobs.js';

export interface JobReconcilerOptions {
  /** Pause between two looks (tests shorten it). */
  intervalMs?: number;
  roundsPerRun?: number;
}

/**
 * Makes sure the job reconciler runs for this deployment (its orchestrator task queue): starts it
 * unless it runs already. Every worker process calls this at start; the second one finds it running,
 * which is fine, and one that finds it gone (terminated by an operator, say) starts it again.
 */
export async function ensureJobReconciler(
  client: Client,
  orchestratorTaskQueue: string,
  logger: Logger,
  o: JobReconcilerOptions = {},
): Promise<{ workflowId: string; started: boolean }> {
  const workflowId = reconcilerWorkflowId(orchestratorTaskQueue);
  const input: ReconcileJobsInput = {
    intervalMs: o.intervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS,
    roundsPerRun: o.roundsPerRun ?? DEFAULT_RECONCILE_ROUNDS_PER_RUN,
  };
  try {
    await client.workflow.start(reconcileJobsWorkflow, {
      workflowId,
      taskQueue: orchestratorTaskQueue,
      args: [input],
      staticSummary: `closes jobs whose workflow is gone, every ${Math.round(input.intervalMs / 1000)} s`,
    });
    logger.info({ workflowId, intervalMs: input.intervalMs }, 'job reconciler started');
    return { workflowId, started: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { workflowId, started: false };
  }
}
