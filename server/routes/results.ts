import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { TradingDayDoc } from '../../storage/types.js';
import { addDays } from '../../trading/calendar.js';
import type { AppDeps, AppEnv } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { periodMetrics } from '../metrics.js';
import { tradingDayFull, tradingDayMinimal } from '../presenters.js';
import { ResultsBody } from '../responses.js';
import { ResultsQuery } from '../schemas.js';
import { validationHook } from '../validation.js';

const DEFAULT_LOOKBACK_DAYS = 30;

const results = createRoute({
  method: 'get',
  path: '/',
  summary: 'Per-day positions, trades and P&L (`date`), or daily values and period metrics over a range',
  request: { query: ResultsQuery },
  responses: {
    200: { description: 'results', content: { 'application/json': { schema: ResultsBody } } },
    ...errorResponses('bad_request', 'validation_error', 'unknown_model'),
  },
});

export function resultRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(results, async (c) => {
    const q = c.req.valid('query');
    if (q.date && (q.start_date || q.end_date)) {
      throw new ApiError('bad_request', 'use either date or start_date/end_date, not both');
    }
    const owner = c.get('owner');
    const unknown = (q.model ?? []).filter((m) => !deps.models.get(m));
    if (unknown.length)
      throw new ApiError('unknown_model', `unknown model(s): ${unknown.join(', ')}`, { available: deps.models.ids() });
    const full = q.detail === 'full';
    const base = {
      owner,
      ...(q.model?.length ? { models: q.model } : {}),
      ...(q.job_id ? { jobId: q.job_id } : {}),
      full,
    };

    if (q.date) {
      const days = await deps.tradingDays.find({ ...base, from: q.date, to: q.date });
      return c.json(
        { date: q.date, detail: q.detail, results: days.map(full ? tradingDayFull : tradingDayMinimal) },
        200,
      );
    }

    let end = q.end_date;
    if (!end) {
      const latest = await deps.tradingDays.find({ ...base, full: false, from: '0000-01-01', to: '9999-12-31' });
      end = latest.at(-1)?.date;
      if (!end) return c.json({ start_date: q.start_date ?? null, end_date: null, detail: q.detail, models: [] }, 200);
    }
    const start = q.start_date ?? addDays(end, -DEFAULT_LOOKBACK_DAYS);
    if (start > end) throw new ApiError('validation_error', `end_date ${end} is before start_date ${start}`);
    const days = await deps.tradingDays.find({ ...base, from: start, to: end });
    const byModel = new Map<string, TradingDayDoc[]>();
    for (const d of days) byModel.set(d.model, [...(byModel.get(d.model) ?? []), d]);
    return c.json(
      {
        start_date: start,
        end_date: end,
        detail: q.detail,
        models: [...byModel].map(([model, ds]) => ({
          model,
          daily_portfolio_values: ds.map((d) => ({
            date: d.date,
            portfolio_value: d.endingPosition.portfolioValue,
            profit: d.dailyPnl.profit,
            return_pct: d.dailyPnl.returnPct,
          })),
          period_metrics: periodMetrics(ds),
          ...(full ? { days: ds.map(tradingDayFull) } : {}),
        })),
      },
      200,
    );
  });

  return app;
}
