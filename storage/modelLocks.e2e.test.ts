import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type Database } from './db.js';
import { ModelLocks } from './modelLocks.js';

let db: Database;
beforeAll(async () => {
  db = await connectDatabase(inject('mongoUri'), `locks_${Date.now()}`);
});
afterAll(async () => {
  await db.db.dropDatabase();
  await db.close();
});

describe('ModelLocks on FerretDB', () => {
  it('lets exactly one of many concurrent jobs take a shared model', async () => {
    const locks = new ModelLocks(db.collections);
    const never = async () => false;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => locks.acquire('local', ['m1', 'm2'], `job-${i}`, `key-${i}`, never)),
    );
    const winners = outcomes.filter((o) => o.ok);
    expect(winners).toHaveLength(1);
    // A loser holds nothing afterwards: both locks belong to the single winner.
    const holders = await locks.holders('local', ['m1', 'm2']);
    expect(holders).toHaveLength(1);
  });

  it('takes over a stale lock, and frees locks on release', async () => {
    const locks = new ModelLocks(db.collections);
    expect((await locks.acquire('local', ['s1'], 'old', 'k', async () => false)).ok).toBe(true);
    expect((await locks.acquire('local', ['s1'], 'new', 'k2', async () => false)).ok).toBe(false);
    expect((await locks.acquire('local', ['s1'], 'new', 'k2', async (holder) => holder.jobId === 'old')).ok).toBe(true);
    await locks.release('new');
    expect(await locks.holders('local', ['s1'])).toEqual([]);
  });
});
