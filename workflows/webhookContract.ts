/**
 * Completion webhooks: what the workflow that delivers one and its activities share (workflows import
 * this, activities too; neither imports the other's module).
 */

/** How a delivery is retried: Temporal's retry policy of the delivering activity, so a worker lost mid-way costs nothing. */
export interface WebhookRetry {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
}

/**
 * About seven hours of attempts: 10 s doubling to an hour (10 s, 20 s, … 43 min, then hourly), 16 in all.
 * Tests shorten it (worker option `webhooks.retry`).
 */
export const DEFAULT_WEBHOOK_RETRY: WebhookRetry = {
  initialIntervalMs: 10_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 3_600_000,
  maximumAttempts: 16,
};

/** When attempt `attempt` (1-based) fails, how long until the next one (Temporal's own formula, no jitter). */
export function retryDelayMs(retry: WebhookRetry, attempt: number): number {
  return Math.min(retry.initialIntervalMs * retry.backoffCoefficient ** (attempt - 1), retry.maximumIntervalMs);
}

export interface JobWebhookInput {
  jobId: string;
  /** `job_end`: the job's end as its record says now; `redeliver`: that end again, as a new message. */
  origin: 'job_end' | 'redeliver';
  /** Chosen by the API for a redelivery; a job end's id is derived from the job and its run. */
  deliveryId?: string;
}

export interface PrepareJobWebhookInput extends JobWebhookInput {
  /** The delivering workflow: a second workflow finding the same end already prepared leaves it alone. */
  preparedBy: string;
}

export type PreparedJobWebhook =
  | { deliver: true; deliveryId: string; retry: WebhookRetry }
  | { deliver: false; reason: string };

export interface JobWebhookOutcome {
  status: 'delivered' | 'failed' | 'skipped';
  deliveryId?: string;
  reason?: string;
}

/** The failure type of a delivery the address policy refuses: not retried. */
export const WEBHOOK_REFUSED = 'WebhookRefused';

/** The patch behind which job workflows start a delivery when they end. */
export const WEBHOOK_PATCH = 'completion-webhook';

/** The workflow that delivers the end a job's workflow run recorded. */
export const jobEndWebhookWorkflowId = (jobId: string, runId: string) => `webhook-${jobId}-${runId}`;

/** A job end's message id: one per job and run, so two workflows that see the same end send it once. */
export const jobEndDeliveryId = (jobId: string, run: number) => `msg_${jobId}_end${run}`;
