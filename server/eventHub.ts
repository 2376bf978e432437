import { setTimeout as sleep } from 'node:timers/promises';
import type { JobEventDoc, JobEvents } from '../storage/jobEvents.js';

type Deliver = (event: JobEventDoc) => void;

interface Subscriber {
  cursor: number;
  deliver: Deliver;
  catchingUp: boolean;
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
    private readonly events: JobEvents,
    private readonly pollMs: number,
    private readonly holeGraceMs: number,
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

  private async poll(): Promise<void> {
    this.running = true;
    let holeSince: number | undefined;
    try {
      while (this.subs.size > 0) {
        let doc: JobEventDoc | null;
        try {
          doc = await this.events.get(this.jobId, this.next);
        } catch {
          // The database is unreachable for a moment: wait, then poll again.
          await sleep(this.pollMs * 10);
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
          if (Date.now() - holeSince > this.holeGraceMs) {
            this.next += 1;
            holeSince = undefined;
            continue;
          }
        }
        await sleep(this.pollMs);
      }
    } finally {
      this.running = false;
      this.onIdle();
    }
  }
}

export class JobEventHub {
  private readonly feeds = new Map<string, Feed>();

  constructor(
    private readonly events: JobEvents,
    private readonly options: { pollMs: number; holeGraceMs: number } = { pollMs: 50, holeGraceMs: 2000 },
  ) {}

  /** Delivers every event of `jobId` after `afterSeq`; returns the function that stops delivery. */
  subscribe(jobId: string, afterSeq: number, deliver: Deliver): () => void {
    let feed = this.feeds.get(jobId);
    if (!feed) {
      const created = new Feed(jobId, afterSeq, this.events, this.options.pollMs, this.options.holeGraceMs, () => {
        if (this.feeds.get(jobId) === created && created.subs.size === 0) this.feeds.delete(jobId);
      });
      this.feeds.set(jobId, created);
      feed = created;
    }
    const sub: Subscriber = { cursor: afterSeq, deliver, catchingUp: false };
    feed.add(sub);
    const owner = feed;
    return () => {
      owner.subs.delete(sub);
    };
  }
}
