import type { Bar, BarSeries, MarketDataSource } from '../trading/bars.js';
import { mergeBars, sliceByDate } from '../trading/bars.js';
import type { IsoDate } from '../trading/calendar.js';
import type { Collections } from './db.js';

/**
 * Bars fetched from a source are kept in MongoDB (one document per source and symbol) so restarts and
 * other workers do not fetch again, and in memory so a model-day does not read MongoDB for history.
 */
export class BarCache {
  private readonly memory = new Map<string, { from: IsoDate; to: IsoDate; bars: Bar[] }>();

  constructor(
    private readonly c: Pick<Collections, 'bars'>,
    private readonly source: MarketDataSource,
  ) {}

  private key(symbol: string) {
    return `${this.source.name}|${symbol}`;
  }

  /** Fetches from the source what MongoDB lacks for [from, to], stores it, and returns the count of bars. */
  async prepare(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<number> {
    const docs = await this.c.bars.find({ _id: { $in: symbols.map((s) => this.key(s)) } }).toArray();
    const have = new Map(docs.map((d) => [d.symbol, d]));
    const missing = symbols.filter((s) => {
      const range = have.get(s)?.range;
      return !range || range.from > from || range.to < to;
    });
    if (missing.length > 0) {
      const fetched = await this.source.loadDaily(missing, from, to);
      await Promise.all(
        missing.map(async (symbol) => {
          const prior = have.get(symbol);
          const prevRange = prior?.range;
          const bars = mergeBars(prior?.bars ?? [], fetched.get(symbol) ?? []);
          const range = {
            from: prevRange && prevRange.from < from ? prevRange.from : from,
            to: prevRange && prevRange.to > to ? prevRange.to : to,
          };
          await this.c.bars.updateOne(
            { _id: this.key(symbol) },
            { $set: { source: this.source.name, symbol, bars, range, updatedAt: new Date() } },
            { upsert: true },
          );
          this.memory.delete(symbol);
        }),
      );
    }
    let count = 0;
    for (const series of (await this.load(symbols, from, to)).values()) count += series.length;
    return count;
  }

  /** Bars for [from, to] from memory, filled from MongoDB on a miss (e.g. after a worker restart). */
  async load(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<BarSeries> {
    const out: BarSeries = new Map();
    const misses = symbols.filter((s) => {
      const m = this.memory.get(s);
      return !m || m.from > from || m.to < to;
    });
    if (misses.length > 0) {
      const docs = await this.c.bars.find({ _id: { $in: misses.map((s) => this.key(s)) } }).toArray();
      for (const d of docs) {
        this.memory.set(d.symbol, { from: d.range.from, to: d.range.to, bars: d.bars });
      }
    }
    for (const s of symbols) {
      const m = this.memory.get(s);
      if (m) out.set(s, sliceByDate(m.bars, from, to));
    }
    return out;
  }
}
