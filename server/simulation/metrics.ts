import type { DayValue } from '../../storage/ledgerSummaries.js';

/** Period metrics over a model's consecutive days (AI-Trader's definitions, plus drawdown and Sharpe). */
export function periodMetrics(days: readonly DayValue[]) {
  const first = days[0];
  const last = days.at(-1);
  if (!first || !last) return null;
  const start = first.startValue;
  const end = last.endValue;
  const calendarDays =
    Math.round((Date.parse(`${last.date}T00:00:00Z`) - Date.parse(`${first.date}T00:00:00Z`)) / 86_400_000) + 1;
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
  return {
    starting_portfolio_value: start,
    ending_portfolio_value: end,
    period_return_pct: start ? r4(((end - start) / start) * 100) : 0,
    annualized_return_pct: start && end > 0 ? r4(((end / start) ** (365 / calendarDays) - 1) * 100) : null,
    max_drawdown_pct: r4(maxDrawdown * 100),
    sharpe_ratio: sd > 0 && returns.length > 1 ? r4((mean / sd) * Math.sqrt(252)) : null,
    trading_days: days.length,
    calendar_days: calendarDays,
    total_trades: days.reduce((n, d) => n + d.trades, 0),
  };
}
