import type { IsoDate } from '../trading/calendar.js';
import type { Collections } from './db.js';
import type { PositionRecord } from './types.js';

const headId = (owner: string, model: string) => `${owner}|${model}`;

/**
 * The head of each model's ledger: its last simulated day and the position it ended with, written when
 * a job ends. One small document per model, so a trigger's catch-up reads it by key instead of
 * searching trading_days (FerretDB v1 pushes down nothing but `_id` equality).
 */
export class ModelLedgers {
  constructor(private readonly c: Pick<Collections, 'modelLedgers'>) {}

  async head(owner: string, model: string): Promise<{ lastDate: IsoDate; position: PositionRecord } | null> {
    const doc = await this.c.modelLedgers.findOne({ _id: headId(owner, model) });
    return doc ? { lastDate: doc.lastDate, position: doc.position } : null;
  }

  /** Sets the head to `date`; callers move it only forward, past the head they read. */
  async advance(owner: string, model: string, date: IsoDate, position: PositionRecord): Promise<void> {
    await this.c.modelLedgers.updateOne(
      { _id: headId(owner, model) },
      { $set: { owner, model, lastDate: date, position, updatedAt: new Date() } },
      { upsert: true },
    );
  }
}
