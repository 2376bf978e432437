import { MongoServerError } from 'mongodb';
import type { IsoDate } from '../trading/calendar.js';
import type { Collections } from './db.js';
import type { PositionRecord } from './types.js';

const headId = (owner: string, model: string) => `${owner}|${model}`;
const versionId = (owner: string, model: string, version: number) =>
  `${owner}|${model}|${String(version).padStart(8, '0')}`;

export interface LedgerHead {
  lastDate: IsoDate;
  position: PositionRecord;
}

/**
 * The head of each model's ledger: its last simulated day and the position it ended with, written when
 * a job ends, so a trigger's catch-up reads it by key instead of searching trading_days (FerretDB v1
 * pushes down nothing but `_id` equality).
 *
 * Two jobs of one model can end at once, and FerretDB's conditional updates are not atomic (it reads,
 * then writes), so a head kept in one document could move backwards. The head is instead a chain of
 * versions, each inserted once under a unique `_id` (`owner|model|version`) and each later than the one
 * before: whoever inserts version n+1 owns that step, a loser reads the chain again. The `model_ledgers`
 * document only says where the chain stood when last written; readers walk on from it by key, so a stale
 * or lagging copy is never wrong, only a step or two slower.
 */
export class ModelLedgers {
  constructor(private readonly c: Pick<Collections, 'modelLedgers' | 'modelLedgerVersions'>) {}

  async head(owner: string, model: string): Promise<LedgerHead | null> {
    return (await this.walk(owner, model)).head;
  }

  /**
   * Moves the head to `date` unless it is there or further already; safe however many callers race.
   * Returns whether this call moved it.
   */
  async advanceTo(owner: string, model: string, date: IsoDate, position: PositionRecord): Promise<boolean> {
    for (;;) {
      const { version, head } = await this.walk(owner, model);
      if (head && head.lastDate >= date) return false;
      const next = version + 1;
      try {
        await this.c.modelLedgerVersions.insertOne({
          _id: versionId(owner, model, next),
          lastDate: date,
          position,
          at: new Date(),
        });
      } catch (err) {
        // Another caller took this step: see where the head is now.
        if (err instanceof MongoServerError && err.code === 11000) continue;
        throw err;
      }
      // Where the chain stands, for the next reader: written without a condition, so it may lag or step
      // back under a race, which only costs a later reader one more lookup.
      const summary = { owner, model, version: next, lastDate: date, position, updatedAt: new Date() };
      await this.c.modelLedgers
        .updateOne({ _id: headId(owner, model) }, { $set: summary }, { upsert: true })
        .catch(async (err: unknown) => {
          // Two first writers both upserted the summary (FerretDB's upsert is not atomic): it exists now.
          if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
          await this.c.modelLedgers.updateOne({ _id: headId(owner, model) }, { $set: summary });
        });
      return true;
    }
  }

  /**
   * Sets the head to `to` even when that is earlier (null: no day), for a run that replaces the days
   * after it (`replace_existing`, the model locked). The chain's next version, like any other step.
   */
  async rewindTo(owner: string, model: string, to: LedgerHead | null): Promise<void> {
    for (;;) {
      const { version, head } = await this.walk(owner, model);
      if ((head?.lastDate ?? null) === (to?.lastDate ?? null)) return;
      try {
        await this.c.modelLedgerVersions.insertOne({
          _id: versionId(owner, model, version + 1),
          lastDate: to?.lastDate ?? null,
          position: to?.position ?? null,
          at: new Date(),
        });
      } catch (err) {
        if (err instanceof MongoServerError && err.code === 11000) continue;
        throw err;
      }
      return;
    }
  }

  /** The chain's last version and its head: from the summary document on, by key, until a version is missing. */
  private async walk(owner: string, model: string): Promise<{ version: number; head: LedgerHead | null }> {
    const summary = await this.c.modelLedgers.findOne({ _id: headId(owner, model) });
    // A summary without a version was written before the chain existed: it is version 0.
    let version = summary?.version ?? 0;
    let head: LedgerHead | null = summary ? { lastDate: summary.lastDate, position: summary.position } : null;
    for (;;) {
      const later = await this.c.modelLedgerVersions.findOne({ _id: versionId(owner, model, version + 1) });
      if (!later) return { version, head };
      version += 1;
      // A rewound ledger with no day left is a step without a date.
      head = later.lastDate && later.position ? { lastDate: later.lastDate, position: later.position } : null;
    }
  }
}
