import { describe, expect, it } from 'vitest';
import type { DayValue } from '../../storage/ledgerSummaries.js';
import { periodMetrics } from './metrics.js';

// /results' period metrics: AI-Trader's fields as before, and the full set from trading/metrics.

const days = (values: number[], start = 1000): DayValue[] =>
  values.map((endValue, i) => {
    const startValue = i === 0 ? start : values[i - 1]!;
    return {
      date: `2025-03-${String(i + 3).padStart(2, '0')}`,
      startValue,
      endValue,
      profit: endValue - startValue,
      returnPct: ((endValue - startValue) / startValue) * 100,
      trades: 1,
      jobId: 'sim-1',
    };
  });

describe('period metrics of /results', () => {
  it('adds volatility, Sortino, Calmar, win rate, profit factor, PSR and the drawdown’s dates to AI-Trader’s fields', () => {
    const m = periodMetrics(days([1100, 990, 1050, 1200]))!;
    expect(m).toMatchObject({
      starting_portfolio_value: 1000,
      ending_portfolio_value: 1200,
      period_return_pct: 20,
      max_drawdown_pct: 10,
      trading_days: 4,
      total_trades: 4,
      win_rate_pct: 75,
      max_drawdown: {
        depth_pct: -10,
        peak_date: '2025-03-03',
        trough_date: '2025-03-04',
        recovery_date: '2025-03-06',
        duration_trading_days: 3,
      },
    });
    // Gains 0.1 + 60/990 + 150/1050 against one loss of 0.1.
    expect(m.profit_factor).toBeCloseTo((0.1 + 60 / 990 + 150 / 1050) / 0.1, 4);
    for (const k of ['volatility_pct', 'sortino_ratio', 'calmar_ratio', 'probabilistic_sharpe'] as const) {
      expect(typeof m[k], k).toBe('number');
    }
  });

  it('measures turnover, exposure and fees from what each day traded and held', () => {
    const traded = days([1100, 990]).map((d, i) => ({
      ...d,
      traded: [500, 0][i]!,
      cash: [550, 990][i]!,
      fees: [1.25, 0][i]!,
    }));
    const m = periodMetrics(traded)!;
    // Day 1: 500 traded of 1000 at the start, 550 of 1100 in cash; day 2: none traded, all cash.
    expect(m.turnover_pct).toBeCloseTo(((500 / 1000 + 0) / 2) * 100, 10);
    expect(m.exposure_pct).toBeCloseTo((((1100 - 550) / 1100 + 0) / 2) * 100, 10);
    expect(m.total_fees).toBe(1.25);
    // Days summarized before these were kept: unknown, not zero.
    expect(periodMetrics(days([1100, 990]))).toMatchObject({
      turnover_pct: null,
      exposure_pct: null,
      total_fees: null,
    });
  });

  it('a range with no day has no metrics', () => {
    expect(periodMetrics([])).toBeNull();
  });
});
