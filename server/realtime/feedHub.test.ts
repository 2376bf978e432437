import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedEventDoc } from '../../storage/feedEvents.js';
import type { PriceTick } from '../../trading/realtime/feed.js';
import { FeedHub, SLOW_CONSUMER_CLOSE, type Subscriber } from './feedHub.js';

/** Current prices in memory, one per symbol as the collection keeps them, written as a poller would. */
class MemoryFeed {
  docs: FeedEventDoc[] = [];
  current = new Map<string, FeedEventDoc>();
  queries = 0;
  add(symbol: string, price: number, ts = new Date()) {
    const data: PriceTick = {
      symbol,
      price,
      change: null,
      change_percent: null,
      volume: null,
      at: ts.toISOString(),
      source: 'test',
      synthetic: false,
    };
    // A replace, as the store's: a write that lands late replaces a newer price.
    this.current.set(symbol, {
      _id: `price|${symbol}`,
      kind: 'price',
      symbol,
      ts,
      data,
      key: `${ts.toISOString()}|${price}`,
    });
  }
  read = async (symbols: readonly string[]) => {
    this.queries++;
    return symbols.flatMap((s) => (this.current.has(s) ? [this.current.get(s)!] : []));
  };
  snapshot = async (symbol: string) => (this.current.has(symbol) ? [this.current.get(symbol)!] : []);
}

function subscriber(id: number, buffered = () => 0): Subscriber & { got: any[]; closedWith?: number } {
  const s: Subscriber & { got: any[]; closedWith?: number } = {
    id,
    got: [],
    send: (text) => s.got.push(JSON.parse(text)),
    bufferedAmount: buffered,
    close: (code) => {
      s.closedWith = code;
    },
  };
  return s;
}

const hubs: FeedHub[] = [];
function hub(feed: MemoryFeed, interest: string[] = []) {
  const h = new FeedHub({
    kind: 'price',
    read: feed.read,
    snapshot: feed.snapshot,
    interest: async (symbol) => {
      interest.push(symbol);
    },
    logger: pino({ level: 'silent' }),
    tailEveryMs: 20,
    interestEveryMs: 50,
    maxBufferedBytes: 1000,
    snapshotSize: 1,
  });
  hubs.push(h);
  return h;
}
afterEach(() => {
  for (const h of hubs.splice(0)) h.close();
});
const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('not in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('FeedHub', () => {
  it('sends the last price at once, then each new one once, to every subscriber of the symbol', async () => {
    const feed = new MemoryFeed();
    feed.add('AAPL', 100, new Date(Date.now() - 60_000));
    const interest: string[] = [];
    const h = hub(feed, interest);
    const a = subscriber(1);
    const b = subscriber(2);
    await h.subscribe(a, ['AAPL']);
    await h.subscribe(b, ['AAPL']);
    expect(a.got.map((m) => m.data.price)).toEqual([100]);
    expect(b.got.map((m) => m.data.price)).toEqual([100]);
    expect(interest).toEqual(['AAPL']);
    feed.add('AAPL', 101);
    feed.add('MSFT', 300);
    await until(() => a.got.length === 2 && b.got.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.got.map((m) => m.data.price)).toEqual([100, 101]);
    expect(a.got[1]).toMatchObject({ type: 'price', symbol: 'AAPL' });
    // Interest is repeated while someone listens.
    await until(() => interest.length >= 3);
  });

  it('drops a subscriber whose socket does not drain, with 1013, and keeps serving the others', async () => {
    const feed = new MemoryFeed();
    const h = hub(feed);
    let backlog = 0;
    const slow = subscriber(1, () => backlog);
    const fast = subscriber(2);
    await h.subscribe(slow, ['AAPL']);
    await h.subscribe(fast, ['AAPL']);
    feed.add('AAPL', 1);
    await until(() => fast.got.length === 1 && slow.got.length === 1);
    backlog = 5000;
    feed.add('AAPL', 2, new Date(Date.now() + 1));
    await until(() => fast.got.length === 2);
    expect(slow.closedWith).toBe(SLOW_CONSUMER_CLOSE);
    expect(slow.got).toHaveLength(1);
    expect(h.subscriberCount).toBe(1);
    expect(h.stats.dropped).toBe(1);
  });

  it('stops reading the feed and telling pollers when its last subscriber leaves', async () => {
    const feed = new MemoryFeed();
    const interest: string[] = [];
    const h = hub(feed, interest);
    const a = subscriber(1);
    await h.subscribe(a, ['AAPL', 'MSFT']);
    await until(() => feed.queries > 2);
    h.unsubscribe(a, ['AAPL']);
    expect(h.symbolCount).toBe(1);
    h.remove(a);
    expect(h.symbolCount).toBe(0);
    const queries = feed.queries;
    const told = interest.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(feed.queries).toBeLessThanOrEqual(queries + 1);
    expect(interest.length).toBe(told);
  });

  it('never sends a subscriber a price older than one it has', async () => {
    const feed = new MemoryFeed();
    const h = hub(feed);
    const a = subscriber(1);
    const now = Date.now();
    feed.add('AAPL', 10, new Date(now));
    await h.subscribe(a, ['AAPL']);
    // A write that committed late, stamped before the snapshot's price.
    feed.add('AAPL', 9, new Date(now - 500));
    feed.add('AAPL', 11, new Date(now + 5));
    await until(() => a.got.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.got.map((m) => m.data.price)).toEqual([10, 11]);
  });
});
