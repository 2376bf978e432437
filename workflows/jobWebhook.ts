import { ParentClosePolicy, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhooks/index.js';
import { BOOKKEEPING_RETRY, WORKER_SILENCE_TIMEOUT } from './definitions.js';
import { failureMessage } from './failures.js';
import {
  type JobWebhookInput,
  type JobWebhookOutcome,
  jobEndWebhookWorkflowId,
  WEBHOOK_REFUSED,
} from './webhookContract.js';

/**
 * Delivers one completion webhook: the event is fixed and the delivery registered in the job's log,
 * then one activity sends it, retried by Temporal with backoff for hours (the policy comes from the
 * worker's settings, recorded in this history); each attempt writes its own log entry.
 */
export async function jobWebhookWorkflow(input: JobWebhookInput): Promise<JobWebhookOutcome> {
  const { prepareJobWebhook } = proxyActivities<WebhookActivities>({
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: WORKER_SILENCE_TIMEOUT,
    retry: BOOKKEEPING_RETRY,
  });
  const prepared = await prepareJobWebhook({ ...input, preparedBy: workflowInfo().workflowId });
  if (!prepared.deliver) return { status: 'skipped', reason: prepared.reason };
  const { deliveryId, retry } = prepared;
  const { deliverJobWebhook } = proxyActivities<WebhookActivities>({
    // One attempt: a POST with its own 15 s limit, and the log writes around it.
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: WORKER_SILENCE_TIMEOUT,
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
      maximumAttempts: retry.maximumAttempts,
      nonRetryableErrorTypes: [WEBHOOK_REFUSED],
    },
  });
  try {
    await deliverJobWebhook({ deliveryId, retry });
    return { status: 'delivered', deliveryId };
  } catch (err) {
    return { status: 'failed', deliveryId, reason: failureMessage(err) };
  }
}

/**
 * Starts the delivery of a job's end from the workflow that recorded it, as a child left running when
 * that workflow closes (it may retry for hours; the job is over). Its id is the job's and this run's
 * (`webhook-<job>-<run id>`), so a repeated call cannot start a second one; the delivery's own id
 * (the message's) is derived from the job's end, so two workflows recording one end send it once.
 */
export async function startJobEndWebhook(jobId: string): Promise<void> {
  try {
    await startChild(jobWebhookWorkflow, {
      workflowId: jobEndWebhookWorkflowId(jobId, workflowInfo().runId),
      args: [{ jobId, origin: 'job_end' }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch {
    // Already started (a retried start): the delivery is under way.
  }
}
