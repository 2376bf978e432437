import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HOURLY } from '../../test/paths.js';
import { nextBarKey, periodsPerYearOf, previousBarKey } from '../barTime.js';
import { LookAheadError, MarketView } from '../marketView.js';
import { closeForValuation } from '../valuation.js';
import { HourlyFileSource, parseHourlyDocument } from './hourlyFiles.js';

/** One hourly bar of a symbol, straight from the shared file. */
function fromFile(symbol: string, stamp: string) {
  const line = readFileSync(HOURLY, 'utf8')
    .split('\n')
    .find((l) => l.includes(`"2. Symbol": "${symbol}"`))!;
  const bar = JSON.parse(line)['Time Series (60min)'][stamp];
  return { open: Number(bar['1. buy price']), close: Number(bar['4. sell price']) };
}

describe('AI-Trader hourly files', () => {
  const source = new HourlyFileSource([HOURLY]);

  it('give the session bars 10:00..15:00 by bar key, each with its open and close', async () => {
    const series = await source.loadHourly(['AAPL', 'MSFT'], '2025-10-30', '2025-10-31');
    const aapl = series.get('AAPL')!;
    expect(aapl.map((b) => b.date)).toEqual([
      '2025-10-30T10:00',
      '2025-10-30T11:00',
      '2025-10-30T12:00',
      '2025-10-30T13:00',
      '2025-10-30T14:00',
      '2025-10-30T15:00',
      '2025-10-31T10:00',
      '2025-10-31T11:00',
      '2025-10-31T12:00',
      '2025-10-31T13:00',
      '2025-10-31T14:00',
      '2025-10-31T15:00',
    ]);
    expect(aapl[0]).toMatchObject(fromFile('AAPL', '2025-10-30 10:00:00'));
    expect(await source.sessions('2025-10-30', '2025-10-31')).toEqual(aapl.map((b) => b.date));
    expect(await source.latestDate()).toBe('2025-11-10');
  });

  it('drop bars outside the session and bars without a close', () => {
    const parsed = parseHourlyDocument({
      'Meta Data': { '2. Symbol': 'x' },
      'Time Series (60min)': {
        '2025-10-30 09:00:00': { '1. buy price': '1', '4. sell price': '2' },
        '2025-10-30 10:00:00': { '1. buy price': '1', '4. sell price': '2' },
        '2025-10-30 11:00:00': { '1. buy price': '1' },
      },
    });
    expect(parsed).toEqual({
      symbol: 'X',
      bars: [{ date: '2025-10-30T10:00', open: 1, high: 2, low: 1, close: 2, volume: 0 }],
    });
  });
});

describe('hourly bars: no look-ahead per bar', async () => {
  const series = await new HourlyFileSource([HOURLY]).loadHourly(['AAPL'], '2025-10-29', '2025-10-30');
  const view = new MarketView('2025-10-30T11:00', series);

  it('an agent deciding at 11:00 sees the 10:00 bar whole, only the open of 11:00, and nothing later', () => {
    const past = view.history('AAPL');
    expect(past.at(-1)!.date).toBe('2025-10-30T10:00');
    expect(past.every((b) => b.date < '2025-10-30T11:00')).toBe(true);
    expect(view.openToday('AAPL')).toBe(fromFile('AAPL', '2025-10-30 11:00:00').open);
    expect(view.barOn('AAPL', '2025-10-30T11:00')).toEqual({
      date: '2025-10-30T11:00',
      open: fromFile('AAPL', '2025-10-30 11:00:00').open,
    });
    expect(() => view.barOn('AAPL', '2025-10-30T12:00')).toThrow(LookAheadError);
    expect(() => view.barOn('AAPL', '2025-10-31')).toThrow(LookAheadError);
    const state = JSON.stringify({ past: [...(view as any).past], opens: [...(view as any).opens] });
    expect(state).not.toContain('2025-10-30T12:00');
    expect(state).not.toContain(String(fromFile('AAPL', '2025-10-30 11:00:00').close));
  });

  it('values a holding at its bar’s close, or the bar before it when its own is missing', () => {
    expect(closeForValuation(series.get('AAPL'), 'AAPL', '2025-10-30T11:00')).toEqual({
      close: fromFile('AAPL', '2025-10-30 11:00:00').close,
      date: '2025-10-30T11:00',
    });
    const gap = series.get('AAPL')!.filter((b) => b.date !== '2025-10-30T10:00');
    expect(closeForValuation(gap, 'AAPL', '2025-10-30T10:00').date).toBe('2025-10-29T15:00');
    expect(() => closeForValuation(gap.slice(0, 3), 'AAPL', '2025-10-30T12:00')).toThrow(/no price/);
  });

  it('steps through sessions and annualizes six bars a day', () => {
    expect(nextBarKey('2025-10-30T15:00')).toBe('2025-10-31T10:00');
    expect(nextBarKey('2025-10-31T15:00')).toBe('2025-11-03T10:00');
    expect(previousBarKey('2025-11-03T10:00')).toBe('2025-10-31T15:00');
    expect(previousBarKey('2025-11-03T12:00')).toBe('2025-11-03T11:00');
    expect(periodsPerYearOf('2025-11-03T12:00')).toBe(1512);
    expect(periodsPerYearOf('2025-11-03')).toBe(252);
  });
});
