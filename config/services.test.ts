import { describe, expect, it } from 'vitest';
import { fixtureFetch } from '../test/support/fakeYahoo.js';
import { NASDAQ_100 } from '../trading/market-data/nasdaq100.js';
import { createMarketSource, resolveMarketData } from './services.js';
import { loadSettings } from './settings.js';

// `auto` asks Yahoo once at start and settles on it or on the walk; nothing here leaves the process.

const offline = (async () => {
  throw new TypeError('fetch failed');
}) as unknown as typeof fetch;

describe('the default market data (auto)', () => {
  it('is Yahoo on the NASDAQ-100 when Yahoo answers the probe, asked once for one chart', async () => {
    const requests: string[] = [];
    const resolved = await resolveMarketData(loadSettings({}).marketData, {
      fetch: fixtureFetch(undefined, requests),
    });
    expect(resolved).toEqual({ source: 'yahoo', symbols: [...NASDAQ_100] });
    expect(NASDAQ_100).toHaveLength(101);
    expect(new Set(NASDAQ_100).size).toBe(101);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatch(/^\/v8\/finance\/chart\/AAPL\?.*interval=1d/);
  });

  it('keeps the symbols MARKET_SYMBOLS names, on Yahoo or on the walk', async () => {
    const auto = loadSettings({ MARKET_SYMBOLS: 'aapl,msft' }).marketData;
    expect(await resolveMarketData(auto, { fetch: fixtureFetch() })).toEqual({
      source: 'yahoo',
      symbols: ['AAPL', 'MSFT'],
    });
    expect(await resolveMarketData(auto, { fetch: offline })).toMatchObject({
      source: 'synthetic',
      symbols: ['AAPL', 'MSFT'],
    });
  });

  it('is the synthetic walk, saying why, when Yahoo cannot be reached', async () => {
    const resolved = await resolveMarketData(loadSettings({ MARKET_DATA_SEED: '7' }).marketData, { fetch: offline });
    expect(resolved).toEqual({ source: 'synthetic', seed: 7, fallback: 'Yahoo unreachable' });
  });

  it('waits a bounded time for a Yahoo that never answers', async () => {
    const silent = ((_: unknown, init?: RequestInit) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
      })) as typeof fetch;
    const started = Date.now();
    const resolved = await resolveMarketData(loadSettings({}).marketData, { fetch: silent, timeoutMs: 200 });
    expect(resolved).toMatchObject({ source: 'synthetic', fallback: 'Yahoo unreachable' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('does not use a Yahoo that answers but refuses (rate limit)', async () => {
    const busy = (async () => new Response('Too Many Requests', { status: 429 })) as unknown as typeof fetch;
    expect(await resolveMarketData(loadSettings({}).marketData, { fetch: busy })).toMatchObject({
      source: 'synthetic',
      fallback: expect.stringMatching(/rate-limiting/),
    });
  });

  it('asks nobody when the source is named or files are configured', async () => {
    const never = (() => {
      throw new Error('no request expected');
    }) as unknown as typeof fetch;
    for (const env of [
      { MARKET_DATA_SOURCE: 'synthetic' },
      { MARKET_DATA_SOURCE: 'yahoo' },
      { MARKET_DATA_FILES: '/tmp/a.jsonl' },
    ]) {
      const settings = loadSettings(env).marketData;
      expect(await resolveMarketData(settings, { fetch: never })).toBe(settings);
    }
  });

  it('makes no source before it is decided', () => {
    expect(() => createMarketSource(loadSettings({}).marketData)).toThrow(/resolveMarketData/);
  });
});
