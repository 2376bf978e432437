import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';
import { DAILY_H2, HOURLY } from './paths.js';

function series(file: string, key: string, symbol: string): Record<string, Record<string, string>> {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.includes(`"2. Symbol": "${symbol}"`))!;
  return JSON.parse(line)[key];
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ models: STRATEGY_MODELS });
});
afterAll(async () => {
  await h?.stop();
});

describe('GET /api/prices/{symbol}/history', () => {
  it('a month of daily bars up to the last day with data, as the file has them', async () => {
    const res = await h.api('/api/prices/aapl/history?range=1M');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      symbol: 'AAPL',
      range: '1M',
      interval: '1d',
      end: '2025-10-30',
      synthetic: false,
    });
    const daily = series(DAILY_H2, 'Time Series (Daily)', 'AAPL');
    const last = res.body.bars.at(-1);
    expect(last.time).toBe('2025-10-30');
    const close = daily['2025-10-30']!;
    expect(last.close).toBe(Number(close['4. close'] ?? close['4. sell price']));
    expect(res.body.bars.length).toBeGreaterThanOrEqual(20);
    const times = res.body.bars.map((b: any) => b.time);
    expect([...times].sort()).toEqual(times);
  });

  it('a day as hourly bars where the hourly source has them', async () => {
    const res = await h.api('/api/prices/AAPL/history?range=1D');
    expect(res.body.interval).toBe('1h');
    const hourly = series(HOURLY, 'Time Series (60min)', 'AAPL');
    expect(res.body.bars.map((b: any) => b.time)).toEqual(
      ['10:00', '11:00', '12:00', '13:00', '14:00', '15:00'].map((t) => `2025-10-30T${t}`),
    );
    expect(res.body.bars[0].open).toBe(Number(hourly['2025-10-30 10:00:00']!['1. buy price']));
    expect(res.body.source).toBe('hourly-files');
  });

  it('everything as weekly bars, each the aggregate of its days', async () => {
    const all = await h.api('/api/prices/MSFT/history?range=ALL');
    expect(all.body.interval).toBe('1wk');
    const days = await h.api('/api/prices/MSFT/history?start=2025-03-03&end=2025-03-07');
    expect(days.body.interval).toBe('1d');
    const week = all.body.bars.find((b: any) => b.time === '2025-03-03');
    expect(week).toEqual({
      time: '2025-03-03',
      open: days.body.bars[0].open,
      high: Math.max(...days.body.bars.map((b: any) => b.high)),
      low: Math.min(...days.body.bars.map((b: any) => b.low)),
      close: days.body.bars.at(-1).close,
      volume: days.body.bars.reduce((s: number, b: any) => s + b.volume, 0),
    });
  });

  it('refuses what it cannot answer, with the reason', async () => {
    expect((await h.api('/api/prices/AAPL/history?range=5Y')).status).toBe(400);
    expect((await h.api('/api/prices/AAPL/history?range=1M&start=2025-01-02')).status).toBe(400);
    expect((await h.api('/api/prices/AAPL/history?start=2025-03-07&end=2025-03-03')).status).toBe(422);
    const unknown = await h.api('/api/prices/ZZZZ/history');
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toBe('unknown_ticker');
    expect((await h.api('/api/prices/AAPL%20OR%201/history')).status).toBe(400);
    expect((await h.api('/api/prices/AAPL/history', { key: null })).status).toBe(401);
  });
});
