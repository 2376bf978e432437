import type { SimulationJob } from '../../../jobs/records.js';
import { modeOf } from '../../../jobs/simulationRun.js';
import type { DayValue } from '../../../storage/ledgerSummaries.js';
import type { TradingDayDoc } from '../../../storage/types.js';
import { type ComparisonInput, comparedSeries, comparison } from '../comparison.js';

/** One line of a chart: a model or a baseline as growth of 100, and its fall from its running peak. */
export interface SeriesPoint {
  date: string;
  /** Value as an index: 100 at the start of the run. */
  index: number;
  /** Percent below the highest index so far (0 or negative). */
  drawdown_pct: number;
}

export interface TearSheet {
  title: string;
  run: {
    job_id: string;
    mode: 'paper' | 'backtest';
    status: string;
    start_date: string | null;
    end_date: string | null;
    models: string[];
    symbols: number;
    initial_cash: number | null;
    benchmark: string | null;
    costs: string;
    /** The prices the run was planned on, and whether they are the synthetic walk. */
    market_data: string;
  };
  comparison: ReturnType<typeof comparison>;
  series: Array<{ name: string; kind: 'model' | 'benchmark' | 'equal_weight'; points: SeriesPoint[] }>;
  /** Compounded return of each calendar month, per model and baseline. */
  monthly: Array<{ name: string; months: Array<{ month: string; return_pct: number }> }>;
  activity: Array<{
    model: string;
    trades: number;
    traded: number | null;
    fees: number | null;
    turnover_pct: number | null;
    exposure_pct: number | null;
  }>;
  /** The last trading days' fills, newest first. */
  recent_trades: Array<{
    date: string;
    model: string;
    action: string;
    symbol: string;
    quantity: number;
    price: number;
    price_before_slippage: number | null;
    fee: number | null;
  }>;
}

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** A value series as growth of 100 from its first day's start, with its drawdown from the running peak. */
export function indexSeries(days: readonly DayValue[]): SeriesPoint[] {
  const base = days[0]?.startValue ?? 0;
  let peak = 100;
  return days.map((d) => {
    const index = base > 0 ? (d.endValue / base) * 100 : 0;
    peak = Math.max(peak, index);
    return { date: d.date, index: r4(index), drawdown_pct: r4(peak > 0 ? (index / peak - 1) * 100 : 0) };
  });
}

/** Each calendar month's compounded return, from the days' own returns. */
export function monthlyReturns(days: readonly DayValue[]): Array<{ month: string; return_pct: number }> {
  const growth = new Map<string, number>();
  for (const d of days) {
    const month = d.date.slice(0, 7);
    growth.set(month, (growth.get(month) ?? 1) * (d.startValue > 0 ? d.endValue / d.startValue : 1));
  }
  return [...growth].map(([month, g]) => ({ month, return_pct: r4((g - 1) * 100) }));
}

function costsText(job: SimulationJob): string {
  const c = job.costs;
  if (!c) return 'none: fills at the open, free';
  return [
    `commission $${c.commissionPerShare}/share + $${c.commissionPerOrder}/order, min $${c.commissionMinimum}`,
    `fees ${c.feeBps} bps`,
    `slippage ${c.slippageBps} bps + ${c.slippageRangeFraction} x previous range`,
  ].join('; ');
}

/** Everything a tear sheet shows of a run, from its days, its recent full days and the market's bars. */
export function tearSheet(
  job: SimulationJob,
  input: Omit<ComparisonInput, 'confidence' | 'resamples'>,
  recentDays: readonly TradingDayDoc[],
): TearSheet {
  const compared = comparison({ ...input, confidence: 0.95, resamples: 2_000 });
  const { models, bench, equal } = comparedSeries(input);
  const all = [
    ...models.map(([name, d]) => ({ name, kind: 'model' as const, days: d })),
    ...(bench ? [{ name: input.benchmark!.symbol, kind: 'benchmark' as const, days: bench }] : []),
    ...(equal ? [{ name: 'equal-weight', kind: 'equal_weight' as const, days: equal }] : []),
  ];
  const mode = modeOf(job);
  return {
    title: `${mode === 'backtest' ? 'Backtest' : 'Simulation'} ${job._id}`,
    run: {
      job_id: job._id,
      mode,
      status: job.status,
      start_date: compared.start_date,
      end_date: compared.end_date,
      models: job.models,
      symbols: job.symbols.length,
      initial_cash: job.backtest?.initialCash ?? null,
      benchmark: compared.benchmark,
      costs: costsText(job),
      market_data: !job.marketSource
        ? 'not recorded'
        : job.marketSource.startsWith('synthetic')
          ? `${job.marketSource}: SYNTHETIC prices (a seeded random walk), not the market`
          : job.marketSource,
    },
    comparison: compared,
    series: all.map(({ name, kind, days }) => ({ name, kind, points: indexSeries(days) })),
    monthly: all.map(({ name, days }) => ({ name, months: monthlyReturns(days) })),
    activity: models.map(([model, d]) => {
      const kept = d.every((x) => x.traded !== undefined);
      return {
        model,
        trades: d.reduce((n, x) => n + x.trades, 0),
        traded: kept ? r4(d.reduce((s, x) => s + x.traded!, 0)) : null,
        fees: kept ? r4(d.reduce((s, x) => s + (x.fees ?? 0), 0)) : null,
        turnover_pct: compared.table.find((r) => r.name === model)?.metrics?.turnover_pct ?? null,
        exposure_pct: compared.table.find((r) => r.name === model)?.metrics?.exposure_pct ?? null,
      };
    }),
    recent_trades: [...recentDays]
      .sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : a.model.localeCompare(b.model)))
      .flatMap((d) =>
        d.trades.map((t) => ({
          date: d.date,
          model: d.model,
          action: t.action,
          symbol: t.symbol,
          quantity: t.quantity,
          price: t.price,
          price_before_slippage: t.referencePrice ?? null,
          fee: t.fee ?? null,
        })),
      )
      .slice(0, 100),
  };
}
