import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Bar, BarSeries, MarketDataSource } from '../trading/bars.js';
import { type IsoDate, tradingDaysBetween } from '../trading/calendar.js';
import { BarCache } from './barCache.js';
import { connectDatabase, type Database } from './db.js';

const LATEST = '2025-10-30';

/** A deterministic close per symbol and date, so any bar read back can be checked against the source. */
function closeOf(symbol: string, date: IsoDate): number {
  let h = 0;
  for (const ch of `${symbol}${date}`) h = (h * 31 + ch.charCodeAt(0)) % 100_000;
  return 50 + h / 1000;
}

/**
 * A source with a bar for every NYSE trading day up to LATEST, answering after a delay so that
 * concurrent `prepare` calls overlap the way a simulation's and an analysis' did.
 */
class SlowSource implements MarketDataSource {
  readonly name = 'stub';
  calls: Array<{ symbols: string[]; from: IsoDate; to: IsoDate }> = [];
  constructor(
    private readonly delayMs = 60,
    public latest = LATEST,
  ) {}

  static bars(symbol: string, from: IsoDate, to: IsoDate, latest = LATEST): Bar[] {
    const end = to < latest ? to : latest;
    if (end < from) return [];
    return tradingDaysBetween(from, end).map((date) => {
      const close = closeOf(symbol, date);
      return { date, open: close - 0.5, high: close + 1, low: close - 1, close, volume: 1000 };
    });
  }

  async loadDaily(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<BarSeries> {
    this.calls.push({ symbols: [...symbols], from, to });
    await new Promise((r) => setTimeout(r, this.delayMs));
    return new Map(symbols.map((s) => [s, SlowSource.bars(s, from, to, this.latest)]));
  }

  async latestDate(): Promise<IsoDate> {
    return this.latest;
  }

  async defaultSymbols(): Promise<string[]> {
    return ['AAPL', 'MSFT', 'NVDA'];
  }
}

let db: Database;
beforeAll(async () => {
  db = await connectDatabase(inject('mongoUri'), `bars_${Date.now()}`);
});
afterAll(async () => {
  await db.db.dropDatabase();
  await db.close();
});

/** Checks what a cache returns against the source; `fromStore` also requires that none of it was fetched again. */
async function expectHeld(symbols: string[], from: IsoDate, to: IsoDate, fromStore = true) {
  const source = new SlowSource();
  const series = await new BarCache(db.collections, source).load(symbols, from, to);
  if (fromStore) expect(source.calls, `fetched again for ${from}..${to}`).toEqual([]);
  for (const s of symbols) {
    expect(
      series.get(s)?.map((b) => `${b.date} ${b.close}`),
      `${s} ${from}..${to}`,
    ).toEqual(SlowSource.bars(s, from, to).map((b) => `${b.date} ${b.close}`));
  }
}

describe('BarCache on FerretDB under concurrency', () => {
  it('keeps every bar of overlapping prepares that run at the same time, and claims nothing it does not hold', async () => {
    // The shape of issue 7: a cache holding an early range, then a simulation and an analysis fetching a
    // middle and a late range of the same symbols together.
    const early = ['2015-01-02', '2015-02-27'] as const;
    const middle = ['2015-02-27', '2015-09-30'] as const;
    const late = ['2025-08-01', '2025-10-30'] as const;
    await new BarCache(db.collections, new SlowSource()).prepare(['AAPL', 'MSFT', 'NVDA'], ...early);

    const simulation = new BarCache(db.collections, new SlowSource());
    const analysis = new BarCache(db.collections, new SlowSource());
    await Promise.all([
      simulation.prepare(['AAPL', 'MSFT', 'NVDA'], ...middle),
      analysis.prepare(['AAPL', 'MSFT', 'QQQ'], ...late),
    ]);

    // What another worker (nothing in memory) reads back: every range whole, from MongoDB alone.
    await expectHeld(['AAPL', 'MSFT', 'NVDA'], ...middle);
    await expectHeld(['AAPL', 'MSFT', 'QQQ'], ...late);
    await expectHeld(['AAPL', 'MSFT', 'NVDA'], ...early);
    // And what a later job sees after its own prepare (the bad range stayed for every later job).
    const later = new BarCache(db.collections, new SlowSource());
    await later.prepare(['AAPL', 'MSFT', 'NVDA'], '2015-01-02', '2015-09-30');
    const series = await later.load(['AAPL'], '2015-01-02', '2015-09-30');
    expect(series.get('AAPL')).toHaveLength(SlowSource.bars('AAPL', '2015-01-02', '2015-09-30').length);
  });

  it('lets concurrent first prepares of new symbols all succeed and keep the widest range', async () => {
    // Two wide prepares create the documents at the same moment (E11000 for one of them on the old
    // upserts), then two narrow ones answer later and must not shrink what is stored.
    const wide = [0, 1].map(() => new BarCache(db.collections, new SlowSource(10)));
    const narrow = [0, 1].map(() => new BarCache(db.collections, new SlowSource(50)));
    await Promise.all([
      ...wide.map((c) => c.prepare(['AMZN', 'META'], '2025-03-01', '2025-05-30')),
      ...narrow.map((c) => c.prepare(['AMZN', 'META'], '2025-03-01', '2025-04-15')),
    ]);
    await expectHeld(['AMZN', 'META'], '2025-03-01', '2025-05-30');
  });

  it('serves repeated loads from memory, past the source latest date too, and asks again once the source moves on', async () => {
    const source = new SlowSource(0, '2025-10-29');
    const cache = new BarCache(db.collections, source);
    await cache.prepare(['GOOGL'], '2025-09-01', '2025-10-29');
    for (const to of ['2025-10-01', '2025-10-29', '2025-10-30', '2025-11-03'])
      await cache.load(['GOOGL'], '2025-05-01', to);
    expect(source.calls).toHaveLength(1);
    // A new day for a live source: the open year is fetched again, and stored reaching further.
    source.latest = '2025-10-30';
    const series = await cache.load(['GOOGL'], '2025-10-01', '2025-10-30');
    expect(series.get('GOOGL')?.at(-1)?.date).toBe('2025-10-30');
    expect(source.calls).toHaveLength(2);
    await expectHeld(['GOOGL'], '2025-01-02', '2025-10-30');
  });
});
