import { describe, expect, it } from 'vitest';
import type { Bar } from '../bars.js';
import { MarketView } from '../marketView.js';
import { toUnits } from '../money.js';
import { Portfolio } from '../portfolio.js';
import { TradingDesk } from '../tradingDesk.js';
import { StrategyAgent } from './strategies.js';

function makeSeries(symbols: Record<string, number[]>): Map<string, Bar[]> {
  const dates = Array.from({ length: 30 }, (_, i) => `2025-01-${String(i + 1).padStart(2, '0')}`);
  return new Map(
    Object.entries(symbols).map(([s, closes]) => [
      s,
      closes.map((c, i) => ({ date: dates[i]!, open: c, high: c, low: c, close: c, volume: 1 })),
    ]),
  );
}

async function runOn(agent: StrategyAgent, series: Map<string, Bar[]>, date: string, cash = 10_000) {
  const view = new MarketView(date, series);
  const portfolio = new Portfolio({ cash: toUnits(cash), holdings: {} });
  const desk = new TradingDesk(view, portfolio);
  const run = await agent.run({
    date,
    symbols: [...series.keys()],
    view,
    desk,
    signal: new AbortController().signal,
    heartbeat: () => {},
  });
  return { run, portfolio };
}

const rising = Array.from({ length: 30 }, (_, i) => 100 + i * 2);
const falling = Array.from({ length: 30 }, (_, i) => 200 - i * 2);
const flat = Array.from({ length: 30 }, () => 50);

describe('built-in strategies', () => {
  it('buy-and-hold spends cash on an equal-weight basket, within the cash it has', async () => {
    const { portfolio } = await runOn(
      new StrategyAgent('buy-and-hold'),
      makeSeries({ A: rising, B: flat }),
      '2025-01-25',
    );
    const snap = portfolio.snapshot();
    expect(Object.keys(snap.holdings)).toEqual(['A', 'B']);
    expect(snap.cash).toBeGreaterThanOrEqual(0);
  });

  it('momentum holds the strongest riser, never the faller', async () => {
    const { portfolio, run } = await runOn(
      new StrategyAgent('momentum', { lookback: 10, top: 1 }),
      makeSeries({ UP: rising, DOWN: falling, FLAT: flat }),
      '2025-01-25',
    );
    expect(Object.keys(portfolio.snapshot().holdings)).toEqual(['UP']);
    expect(run.summary).toContain('UP');
  });

  it('momentum waits for enough history', async () => {
    const { portfolio, run } = await runOn(
      new StrategyAgent('momentum', { lookback: 20 }),
      makeSeries({ UP: rising }),
      '2025-01-05',
    );
    expect(portfolio.trades).toHaveLength(0);
    expect(run.summary).toMatch(/waiting/);
  });

  it('mean reversion buys a symbol that dropped far below its average', async () => {
    const dip = [...flat.slice(0, 20), 30, ...flat.slice(21)];
    const { portfolio } = await runOn(
      new StrategyAgent('mean-reversion', { lookback: 10 }),
      makeSeries({ DIP: dip, FLAT: flat }),
      '2025-01-22',
    );
    expect(portfolio.snapshot().holdings).toHaveProperty('DIP');
    expect(portfolio.snapshot().holdings).not.toHaveProperty('FLAT');
  });

  it('is deterministic: the same day gives the same trades', async () => {
    const s = makeSeries({ A: rising, B: falling, C: flat });
    const a = await runOn(new StrategyAgent('momentum', { lookback: 5 }), s, '2025-01-20');
    const b = await runOn(new StrategyAgent('momentum', { lookback: 5 }), s, '2025-01-20');
    expect(a.portfolio.trades).toEqual(b.portfolio.trades);
  });

  it('stops waiting when its job is cancelled', async () => {
    const ac = new AbortController();
    const view = new MarketView('2025-01-20', makeSeries({ A: rising }));
    const desk = new TradingDesk(view, new Portfolio({ cash: 0, holdings: {} }));
    const running = new StrategyAgent('buy-and-hold', { decisionDelayMs: 60_000 }).run({
      date: '2025-01-20',
      symbols: ['A'],
      view,
      desk,
      signal: ac.signal,
      heartbeat: () => {},
    });
    ac.abort();
    await expect(running).rejects.toThrow(/abort/i);
  });
});
