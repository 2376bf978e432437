import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMarketSource, resolveMarketData } from '../config/services.js';
import { loadSettings } from '../config/settings.js';
import { freePort } from '../devstack/processes.js';
import { NASDAQ_100 } from '../trading/market-data/nasdaq100.js';
import { type YahooError, YahooSource } from '../trading/market-data/yahoo.js';
import { type FakeYahoo, startFakeYahoo } from './support/fakeYahoo.js';

// The real yahoo-finance2 client over real HTTP, against a Yahoo-shaped server on loopback
// (test/support/fakeYahoo.ts, answers from test/fixtures/yahoo/): parsing, each typed failure, and the
// start-up probe that picks the default market data. Nothing here reaches the internet.

let fake: FakeYahoo;
beforeAll(async () => {
  fake = await startFakeYahoo();
});
afterAll(() => fake.close());

/** After Friday 2025-03-07's close in New York: the week's bars are all final. */
const afterTheWeek = () => new Date('2025-03-08T15:00:00Z');
const failure = (source: YahooSource, symbol: string) =>
  source.loadDaily([symbol], '2025-03-03', '2025-03-07').then(
    () => null,
    (err: unknown) => err as YahooError,
  );

describe('Yahoo behind the real client', () => {
  it('parses a chart: bars dated in New York, rounded to 1/10,000, the halted day left out', async () => {
    const yahoo = new YahooSource(['AAPL'], { baseUrl: fake.url, now: afterTheWeek });
    const aapl = (await yahoo.loadDaily(['AAPL'], '2025-03-03', '2025-03-07')).get('AAPL')!;
    expect(aapl.map((b) => b.date)).toEqual(['2025-03-03', '2025-03-04', '2025-03-06', '2025-03-07']);
    expect(aapl[1]).toEqual({
      date: '2025-03-04',
      open: 237.71,
      high: 240.07,
      low: 234.68,
      close: 235.93,
      volume: 53798100,
    });
    // What the client asked: the daily chart of the symbol over the range (the end day included).
    const asked = new URL(fake.requests.at(-1)!, fake.url);
    expect(asked.pathname).toBe('/v8/finance/chart/AAPL');
    expect(Object.fromEntries(asked.searchParams)).toMatchObject({
      interval: '1d',
      period1: String(Date.parse('2025-03-03') / 1000),
      period2: String(Date.parse('2025-03-08') / 1000),
    });
  });

  it('names each refusal with the symbol and what to do', async () => {
    const yahoo = new YahooSource(['AAPL'], { baseUrl: fake.url, now: afterTheWeek });
    const busy = await failure(yahoo, 'BUSY');
    expect(busy).toMatchObject({ name: 'YahooError', failure: 'rate_limited', symbol: 'BUSY', retryable: true });
    expect(busy!.message).toMatch(/wait a minute/);

    const unknown = await failure(yahoo, 'ZZZZ');
    expect(unknown).toMatchObject({ failure: 'unknown_symbol', symbol: 'ZZZZ', retryable: false });
    expect(unknown!.message).toMatch(/check the ticker/);

    // A body cut off mid-JSON, and well-formed JSON of another shape: both are a changed API.
    for (const symbol of ['TRUNC', 'SHAPE']) {
      const changed = await failure(yahoo, symbol);
      expect(changed).toMatchObject({ failure: 'changed_response', symbol, retryable: false });
      expect(changed!.message).toMatch(/upgrade yahoo-finance2/);
    }
  });

  it('says Yahoo is unavailable when nothing answers', async () => {
    const down = new YahooSource(['AAPL'], { baseUrl: `http://127.0.0.1:${await freePort()}`, now: afterTheWeek });
    expect(await failure(down, 'AAPL')).toMatchObject({ failure: 'unavailable', symbol: 'AAPL', retryable: true });
  });
});

describe('the default market data, decided at start', () => {
  it('is Yahoo on the NASDAQ-100 when Yahoo answers, and the source made from it reads Yahoo', async () => {
    const asked = fake.requests.length;
    const resolved = await resolveMarketData(loadSettings({ TRADEFLOW_YAHOO_URL: fake.url }).marketData);
    expect(resolved).toEqual({ source: 'yahoo', symbols: [...NASDAQ_100], yahooUrl: fake.url });
    expect(fake.requests.length).toBe(asked + 1);
    expect(fake.requests.at(-1)).toMatch(/^\/v8\/finance\/chart\/AAPL\?/);

    const source = createMarketSource(resolved);
    expect(await source.defaultSymbols()).toHaveLength(101);
    const bars = await source.loadDaily(['AAPL'], '2025-03-03', '2025-03-06');
    expect(bars.get('AAPL')!.map((b) => b.close)).toEqual([238.03, 235.93, 235.33]);
  });

  it('is the synthetic walk, saying Yahoo is unreachable, when nothing listens', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const resolved = await resolveMarketData(loadSettings({ TRADEFLOW_YAHOO_URL: nowhere }).marketData);
    expect(resolved).toEqual({ source: 'synthetic', seed: 42, fallback: 'Yahoo unreachable' });
  });
});
