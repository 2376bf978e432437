import { MongoServerError } from 'mongodb';
import type { IsoDate } from '../trading/calendar.js';
import type { Collections } from './db.js';
import { type DayValue, LedgerSummaries } from './ledgerSummaries.js';
import type { ReasoningRecord, TradingDayDoc } from './types.js';

export const tradingDayId = (owner: string, model: string, date: IsoDate) => `${owner}|${model}|${date}`;

export interface TradingDayQuery {
  owner: string;
  models?: string[];
  from: IsoDate;
  to: IsoDate;
  jobId?: string;
  /** With the agent's reasoning steps (large). */
  full: boolean;
}

/** What the results API reads. */
export interface TradingDayReader {
  /** Days in [from, to], by date then model (a search of the ledger: only for whole days over a range). */
  find(query: TradingDayQuery): Promise<TradingDayDoc[]>;
  /** One model's day, read by key, with its reasoning even when stored apart. */
  dayOf(owner: string, model: string, date: IsoDate): Promise<TradingDayDoc | null>;
  /** One model's daily values in [from, to], from its yearly summaries. */
  values(owner: string, model: string, from: IsoDate, to: IsoDate): Promise<DayValue[]>;
  /** Where one model's ledger ends (null: no day yet). */
  lastDate(owner: string, model: string): Promise<IsoDate | null>;
}

/** Each model's ledger, one document per trading day, continuous across jobs. */
export class TradingDays implements TradingDayReader {
  private readonly summaries: LedgerSummaries;

  constructor(
    private readonly c: Pick<
      Collections,
      'tradingDays' | 'tradingDayHistory' | 'reasoning' | 'ledgerMonths' | 'ledgerIndex'
    >,
  ) {
    this.summaries = new LedgerSummaries(c);
  }

  async dayOf(owner: string, model: string, date: IsoDate): Promise<TradingDayDoc | null> {
    const day = await this.get(owner, model, date);
    if (!day?.reasoningRef) return day;
    return { ...day, reasoning: (await this.reasoningOf([day.reasoningRef])).get(day.reasoningRef) ?? [] };
  }

  values(owner: string, model: string, from: IsoDate, to: IsoDate): Promise<DayValue[]> {
    return this.summaries.values(owner, model, from, to);
  }

  lastDate(owner: string, model: string): Promise<IsoDate | null> {
    return this.summaries.lastDate(owner, model);
  }

  get(owner: string, model: string, date: IsoDate): Promise<TradingDayDoc | null> {
    return this.c.tradingDays.findOne({ _id: tradingDayId(owner, model, date) });
  }

  /** The day a model's next day starts from: its latest day before `date`. */
  before(owner: string, model: string, date: IsoDate): Promise<TradingDayDoc | null> {
    return this.c.tradingDays.findOne({ owner, model, date: { $lt: date } }, { sort: { date: -1 } });
  }

  /**
   * Takes a model's days from `from` on out of its ledger, for a run that replaces them
   * (`replace_existing`): each is kept in the ledger's history under its own key and the replacing job's
   * (insert-once), then removed from the ledger and its summaries, so the new run's days become the
   * ledger from that date on. Days of `byJob` itself stay (a retried start). Idempotent; the caller
   * holds the model's lock. Returns the day the ledger now ends with (null: none).
   */
  async replaceFrom(owner: string, model: string, from: IsoDate, byJob: string): Promise<TradingDayDoc | null> {
    const dates = await this.summaries.datesFrom(owner, model, from);
    const taken: string[] = [];
    for (const date of dates) {
      const day = await this.get(owner, model, date);
      if (day?.jobId === byJob) continue;
      if (day) {
        await this.c.tradingDayHistory
          .insertOne({ ...day, _id: `${day._id}|${byJob}`, replacedBy: byJob, replacedAt: new Date() })
          .catch((err: unknown) => {
            if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
          });
        await this.c.tradingDays.deleteOne({ _id: day._id });
      }
      taken.push(date);
    }
    await this.summaries.forget(owner, model, taken);
    const last = await this.summaries.lastDateBefore(owner, model, from);
    return last ? this.get(owner, model, last) : null;
  }

  /** Writes the day once; when a retry finds it already written, the stored day wins. */
  async insertOnce(doc: TradingDayDoc): Promise<{ doc: TradingDayDoc; inserted: boolean }> {
    let stored: { doc: TradingDayDoc; inserted: boolean };
    try {
      await this.c.tradingDays.insertOne(doc);
      stored = { doc, inserted: true };
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      const existing = await this.c.tradingDays.findOne({ _id: doc._id });
      if (!existing) throw err;
      stored = { doc: existing, inserted: false };
    }
    // Also for a day found written: its writer may have died before summarizing it (this is idempotent).
    await this.summaries.record([stored.doc]);
    return stored;
  }

  /**
   * Writes each day unless it is already in the ledger (the stored one stays); returns how many were
   * new. One round trip when none exists, which is every first commit of a date.
   */
  async insertMany(docs: readonly TradingDayDoc[]): Promise<number> {
    if (docs.length === 0) return 0;
    try {
      await this.c.tradingDays.insertMany([...docs], { ordered: false });
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      // A retried commit, or a day already in the ledger. FerretDB may stop an unordered insert at its
      // first duplicate, so each day is written on its own to be sure of the rest.
      let written = 0;
      for (const doc of docs) if ((await this.insertOnce(doc)).inserted) written += 1;
      return written;
    }
    await this.summaries.record(docs);
    return docs.length;
  }

  /** Keeps reasoning too large for workflow history; the same key twice keeps the first. */
  async saveReasoning(ref: string, steps: ReasoningRecord[]): Promise<void> {
    await this.c.reasoning.insertOne({ _id: ref, steps }).catch((err: unknown) => {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
    });
  }

  /** The reasoning stored apart for these days, by key. */
  async reasoningOf(refs: readonly string[]): Promise<Map<string, ReasoningRecord[]>> {
    const found = await Promise.all(refs.map((r) => this.c.reasoning.findOne({ _id: r })));
    return new Map(found.flatMap((d) => (d ? [[d._id, d.steps] as const] : [])));
  }

  find(query: TradingDayQuery): Promise<TradingDayDoc[]> {
    return this.c.tradingDays
      .find(
        {
          owner: query.owner,
          date: { $gte: query.from, $lte: query.to },
          ...(query.models ? { model: { $in: query.models } } : {}),
          ...(query.jobId ? { jobId: query.jobId } : {}),
        },
        { sort: { date: 1, model: 1 }, ...(query.full ? {} : { projection: { reasoning: 0 } }) },
      )
      .toArray();
  }
}
