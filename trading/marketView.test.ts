import { describe, expect, it } from 'vitest';
import type { Bar } from './bars.js';
import { LookAheadError, MarketView } from './marketView.js';

const bar = (date: string, close: number): Bar => ({
  date,
  open: close - 1,
  high: close + 1,
  low: close - 2,
  close,
  volume: 100,
});
const series = new Map([
  ['AAPL', [bar('2025-03-03', 10), bar('2025-03-04', 11), bar('2025-03-05', 12), bar('2025-03-06', 13)]],
]);

describe('MarketView: no look-ahead, by construction', () => {
  const view = new MarketView('2025-03-05', series);

  it('shows full bars before today and only the open of today', () => {
    expect(view.history('AAPL').map((b) => b.date)).toEqual(['2025-03-03', '2025-03-04']);
    expect(view.openToday('AAPL')).toBe(11);
    expect(view.barOn('AAPL', '2025-03-05')).toEqual({ date: '2025-03-05', open: 11 });
    expect(view.lastClose('AAPL')).toBe(11);
  });

  it('refuses any later date, whatever is asked', () => {
    expect(() => view.barOn('AAPL', '2025-03-06')).toThrow(LookAheadError);
    expect(() => view.barOn('AAPL', '2030-01-01')).toThrow(/not available on 2025-03-05/);
    expect(view.history('AAPL', 1000).every((b) => b.date < '2025-03-05')).toBe(true);
  });

  it("holds no later data at all: its whole state has nothing dated after today, nor today's close", () => {
    const state = JSON.stringify({ ...view, past: [...(view as any).past], opens: [...(view as any).opens] });
    expect(state).not.toContain('2025-03-06');
    expect(state).not.toMatch(/"close":12\b/);
  });

  it('cannot be changed by an agent: returned bars are frozen', () => {
    const [first] = view.history('AAPL');
    expect(() => {
      (first as Bar).close = 999;
    }).toThrow();
  });
});
