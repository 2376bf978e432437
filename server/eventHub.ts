import { setTimeout as sleep } from 'node:timers/promises';
import type { JobEventDoc, JobEventLog } from '../storage/jobEvents.js';

export interface StreamSink {
  /** Called with every event after the subscriber's position, in order, once. */
  deliver(event: JobEventDoc): void;
  /** Called when the job has ended and nothing is left to deliver: the stream should close. */
  end(): void;
}

interface Subscriber extends StreamSink {
  cursor: number;
  catchingUp: boolean;
}

export interface JobEventHubOptions {
  pollMs: number;
  holeGraceMs: number;
  /** How often an idle feed asks whether its job has ended (one read per job, not per stream). */
  endCheckMs: number;
}

const BUFFER_LIMIT = 5000;

/**
 * One poller per job per server process, shared by every stream of that job: a thousand clients of
 * one job cost the database the same two lookups per poll as one. Each subscriber keeps its own
 * cursor, so every client gets every event after its own position, in order, once.
 */
class Feed {
  readonly subs = new Set<Subscriber>();
  private buffer: JobEventDoc[] = [];
  private base: number;
  private next: number;
  private running = false;

  constructor(
    private readonly jobId: string,
    startAfter: number,
    private readonly events: JobEventLog,
    private readonly o: JobEventHubOptions,
    private readonly isEnded: (jobId: string) => Promise<boolean>,
    private readonly onIdle: () => void,
  ) {
    this.base = startAfter + 1;
    this.next = startAfter + 1;
  }

  add(sub: Subscriber): void {
    this.subs.add(sub);
    this.pumpSafely(sub);
    if (!this.running) void this.poll();
  }

  /** A database error while catching a stream up is retried on the next event, never thrown. */
  private pumpSafely(sub: Subscriber): void {
    this.pump(sub).catch(() => {
      sub.catchingUp = false;
    });
  }

  private async pump(sub: Subscriber): Promise<void> {
    if (sub.catchingUp) return;
    // A subscriber behind the feed's start reads its gap from the database first.
    if (sub.cursor + 1 < this.base) {
      sub.catchingUp = true;
      try {
        while (sub.cursor + 1 < this.base && this.subs.has(sub)) {
          const page = await this.events.page(this.jobId, sub.cursor, Math.min(500, this.base - 1 - sub.cursor));
          if (page.length === 0) {
            sub.cursor = this.base - 1;
            break;
          }
          for (const e of page) if (e.seq < this.base && e.seq > sub.cursor) this.deliver(sub, e);
          sub.cursor = Math.max(sub.cursor, page.at(-1)!.seq);
        }
      } finally {
        sub.catchingUp = false;
      }
    }
    for (const e of this.buffer) if (e.seq > sub.cursor) this.deliver(sub, e);
  }

  private deliver(sub: Subscriber, e: JobEventDoc): void {
    sub.cursor = e.seq;
    sub.deliver(e);
  }

  private endSub(sub: Subscriber): void {
    this.subs.delete(sub);
    sub.end();
  }

  private async poll(): Promise<void> {
    this.running = true;
    let holeSince: number | undefined;
    let lastEndCheck = Date.now();
    try {
      while (this.subs.size > 0) {
        let doc: JobEventDoc | null;
        try {
          doc = await this.events.get(this.jobId, this.next);
        } catch {
          // The database is unreachable for a moment: wait, then poll again.
          await sleep(this.o.pollMs * 10);
          continue;
        }
        if (doc) {
          this.buffer.push(doc);
          if (this.buffer.length > BUFFER_LIMIT) this.base = this.buffer.shift()!.seq + 1;
          this.next += 1;
          holeSince = undefined;
          for (const sub of this.subs) this.pumpSafely(sub);
          continue;
        }
        // A number handed out but not (yet) written: wait a little for its writer, then skip it.
        const last = await this.events.lastSeq(this.jobId).catch(() => 0);
        if (last >= this.next) {
          holeSince ??= Date.now();
          if (Date.now() - holeSince > this.o.holeGraceMs) {
            this.next += 1;
            holeSince = undefined;
            continue;
          }
        } else if (Date.now() - lastEndCheck >= this.o.endCheckMs) {
          // Nothing new: a job that has ended will send nothing more, so its streams end instead of waiting.
          lastEndCheck = Date.now();
          if (await this.isEnded(this.jobId).catch(() => false)) {
            // Its last events may have landed between the two reads: deliver them first.
            if ((await this.events.lastSeq(this.jobId).catch(() => last)) < this.next) {
              for (const sub of [...this.subs]) if (!sub.catchingUp) this.endSub(sub);
            }
            continue;
          }
        }
        await sleep(this.o.pollMs);
      }
    } finally {
      this.running = false;
      this.onIdle();
    }
  }
}

export class JobEventHub {
  private readonly feeds = new Map<string, Feed>();
  private readonly o: JobEventHubOptions;

  /** `isEnded` tells whether a job has ended (then its idle streams close). */
  constructor(
    private readonly events: JobEventLog,
    private readonly isEnded: (jobId: string) => Promise<boolean>,
    options: Partial<JobEventHubOptions> = {},
  ) {
    this.o = { pollMs: 50, holeGraceMs: 2000, endCheckMs: 1000, ...options };
  }

  /** Delivers every event of `jobId` after `afterSeq`; returns the function that stops delivery. */
  subscribe(jobId: string, afterSeq: number, sink: StreamSink): () => void {
    let feed = this.feeds.get(jobId);
    if (!feed) {
      const created = new Feed(jobId, afterSeq, this.events, this.o, this.isEnded, () => {
        if (this.feeds.get(jobId) === created && created.subs.size === 0) this.feeds.delete(jobId);
      });
      this.feeds.set(jobId, created);
      feed = created;
    }
    const sub: Subscriber = {
      cursor: afterSeq,
      deliver: (e) => sink.deliver(e),
      end: () => sink.end(),
      catchingUp: false,
    };
    feed.add(sub);
    const owner = feed;
    return () => {
      owner.subs.delete(sub);
    };
  }

  /** Streams of `jobId` being fed now. */
  subscribers(jobId: string): number {
    return this.feeds.get(jobId)?.subs.size ?? 0;
  }

  /** Feeds polling now (one per job with streams): what an idle server should have none of. */
  get activeFeeds(): number {
    return this.feeds.size;
  }
}
