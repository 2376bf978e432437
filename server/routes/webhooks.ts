import { randomBytes } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { isTerminalStatus } from '../../jobs/lifecycle.js';
import type { WebhookDeliveryView } from '../../storage/webhookDeliveries.js';
import { jobWebhookWorkflow } from '../../workflows/jobWebhook.js';
import type { AppDeps, JobEnv } from '../context.js';
import { temporalDeadline } from '../deadline.js';
import { ApiError, errorResponses, WRITE_ERROR_CODES } from '../http/errors.js';
import { ownedJob } from '../http/middleware/ownedJob.js';
import { validationHook } from '../http/validation.js';
import { JobIdParams } from '../schemas.js';

const WebhookAttempt = z
  .object({
    attempt: z.number().int(),
    at: z.string(),
    ok: z.boolean(),
    status_code: z.number().int().nullable(),
    error: z.string().nullable(),
    address: z
      .string()
      .nullable()
      .openapi({ description: 'the address connected to, after the SSRF policy checked it' }),
    next_try_at: z.string().nullable(),
  })
  .openapi('WebhookAttempt');

const WebhookDelivery = z
  .object({
    delivery_id: z
      .string()
      .openapi({ description: 'the `webhook-id` header: the same on every attempt of this delivery' }),
    origin: z.enum(['job_end', 'redeliver']),
    event_type: z.string(),
    url: z.string(),
    created_at: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    next_try_at: z.string().nullable(),
    attempts: z.array(WebhookAttempt),
  })
  .openapi('WebhookDelivery');

const WebhookLog = z
  .object({
    job_id: z.string(),
    callback_url: z.string().nullable(),
    deliveries: z.array(WebhookDelivery),
  })
  .openapi('WebhookLog');

const RedeliverAccepted = z
  .object({
    job_id: z.string(),
    delivery_id: z.string(),
    status: z.literal('pending'),
    message: z.string(),
  })
  .openapi('WebhookRedeliverAccepted');

const log = createRoute({
  method: 'get',
  path: '/{jobId}/webhooks',
  summary: 'The job’s completion webhook deliveries: each attempt’s time, status code, error and the next try',
  request: { params: JobIdParams },
  responses: {
    200: { description: 'delivery log, oldest first', content: { 'application/json': { schema: WebhookLog } } },
    ...errorResponses('not_found', 'service_unavailable'),
  },
});

const redeliver = createRoute({
  method: 'post',
  path: '/{jobId}/webhooks/redeliver',
  summary: 'Send the job’s end event again, as a new delivery with a new `webhook-id`',
  request: { params: JobIdParams },
  responses: {
    202: { description: 'the new delivery', content: { 'application/json': { schema: RedeliverAccepted } } },
    ...errorResponses('not_found', 'no_callback_url', 'not_ended', 'service_unavailable', ...WRITE_ERROR_CODES),
  },
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function present(d: WebhookDeliveryView) {
  return {
    delivery_id: d._id,
    origin: d.origin,
    event_type: d.eventType,
    url: d.url,
    created_at: d.createdAt.toISOString(),
    status: d.status,
    next_try_at: iso(d.nextTryAt),
    attempts: d.attempts.map((a) => ({
      attempt: a.attempt,
      at: a.at.toISOString(),
      ok: a.ok,
      status_code: a.statusCode,
      error: a.error,
      address: a.address,
      next_try_at: iso(a.nextTryAt),
    })),
  };
}

/** `GET /jobs/{id}/webhooks` and `POST /jobs/{id}/webhooks/redeliver`, mounted under `/jobs`. */
export function webhookRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<JobEnv>({ defaultHook: validationHook });
  const owned = ownedJob(deps.jobs, deps.responses);
  app.use('/:jobId/webhooks', owned);
  app.use('/:jobId/webhooks/*', owned);

  const webhooks = () => {
    if (!deps.webhooks) throw new ApiError('service_unavailable', 'completion webhooks are not configured here');
    return deps.webhooks;
  };

  app.openapi(log, async (c) => {
    const job = c.var.job;
    const deliveries = await webhooks().deliveries.forJob(job._id);
    return c.json({ job_id: job._id, callback_url: job.callbackUrl ?? null, deliveries: deliveries.map(present) }, 200);
  });

  app.openapi(redeliver, async (c) => {
    const job = c.var.job;
    const w = webhooks();
    if (!job.callbackUrl) throw new ApiError('no_callback_url', `job ${job._id} names no callback_url`);
    if (!isTerminalStatus(job)) {
      throw new ApiError(
        'not_ended',
        `job ${job._id} has not ended (${job.status}): its end is delivered when it ends`,
        {
          status: job.status,
        },
      );
    }
    const deliveryId = `msg_${job._id}_re${randomBytes(6).toString('hex')}`;
    try {
      await temporalDeadline(deps.temporal, () =>
        deps.temporal.workflow.start(jobWebhookWorkflow, {
          workflowId: `webhook-${deliveryId}`,
          taskQueue: w.taskQueue,
          args: [{ jobId: job._id, origin: 'redeliver', deliveryId }],
          staticSummary: `redelivery of ${job._id}'s end to its callback_url`,
        }),
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
        throw new ApiError('service_unavailable', `cannot start the delivery: ${(err as Error).message}`);
      }
    }
    return c.json(
      {
        job_id: job._id,
        delivery_id: deliveryId,
        status: 'pending' as const,
        message: `the job's end is sent again as a new delivery (webhook-id ${deliveryId}); see /jobs/${job._id}/webhooks`,
      },
      202,
    );
  });

  return app;
}
