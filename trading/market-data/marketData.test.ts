import { describe, expect, it } from 'vitest';
import { DAILY_H1, DAILY_H2 } from '../../test/paths.js';
import { tradingDaysBetween } from '../calendar.js';
import { AlphaVantageFileSource, parseAlphaVantageJsonl } from './alphaVantageFiles.js';
import { SyntheticSource } from './synthetic.js';
import { barsFromChartQuotes, YahooSource } from './yahoo.js';

describe('Alpha Vantage / AI-Trader files', () => {
  it('reads both the merged (buy/sell price) and the raw (open/close) formats', async () => {
    const src = new AlphaVantageFileSource([DAILY_H1, DAILY_H2]);
    const symbols = await src.defaultSymbols();
    expect(symbols.length).toBe(101);
    expect(symbols).not.toContain('QQQ');
    const series = await src.loadDaily(['AAPL', 'QQQ'], '2025-01-01', '2025-10-30');
    const aapl = series.get('AAPL')!;
    expect(aapl[0]).toEqual({
      date: '2025-01-02',
      open: 248.0494,
      high: 248.2189,
      low: 240.9646,
      close: 242.9874,
      volume: 55740700,
    });
    expect(aapl.at(-1)!.date).toBe('2025-10-30');
    expect(series.get('QQQ')!.length).toBeGreaterThan(200);
    expect(await src.latestDate()).toBe('2025-10-30');
  });

  it('has one bar per NYSE trading day', async () => {
    const src = new AlphaVantageFileSource([DAILY_H1]);
    const aapl = (await src.loadDaily(['AAPL'], '2025-01-01', '2025-06-30')).get('AAPL')!;
    expect(aapl.map((b) => b.date)).toEqual(tradingDaysBetween('2025-01-02', '2025-06-27'));
  });

  it('drops an open-only bar (AI-Trader hides the rest of the current bar)', () => {
    const doc = {
      'Meta Data': { '2. Symbol': 'XYZ' },
      'Time Series (Daily)': {
        '2025-03-03': {
          '1. buy price': '10',
          '2. high': '11',
          '3. low': '9',
          '4. sell price': '10.5',
          '5. volume': '7',
        },
        '2025-03-04': { '1. buy price': '10.6' },
      },
    };
    const bars = parseAlphaVantageJsonl(JSON.stringify(doc)).get('XYZ')!;
    expect(bars.map((b) => b.date)).toEqual(['2025-03-03']);
  });

  it('names the file and line of a broken document', () => {
    expect(() => parseAlphaVantageJsonl('{"Meta Data": {}}\n{not json', 'x.jsonl')).toThrow(/x.jsonl:2: not JSON/);
  });
});

describe('synthetic market', () => {
  it('is deterministic per seed and independent of the range asked', async () => {
    const a = new SyntheticSource(7);
    const b = new SyntheticSource(7);
    const long = (await a.loadDaily(['AAPL'], '2024-01-01', '2024-12-31')).get('AAPL')!;
    const short = (await b.loadDaily(['AAPL'], '2024-06-03', '2024-06-07')).get('AAPL')!;
    expect(short).toEqual(long.filter((x) => x.date >= '2024-06-03' && x.date <= '2024-06-07'));
    const other = (await new SyntheticSource(8).loadDaily(['AAPL'], '2024-06-03', '2024-06-07')).get('AAPL')!;
    expect(other).not.toEqual(short);
    for (const bar of long) {
      expect(bar.low).toBeLessThanOrEqual(Math.min(bar.open, bar.close));
      expect(bar.high).toBeGreaterThanOrEqual(Math.max(bar.open, bar.close));
    }
  });

  it('ends at the last completed trading day', async () => {
    const src = new SyntheticSource(1, () => new Date('2026-11-24T15:00:00Z'));
    expect(await src.latestDate()).toBe('2026-11-23');
  });
});

describe('Yahoo Finance', () => {
  it('turns chart quotes into bars dated in New York, dropping empty rows', () => {
    const bars = barsFromChartQuotes([
      {
        date: new Date('2025-03-03T14:30:00Z'),
        open: 241.79,
        high: 244.03,
        low: 236.11,
        close: 238.03,
        volume: 47184000,
      },
      { date: new Date('2025-03-04T14:30:00Z'), open: null, high: null, low: null, close: null, volume: null },
    ]);
    expect(bars).toEqual([
      { date: '2025-03-03', open: 241.79, high: 244.03, low: 236.11, close: 238.03, volume: 47184000 },
    ]);
  });

  // Each failure of a Yahoo-shaped server behind the real client: test/yahoo.e2e.test.ts (it starts a server).

  it('reports a network failure instead of returning empty data', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    await expect(
      new YahooSource(['AAPL'], { fetch: failing }).loadDaily(['AAPL'], '2025-03-03', '2025-03-05'),
    ).rejects.toMatchObject({ name: 'YahooError', failure: 'unavailable', symbol: 'AAPL', retryable: true });
  });
});
