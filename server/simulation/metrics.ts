import type { DayValue } from '../../storage/ledgerSummaries.js';
import { dayOf, periodsPerYearOf } from '../../trading/barTime.js';
import { riskMetrics } from '../../trading/metrics/riskMetrics.js';

/** Period metrics over a model's consecutive days (AI-Trader's definitions, plus drawdown and Sharpe). */
export function periodMetrics(
  days: readonly DayValue[],
  benchmark?: { symbol: string; startValue: number; points: ReadonlyArray<{ date: string; value: number }> },
) {
  const first = days[0];
  const last = days.at(-1);
  if (!first || !last) return null;
  const start = first.startValue;
  const end = last.endValue;
  // Days and bars (hourly bar keys) alike count the calendar days they span.
  const calendarDays =
    Math.round(
      (Date.parse(`${dayOf(last.date)}T00:00:00Z`) - Date.parse(`${dayOf(first.date)}T00:00:00Z`)) / 86_400_000,
    ) + 1;
  const periodsPerYear = periodsPerYearOf(first.date);
  const returns = days.map((d) => d.returnPct / 100);
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  const sd = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, returns.length - 1));
  let peak = start;
  let maxDrawdown = 0;
  for (const d of days) {
    const v = d.endValue;
    peak = Math.max(peak, v);
    maxDrawdown = Math.max(maxDrawdown, peak > 0 ? (peak - v) / peak : 0);
  }
  const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
  const r4OrNull = (x: number | null) => (x === null ? null : r4(x));
  // The full set (README, "Risk metrics"), from the day values, daily bars, no risk-free rate.
  const risk = riskMetrics(
    days.map((d) => ({ date: d.date, value: d.endValue })),
    {
      startValue: start,
      periodsPerYear,
      ...(benchmark ? { benchmark: { startValue: benchmark.startValue, points: benchmark.points } } : {}),
    },
  );
  return {
    starting_portfolio_value: start,
    ending_portfolio_value: end,
    period_return_pct: start ? r4(((end - start) / start) * 100) : 0,
    annualized_return_pct: start && end > 0 ? r4(((end / start) ** (365 / calendarDays) - 1) * 100) : null,
    max_drawdown_pct: r4(maxDrawdown * 100),
    sharpe_ratio: sd > 0 && returns.length > 1 ? r4((mean / sd) * Math.sqrt(periodsPerYear)) : null,
    trading_days: days.length,
    calendar_days: calendarDays,
    total_trades: days.reduce((n, d) => n + d.trades, 0),
    volatility_pct: risk.volatility === null ? null : r4(risk.volatility * 100),
    sortino_ratio: r4OrNull(risk.sortino),
    calmar_ratio: r4OrNull(risk.calmar),
    win_rate_pct: risk.winRate === null ? null : r4(risk.winRate * 100),
    profit_factor: r4OrNull(risk.profitFactor),
    probabilistic_sharpe: r4OrNull(risk.probabilisticSharpe),
    ...activityMetrics(days),
    benchmark: benchmark
      ? {
          symbol: benchmark.symbol,
          period_return_pct: r4((benchmark.points.at(-1)!.value / benchmark.startValue - 1) * 100),
          alpha: r4OrNull(risk.alpha),
          beta: r4OrNull(risk.beta),
          tracking_error_pct: risk.trackingError === null ? null : r4(risk.trackingError * 100),
          information_ratio: r4OrNull(risk.informationRatio),
        }
      : null,
    max_drawdown: {
      depth_pct: r4(risk.maxDrawdown.depth * 100),
      peak_date: risk.maxDrawdown.peakDate,
      trough_date: risk.maxDrawdown.troughDate,
      recovery_date: risk.maxDrawdown.recoveryDate,
      duration_trading_days: risk.maxDrawdown.durationPeriods,
    },
  };
}

/**
 * How much a model traded and how invested it was: the day values' traded dollars, cash and fees (null
 * when some day was summarized before they were kept).
 */
export function activityMetrics(days: readonly DayValue[]) {
  const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
  const kept = days.length > 0 && days.every((d) => d.traded !== undefined && d.cash !== undefined);
  if (!kept) return { turnover_pct: null, exposure_pct: null, total_fees: null };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    turnover_pct: r4(mean(days.map((d) => (d.startValue > 0 ? d.traded! / d.startValue : 0))) * 100),
    exposure_pct: r4(mean(days.map((d) => (d.endValue > 0 ? (d.endValue - d.cash!) / d.endValue : 0))) * 100),
    total_fees: r4(days.reduce((s, d) => s + (d.fees ?? 0), 0)),
  };
}
