import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { NO_TOKENS } from '../../trading/agents/types.js';
import type { Bar } from '../../trading/bars.js';
import { toUnits } from '../../trading/money.js';
import { Portfolio } from '../../trading/portfolio.js';
import { closeOfDay } from './closeOfDay.js';

// A model's day from what its agent did, with no I/O: valuation, P&L and the record, checked by hand.

const bar = (date: string, open: number, close: number): Bar => ({
  date,
  open,
  high: close,
  low: open,
  close,
  volume: 1,
});
const ref = { jobId: 'job-1', owner: 'ann', model: 'hold', date: '2025-03-04', symbols: ['AAPL', 'MSFT'] };
const run = { steps: [], tokenUsage: NO_TOKENS, summary: 'bought', finished: true };
const start = { cash: 1000, holdings: { AAPL: 2 }, portfolioValue: 1200 };

function day(series: Map<string, Bar[]>, trade?: (p: Portfolio) => void) {
  const portfolio = new Portfolio({ cash: toUnits(start.cash), holdings: start.holdings });
  trade?.(portfolio);
  return closeOfDay({
    ref,
    start,
    series,
    portfolio,
    run,
    toolUsage: { buy: 1 },
    durationMs: 7,
    createdAt: new Date('2025-03-04T21:00:00Z'),
  });
}

describe('closeOfDay', () => {
  it('values at the close of the day, after the trades at the open; P&L against the start', () => {
    const series = new Map([
      ['AAPL', [bar('2025-03-03', 99, 100), bar('2025-03-04', 101, 110)]],
      ['MSFT', [bar('2025-03-04', 40, 50)]],
    ]);
    // Buys 3 MSFT at the open (40): cash 880, then worth 2×110 + 3×50 at the close.
    const { doc, valuedAtPreviousClose } = day(series, (p) => p.buy('MSFT', 3, toUnits(40)));
    expect(valuedAtPreviousClose).toEqual([]);
    expect(doc.endingPosition).toEqual({ cash: 880, holdings: { AAPL: 2, MSFT: 3 }, portfolioValue: 880 + 220 + 150 });
    expect(doc.dailyPnl.profit).toBe(1250 - 1200);
    // Percent, to four places: 50 / 1200.
    expect(doc.dailyPnl.returnPct).toBe(4.1667);
    expect(doc.trades).toEqual([
      expect.objectContaining({ action: 'buy', symbol: 'MSFT', quantity: 3, price: 40, total: 120 }),
    ]);
    expect(doc).toMatchObject({
      _id: 'ann|hold|2025-03-04',
      owner: 'ann',
      jobId: 'job-1',
      startingPosition: start,
      summary: 'bought',
      toolUsage: { buy: 1 },
      durationMs: 7,
    });
    expect(doc.valuedAtPreviousClose).toBeUndefined();
  });

  it('a one-day halt is valued at the previous close and says so; an older gap fails the day for good', () => {
    const halted = new Map([['AAPL', [bar('2025-03-03', 99, 100)]]]);
    const { doc, valuedAtPreviousClose } = day(halted);
    expect(valuedAtPreviousClose).toEqual(['AAPL']);
    expect(doc.valuedAtPreviousClose).toEqual(['AAPL']);
    expect(doc.endingPosition.portfolioValue).toBe(1000 + 2 * 100);
    const stale = new Map([['AAPL', [bar('2025-02-27', 99, 100)]]]);
    expect(() => day(stale)).toThrow(ApplicationFailure);
    expect(() => day(stale)).toThrow(/no price to value AAPL on 2025-03-04/);
  });
});
