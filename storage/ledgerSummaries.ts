import type { Collections } from './db.js';
import type { TradingDayDoc } from './types.js';

/** One day of a model's ledger, as the results' daily values and period metrics need it. */
export interface DayValue {
  date: string;
  /** Portfolio value at the day's start and end, dollars. */
  startValue: number;
  endValue: number;
  profit: number;
  returnPct: number;
  trades: number;
  jobId: string;
}

/** Compact, for a year of days in one document: [start, end, profit, returnPct, trades, jobId]. */
type Packed = [number, number, number, number, number, string];

export interface LedgerYearDoc {
  _id: string;
  owner: string;
  model: string;
  year: string;
  days: Record<string, Packed>;
}

export interface LedgerIndexDoc {
  _id: string;
  owner: string;
  model: string;
  years: string[];
  /** Set once the summaries were built from the whole ledger (days written before summaries existed). */
  complete?: boolean;
}

const yearId = (owner: string, model: string, year: string) => `${owner}|${model}|${year}`;
const indexId = (owner: string, model: string) => `${owner}|${model}`;

function pack(d: TradingDayDoc): Packed {
  return [
    d.startingPosition.portfolioValue,
    d.endingPosition.portfolioValue,
    d.dailyPnl.profit,
    d.dailyPnl.returnPct,
    d.trades.length,
    d.jobId,
  ];
}

/**
 * A model's daily values by year, one document per owner, model and year, and an index of its years:
 * a year of results for ten models is twenty reads by key instead of a search of every trading day
 * (FerretDB pushes down nothing but `_id`). Written with each day; built from the ledger once per model
 * for days written before these existed.
 */
export class LedgerSummaries {
  /** Years this process knows the index holds: a commit adds a day with one write, not two. */
  private readonly indexed = new Set<string>();

  constructor(private readonly c: Pick<Collections, 'ledgerYears' | 'ledgerIndex' | 'tradingDays'>) {}

  /** Adds days just written to the ledger. Writes of one model come from one job at a time (its lock). */
  async record(days: readonly TradingDayDoc[]): Promise<void> {
    const groups = new Map<string, TradingDayDoc[]>();
    for (const d of days) {
      const key = yearId(d.owner, d.model, d.date.slice(0, 4));
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    for (const [_id, group] of groups) {
      const { owner, model } = group[0]!;
      const year = group[0]!.date.slice(0, 4);
      const set: Record<string, unknown> = { owner, model, year };
      for (const d of group) set[`days.${d.date}`] = pack(d);
      await this.c.ledgerYears.updateOne({ _id }, { $set: set }, { upsert: true });
      if (this.indexed.has(_id)) continue;
      await this.c.ledgerIndex.updateOne(
        { _id: indexId(owner, model) },
        { $set: { owner, model }, $addToSet: { years: year } },
        { upsert: true },
      );
      this.indexed.add(_id);
    }
  }

  /** Where a model's ledger ends (null: no day yet): the last day of its latest year. */
  async lastDate(owner: string, model: string): Promise<string | null> {
    const latest = (await this.index(owner, model))?.years.slice().sort().at(-1);
    if (!latest) return null;
    const doc = await this.c.ledgerYears.findOne({ _id: yearId(owner, model, latest) });
    return (
      Object.keys(doc?.days ?? {})
        .sort()
        .at(-1) ?? null
    );
  }

  /** A model's days in [from, to], oldest first. */
  async values(owner: string, model: string, from: string, to: string): Promise<DayValue[]> {
    const index = await this.index(owner, model);
    if (!index) return [];
    const years = index.years.filter((y) => y >= from.slice(0, 4) && y <= to.slice(0, 4)).sort();
    const docs = await Promise.all(years.map((y) => this.c.ledgerYears.findOne({ _id: yearId(owner, model, y) })));
    const out: DayValue[] = [];
    for (const doc of docs) {
      for (const [date, [startValue, endValue, profit, returnPct, trades, jobId]] of Object.entries(doc?.days ?? {})) {
        if (date >= from && date <= to) out.push({ date, startValue, endValue, profit, returnPct, trades, jobId });
      }
    }
    return out.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  }

  /** The model's index, built from its whole ledger the first time (one search per model, ever). */
  private async index(owner: string, model: string): Promise<LedgerIndexDoc | null> {
    const index = await this.c.ledgerIndex.findOne({ _id: indexId(owner, model) });
    if (index?.complete) return index;
    const days = await this.c.tradingDays
      .find({ owner, model }, { projection: { reasoning: 0, summary: 0, toolUsage: 0 } })
      .toArray();
    await this.record(days);
    // Marked even when empty, so a model without days is searched for once, not on every request.
    await this.c.ledgerIndex.updateOne(
      { _id: indexId(owner, model) },
      { $set: { owner, model, complete: true }, $setOnInsert: { years: [] } },
      { upsert: true },
    );
    return this.c.ledgerIndex.findOne({ _id: indexId(owner, model) });
  }
}
