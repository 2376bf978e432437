import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { isTerminalStatus } from '../../jobs/lifecycle.js';
import { type JobDoc, runOf } from '../../jobs/records.js';
import type { WebhookAllowList } from '../../jobs/webhookPolicy.js';
import type { JobStore } from '../../storage/jobStore.js';
import type { WebhookDeliveries } from '../../storage/webhookDeliveries.js';
import {
  jobEndDeliveryId,
  type PreparedJobWebhook,
  type PrepareJobWebhookInput,
  retryDelayMs,
  WEBHOOK_REFUSED,
  type WebhookRetry,
} from '../../workflows/webhookContract.js';
import { postWebhook, type Resolve, WebhookRefused } from './post.js';
import { signedHeaders } from './signing.js';

export interface WebhookSettings {
  /** The signing secret (`whsec_…`); never logged. */
  secret: string;
  /** Read at each attempt, so an operator's change applies to deliveries under way. */
  allow: () => WebhookAllowList;
  retry: WebhookRetry;
  resolve: Resolve;
  /** One POST's limit. */
  timeoutMs: number;
}

/** The event a job's end sends: `job.<status>` with what a receiver needs to act without asking back. */
export function jobEndEvent(job: JobDoc) {
  const data: Record<string, unknown> = {
    job_id: job._id,
    kind: job.kind,
    status: job.status,
    run: runOf(job),
    created_at: job.createdAt.toISOString(),
    completed_at: (job.completedAt ?? job.updatedAt).toISOString(),
    models: job.models,
    symbols: job.symbols,
    ...(job.error ? { error: job.error } : {}),
    links: { job: `/jobs/${encodeURIComponent(job._id)}`, webhooks: `/jobs/${encodeURIComponent(job._id)}/webhooks` },
  };
  if (job.kind === 'simulation') {
    data.date_range = job.dateRange;
    data.total_model_days = job.totalModelDays;
    if (job.summary) data.summary = job.summary;
  } else {
    data.ticker = job.analysis.ticker;
    data.pipeline = job.analysis.pipeline;
    if (job.analysis.errorType) data.error_type = job.analysis.errorType;
  }
  return { type: `job.${job.status}`, timestamp: (job.completedAt ?? job.updatedAt).toISOString(), data };
}

export function createWebhookActivities(d: {
  jobs: Pick<JobStore, 'get'>;
  deliveries: WebhookDeliveries;
  settings: WebhookSettings;
  logger: Logger;
}) {
  return {
    /** Fixes the event of a job's end (or of a redelivery) once, and lists the delivery in the job's log. */
    async prepareJobWebhook(input: PrepareJobWebhookInput): Promise<PreparedJobWebhook> {
      const job = await d.jobs.get(input.jobId);
      if (!job) return { deliver: false, reason: `no job ${input.jobId}` };
      if (!job.callbackUrl) return { deliver: false, reason: 'the job names no callback_url' };
      if (!isTerminalStatus(job)) return { deliver: false, reason: `the job has not ended (${job.status})` };
      const deliveryId = input.deliveryId ?? jobEndDeliveryId(job._id, runOf(job));
      const event = jobEndEvent(job);
      const stored = await d.deliveries.create({
        _id: deliveryId,
        jobId: job._id,
        url: job.callbackUrl,
        origin: input.origin,
        eventType: event.type,
        body: JSON.stringify(event),
        preparedBy: input.preparedBy,
        maxAttempts: d.settings.retry.maximumAttempts,
        createdAt: new Date(),
      });
      if (stored.preparedBy !== input.preparedBy) {
        return { deliver: false, reason: `${deliveryId} is delivered by ${stored.preparedBy}` };
      }
      await d.deliveries.register(job._id, deliveryId);
      return { deliver: true, deliveryId, retry: d.settings.retry };
    },

    /**
     * One attempt: signs and POSTs the stored body, and writes what happened. A 2xx is the end (marked,
     * so an attempt after a lost completion sends nothing); a refusal by the address policy is final;
     * anything else fails the attempt, and Temporal runs the next one after the backoff.
     */
    async deliverJobWebhook(input: { deliveryId: string; retry: WebhookRetry }): Promise<{ statusCode: number }> {
      const { attempt } = Context.current().info;
      const delivery = await d.deliveries.get(input.deliveryId);
      if (!delivery) throw ApplicationFailure.nonRetryable(`no delivery ${input.deliveryId}`, WEBHOOK_REFUSED);
      if (await d.deliveries.accepted(delivery._id)) return { statusCode: 0 };
      const at = new Date();
      const headers = signedHeaders(d.settings.secret, delivery._id, at, delivery.body);
      const base = { deliveryId: delivery._id, attempt, at };
      let error: string;
      let statusCode: number | null = null;
      let address: string | null = null;
      try {
        const res = await postWebhook(delivery.url, delivery.body, headers, {
          allow: d.settings.allow(),
          resolve: d.settings.resolve,
          timeoutMs: d.settings.timeoutMs,
        });
        statusCode = res.statusCode;
        address = res.address;
        if (res.statusCode >= 200 && res.statusCode < 300) {
          await d.deliveries.recordAttempt({
            ...base,
            ok: true,
            statusCode,
            error: null,
            address,
            nextTryAt: null,
            final: true,
          });
          await d.deliveries.markAccepted(delivery._id, attempt, at);
          return { statusCode };
        }
        error =
          res.statusCode >= 300 && res.statusCode < 400
            ? `HTTP ${res.statusCode}: redirects are not followed${res.location ? ` (Location: ${res.location})` : ''}`
            : `HTTP ${res.statusCode}${res.snippet ? `: ${res.snippet}` : ''}`;
      } catch (err) {
        if (err instanceof WebhookRefused) {
          await d.deliveries.recordAttempt({
            ...base,
            ok: false,
            statusCode,
            error: err.message,
            address,
            nextTryAt: null,
            final: true,
          });
          d.logger.warn({ deliveryId: delivery._id, jobId: delivery.jobId, reason: err.message }, 'webhook refused');
          throw ApplicationFailure.nonRetryable(err.message, WEBHOOK_REFUSED);
        }
        error = (err as Error).message;
      }
      const final = attempt >= input.retry.maximumAttempts;
      const nextTryAt = final ? null : new Date(at.getTime() + retryDelayMs(input.retry, attempt));
      await d.deliveries.recordAttempt({ ...base, ok: false, statusCode, error, address, nextTryAt, final });
      throw ApplicationFailure.retryable(
        final ? `${error} (attempt ${attempt}, the last)` : `${error} (attempt ${attempt})`,
        'WebhookDeliveryFailed',
      );
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
