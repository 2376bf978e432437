import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DayValue } from '../../storage/ledgerSummaries.js';
import { DAILY_H1 } from '../../test/paths.js';
import { welford } from '../../test/support/welford.js';
import { parseAlphaVantageJsonl } from '../../trading/market-data/alphaVantageFiles.js';
import { buyAndHoldDays, commonDates, comparison, equalWeightDays } from './comparison.js';

// GET /compare's table and ranking, on real 2025 closes: two "models" that hold AAPL and MSFT, against
// QQQ and an equal-weight basket, each figure recomputed here another way.

const bars = parseAlphaVantageJsonl(readFileSync(DAILY_H1, 'utf8'));
const dates = bars
  .get('QQQ')!
  .map((b) => b.date)
  .filter((d) => d >= '2025-02-03' && d <= '2025-05-30');

/** A model that holds one symbol all along, as its ledger would summarize it, from $10,000. */
function holding(symbol: string): DayValue[] {
  const close = new Map(bars.get(symbol)!.map((b) => [b.date, b.close]));
  const before = bars
    .get(symbol)!
    .filter((b) => b.date < dates[0]!)
    .at(-1)!.close;
  let value = 10_000;
  return dates.map((date, i) => {
    const startValue = value;
    value = (10_000 * close.get(date)!) / before;
    const previous = i === 0 ? before : close.get(dates[i - 1]!)!;
    return {
      date,
      startValue,
      endValue: value,
      profit: value - startValue,
      returnPct: (close.get(date)! / previous - 1) * 100,
      trades: i === 0 ? 1 : 0,
      jobId: 'sim-1',
    };
  });
}

/** Sharpe by Welford's running variance (not the module's two-pass sums). */
function welfordSharpe(r: number[]): number {
  const { mean, variance } = welford(r);
  return (mean / Math.sqrt(variance)) * Math.sqrt(252);
}

describe('the comparison table and ranking', () => {
  const days = new Map([
    ['aapl-holder', holding('AAPL')],
    ['msft-holder', holding('MSFT')],
  ]);
  const universe = new Map(['AAPL', 'MSFT', 'NVDA'].map((s) => [s, bars.get(s)!]));
  const c = comparison({
    days,
    benchmark: { symbol: 'QQQ', bars: bars.get('QQQ')! },
    universe,
    confidence: 0.95,
    resamples: 1_000,
  });

  it('puts every model, the benchmark and the equal-weight basket over the same days in one table', () => {
    expect(c.trading_days).toBe(dates.length);
    expect(c.table.map((r) => [r.name, r.kind])).toEqual([
      ['aapl-holder', 'model'],
      ['msft-holder', 'model'],
      ['QQQ', 'benchmark'],
      ['equal-weight', 'equal_weight'],
    ]);
    const qqqClose = new Map(bars.get('QQQ')!.map((b) => [b.date, b.close]));
    const qqqBefore = bars
      .get('QQQ')!
      .filter((b) => b.date < dates[0]!)
      .at(-1)!.close;
    const qqqRow = c.table.find((r) => r.kind === 'benchmark')!.metrics!;
    expect(qqqRow.period_return_pct).toBeCloseTo((qqqClose.get(dates.at(-1)!)! / qqqBefore - 1) * 100, 4);
    // A model's return to the benchmark's, and its beta, as /results gives them.
    const aapl = c.table[0]!.metrics!;
    expect(aapl.benchmark?.symbol).toBe('QQQ');
    expect(typeof aapl.benchmark?.beta).toBe('number');
  });

  it('grows the equal-weight basket by the mean of its symbols’ daily returns', () => {
    const ew = equalWeightDays(universe, dates)!;
    let index = 100;
    for (const [i, date] of dates.entries()) {
      let sum = 0;
      for (const s of universe.keys()) {
        const closes = bars.get(s)!;
        const k = closes.findIndex((b) => b.date === date);
        sum += closes[k]!.close / closes[k - 1]!.close - 1;
      }
      index *= 1 + sum / universe.size;
      expect(ew[i]!.endValue).toBeCloseTo(index, 9);
    }
  });

  it('ranks by Sharpe ratio, with intervals that hold the difference and say when it is significant', () => {
    const sharpe = new Map([...days].map(([m, d]) => [m, welfordSharpe(d.map((x) => x.returnPct / 100))]));
    const order = [...sharpe].sort((a, b) => b[1] - a[1]).map(([m]) => m);
    expect(c.ranking.map((r) => r.model)).toEqual(order);
    for (const r of c.ranking) expect(r.sharpe_ratio).toBeCloseTo(sharpe.get(r.model)!, 4);
    expect(c.ranking[0]!.versus_best).toBeNull();
    const second = c.ranking[1]!;
    expect(second.versus_best!.sharpe_difference).toBeCloseTo(sharpe.get(order[1]!)! - sharpe.get(order[0]!)!, 4);
    for (const r of c.ranking) {
      for (const i of [r.versus_best, r.versus_benchmark].filter((x) => x !== null)) {
        expect(i.low).toBeLessThanOrEqual(i.sharpe_difference);
        expect(i.high).toBeGreaterThanOrEqual(i.sharpe_difference);
        expect(i.significant).toBe(i.low > 0 || i.high < 0);
      }
    }
    // Seeded: the same question, the same answer.
    expect(
      comparison({ days, benchmark: { symbol: 'QQQ', bars: bars.get('QQQ')! }, confidence: 0.95, resamples: 1_000 })
        .ranking,
    ).toEqual(c.ranking);
  });

  it('compares only the days every model has, and a baseline missing a day is left out', () => {
    const gap = new Map([
      ['a', holding('AAPL')],
      ['b', holding('MSFT').filter((d) => d.date !== dates[5])],
    ]);
    expect(commonDates(gap)).toHaveLength(dates.length - 1);
    expect(commonDates(gap)).not.toContain(dates[5]);
    const noBar = bars.get('QQQ')!.filter((b) => b.date !== dates[3]);
    expect(buyAndHoldDays(noBar, dates)).toBeNull();
    const c2 = comparison({ days: gap, benchmark: { symbol: 'QQQ', bars: noBar }, confidence: 0.9, resamples: 100 });
    expect(c2.trading_days).toBe(dates.length - 1);
    expect(c2.benchmark).toBeNull();
    expect(c2.ranking.every((r) => r.versus_benchmark === null)).toBe(true);
  });
});
