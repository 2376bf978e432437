import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { dayOf } from '../../trading/barTime.js';
import { addDays } from '../../trading/calendar.js';
import type { AppDeps, AppEnv } from '../context.js';
import { ApiError, errorResponses } from '../http/errors.js';
import { validationHook } from '../http/validation.js';
import { PeriodMetrics } from '../responses.js';
import { CompareQuery } from '../schemas.js';
import { comparison } from './comparison.js';
import { MAX_RANGE_DAYS } from './results.js';
import { existingRun, type RunLedger, runLedger, type Viewer } from './runLedger.js';
import { loadRunSeries } from './runSeries.js';

const DEFAULT_LOOKBACK_DAYS = 30;

const SharpeInterval = z
  .object({
    sharpe_difference: z.number().openapi({ description: 'this model’s Sharpe ratio minus the other’s' }),
    low: z.number(),
    high: z.number(),
    significant: z.boolean().openapi({ description: 'the interval excludes 0' }),
  })
  .nullable();

export const CompareBody = z
  .object({
    job_id: z.string().nullable(),
    mode: z.enum(['paper', 'backtest']),
    start_date: z.string().nullable(),
    end_date: z.string().nullable(),
    trading_days: z.number().int().openapi({ description: 'the days every model has: all rows are over these' }),
    benchmark: z.string().nullable(),
    table: z.array(
      z.object({
        name: z.string(),
        kind: z.enum(['model', 'benchmark', 'equal_weight']),
        metrics: PeriodMetrics.nullable(),
      }),
    ),
    ranking: z.array(
      z.object({
        rank: z.number().int(),
        model: z.string(),
        sharpe_ratio: z.number().nullable(),
        versus_best: SharpeInterval.openapi({ description: 'against the best model (null for the best itself)' }),
        versus_benchmark: SharpeInterval,
      }),
    ),
    bootstrap: z.object({
      confidence: z.number(),
      resamples: z.number().int(),
      seed: z.number().int(),
      paired: z.boolean(),
    }),
    models_without_days: z.array(z.string()),
  })
  .openapi('Comparison');

const compare = createRoute({
  method: 'get',
  path: '/',
  summary:
    'Models side by side over a run or a range: one metrics table with the benchmark and an equal-weight baseline, a Sharpe ranking, and bootstrap intervals',
  request: { query: CompareQuery },
  responses: {
    200: { description: 'the comparison', content: { 'application/json': { schema: CompareBody } } },
    ...errorResponses('bad_request', 'validation_error', 'not_found', 'unknown_model', 'unknown_ticker'),
  },
});

export type CompareDeps = Pick<AppDeps, 'jobs' | 'market' | 'models' | 'responses' | 'tradingDays'>;

export function compareRoutes(deps: CompareDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(compare, async (c) => {
    const q = c.req.valid('query');
    const owner = c.get('owner');
    const key = `compare|${owner}|${JSON.stringify([q.job_id, q.model, q.start_date, q.end_date, q.benchmark, q.confidence, q.resamples])}`;
    const body = await deps.responses.get(key, 1_000, () => answer({ owner, principal: c.get('principal') }, q));
    return c.json(body as Awaited<ReturnType<typeof answer>>, 200);
  });

  async function answer(viewer: Viewer, q: z.infer<typeof CompareQuery>) {
    const found = q.job_id ? await existingRun(deps.jobs, viewer, q.job_id) : undefined;
    const run: RunLedger = found ?? (await runLedger(deps.jobs, viewer));
    const job = found?.job.kind === 'simulation' ? found.job : undefined;
    const models = q.model?.length ? q.model : (job?.models ?? deps.models.ids());
    const unknown = models.filter((m) => !deps.models.get(m) && !job?.models.includes(m));
    if (unknown.length)
      throw new ApiError('unknown_model', `unknown model(s): ${unknown.join(', ')}`, { available: deps.models.ids() });

    let end = q.end_date ?? job?.dateRange.end;
    if (!end) {
      const lasts = await Promise.all(models.map((m) => deps.tradingDays.lastDate(run.ledgerOwner, m)));
      end = lasts
        .filter((d): d is string => d !== null)
        .sort()
        .at(-1);
    }
    if (!end) {
      return empty(q, run, models, null, null);
    }
    // Days: an hourly run's range is of bars (`2025-10-30T10:00`), read whole days at a time.
    end = dayOf(end);
    const start = dayOf(q.start_date ?? job?.dateRange.start ?? addDays(end, -DEFAULT_LOOKBACK_DAYS));
    if (start > end) throw new ApiError('validation_error', `end_date ${end} is before start_date ${start}`);
    if (start < addDays(end, -MAX_RANGE_DAYS.minimal)) {
      throw new ApiError('bad_request', `a comparison covers at most ${MAX_RANGE_DAYS.minimal} days`, {
        max_range_days: MAX_RANGE_DAYS.minimal,
      });
    }
    const series = await loadRunSeries(deps, {
      run,
      ...(job ? { job } : {}),
      models,
      start,
      end,
      ...(q.benchmark !== undefined ? { benchmark: q.benchmark } : {}),
    });
    return {
      job_id: q.job_id ?? null,
      mode: run.mode,
      ...comparison({ ...series, confidence: q.confidence, resamples: q.resamples }),
      models_without_days: models.filter((m) => !series.days.get(m)?.length),
    };
  }

  function empty(q: z.infer<typeof CompareQuery>, run: RunLedger, models: string[], start: null, end: null) {
    return {
      job_id: q.job_id ?? null,
      mode: run.mode,
      start_date: start,
      end_date: end,
      trading_days: 0,
      benchmark: null,
      table: [],
      ranking: [],
      bootstrap: { confidence: q.confidence, resamples: q.resamples, seed: 1, paired: true },
      models_without_days: models,
    };
  }

  return app;
}
