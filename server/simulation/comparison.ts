import type { DayValue } from '../../storage/ledgerSummaries.js';
import type { Bar } from '../../trading/bars.js';
import { periodsPerYearOf } from '../../trading/barTime.js';
import { compareModels, type SharpeDifference } from '../../trading/metrics/compare.js';
import { periodMetrics } from './metrics.js';

/** Baselines start at this value: an index, so their rows read as growth of 100. */
export const BASELINE_START = 100;

export interface ComparisonInput {
  /** Each model's days in the range (from its ledger, or its run's). */
  days: ReadonlyMap<string, readonly DayValue[]>;
  /** The benchmark's bars (with at least one before the range), or none. */
  benchmark?: { symbol: string; bars: readonly Bar[] };
  /** The run's symbols' bars, for the equal-weight baseline. */
  universe?: ReadonlyMap<string, readonly Bar[]>;
  confidence: number;
  resamples: number;
}

/** The days every model has: comparisons pair the same days, or they compare different markets. */
export function commonDates(days: ReadonlyMap<string, readonly DayValue[]>): string[] {
  const lists = [...days.values()].filter((d) => d.length > 0);
  if (lists.length === 0) return [];
  let common = new Set(lists[0]!.map((d) => d.date));
  for (const l of lists.slice(1)) {
    const here = new Set(l.map((d) => d.date));
    common = new Set([...common].filter((d) => here.has(d)));
  }
  return [...common].sort();
}

/**
 * A buy-and-hold series on `dates` as day values from `start`: each day's value moves by the close's
 * change from the previous close. Null when a date (or the close before the first) has no bar.
 */
export function buyAndHoldDays(bars: readonly Bar[], dates: readonly string[], start = BASELINE_START) {
  const close = new Map(bars.map((b) => [b.date, b.close]));
  const before = bars.filter((b) => b.date < dates[0]!).at(-1);
  if (!before || dates.some((d) => !close.has(d))) return null;
  return chain(
    dates.map((d, i) => ({ date: d, r: close.get(d)! / (i === 0 ? before.close : close.get(dates[i - 1]!)!) - 1 })),
    start,
  );
}

/**
 * An equal-weight portfolio of `universe`, rebalanced at each close: a day's return is the mean of the
 * symbols' close-to-close returns that day (a symbol without both closes sits the day out). Null when no
 * symbol has a close before the first date.
 */
export function equalWeightDays(
  universe: ReadonlyMap<string, readonly Bar[]>,
  dates: readonly string[],
  start = BASELINE_START,
) {
  const closes = [...universe.values()].map((bars) => ({
    at: new Map(bars.map((b) => [b.date, b.close])),
    before: bars.filter((b) => b.date < dates[0]!).at(-1)?.close,
  }));
  if (!closes.some((c) => c.before !== undefined)) return null;
  return chain(
    dates.map((d, i) => {
      const rs = closes.flatMap((c) => {
        const prev = i === 0 ? c.before : c.at.get(dates[i - 1]!);
        const now = c.at.get(d);
        return prev && now ? [now / prev - 1] : [];
      });
      return { date: d, r: rs.length ? rs.reduce((a, b) => a + b, 0) / rs.length : 0 };
    }),
    start,
  );
}

function chain(returns: ReadonlyArray<{ date: string; r: number }>, start: number): DayValue[] {
  let value = start;
  return returns.map(({ date, r }) => {
    const startValue = value;
    value = startValue * (1 + r);
    return {
      date,
      startValue,
      endValue: value,
      profit: value - startValue,
      returnPct: r * 100,
      trades: 0,
      jobId: '',
    };
  });
}

/** The returns the table's Sharpe ratio is of (AI-Trader's, from each day's return), so both agree. */
const dailyReturns = (days: readonly DayValue[]) => days.map((d) => d.returnPct / 100);
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

function interval(d: SharpeDifference | null) {
  if (!d) return null;
  return {
    sharpe_difference: r4(d.difference),
    low: r4(d.low),
    high: r4(d.high),
    // The interval excludes no difference at all.
    significant: d.low > 0 || d.high < 0,
  };
}

/** The series a comparison is of: each model's days on the days all have, and the baselines on them. */
export function comparedSeries(i: Omit<ComparisonInput, 'confidence' | 'resamples'>) {
  const dates = commonDates(i.days);
  const on = new Set(dates);
  const models = [...i.days]
    .filter(([, d]) => d.length > 0)
    .map(([m, d]) => [m, d.filter((x) => on.has(x.date))] as const);
  const bench = i.benchmark && dates.length ? buyAndHoldDays(i.benchmark.bars, dates) : null;
  const equal = i.universe && dates.length ? equalWeightDays(i.universe, dates) : null;
  return { dates, models, bench, equal };
}

/**
 * One table of every model and the baselines over the days all models have, and a ranking by Sharpe
 * ratio with paired bootstrap intervals against the best model and against the benchmark.
 */
export function comparison(i: ComparisonInput) {
  const { dates, models, bench, equal } = comparedSeries(i);
  const benchmarkPoints = bench
    ? {
        symbol: i.benchmark!.symbol,
        startValue: BASELINE_START,
        points: bench.map((d) => ({ date: d.date, value: d.endValue })),
      }
    : undefined;
  const table = [
    ...models.map(([name, d]) => ({ name, kind: 'model' as const, metrics: periodMetrics(d, benchmarkPoints) })),
    ...(bench ? [{ name: i.benchmark!.symbol, kind: 'benchmark' as const, metrics: periodMetrics(bench) }] : []),
    ...(equal
      ? [{ name: 'equal-weight', kind: 'equal_weight' as const, metrics: periodMetrics(equal, benchmarkPoints) }]
      : []),
  ];
  const ranked = compareModels(new Map(models.map(([m, d]) => [m, dailyReturns(d)])), {
    periodsPerYear: periodsPerYearOf(dates[0]),
    resamples: i.resamples,
    confidence: i.confidence,
    seed: 1,
    ...(bench ? { benchmark: dailyReturns(bench) } : {}),
  });
  return {
    start_date: dates[0] ?? null,
    end_date: dates.at(-1) ?? null,
    trading_days: dates.length,
    benchmark: bench ? i.benchmark!.symbol : null,
    table,
    ranking: ranked.map((r) => ({
      rank: r.rank,
      model: r.model,
      sharpe_ratio: r.sharpe === null ? null : r4(r.sharpe),
      versus_best: interval(r.versusBest),
      versus_benchmark: interval(r.versusBenchmark),
    })),
    bootstrap: { confidence: i.confidence, resamples: i.resamples, seed: 1, paired: true },
  };
}
