import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type Database } from './db.js';
import { ModelLedgers } from './modelLedgers.js';
import type { PositionRecord } from './types.js';

let db: Database;
beforeAll(async () => {
  db = await connectDatabase(inject('mongoUri'), `ledgers_${Date.now()}`);
});
afterAll(async () => {
  await db.db.dropDatabase();
  await db.close();
});

const at = (value: number): PositionRecord => ({ cash: value, holdings: {}, portfolioValue: value });

describe('ModelLedgers on FerretDB', () => {
  it('never moves a head backwards when jobs of one model end at once', async () => {
    const ledgers = new ModelLedgers(db.collections);
    // Each round, jobs ending on different days race; the latest day must win whatever the order.
    for (let round = 0; round < 10; round++) {
      const model = `race-${round}`;
      const days = ['2025-03-03', '2025-03-10', '2025-03-05', '2025-03-07', '2025-03-04', '2025-03-06'];
      const moved = await Promise.all(days.map((d, i) => ledgers.advanceTo('local', model, d, at(i))));
      expect(await ledgers.head('local', model)).toEqual({ lastDate: '2025-03-10', position: at(1) });
      expect(moved.filter(Boolean).length).toBeGreaterThanOrEqual(1);
      // Each step of the chain is later than the one before it.
      const steps = await db.collections.modelLedgerVersions
        .find({ _id: { $regex: `^local\\|${model}\\|` } })
        .sort({ _id: 1 })
        .toArray();
      const dates = steps.map((s) => s.lastDate);
      expect(dates).toEqual([...dates].sort());
      expect(new Set(dates).size).toBe(dates.length);
    }
  });

  it('reads a head written before versions, and moves on from it', async () => {
    const ledgers = new ModelLedgers(db.collections);
    await db.collections.modelLedgers.insertOne({
      _id: 'local|legacy',
      owner: 'local',
      model: 'legacy',
      lastDate: '2025-01-31',
      position: at(5),
      updatedAt: new Date(),
    });
    expect(await ledgers.head('local', 'legacy')).toEqual({ lastDate: '2025-01-31', position: at(5) });
    expect(await ledgers.advanceTo('local', 'legacy', '2025-01-30', at(6))).toBe(false);
    expect(await ledgers.advanceTo('local', 'legacy', '2025-02-03', at(7))).toBe(true);
    expect(await ledgers.head('local', 'legacy')).toEqual({ lastDate: '2025-02-03', position: at(7) });
  });

  it('finds the head past a summary that lags behind the chain', async () => {
    const ledgers = new ModelLedgers(db.collections);
    await ledgers.advanceTo('local', 'lag', '2025-02-03', at(1));
    await ledgers.advanceTo('local', 'lag', '2025-02-04', at(2));
    // A writer that lost the race to write the summary last put an older step back.
    await db.collections.modelLedgers.updateOne(
      { _id: 'local|lag' },
      { $set: { version: 1, lastDate: '2025-02-03', position: at(1) } },
    );
    expect(await ledgers.head('local', 'lag')).toEqual({ lastDate: '2025-02-04', position: at(2) });
    expect(await ledgers.advanceTo('local', 'lag', '2025-02-04', at(3))).toBe(false);
  });

  it('moves a head back for a run that replaces days, and on from there', async () => {
    const ledgers = new ModelLedgers(db.collections);
    await ledgers.advanceTo('local', 'again', '2025-03-07', at(7));
    await ledgers.rewindTo('local', 'again', { lastDate: '2025-03-03', position: at(3) });
    expect(await ledgers.head('local', 'again')).toEqual({ lastDate: '2025-03-03', position: at(3) });
    expect(await ledgers.advanceTo('local', 'again', '2025-03-04', at(4))).toBe(true);
    expect(await ledgers.head('local', 'again')).toEqual({ lastDate: '2025-03-04', position: at(4) });
    await ledgers.rewindTo('local', 'again', null);
    expect(await ledgers.head('local', 'again')).toBeNull();
    expect(await ledgers.advanceTo('local', 'again', '2025-03-03', at(9))).toBe(true);
    expect(await ledgers.head('local', 'again')).toEqual({ lastDate: '2025-03-03', position: at(9) });
  });
});
