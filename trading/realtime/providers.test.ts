import { describe, expect, it } from 'vitest';
import type { Bar, BarSeries } from '../bars.js';
import type { NewsSource } from '../news.js';
import { ReplayNewsProvider, storiesFromYahooNews, storyKey } from './newsProviders.js';
import { ReplayQuoteProvider } from './replayQuotes.js';
import { tickFromQuote } from './yahooQuotes.js';

const bar = (date: string, close: number): Bar => ({ date, open: close, high: close, low: close, close, volume: 10 });

describe('ReplayQuoteProvider', () => {
  const series = [bar('2025-10-27', 100), bar('2025-10-28', 110), bar('2025-10-29', 99)];
  const bars = {
    latestDate: async () => '2025-10-29',
    load: async (symbols: readonly string[]): Promise<BarSeries> => new Map(symbols.map((s) => [s, series])),
  };

  it('steps through the closes, each tick naming the replayed day and its change, and starts over', async () => {
    const p = new ReplayQuoteProvider(bars, 'files', () => new Date('2026-01-01T00:00:00Z'));
    const a = await p.quote('AAPL', 0);
    expect(a.tick).toEqual({
      symbol: 'AAPL',
      price: 110,
      change: 10,
      change_percent: 10,
      volume: 10,
      at: '2026-01-01T00:00:00.000Z',
      source: 'replay:files',
      synthetic: false,
      replay_of: '2025-10-28',
    });
    const b = await p.quote('AAPL', a.cursor);
    expect(b.tick).toMatchObject({ price: 99, change: -11, change_percent: -10, replay_of: '2025-10-29' });
    expect((await p.quote('AAPL', b.cursor)).tick?.replay_of).toBe('2025-10-28');
  });

  it('says so when the replayed source is the synthetic walk', async () => {
    const p = new ReplayQuoteProvider(bars, 'synthetic-42');
    expect((await p.quote('AAPL', 0)).tick).toMatchObject({ synthetic: true, source: 'replay:synthetic-42' });
  });

  it('has nothing for a symbol with fewer than two bars', async () => {
    const empty = { ...bars, load: async () => new Map() };
    expect(await new ReplayQuoteProvider(empty, 'files').quote('ZZZZ', 3)).toEqual({ tick: null, cursor: 3 });
  });
});

describe('tickFromQuote (yahoo-finance2 quote fields)', () => {
  const now = new Date('2026-01-02T15:00:00Z');
  it('reads the regular-market fields', () => {
    expect(
      tickFromQuote(
        'AAPL',
        {
          regularMarketPrice: 271.49123,
          regularMarketChange: -1.2,
          regularMarketChangePercent: -0.4401,
          regularMarketVolume: 123456,
          regularMarketTime: new Date('2026-01-02T14:59:58Z'),
        },
        now,
      ),
    ).toEqual({
      symbol: 'AAPL',
      price: 271.4912,
      change: -1.2,
      change_percent: -0.4401,
      volume: 123456,
      at: '2026-01-02T14:59:58.000Z',
      source: 'yahoo',
      synthetic: false,
    });
  });
  it('has no tick without a price, and the poll time when the quote has none', () => {
    expect(tickFromQuote('AAPL', {}, now)).toBeNull();
    expect(tickFromQuote('AAPL', undefined, now)).toBeNull();
    expect(tickFromQuote('AAPL', { regularMarketPrice: Number.NaN }, now)).toBeNull();
    expect(tickFromQuote('AAPL', { regularMarketPrice: 1 }, now)).toMatchObject({
      at: now.toISOString(),
      change: null,
    });
  });
});

describe('news providers', () => {
  it('reads Yahoo search news, dropping items without a title or a time', () => {
    const stories = storiesFromYahooNews('NVDA', [
      {
        uuid: 'u1',
        title: ' Nvidia up ',
        publisher: 'Wire',
        link: 'https://x.example/1',
        providerPublishTime: new Date('2026-01-02T10:00:00Z'),
      },
      { uuid: 'u2', title: '', providerPublishTime: new Date() },
      { uuid: 'u3', title: 'no time' },
      { title: 'no id but a link', link: 'https://x.example/2', providerPublishTime: 1767348000000 },
    ]);
    expect(stories.map((s) => s.id)).toEqual(['u1', storyKey({ id: '', url: 'https://x.example/2' })]);
    expect(stories[0]).toMatchObject({ symbol: 'NVDA', title: 'Nvidia up', publisher: 'Wire', source: 'yahoo' });
  });

  it('keys a story by its URL (case-insensitively), else by its id', () => {
    expect(storyKey({ id: 'a', url: 'https://X.example/p' })).toBe(storyKey({ id: 'b', url: 'https://x.example/p' }));
    expect(storyKey({ id: 'a', url: null })).toBe('id:a');
  });

  it('replays the files one story a poll, oldest first, for the symbol only, undated ones dropped', async () => {
    const source: NewsSource = {
      name: 'news-files',
      load: async () => [
        { id: 'b', title: 'B', published_at: '2025-10-02T10:00:00Z', symbols: ['AAPL'] },
        { id: 'a', title: 'A', published_at: '2025-10-01T10:00:00Z', symbols: ['aapl'] },
        { id: 'c', title: 'undated', symbols: ['AAPL'] },
        { id: 'm', title: 'M', published_at: '2025-10-01T09:00:00Z', symbols: ['MSFT'] },
      ],
    };
    const p = new ReplayNewsProvider(source);
    const one = await p.latest('AAPL', 0);
    const two = await p.latest('AAPL', one.cursor);
    const three = await p.latest('AAPL', two.cursor);
    expect([...one.stories, ...two.stories].map((s) => s.id)).toEqual(['a', 'b']);
    expect(three).toEqual({ stories: [], cursor: 2 });
    expect(one.stories[0]).toMatchObject({ source: 'replay:news-files', published_at: '2025-10-01T10:00:00.000Z' });
  });
});
