import { Hono } from 'hono';
import { type AppDeps, type AppEnv, workflowUiLink } from '../context.js';
import { ApiError } from '../errors.js';
import { jobSummary } from '../presenters.js';
import { TriggerSimulationBody } from '../schemas.js';
import { statusOf } from '../status.js';
import { jsonBody, parseWith } from '../validation.js';

export function simulateRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post('/trigger', async (c) => {
    const body = parseWith(TriggerSimulationBody, await jsonBody(c), 'request body');
    const headerKey = c.req.header('idempotency-key');
    if (headerKey !== undefined && !/^[\x21-\x7e]{1,200}$/.test(headerKey)) {
      throw new ApiError('bad_request', 'Idempotency-Key must be 1 to 200 visible ASCII characters');
    }
    const result = await deps.simulations.trigger(c.get('owner'), body, headerKey);
    if (result.kind === 'current') {
      return c.json({
        status: 'current',
        message: 'every model is up to date: nothing to simulate',
        models: result.models,
        last_simulation_date: result.lastSimulationDate,
        next_trading_day: result.nextTradingDay,
      });
    }
    const links = { webUi: workflowUiLink(deps, result.job.workflowId) };
    if (result.kind === 'existing') {
      return c.json({
        ...jobSummary(result.job, links),
        message: 'the same simulation was already requested: this is that job',
      });
    }
    return c.json(
      { ...jobSummary(result.job, links), message: `simulation of ${result.job.totalModelDays} model-day(s) accepted` },
      202,
    );
  });

  app.get('/status/:jobId', async (c) => {
    const job = await deps.jobs.get(c.req.param('jobId'));
    if (!job || job.owner !== c.get('owner')) throw new ApiError('not_found', `no job ${c.req.param('jobId')}`);
    return c.json(await statusOf(deps, job));
  });

  app.get('/current', async (c) => {
    const job = await deps.jobs.latest(c.get('owner'));
    if (!job) throw new ApiError('not_found', 'no simulation has been triggered yet');
    return c.json(await statusOf(deps, job));
  });

  return app;
}
