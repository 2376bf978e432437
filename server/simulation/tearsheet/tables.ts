import type { TearSheet } from './model.js';

// The tear sheet's tables, the same on the page and in the PDF: a head and rows of text each.

export const num = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined ? '–' : x.toFixed(digits);

/** The metrics table's rows: one per model and baseline. */
export function metricsRows(sheet: TearSheet): Array<Array<string>> {
  return sheet.comparison.table.map((r) => {
    const m = r.metrics;
    return [
      r.name,
      num(m?.period_return_pct),
      num(m?.annualized_return_pct),
      num(m?.volatility_pct),
      num(m?.sharpe_ratio),
      num(m?.sortino_ratio),
      num(m?.max_drawdown_pct),
      num(m?.win_rate_pct, 1),
      num(m?.benchmark?.beta),
      num(m?.probabilistic_sharpe, 3),
    ];
  });
}

export const METRICS_HEAD = [
  'series',
  'return %',
  'CAGR %',
  'vol %',
  'Sharpe',
  'Sortino',
  'max DD %',
  'win %',
  'beta',
  'PSR',
];

export const RANKING_HEAD = ['rank', 'model', 'Sharpe', 'vs best [interval]', 'vs benchmark [interval]'];

export function rankingRows(sheet: TearSheet): Array<Array<string | number>> {
  const interval = (i: { sharpe_difference: number; low: number; high: number } | null) =>
    i ? `${num(i.sharpe_difference)} [${num(i.low)}, ${num(i.high)}]` : '–';
  return sheet.comparison.ranking.map((r) => [
    r.rank,
    r.model,
    num(r.sharpe_ratio),
    interval(r.versus_best),
    interval(r.versus_benchmark),
  ]);
}

export const ACTIVITY_HEAD = ['model', 'trades', 'traded $', 'fees $', 'turnover %/day', 'exposure %'];

export function activityRows(sheet: TearSheet): Array<Array<string | number>> {
  return sheet.activity.map((a) => [
    a.model,
    a.trades,
    num(a.traded),
    num(a.fees),
    num(a.turnover_pct),
    num(a.exposure_pct),
  ]);
}

export const FILLS_HEAD = ['date', 'model', 'action', 'symbol', 'shares', 'price', 'before slippage', 'fee'];

export function fillRows(sheet: TearSheet, limit = 100): Array<Array<string | number>> {
  return sheet.recent_trades
    .slice(0, limit)
    .map((t) => [
      t.date,
      t.model,
      t.action,
      t.symbol,
      t.quantity,
      num(t.price, 4),
      num(t.price_before_slippage, 4),
      num(t.fee, 4),
    ]);
}
