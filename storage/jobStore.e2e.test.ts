import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { analysisJob, jobStoreContract } from '../test/support/jobStoreContract.js';
import { connectDatabase, type Database } from './db.js';
import { MongoJobStore } from './jobStore.js';

let db: Database;
beforeAll(async () => {
  db = await connectDatabase(inject('mongoUri'), `jobstore_${process.pid}_${Date.now()}`);
});
afterAll(async () => {
  await db.db.dropDatabase();
  await db.close();
});

jobStoreContract('MongoDB protocol (FerretDB)', () => new MongoJobStore(db.collections));

describe('MongoJobStore: the end of a race', () => {
  it('tells the mover whose end stands that it moved, also when a loser’s repair wrote that end first', async () => {
    // The winner's status write waits until the loser has lost, repaired the job to the winner's end and
    // returned: the write then matches nothing, and the winner must still hear that the end is its own.
    let loserDone!: () => void;
    const lost = new Promise<void>((r) => {
      loserDone = r;
    });
    const jobs = new Proxy(db.collections.jobs, {
      get(target, prop, receiver) {
        if (prop !== 'updateOne') return Reflect.get(target, prop, receiver);
        return async (filter: Record<string, unknown>, update: unknown) => {
          // The transition's own write names the sources it moves from; the repair's names only the job.
          if ('status' in filter && JSON.stringify(update).includes('"completed"')) await lost;
          return target.updateOne(filter as never, update as never);
        };
      },
    });
    const store = new MongoJobStore({ ...db.collections, jobs });
    const job = analysisJob();
    await store.insertIfAbsent(job);
    await store.transition('analysis', job._id, 'running');
    const winner = store.transition('analysis', job._id, 'completed', { completedAt: new Date() });
    // Its marker is claimed before its status write waits.
    for (let i = 0; i < 100 && !(await db.collections.jobTransitions.findOne({ _id: `${job._id}|1|end` })); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const loser = await store.transition('analysis', job._id, 'failed', { error: 'boom' });
    loserDone();
    expect(loser).toBe(false);
    expect(await winner).toBe(true);
    expect((await store.get(job._id))?.status).toBe('completed');
  });
});
