import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DAILY_H1 } from '../../test/paths.js';
import { welford } from '../../test/support/welford.js';
import { parseAlphaVantageJsonl } from '../market-data/alphaVantageFiles.js';
import { maxDrawdownOf, normalCdf, riskMetrics, type ValuePoint } from './riskMetrics.js';

// Each metric checked by hand on a small series, then recomputed independently (other algorithms: Welford's
// running variance, a running-maximum drawdown, sums written out) on real 2025 NASDAQ-100 closes.

const close = (xs: number[]): ValuePoint[] =>
  xs.map((value, i) => ({ date: `2025-01-${String(i + 2).padStart(2, '0')}`, value }));

describe('risk metrics by hand', () => {
  const points = close([110, 99, 120]);
  const m = riskMetrics(points, { startValue: 100, periodsPerYear: 252 });

  it('returns, total, win rate and profit factor', () => {
    // r = 0.1, -0.1, 120/99 - 1
    const r3 = 120 / 99 - 1;
    expect(m.periods).toBe(3);
    expect(m.totalReturn).toBeCloseTo(0.2, 12);
    expect(m.winRate).toBeCloseTo(2 / 3, 12);
    expect(m.profitFactor).toBeCloseTo((0.1 + r3) / 0.1, 12);
    expect(m.annualizedReturn).toBeCloseTo(1.2 ** (252 / 3) - 1, 6);
  });

  it('the deepest fall from a peak, its dates and how long until the peak came back', () => {
    expect(m.maxDrawdown).toEqual({
      depth: expect.closeTo(99 / 110 - 1, 12),
      peakDate: '2025-01-02',
      troughDate: '2025-01-03',
      recoveryDate: '2025-01-04',
      durationPeriods: 2,
    });
    const never = maxDrawdownOf(close([100, 90, 95]));
    expect(never).toMatchObject({
      peakDate: '2025-01-02',
      troughDate: '2025-01-03',
      recoveryDate: null,
      durationPeriods: 2,
    });
    expect(maxDrawdownOf(close([100, 101, 102])).depth).toBe(0);
  });

  it('a series that only rises has no Sortino, Calmar or profit factor to speak of', () => {
    const up = riskMetrics(close([101, 102, 104]), { startValue: 100, periodsPerYear: 252 });
    expect(up.sortino).toBeNull();
    expect(up.calmar).toBeNull();
    expect(up.profitFactor).toBeNull();
    expect(up.winRate).toBe(1);
  });

  it('the normal CDF to 1e-12 (reference values: scipy.stats.norm.cdf)', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 12);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 12);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 12);
    expect(normalCdf(-8)).toBeCloseTo(6.22096057427178e-16, 12);
  });

  it('a benchmark with another number of returns is refused', () => {
    expect(() => riskMetrics(points, { periodsPerYear: 252, benchmark: { points: close([1, 2]) } })).toThrow(
      RangeError,
    );
  });
});

describe('risk metrics recomputed independently on real closes (AAPL against QQQ, H1 2025)', () => {
  const bars = parseAlphaVantageJsonl(readFileSync(DAILY_H1, 'utf8'));
  const series = (symbol: string) => bars.get(symbol)!.map((b) => ({ date: b.date, value: b.close }));
  const aapl = series('AAPL');
  const qqq = series('QQQ');
  const P = 252;
  const m = riskMetrics(aapl, { periodsPerYear: P, riskFreeRate: 0.02, benchmark: { points: qqq } });

  // The independent side: Welford's running mean and variance (test/support/welford.ts), sums in plain loops.
  const rets = (s: ValuePoint[]) => s.slice(1).map((p, i) => (p.value - s[i]!.value) / s[i]!.value);
  const ra = rets(aapl);
  const rb = rets(qqq);
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));

  it('has the dates to work on', () => {
    expect(aapl.length).toBeGreaterThan(100);
    expect(qqq.map((p) => p.date)).toEqual(aapl.map((p) => p.date));
  });

  it('return, volatility, Sharpe, Sortino agree to 1e-9', () => {
    const w = welford(ra);
    const rf = 0.02 / P;
    const total = aapl.at(-1)!.value / aapl[0]!.value - 1;
    expect(rel(m.totalReturn, total)).toBeLessThan(1e-9);
    expect(rel(m.annualizedReturn!, Math.exp((Math.log(1 + total) * P) / ra.length) - 1)).toBeLessThan(1e-9);
    expect(rel(m.volatility!, Math.sqrt(w.variance * P))).toBeLessThan(1e-9);
    expect(rel(m.sharpe!, ((w.mean - rf) / Math.sqrt(w.variance)) * Math.sqrt(P))).toBeLessThan(1e-9);
    let downSq = 0;
    for (const x of ra) if (x < 0) downSq += x * x;
    expect(rel(m.sortino!, ((w.mean - rf) / Math.sqrt(downSq / ra.length)) * Math.sqrt(P))).toBeLessThan(1e-9);
  });

  it('max drawdown and Calmar agree to 1e-9', () => {
    const running = aapl.map((_, i) => Math.max(...aapl.slice(0, i + 1).map((p) => p.value)));
    const dds = aapl.map((p, i) => p.value / running[i]! - 1);
    const deepest = Math.min(...dds);
    expect(rel(m.maxDrawdown.depth, deepest)).toBeLessThan(1e-9);
    expect(m.maxDrawdown.troughDate).toBe(aapl[dds.indexOf(deepest)]!.date);
    expect(rel(m.calmar!, m.annualizedReturn! / -deepest)).toBeLessThan(1e-9);
  });

  it('win rate, profit factor, beta, alpha, tracking error and information ratio agree to 1e-9', () => {
    let up = 0;
    let down = 0;
    let gains = 0;
    let lossSum = 0;
    for (const x of ra) {
      if (x > 0) {
        up++;
        gains += x;
      } else if (x < 0) {
        down++;
        lossSum -= x;
      }
    }
    expect(rel(m.winRate!, up / (up + down))).toBeLessThan(1e-9);
    expect(rel(m.profitFactor!, gains / lossSum)).toBeLessThan(1e-9);
    const wa = welford(ra);
    const wb = welford(rb);
    let cov = 0;
    for (let i = 0; i < ra.length; i++) cov += (ra[i]! - wa.mean) * (rb[i]! - wb.mean);
    cov /= ra.length - 1;
    const beta = cov / wb.variance;
    expect(rel(m.beta!, beta)).toBeLessThan(1e-9);
    expect(rel(m.alpha!, (wa.mean - beta * wb.mean) * P)).toBeLessThan(1e-9);
    const active = welford(ra.map((x, i) => x - rb[i]!));
    expect(rel(m.trackingError!, Math.sqrt(active.variance * P))).toBeLessThan(1e-9);
    expect(rel(m.informationRatio!, (active.mean / Math.sqrt(active.variance)) * Math.sqrt(P))).toBeLessThan(1e-9);
  });

  it('the probabilistic Sharpe ratio from its definition', () => {
    const w = welford(ra);
    const rf = 0.02 / P;
    const sr = (w.mean - rf) / Math.sqrt(w.variance);
    const n = ra.length;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (const x of ra) {
      m2 += (x - w.mean) ** 2 / n;
      m3 += (x - w.mean) ** 3 / n;
      m4 += (x - w.mean) ** 4 / n;
    }
    const skew = m3 / m2 ** 1.5;
    const kurt = m4 / m2 ** 2;
    const z = (sr * Math.sqrt(n - 1)) / Math.sqrt(1 - skew * sr + ((kurt - 1) / 4) * sr ** 2);
    expect(rel(m.probabilisticSharpe!, normalCdf(z))).toBeLessThan(1e-9);
    expect(m.probabilisticSharpe!).toBeGreaterThan(0);
    expect(m.probabilisticSharpe!).toBeLessThan(1);
  });
});
