import { MongoServerError } from 'mongodb';
import type { JobEventDraft, JobEventType } from '../jobs/events.js';
import type { Collections } from './db.js';

export interface JobEventDoc {
  /** `${jobId}|${seq}` with seq zero-padded: every read is a lookup by key, the one query FerretDB v1 pushes down. */
  _id: string;
  jobId: string;
  seq: number;
  type: JobEventType;
  data: Record<string, unknown>;
  at: Date;
  /** The dedup key it was written under, if any. */
  key?: string;
}

export const eventId = (jobId: string, seq: number) => `${jobId}|${String(seq).padStart(10, '0')}`;

/**
 * A job's event log, the side channel that live streams replay and tail. Sequence numbers come from a
 * per-job counter; the unique `_id` keeps two writers from ever sharing one. An event given a `key` is
 * written exactly once: its key, holding the event's number, is written first, so a retried activity
 * neither repeats nor loses it.
 */
export interface JobEventLog {
  /** Appends an event; returns its sequence number, or null when its key was already written. */
  append(jobId: string, event: JobEventDraft): Promise<number | null>;
  /** Appends events in order, in a few round trips; each keyed one at most once. */
  appendMany(jobId: string, events: readonly JobEventDraft[]): Promise<void>;
  get(jobId: string, seq: number): Promise<JobEventDoc | null>;
  /** The highest sequence number handed out so far (0 for none). */
  lastSeq(jobId: string): Promise<number>;
  /** Events after `afterSeq`, in order, at most `limit`; numbers never written (a writer died) are skipped. */
  page(jobId: string, afterSeq: number, limit: number): Promise<JobEventDoc[]>;
}

export class JobEvents implements JobEventLog {
  constructor(private readonly c: Pick<Collections, 'jobEvents' | 'jobEventCounters' | 'jobEventKeys'>) {}

  async append(jobId: string, event: JobEventDraft): Promise<number | null> {
    if (event.key) return (await this.appendKeyed(jobId, [event]))[0] ?? null;
    return this.insert(jobId, event.type, event.data as unknown as Record<string, unknown>);
  }

  async appendMany(jobId: string, events: readonly JobEventDraft[]): Promise<void> {
    const keyed = events.filter((e) => e.key);
    if (keyed.length !== events.length) {
      // Unkeyed events keep their order among themselves only; none of our callers mixes the two.
      for (const e of events.filter((x) => !x.key)) await this.append(jobId, e);
    }
    await this.appendKeyed(jobId, keyed);
  }

  /**
   * Keyed events, exactly once each: numbers are reserved for the batch, each key is written holding its
   * number before its event, so a retry finds the key, learns the number and writes the event if it is
   * missing; an event whose number another writer took (the counter is not atomic on FerretDB) is moved
   * to a fresh number and its key follows it. Returns each event's number, or null for one written before.
   */
  private async appendKeyed(jobId: string, events: readonly JobEventDraft[]): Promise<Array<number | null>> {
    if (events.length === 0) return [];
    const counter = await this.c.jobEventCounters.findOneAndUpdate(
      { _id: jobId },
      { $inc: { seq: events.length } },
      { upsert: true, returnDocument: 'after' },
    );
    const first = (counter?.seq ?? events.length) - events.length + 1;
    const claims = events.map((e, i) => ({ _id: `${jobId}|${e.key}`, seq: first + i }));
    const seqs = await this.claimKeys(claims);
    const out: Array<number | null> = [];
    const docs: JobEventDoc[] = [];
    for (const [i, e] of events.entries()) {
      const seq = seqs[i];
      // A key written by the older path, which recorded keys after their events: that event exists.
      if (seq === null || seq === undefined) {
        out.push(null);
        continue;
      }
      out.push(seq === claims[i]!.seq ? seq : null);
      docs.push(this.doc(jobId, seq, e));
    }
    try {
      await this.c.jobEvents.insertMany(docs, { ordered: false });
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      for (const doc of docs) await this.insertClaimed(jobId, doc);
    }
    return out;
  }

  /** Writes each key with its number; a key that exists keeps the number it holds (null: none recorded). */
  private async claimKeys(claims: Array<{ _id: string; seq: number }>): Promise<Array<number | null>> {
    try {
      await this.c.jobEventKeys.insertMany(claims, { ordered: false });
      return claims.map((c) => c.seq);
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
    }
    // Some exist (a retry): FerretDB may stop an unordered insert at the first duplicate, so one by one.
    const seqs: Array<number | null> = [];
    for (const claim of claims) {
      try {
        await this.c.jobEventKeys.insertOne(claim);
        seqs.push(claim.seq);
      } catch (err) {
        if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
        seqs.push((await this.c.jobEventKeys.findOne({ _id: claim._id }))?.seq ?? null);
      }
    }
    return seqs;
  }

  /** Writes an event at its claimed number, unless it is there; moves it if another event took the number. */
  private async insertClaimed(jobId: string, doc: JobEventDoc): Promise<void> {
    try {
      await this.c.jobEvents.insertOne(doc);
      return;
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
    }
    const there = await this.c.jobEvents.findOne({ _id: doc._id });
    if (there?.key === doc.key) return;
    const seq = await this.insert(jobId, doc.type, doc.data, doc.key);
    await this.c.jobEventKeys.updateOne({ _id: `${jobId}|${doc.key}` }, { $set: { seq } });
  }

  private doc(jobId: string, seq: number, e: JobEventDraft): JobEventDoc {
    return {
      _id: eventId(jobId, seq),
      jobId,
      seq,
      type: e.type,
      data: e.data as unknown as Record<string, unknown>,
      at: new Date(),
      ...(e.key ? { key: e.key } : {}),
    };
  }

  private async insert(
    jobId: string,
    type: JobEventType,
    data: Record<string, unknown>,
    key?: string,
  ): Promise<number> {
    for (;;) {
      const counter = await this.c.jobEventCounters.findOneAndUpdate(
        { _id: jobId },
        { $inc: { seq: 1 } },
        { upsert: true, returnDocument: 'after' },
      );
      const seq = counter?.seq ?? 1;
      try {
        await this.c.jobEvents.insertOne({
          _id: eventId(jobId, seq),
          jobId,
          seq,
          type,
          data,
          at: new Date(),
          ...(key ? { key } : {}),
        });
        return seq;
      } catch (err) {
        // Another writer took this number (the counter is not atomic everywhere): take the next one.
        if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      }
    }
  }

  get(jobId: string, seq: number): Promise<JobEventDoc | null> {
    return this.c.jobEvents.findOne({ _id: eventId(jobId, seq) });
  }

  async lastSeq(jobId: string): Promise<number> {
    return (await this.c.jobEventCounters.findOne({ _id: jobId }))?.seq ?? 0;
  }

  async page(jobId: string, afterSeq: number, limit: number): Promise<JobEventDoc[]> {
    const last = await this.lastSeq(jobId);
    const seqs = Array.from({ length: Math.max(0, Math.min(limit, last - afterSeq)) }, (_, i) => afterSeq + 1 + i);
    const docs = await Promise.all(seqs.map((s) => this.get(jobId, s)));
    return docs.filter((d): d is JobEventDoc => d !== null);
  }
}
