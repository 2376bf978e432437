import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { withJobCapacity } from '../auth/jobCap.js';
import { checkedCallbackUrl } from '../callbackUrl.js';
import { type AppDeps, type AppEnv, maySee, workflowUiLink } from '../context.js';
import { ApiError, errorResponses, WRITE_ERROR_CODES } from '../http/errors.js';
import { jobOfKind } from '../http/middleware/ownedJob.js';
import { validationHook } from '../http/validation.js';
import { SimulationJobStatus, TriggerAccepted, TriggerCurrent } from '../responses.js';
import { DetailsQuery, IdempotencyKey, JobIdParams, TriggerSimulationBody } from '../schemas.js';
import { withStorageWarning } from '../storeHealth.js';
import { simulationSummary } from './presenters.js';
import { simulationStatusOf } from './views.js';

const trigger = createRoute({
  method: 'post',
  path: '/trigger',
  summary: 'Start a simulation, or return the same request’s job',
  request: {
    headers: z.object({ 'idempotency-key': IdempotencyKey }),
    body: { required: false, content: { 'application/json': { schema: TriggerSimulationBody } } },
  },
  responses: {
    202: { description: 'a new job', content: { 'application/json': { schema: TriggerAccepted } } },
    200: {
      description: 'the existing job for the same request, or `status: current` when nothing is left to run',
      content: { 'application/json': { schema: z.union([TriggerAccepted, TriggerCurrent]) } },
    },
    ...errorResponses(
      'bad_request',
      'validation_error',
      'unknown_model',
      'invalid_callback_url',
      'idempotency_key_reused',
      'conflict',
      'service_unavailable',
      ...WRITE_ERROR_CODES,
    ),
  },
});

const status = createRoute({
  method: 'get',
  path: '/status/{jobId}',
  summary: 'A simulation’s status and progress, and a page of its per model-day details',
  request: { params: JobIdParams, query: DetailsQuery },
  responses: {
    200: { description: 'job status', content: { 'application/json': { schema: SimulationJobStatus } } },
    ...errorResponses('not_found'),
  },
});

const current = createRoute({
  method: 'get',
  path: '/current',
  summary: 'The latest simulation',
  request: { query: DetailsQuery },
  responses: {
    200: { description: 'job status', content: { 'application/json': { schema: SimulationJobStatus } } },
    ...errorResponses('not_found'),
  },
});

/** The AI-Trader contract: `/simulate/*` speaks of simulations only. */
export function simulateRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(trigger, async (c) => {
    const body = c.req.valid('json');
    checkedCallbackUrl(body?.callback_url, deps.webhooks?.allow);
    const result = await withJobCapacity(deps, c.get('owner'), 1, () =>
      deps.simulations.trigger(c.get('owner'), body, c.req.valid('header')['idempotency-key']),
    );
    if (result.kind === 'current') {
      return c.json(
        {
          status: 'current' as const,
          message: 'every model is up to date: nothing to simulate',
          models: result.models,
          last_simulation_date: result.lastSimulationDate,
          next_trading_day: result.nextTradingDay,
        },
        200,
      );
    }
    const summary = simulationSummary(result.job, { webUi: workflowUiLink(deps, result.job.workflowId) });
    if (result.kind === 'existing') {
      return c.json({ ...summary, message: 'the same simulation was already requested: this is that job' }, 200);
    }
    return c.json({ ...summary, message: `simulation of ${result.job.totalModelDays} model-day(s) accepted` }, 202);
  });

  app.openapi(status, async (c) => {
    const { jobId } = c.req.valid('param');
    const job = await deps.jobs.get(jobId);
    if (!job || !maySee(c, job.owner)) throw new ApiError('not_found', `no job ${jobId}`);
    const query = c.req.valid('query');
    const body = await simulationStatusOf(deps, jobOfKind(job, 'simulation', 'simulation status'), query);
    return c.json(await withStorageWarning(deps, body), 200);
  });

  app.openapi(current, async (c) => {
    const job = await deps.jobs.latest(c.get('owner'), 'simulation');
    if (!job) throw new ApiError('not_found', 'no simulation has been triggered yet');
    const query = c.req.valid('query');
    const body = await simulationStatusOf(deps, jobOfKind(job, 'simulation', 'simulation status'), query);
    return c.json(await withStorageWarning(deps, body), 200);
  });

  return app;
}
