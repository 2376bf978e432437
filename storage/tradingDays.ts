import { MongoServerError } from 'mongodb';
import type { IsoDate } from '../trading/calendar.js';
import type { Collections } from './db.js';
import type { TradingDayDoc } from './types.js';

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
  /** Days in [from, to], by date then model. */
  find(query: TradingDayQuery): Promise<TradingDayDoc[]>;
}

/** Each model's ledger, one document per trading day, continuous across jobs. */
export class TradingDays implements TradingDayReader {
  constructor(private readonly c: Pick<Collections, 'tradingDays'>) {}

  get(owner: string, model: string, date: IsoDate): Promise<TradingDayDoc | null> {
    return this.c.tradingDays.findOne({ _id: tradingDayId(owner, model, date) });
  }

  /** The day a model's next day starts from: its latest day before `date`. */
  before(owner: string, model: string, date: IsoDate): Promise<TradingDayDoc | null> {
    return this.c.tradingDays.findOne({ owner, model, date: { $lt: date } }, { sort: { date: -1 } });
  }

  /** Writes the day once; when a retry finds it already written, the stored day wins. */
  async insertOnce(doc: TradingDayDoc): Promise<{ doc: TradingDayDoc; inserted: boolean }> {
    try {
      await this.c.tradingDays.insertOne(doc);
      return { doc, inserted: true };
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      const existing = await this.c.tradingDays.findOne({ _id: doc._id });
      if (!existing) throw err;
      return { doc: existing, inserted: false };
    }
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
