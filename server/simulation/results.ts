import { createRoute, OpenAPIHono, type z } from '@hono/zod-openapi';
import type { DayValue } from '../../storage/ledgerSummaries.js';
import type { TradingDayDoc } from '../../storage/types.js';
import { dayOf, endOfDay } from '../../trading/barTime.js';
import { addDays } from '../../trading/calendar.js';
import type { AppDeps, AppEnv } from '../context.js';
import { ApiError, errorResponses } from '../http/errors.js';
import { validationHook } from '../http/validation.js';
import { ResultsBody } from '../responses.js';
import { ResultsQuery } from '../schemas.js';
import { periodMetrics } from './metrics.js';
import { marketDataView, tradingDayFull, tradingDayMinimal } from './presenters.js';
import { runLedger, type Viewer } from './runLedger.js';

const DEFAULT_LOOKBACK_DAYS = 30;
/**
 * The longest range one answer covers: daily values for ten years, whole days (positions, trades,
 * reasoning) for a quarter. With at most MAX_LIST_ITEMS models this bounds what one request can make
 * the server read, hold and send; a longer range is asked for in pieces.
 */
export const MAX_RANGE_DAYS = { minimal: 3_660, full: 92 } as const;
/** What one answer may weigh as JSON, whatever its days hold (reasoning is an agent's free text). */
export const MAX_RESULTS_BYTES = 16 * 1024 * 1024;

const results = createRoute({
  method: 'get',
  path: '/',
  summary: 'Per-day positions, trades and P&L (`date`), or daily values and period metrics over a range',
  request: { query: ResultsQuery },
  responses: {
    200: { description: 'results', content: { 'application/json': { schema: ResultsBody } } },
    ...errorResponses('bad_request', 'validation_error', 'unknown_model', 'unknown_ticker'),
  },
});

/** A results question with its detail settled (`detail`, or AI-Trader v0.5's `reasoning`). */
type ResultsAsked = Omit<z.infer<typeof ResultsQuery>, 'reasoning' | 'detail'> & { detail: 'minimal' | 'full' };

/** What these routes use of the app's dependencies. */
export type ResultsDeps = Pick<AppDeps, 'jobs' | 'market' | 'models' | 'responses' | 'tradingDays'>;

export function resultRoutes(deps: ResultsDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(results, async (c) => {
    const { reasoning, ...asked } = c.req.valid('query');
    const q: ResultsAsked = { ...asked, detail: asked.detail ?? (reasoning === 'full' ? 'full' : 'minimal') };
    // The same question from many clients at once is answered once a second: days only ever get added.
    // Keyed by what was asked, not how it was spelled (a model named twice is the same question).
    const key = `results|${c.get('owner')}|${JSON.stringify([q.date, q.start_date, q.end_date, q.model, q.job_id, q.detail, q.benchmark])}`;
    const viewer = { owner: c.get('owner'), principal: c.get('principal') };
    const body = await deps.responses.get(key, 1_000, () => bounded(answer(viewer, q)));
    return c.json(body as Awaited<ReturnType<typeof answer>>, 200);
  });

  /** An answer too large to send is refused with what to do instead (it is measured once, then shared). */
  async function bounded<T>(body: Promise<T>): Promise<T> {
    const bytes = Buffer.byteLength(JSON.stringify(await body));
    if (bytes > MAX_RESULTS_BYTES) {
      throw new ApiError(
        'bad_request',
        `the answer would be ${(bytes / 1024 / 1024).toFixed(1)} MiB, over the ${MAX_RESULTS_BYTES / 1024 / 1024} MiB one response may be: ask for fewer models, a shorter range or detail=minimal`,
      );
    }
    return body;
  }

  async function answer(viewer: Viewer, q: ResultsAsked) {
    // A job's days are in its owner's ledger, a backtest's in its own book: asking by its id reads them there.
    const run = await runLedger(deps.jobs, viewer, q.job_id);
    const owner = run.ledgerOwner;
    const market_data = marketDataView(deps.market.name);
    if (q.date && (q.start_date || q.end_date)) {
      throw new ApiError('bad_request', 'use either date or start_date/end_date, not both');
    }
    const unknown = (q.model ?? []).filter((m) => !deps.models.get(m));
    if (unknown.length)
      throw new ApiError('unknown_model', `unknown model(s): ${unknown.join(', ')}`, { available: deps.models.ids() });
    const full = q.detail === 'full';
    // Every read below is by key (FerretDB pushes down nothing else): the models asked for, or all configured.
    const models = q.model?.length ? q.model : deps.models.ids();
    const ofJob = <T extends { jobId: string }>(xs: T[]) => (q.job_id ? xs.filter((x) => x.jobId === q.job_id) : xs);

    if (q.date) {
      const date = q.date;
      const days = ofJob(
        (await Promise.all(models.map((m) => deps.tradingDays.dayOf(owner, m, date)))).filter(
          (d): d is TradingDayDoc => d !== null,
        ),
      );
      return { date, detail: q.detail, market_data, results: days.map(full ? tradingDayFull : tradingDayMinimal) };
    }

    let end = q.end_date;
    if (!end) {
      const lasts = await Promise.all(models.map((m) => deps.tradingDays.lastDate(owner, m)));
      const last = lasts
        .filter((d): d is string => d !== null)
        .sort()
        .at(-1);
      if (!last) return { start_date: q.start_date ?? null, end_date: null, detail: q.detail, market_data, models: [] };
      // The day of the last bar, for an hourly run.
      end = dayOf(last);
    }
    const start = q.start_date ?? addDays(end, -DEFAULT_LOOKBACK_DAYS);
    if (start > end) throw new ApiError('validation_error', `end_date ${end} is before start_date ${start}`);
    const maxDays = MAX_RANGE_DAYS[q.detail];
    if (start < addDays(end, -maxDays)) {
      throw new ApiError(
        'bad_request',
        `a range with detail=${q.detail} covers at most ${maxDays} days; ask for ${start}..${end} in pieces`,
        { max_range_days: maxDays },
      );
    }
    const values = await Promise.all(
      // endOfDay: an hourly run's bars (`2025-10-30T15:00`) are of their day.
      models.map(async (m) => [m, ofJob(await deps.tradingDays.values(owner, m, start, endOfDay(end)))] as const),
    );
    // Whole days (positions, trades, reasoning) over a range are the one search of the ledger left.
    const whole = full
      ? await deps.tradingDays.find({
          owner,
          models,
          from: start,
          to: endOfDay(end),
          full: true,
          ...(q.job_id ? { jobId: q.job_id } : {}),
        })
      : [];
    const benchmarkSymbol = (q.benchmark ?? run.benchmark ?? 'none').toUpperCase();
    const benchmarkBars =
      benchmarkSymbol === 'NONE'
        ? undefined
        : (await deps.market.loadDaily([benchmarkSymbol], addDays(start, -10), end)).get(benchmarkSymbol);
    // The default benchmark may be absent from a source (a synthetic demo): then there is none; one asked
    // for by name must have prices.
    if (q.benchmark !== undefined && benchmarkSymbol !== 'NONE' && !benchmarkBars?.length) {
      throw new ApiError('unknown_ticker', `no prices for the benchmark ${benchmarkSymbol} in ${start}..${end}`, {
        hint: 'name another benchmark, or benchmark=none',
      });
    }
    /** The benchmark's closes on a model's days, from the close before its first day; null where one is missing. */
    const benchmarkFor = (vs: readonly DayValue[]) => {
      if (!benchmarkBars || vs.length === 0) return undefined;
      const closes = new Map(benchmarkBars.map((b) => [b.date, b.close]));
      const before = benchmarkBars.filter((b) => b.date < vs[0]!.date).at(-1);
      const points = vs.map((v) => ({ date: v.date, value: closes.get(v.date) }));
      if (!before || points.some((p) => p.value === undefined)) return undefined;
      return {
        symbol: benchmarkSymbol,
        startValue: before.close,
        points: points as Array<{ date: string; value: number }>,
      };
    };
    return {
      start_date: start,
      end_date: end,
      detail: q.detail,
      market_data,
      models: values
        .filter(([, vs]) => vs.length > 0)
        .map(([model, vs]) => ({
          model,
          daily_portfolio_values: vs.map((v) => ({
            date: v.date,
            portfolio_value: v.endValue,
            profit: v.profit,
            return_pct: v.returnPct,
            job_id: v.jobId,
          })),
          period_metrics: periodMetrics(vs, benchmarkFor(vs)),
          ...(full ? { days: whole.filter((d) => d.model === model).map(tradingDayFull) } : {}),
        })),
    };
  }

  return app;
}
