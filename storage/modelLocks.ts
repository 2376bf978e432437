import { MongoServerError } from 'mongodb';
import type { Collections } from './db.js';
import type { ModelLockDoc } from './types.js';

export type LockOutcome = { ok: true } | { ok: false; holderJobId: string; holderKey: string };

const lockId = (owner: string, model: string) => `${owner}|${model}`;

/**
 * One running simulation per (owner, model): a unique `_id` per model makes two jobs that share a
 * model collide in MongoDB itself, without transactions (FerretDB has none).
 */
export class ModelLocks {
  constructor(private readonly c: Pick<Collections, 'modelLocks'>) {}

  /**
   * Takes every model's lock for the job or none. `isStale` says whether a holder's job is over
   * (ended, or never started after a crash), in which case its lock is taken over.
   */
  async acquire(
    owner: string,
    models: readonly string[],
    jobId: string,
    idempotencyKey: string,
    isStale: (holder: ModelLockDoc) => Promise<boolean>,
  ): Promise<LockOutcome> {
    const taken: string[] = [];
    for (const model of [...models].sort()) {
      const _id = lockId(owner, model);
      const doc = { _id, owner, model, jobId, idempotencyKey, acquiredAt: new Date() };
      let holder: ModelLockDoc | null = null;
      let inserted = false;
      // A lock released between our failed insert and the read is free: try the insert again.
      for (let attempt = 0; attempt < 3 && !inserted && !holder; attempt++) {
        try {
          await this.c.modelLocks.insertOne(doc);
          inserted = true;
        } catch (err) {
          if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
          holder = await this.c.modelLocks.findOne({ _id });
        }
      }
      if (inserted) {
        taken.push(_id);
        continue;
      }
      if (holder && holder.jobId !== jobId && (await isStale(holder))) {
        const r = await this.c.modelLocks.replaceOne({ _id, jobId: holder.jobId }, doc);
        if (r.modifiedCount === 1) {
          taken.push(_id);
          continue;
        }
      }
      const current = holder ?? (await this.c.modelLocks.findOne({ _id }));
      await this.c.modelLocks.deleteMany({ _id: { $in: taken }, jobId });
      return { ok: false, holderJobId: current?.jobId ?? 'unknown', holderKey: current?.idempotencyKey ?? '' };
    }
    return { ok: true };
  }

  async release(jobId: string): Promise<void> {
    await this.c.modelLocks.deleteMany({ jobId });
  }

  /**
   * Every lock held: one per (owner, model) that a simulation is running over, so a small collection
   * read whole, where a search of the jobs by status would scan every job ever run (FerretDB v1).
   */
  held(): Promise<ModelLockDoc[]> {
    return this.c.modelLocks.find({}).toArray();
  }

  async holders(owner: string, models: readonly string[]): Promise<string[]> {
    const docs = await this.c.modelLocks.find({ _id: { $in: models.map((m) => lockId(owner, m)) } }).toArray();
    return [...new Set(docs.map((d) => d.jobId))];
  }
}
