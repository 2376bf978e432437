import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jobEvents } from '../jobs/events.js';
import { connectDatabase, type Database } from './db.js';
import { eventId, JobEvents, WRITER_GONE_AFTER_MS } from './jobEvents.js';

let db: Database;
beforeAll(async () => {
  db = await connectDatabase(inject('mongoUri'), `events_${Date.now()}`);
});
afterAll(async () => {
  await db.db.dropDatabase();
  await db.close();
});

const line = (message: string, key?: string) => jobEvents.log({ type: 'LOG', message }, key);

describe('JobEvents on FerretDB', () => {
  it('writes each keyed event exactly once however its writers race (FerretDB counters are not atomic)', async () => {
    for (let round = 0; round < 5; round++) {
      const jobId = `race-${round}`;
      const log = new JobEvents(db.collections);
      const batch = Array.from({ length: 12 }, (_, i) => line(`day ${i}`, `day-${i}`));
      // The same batch from racing attempts of one activity, and unkeyed lines taking numbers meanwhile.
      await Promise.all([
        ...Array.from({ length: 4 }, () => log.appendMany(jobId, batch)),
        ...Array.from({ length: 12 }, (_, i) => log.append(jobId, line(`other ${i}`))),
      ]);
      const written = await db.collections.jobEvents.find({ jobId }).toArray();
      const keyed = written.filter((e) => e.key);
      expect(keyed.map((e) => e.key).sort()).toEqual(batch.map((e) => e.key).sort());
      expect(written.filter((e) => !e.key)).toHaveLength(12);
      // And a later retry of the whole batch finds every event where it lives and writes nothing.
      await log.appendMany(jobId, batch);
      expect(await db.collections.jobEvents.countDocuments({ jobId })).toBe(24);
    }
  });

  it('pages up to a number not yet written, and past one whose writer is long gone', async () => {
    const jobId = 'holes';
    const log = new JobEvents(db.collections);
    await log.append(jobId, line('one'));
    // A writer took number 2 and has not written it yet.
    await db.collections.jobEventCounters.updateOne({ _id: jobId }, { $inc: { seq: 1 } });
    await log.append(jobId, line('three'));
    const untilHole = { untilHole: { graceMs: WRITER_GONE_AFTER_MS } };
    expect((await log.page(jobId, 0, 50, untilHole)).map((e) => e.seq)).toEqual([1]);
    // Without the option (the live feed's catch-up, which decides holes itself) it is skipped.
    expect((await log.page(jobId, 0, 50)).map((e) => e.seq)).toEqual([1, 3]);

    // Number 4 was taken by a writer that died; number 5 was written long ago.
    await db.collections.jobEventCounters.updateOne({ _id: jobId }, { $inc: { seq: 2 } });
    const old = new Date(Date.now() - WRITER_GONE_AFTER_MS - 5_000);
    await db.collections.jobEvents.insertOne({ _id: eventId(jobId, 5), jobId, seq: 5, type: 'log', data: {}, at: old });
    await db.collections.jobEvents.insertOne({
      _id: eventId(jobId, 2),
      jobId,
      seq: 2,
      type: 'log',
      data: { message: 'two' },
      at: new Date(),
    });
    expect((await log.page(jobId, 0, 50, untilHole)).map((e) => e.seq)).toEqual([1, 2, 3, 5]);
  });
});
