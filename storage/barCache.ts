import { MongoServerError } from 'mongodb';
import type { Bar, BarSeries, MarketDataSource } from '../trading/bars.js';
import { mergeBars, sliceByDate } from '../trading/bars.js';
import type { IsoDate } from '../trading/calendar.js';
import type { Collections } from './db.js';
import { packBars, unpackBars } from './packedBars.js';
import type { BarYearDoc } from './types.js';

/** One symbol's bars of one year as fetched for [January 1, `through`]: complete up to `through`. */
interface YearChunk {
  through: IsoDate;
  bars: Bar[];
}

/** What this process holds of one symbol: its year chunks, and their bars as one sorted series. */
interface Held {
  years: Map<number, YearChunk>;
  series: Bar[];
}

/** A year of one symbol that a request needs known up to `need`. */
interface Gap {
  symbol: string;
  year: number;
  need: IsoDate;
}

const yearOf = (date: IsoDate) => Number(date.slice(0, 4));
const yearStart = (year: number): IsoDate => `${String(year).padStart(4, '0')}-01-01`;
const yearEnd = (year: number): IsoDate => `${String(year).padStart(4, '0')}-12-31`;
const minDate = (a: IsoDate, b: IsoDate) => (a < b ? a : b);

const WRITE_ATTEMPTS = 5;

/**
 * Bars fetched from a source, kept in MongoDB so restarts and other workers do not fetch again, and in
 * memory so a model-day never reads MongoDB for history.
 *
 * Storage is one document per source, symbol and calendar year, each holding exactly what one fetch of
 * [January 1, `through`] returned. Nothing is ever merged into a stored document: a writer replaces a
 * year only with a fetch reaching further, and a racing writer's version is just as complete for what
 * it claims. (The previous design merged ranges in memory and wrote the whole document back, so two
 * jobs fetching at once lost one's bars while keeping the union of both ranges as covered.) FerretDB v1
 * applies even `$set`/`$max` as read-then-write without a transaction, so no design that relies on
 * update operators merging concurrent writes into one document would be safe on it either.
 */
export class BarCache {
  private readonly memory = new Map<string, Held>();
  /** The source's latest date as last asked: no year is ever claimed past it. */
  private latest: IsoDate | undefined;

  constructor(
    private readonly c: Pick<Collections, 'barYears'>,
    private readonly source: MarketDataSource,
  ) {}

  /** The source's name (`synthetic-42`, `files`, `yahoo`): what outputs made from its bars say they used. */
  get sourceName(): string {
    return this.source.name;
  }

  /** The source's latest date with bars (asked each time: a live source moves on). */
  latestDate(): Promise<IsoDate> {
    return this.source.latestDate();
  }

  private id(symbol: string, year: number) {
    return `${this.source.name}|${symbol}|${year}`;
  }

  /** Makes sure [from, to] is held (memory, then MongoDB, then the source) and returns the count of bars. */
  async prepare(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<number> {
    let count = 0;
    for (const series of (await this.load(symbols, from, to)).values()) count += series.length;
    return count;
  }

  /**
   * Bars for [from, to], every symbol present (possibly empty). From memory when it covers the range,
   * which is the simulation's hot path; otherwise filled from MongoDB, then from the source, so a
   * series returned here never has a hole that the source could have filled.
   */
  async load(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<BarSeries> {
    if (this.latest === undefined || to > this.latest || this.gaps(symbols, from, to, this.latest).length > 0) {
      // The source may have moved on since it was last asked (a new day for a live source); asking is cheap.
      const latest = await this.source.latestDate();
      this.latest = latest;
      const gaps = this.gaps(symbols, from, to, latest);
      if (gaps.length > 0) await this.fill(gaps, latest);
    }
    const out: BarSeries = new Map();
    for (const s of symbols) out.set(s, sliceByDate(this.memory.get(s)?.series ?? [], from, to));
    return out;
  }

  /** The years of [from, to] that memory does not hold far enough, up to the source's latest date. */
  private gaps(symbols: readonly string[], from: IsoDate, to: IsoDate, latest: IsoDate): Gap[] {
    const end = minDate(to, latest);
    const gaps: Gap[] = [];
    if (end < from) return gaps;
    for (const symbol of symbols) {
      const years = this.memory.get(symbol)?.years;
      for (let year = yearOf(from); year <= yearOf(end); year++) {
        const need = minDate(yearEnd(year), end);
        const held = years?.get(year);
        if (!held || held.through < need) gaps.push({ symbol, year, need });
      }
    }
    return gaps;
  }

  private async fill(gaps: Gap[], latest: IsoDate): Promise<void> {
    const stored = await Promise.all(gaps.map((g) => this.c.barYears.findOne({ _id: this.id(g.symbol, g.year) })));
    for (const doc of stored)
      if (doc) this.hold(doc.symbol, doc.year, { through: doc.through, bars: unpackBars(doc.bars) });
    const missing = gaps.filter((g) => {
      const held = this.memory.get(g.symbol)?.years.get(g.year);
      return !held || held.through < g.need;
    });
    if (missing.length === 0) return;

    // One fetch per span of years; each year is then stored whole, up to its end or the source's latest.
    const spans = new Map<string, { first: number; last: number; symbols: Set<string> }>();
    const wanted = new Map<string, number[]>();
    for (const g of missing) wanted.set(g.symbol, [...(wanted.get(g.symbol) ?? []), g.year]);
    for (const [symbol, years] of wanted) {
      const first = Math.min(...years);
      const last = Math.max(...years);
      const key = `${first}-${last}`;
      const span = spans.get(key) ?? { first, last, symbols: new Set<string>() };
      span.symbols.add(symbol);
      spans.set(key, span);
    }
    await Promise.all(
      [...spans.values()].map(async ({ first, last, symbols }) => {
        const fetched = await this.source.loadDaily([...symbols], yearStart(first), minDate(yearEnd(last), latest));
        const writes: Promise<void>[] = [];
        for (const symbol of symbols) {
          const all = mergeBars([], fetched.get(symbol) ?? []);
          for (const year of wanted.get(symbol)!) {
            const through = minDate(yearEnd(year), latest);
            const chunk = { through, bars: sliceByDate(all, yearStart(year), through) };
            this.hold(symbol, year, chunk);
            writes.push(this.store(symbol, year, chunk));
          }
        }
        await Promise.all(writes);
      }),
    );
  }

  /** Keeps a chunk in memory unless memory already holds that year as far. */
  private hold(symbol: string, year: number, chunk: YearChunk) {
    let held = this.memory.get(symbol);
    if (!held) {
      held = { years: new Map(), series: [] };
      this.memory.set(symbol, held);
    }
    const current = held.years.get(year);
    if (current && current.through >= chunk.through) return;
    held.years.set(year, chunk);
    held.series = [...held.years.entries()].sort(([a], [b]) => a - b).flatMap(([, c]) => c.bars);
  }

  /**
   * Stores a year unless the stored one reaches as far. Reads and writes go by `_id` alone (FerretDB v1
   * scans the whole collection for any other filter, and applies even a conditional write as a separate
   * read and write). Two writers creating a year race on its `_id`: the loser gets E11000 and looks
   * again. A writer replacing a year can still, rarely, put back a version reaching less far than the
   * one it replaced; that version is complete for what it claims, and a later `load` that needs more
   * fetches again.
   */
  private async store(symbol: string, year: number, chunk: YearChunk): Promise<void> {
    const _id = this.id(symbol, year);
    const doc: BarYearDoc = {
      _id,
      source: this.source.name,
      symbol,
      year,
      through: chunk.through,
      bars: packBars(chunk.bars),
      fetchedAt: new Date(),
    };
    for (let attempt = 1; ; attempt++) {
      const stored = await this.c.barYears.findOne({ _id }, { projection: { through: 1 } });
      if (stored && stored.through >= chunk.through) return;
      try {
        if (stored) await this.c.barYears.replaceOne({ _id }, doc);
        else await this.c.barYears.insertOne(doc);
        return;
      } catch (err) {
        if (!(err instanceof MongoServerError && err.code === 11000) || attempt >= WRITE_ATTEMPTS) throw err;
      }
    }
  }
}

/**
 * The cache as a market source: what the API reads (price history, benchmarks, comparisons) comes from
 * MongoDB, filled once from the source, so a live source is not asked again for every request.
 */
export function cachedSource(cache: BarCache, source: MarketDataSource): MarketDataSource {
  return {
    name: source.name,
    loadDaily: (symbols, from, to) => cache.load(symbols, from, to),
    latestDate: () => cache.latestDate(),
    defaultSymbols: () => source.defaultSymbols(),
  };
}
