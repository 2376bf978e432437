import { describe, expect, it } from 'vitest';
import { StrategyAgent } from './agents/strategies.js';
import type { Bar } from './bars.js';
import { describeCosts, fillOf, NO_COSTS, type TradingCosts } from './costs.js';
import { MarketView } from './marketView.js';
import { toDollars, toUnits } from './money.js';
import { Portfolio } from './portfolio.js';
import { TradingDesk } from './tradingDesk.js';

/** Interactive Brokers' fixed US schedule, roughly, plus 1 bp of fees and 5 bp of slippage. */
const BROKER: TradingCosts = {
  ...NO_COSTS,
  commissionPerShare: 0.005,
  commissionMinimum: 1,
  feeBps: 1,
  slippageBps: 5,
};

describe('fills under trading costs', () => {
  it('moves the price against the order and charges commission with its minimum, plus fees on the value', () => {
    // 100 shares at $200.00: slippage 5 bp = $0.10 up; commission max($1, 100 x $0.005) = $1; fees 1 bp of $20,010.
    const buy = fillOf(BROKER, 'buy', 100, toUnits(200));
    expect(toDollars(buy.price)).toBe(200.1);
    expect(toDollars(buy.referencePrice)).toBe(200);
    expect(toDollars(buy.fee)).toBe(1 + 2.001);
    // 1,000 shares: the per-share commission ($5) is over the minimum.
    const sell = fillOf(BROKER, 'sell', 1_000, toUnits(200));
    expect(toDollars(sell.price)).toBe(199.9);
    expect(toDollars(sell.fee)).toBe(5 + 19.99);
  });

  it('adds a fraction of the given range, and rounds to the money unit', () => {
    const costs = { ...NO_COSTS, slippageRangeFraction: 0.1 };
    // Range $3.33: a tenth is $0.333 → 3,330 units exactly.
    expect(toDollars(fillOf(costs, 'buy', 1, toUnits(50), toUnits(3.33)).price)).toBe(50.333);
    expect(toDollars(fillOf(costs, 'sell', 1, toUnits(50), toUnits(3.33)).price)).toBe(49.667);
    // A sell never fills at or below zero.
    expect(fillOf({ ...NO_COSTS, slippageBps: 20_000 }, 'sell', 1, toUnits(1)).price).toBe(1);
  });

  it('are free with no costs', () => {
    expect(fillOf(NO_COSTS, 'buy', 7, toUnits(12.34))).toEqual({
      referencePrice: toUnits(12.34),
      price: toUnits(12.34),
      fee: 0,
    });
    expect(describeCosts(NO_COSTS)).toMatch(/free/);
    expect(describeCosts(BROKER)).toMatch(/\$0\.005 per share.*at least \$1.*1 bps.*slippage 5 bps/);
  });
});

function series(bars: Array<[string, number, number, number, number]>): Map<string, Bar[]> {
  return new Map([
    ['AAA', bars.map(([date, open, high, low, close]) => ({ date, open, high, low, close, volume: 1 }))],
  ]);
}

describe('the trading desk under costs', () => {
  // Yesterday's range is $10 (105 - 95); today's is $40, which no fill may reveal.
  const bars = series([
    ['2025-01-02', 100, 105, 95, 100],
    ['2025-01-03', 100, 140, 100, 130],
  ]);

  it('fills at the open moved by slippage on the last completed bar, and books the fee in cash', () => {
    const view = new MarketView('2025-01-03', bars);
    const portfolio = new Portfolio({ cash: toUnits(10_000), holdings: {} });
    const desk = new TradingDesk(view, portfolio, { ...BROKER, slippageBps: 0, slippageRangeFraction: 0.5 });
    const r = desk.buy('AAA', 10);
    expect(r.ok).toBe(true);
    // 100 + 0.5 x 10 = 105 a share; commission $1 (minimum), fees 1 bp of $1,050 = $0.105.
    const [trade] = portfolio.trades;
    expect(toDollars(trade!.price)).toBe(105);
    expect(toDollars(trade!.referencePrice!)).toBe(100);
    expect(toDollars(trade!.fee!)).toBe(1.105);
    expect(toDollars(trade!.total)).toBe(1_051.105);
    expect(r.cash).toBe(10_000 - 1_051.105);
    expect(r.message).toMatch(/at 105 \(open 100, commission and fees 1\.105\)/);
  });

  it('takes the fee from a sale, and refuses one whose costs cash cannot cover', () => {
    const view = new MarketView('2025-01-03', bars);
    const portfolio = new Portfolio({ cash: 0, holdings: { AAA: 3 } });
    const desk = new TradingDesk(view, portfolio, { ...NO_COSTS, commissionMinimum: 500 });
    const refused = desk.sell('AAA', 1);
    expect(refused.ok).toBe(false);
    expect(refused.message).toMatch(/costs 500 in commission/);
    const sold = desk.sell('AAA', 3);
    expect(sold.ok).toBe(false);
    const rich = new TradingDesk(view, new Portfolio({ cash: 0, holdings: { AAA: 10 } }), {
      ...NO_COSTS,
      commissionMinimum: 500,
    });
    expect(rich.sell('AAA', 10)).toMatchObject({ ok: true, cash: 500 });
  });

  it('says how many shares cash buys with costs, and a strategy buys that many instead of being refused', async () => {
    const view = new MarketView('2025-01-03', bars);
    const desk = new TradingDesk(view, new Portfolio({ cash: toUnits(1_000), holdings: {} }), {
      ...NO_COSTS,
      commissionPerOrder: 5,
    });
    // $1,000 at $100 is 10 shares free, 9 with a $5 commission.
    expect(desk.maxBuyable('AAA')).toBe(9);
    expect(new TradingDesk(view, new Portfolio({ cash: toUnits(1_000), holdings: {} })).maxBuyable('AAA')).toBe(10);

    const portfolio = new Portfolio({ cash: toUnits(1_000), holdings: {} });
    const costly = new TradingDesk(view, portfolio, { ...NO_COSTS, commissionPerOrder: 5 });
    await new StrategyAgent('buy-and-hold').run({
      date: '2025-01-03',
      symbols: ['AAA'],
      view,
      desk: costly,
      signal: new AbortController().signal,
      heartbeat: () => {},
    });
    expect(portfolio.snapshot()).toEqual({ cash: toUnits(95), holdings: { AAA: 9 } });
  });
});
