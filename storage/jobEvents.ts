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
}

export const eventId = (jobId: string, seq: number) => `${jobId}|${String(seq).padStart(10, '0')}`;

/**
 * A job's event log, the side channel that live streams replay and tail. Sequence numbers come from a
 * per-job counter; the unique `_id` keeps two writers from ever sharing one. An event given a `key`
 * is skipped when that key was already written, so a retried activity does not repeat its events; the
 * key is recorded after the event, so a crash in between can repeat an event but never lose one.
 */
export interface JobEventLog {
  /** Appends an event; returns its sequence number, or null when its key was already written. */
  append(jobId: string, event: JobEventDraft): Promise<number | null>;
  get(jobId: string, seq: number): Promise<JobEventDoc | null>;
  /** The highest sequence number handed out so far (0 for none). */
  lastSeq(jobId: string): Promise<number>;
  /** Events after `afterSeq`, in order, at most `limit`; numbers never written (a writer died) are skipped. */
  page(jobId: string, afterSeq: number, limit: number): Promise<JobEventDoc[]>;
}

export class JobEvents implements JobEventLog {
  constructor(private readonly c: Pick<Collections, 'jobEvents' | 'jobEventCounters' | 'jobEventKeys'>) {}

  async append(jobId: string, event: JobEventDraft): Promise<number | null> {
    const keyId = event.key ? `${jobId}|${event.key}` : undefined;
    if (keyId && (await this.c.jobEventKeys.findOne({ _id: keyId }))) return null;
    const seq = await this.insert(jobId, event.type, event.data as unknown as Record<string, unknown>);
    if (keyId) {
      await this.c.jobEventKeys.insertOne({ _id: keyId }).catch((err: unknown) => {
        if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      });
    }
    return seq;
  }

  private async insert(jobId: string, type: JobEventType, data: Record<string, unknown>): Promise<number> {
    for (;;) {
      const counter = await this.c.jobEventCounters.findOneAndUpdate(
        { _id: jobId },
        { $inc: { seq: 1 } },
        { upsert: true, returnDocument: 'after' },
      );
      const seq = counter?.seq ?? 1;
      try {
        await this.c.jobEvents.insertOne({ _id: eventId(jobId, seq), jobId, seq, type, data, at: new Date() });
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
