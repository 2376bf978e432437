import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DAILY_H1 } from '../../test/paths.js';
import { parseAlphaVantageJsonl } from '../market-data/alphaVantageFiles.js';
import { compareModels, seededRandom, sharpeDifference, sharpeOf } from './compare.js';
import { returnsOf } from './riskMetrics.js';

const bars = parseAlphaVantageJsonl(readFileSync(DAILY_H1, 'utf8'));
const returns = (symbol: string) => returnsOf(bars.get(symbol)!.map((b) => ({ date: b.date, value: b.close })));

describe('comparing models with confidence', () => {
  it('a series against itself differs by exactly 0, interval included', () => {
    const r = returns('AAPL');
    expect(sharpeDifference(r, r, { periodsPerYear: 252, resamples: 200 })).toMatchObject({
      difference: 0,
      low: 0,
      high: 0,
    });
  });

  it('the interval holds the point estimate, answers the same for the same seed, and narrows with a clear edge', () => {
    const a = returns('NVDA');
    const b = returns('QQQ');
    const o = { periodsPerYear: 252, resamples: 1_000, seed: 7 };
    const d = sharpeDifference(a, b, o)!;
    expect(d.difference).toBeCloseTo(sharpeOf(a, 252)! - sharpeOf(b, 252)!, 12);
    expect(d.low).toBeLessThan(d.difference);
    expect(d.high).toBeGreaterThan(d.difference);
    expect(sharpeDifference(a, b, o)).toEqual(d);
    // QQQ with 20 basis points a day added: the same noise, a certain edge, an interval wholly above 0.
    const edged = b.map((x) => x + 0.002);
    const clear = sharpeDifference(edged, b, o)!;
    expect(clear.low).toBeGreaterThan(0);
  });

  it('ranks by Sharpe, each against the best and the benchmark', () => {
    const models = new Map([
      ['aapl', returns('AAPL')],
      ['msft', returns('MSFT')],
      ['nvda', returns('NVDA')],
    ]);
    const table = compareModels(models, { periodsPerYear: 252, resamples: 300, benchmark: returns('QQQ') });
    expect(table.map((t) => t.rank)).toEqual([1, 2, 3]);
    const sharpes = table.map((t) => t.sharpe!);
    expect([...sharpes].sort((x, y) => y - x)).toEqual(sharpes);
    expect(table[0]!.versusBest).toBeNull();
    for (const t of table.slice(1)) expect(t.versusBest!.difference).toBeLessThanOrEqual(0);
    for (const t of table) expect(t.versusBenchmark).not.toBeNull();
  });

  it('the generator is uniform enough and seeded', () => {
    const r = seededRandom(42);
    const xs = Array.from({ length: 10_000 }, () => r());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(0.5, 1);
    expect(seededRandom(42)()).toBe(xs[0]);
  });
});
