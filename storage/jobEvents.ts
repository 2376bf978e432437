import { MongoServerError } from 'mongodb';
import type { JobEventDraft, JobEventType } from '../jobs/events.js';
import type { Collections } from './db.js';
import type { JobEventDoc } from './types.js';

export type { JobEventDoc } from './types.js';

export const eventId = (jobId: string, seq: number) => `${jobId}|${String(seq).padStart(10, '0')}`;
const keyId = (jobId: string, key: string) => `${jobId}|${key}`;

/**
 * How long after the events around it a hole is taken as a number whose writer is gone: longer than a
 * crashed worker's activity takes to be retried (10 s of silence, then a backoff) and fill the numbers
 * it had reserved, so a reader paging the log does not step over an event about to land.
 */
export const WRITER_GONE_AFTER_MS = 30_000;

/** Numbers read past a page's end to learn whether a hole inside it has later events (and how old they are). */
const HOLE_LOOKAHEAD = 100;

export interface PageOptions {
  /**
   * End the page at the first number handed out but not written, so a reader never steps over an event
   * its writer is still writing; a hole is stepped over only once an event after it is older than
   * `graceMs` (its writer is gone). Without it, holes are skipped (the live feed decides them itself).
   */
  untilHole?: { graceMs: number };
}

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
  /** Events after `afterSeq`, in order, at most `limit`; see PageOptions for numbers never written. */
  page(jobId: string, afterSeq: number, limit: number, options?: PageOptions): Promise<JobEventDoc[]>;
}

/**
 * A page of a log read as numbered slots (`null`: a number not written): at most `limit` events, ending
 * at a young hole when `untilHole` says so. Shared by the FerretDB log and the in-memory one.
 */
export function pageOfSlots(
  slots: ReadonlyArray<JobEventDoc | null>,
  limit: number,
  options: PageOptions,
  now = Date.now(),
): JobEventDoc[] {
  const out: JobEventDoc[] = [];
  for (const [i, slot] of slots.entries()) {
    if (out.length >= limit) break;
    if (slot) {
      out.push(slot);
      continue;
    }
    if (!options.untilHole) continue;
    const later = slots.slice(i + 1).find((s) => s !== null);
    if (!later || now - later.at.getTime() < options.untilHole.graceMs) break;
  }
  return out;
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
   * missing. An event whose number another writer took (the counter is not atomic on FerretDB) moves to a
   * fresh number, and each move is itself a key inserted once (`job|key|1`, `job|key|2`, ...): writers of
   * one event that all find its number taken agree on one new number instead of each writing a copy.
   * Returns each event's number, or null for one that another call claimed first.
   */
  private async appendKeyed(jobId: string, events: readonly JobEventDraft[]): Promise<Array<number | null>> {
    if (events.length === 0) return [];
    const first = (await this.reserve(jobId, events.length)) - events.length + 1;
    const claims = events.map((e, i) => ({ _id: keyId(jobId, e.key!), seq: first + i }));
    const found = await this.claimKeys(claims);
    const out: Array<number | null> = [];
    const placed: Array<{ index: number; doc: JobEventDoc; step: number }> = [];
    for (const [i, e] of events.entries()) {
      const at = found[i];
      // A key written by the older path, which recorded keys after their events: that event exists.
      if (!at) {
        out.push(null);
        continue;
      }
      out.push(at.step === 0 && at.seq === claims[i]!.seq ? at.seq : null);
      placed.push({ index: i, doc: this.doc(jobId, at.seq, e), step: at.step });
    }
    try {
      await this.c.jobEvents.insertMany(
        placed.map((p) => p.doc),
        { ordered: false },
      );
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      for (const p of placed) {
        const seq = await this.insertClaimed(jobId, p.doc, p.step);
        if (out[p.index] !== null) out[p.index] = seq;
      }
    }
    return out;
  }

  /**
   * Writes each key with its number; a key that exists keeps the number it holds, followed through its
   * moves to where its event lives now (null: a key of the older path, whose event exists).
   */
  private async claimKeys(
    claims: Array<{ _id: string; seq: number }>,
  ): Promise<Array<{ seq: number; step: number } | null>> {
    try {
      await this.c.jobEventKeys.insertMany(claims, { ordered: false });
      return claims.map((c) => ({ seq: c.seq, step: 0 }));
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
    }
    // Some exist (a retry): FerretDB may stop an unordered insert at the first duplicate, so one by one.
    const found: Array<{ seq: number; step: number } | null> = [];
    for (const claim of claims) {
      try {
        await this.c.jobEventKeys.insertOne(claim);
        found.push({ seq: claim.seq, step: 0 });
      } catch (err) {
        if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
        const seq = (await this.c.jobEventKeys.findOne({ _id: claim._id }))?.seq;
        found.push(seq === undefined ? null : await this.lastMove(claim._id, { seq, step: 0 }));
      }
    }
    return found;
  }

  /** Where a key's event lives now: from a known step, along its later moves (each a key of its own). */
  private async lastMove(key: string, from: { seq: number; step: number }): Promise<{ seq: number; step: number }> {
    for (let at = from; ; ) {
      const moved = await this.c.jobEventKeys.findOne({ _id: `${key}|${at.step + 1}` });
      if (moved?.seq === undefined) return at;
      at = { seq: moved.seq, step: at.step + 1 };
    }
  }

  /**
   * Writes a keyed event at its number unless it is there already; when another event holds that number,
   * moves it one step (decided by a unique key, so racing writers of this event take the same new number)
   * and tries there. Returns the number the event lives at.
   */
  private async insertClaimed(jobId: string, first: JobEventDoc, firstStep: number): Promise<number> {
    const key = keyId(jobId, first.key!);
    let doc = first;
    let step = firstStep;
    for (;;) {
      try {
        await this.c.jobEvents.insertOne(doc);
        return doc.seq;
      } catch (err) {
        if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      }
      const there = await this.c.jobEvents.findOne({ _id: doc._id });
      if (there?.key === doc.key) return doc.seq;
      const fresh = await this.reserve(jobId, 1);
      let at = { seq: fresh, step: step + 1 };
      try {
        await this.c.jobEventKeys.insertOne({ _id: `${key}|${at.step}`, seq: fresh });
      } catch (err) {
        if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
        // Another writer of this event moved it first: follow that move (and any after it).
        at = await this.lastMove(key, { seq: doc.seq, step });
      }
      step = at.step;
      doc = { ...doc, _id: eventId(jobId, at.seq), seq: at.seq };
    }
  }

  /** Takes `count` numbers from the job's counter; returns the last. Not atomic on FerretDB: unique `_id`s settle collisions. */
  private async reserve(jobId: string, count: number): Promise<number> {
    for (;;) {
      try {
        const counter = await this.c.jobEventCounters.findOneAndUpdate(
          { _id: jobId },
          { $inc: { seq: count } },
          { upsert: true, returnDocument: 'after' },
        );
        return counter?.seq ?? count;
      } catch (err) {
        // Two first writers both upserted the counter: one created it, the other increments it now.
        if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      }
    }
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

  private async insert(jobId: string, type: JobEventType, data: Record<string, unknown>): Promise<number> {
    for (;;) {
      const seq = await this.reserve(jobId, 1);
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

  async page(jobId: string, afterSeq: number, limit: number, options: PageOptions = {}): Promise<JobEventDoc[]> {
    const last = await this.lastSeq(jobId);
    const span = Math.max(0, Math.min(limit + (options.untilHole ? HOLE_LOOKAHEAD : 0), last - afterSeq));
    const slots = await Promise.all(Array.from({ length: span }, (_, i) => this.get(jobId, afterSeq + 1 + i)));
    return pageOfSlots(slots, limit, options);
  }
}
