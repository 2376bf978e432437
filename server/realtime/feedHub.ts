import type { Logger } from 'pino';
import type { FeedEventDoc } from '../../storage/feedEvents.js';
import type { FeedKind } from '../../trading/realtime/feed.js';

/** One connection as the hub sees it: the socket behind it is the route's (server/realtime/routes.ts). */
export interface Subscriber {
  readonly id: number;
  send(text: string): void;
  /** Bytes queued on the socket and not yet written: a consumer that does not read makes it grow. */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

export interface FeedHubOptions {
  kind: FeedKind;
  /**
   * What the pollers published for these symbols: for prices, each symbol's current price (one document
   * each); for news, the stories written after `after`.
   */
  read(symbols: readonly string[], after: Date): Promise<FeedEventDoc[]>;
  /** The latest items of one symbol, newest first: a new subscriber gets them at once. */
  snapshot(symbol: string, n: number): Promise<FeedEventDoc[]>;
  /** Tells the symbol's poller someone listens, starting it when it is not running. */
  interest(symbol: string): Promise<void>;
  logger: Logger;
  /** How often the instance reads what the pollers published. */
  tailEveryMs: number;
  /** How often interest is repeated while a symbol has subscribers. */
  interestEveryMs: number;
  /** A subscriber with more than this queued is dropped (close 1013): never buffered without bound. */
  maxBufferedBytes: number;
  /** Items sent at once on subscribe: the last price, the last few stories. */
  snapshotSize: number;
}

/** The close code a slow consumer gets: "try again later". */
export const SLOW_CONSUMER_CLOSE = 1013;
/** Published items are looked for this far behind the newest seen: writers' clocks and commits differ. */
const LOOKBACK_MS = 2_000;

interface Held {
  subscribers: Set<Subscriber>;
  /**
   * Per subscriber, what it was sent lately: prices only move forward (a price older than the last one
   * sent is stale), and a story of its snapshot is not sent again by the tail.
   */
  sent: Map<number, { ts: number; ids: Set<string> }>;
}

/**
 * One hub (prices or news) of one API instance. It keeps who listens to what, tells each symbol's poller
 * (a workflow per symbol, shared by every instance) that someone listens, and tails the feed collection
 * the pollers write: one query per tick for all its symbols, whatever the number of subscribers, and
 * each item serialized once. Timers run only while someone listens; `close()` ends them.
 */
export class FeedHub {
  private readonly symbols = new Map<string, Held>();
  private readonly ofSubscriber = new Map<Subscriber, Set<string>>();
  private tailTimer: NodeJS.Timeout | undefined;
  private interestTimer: NodeJS.Timeout | undefined;
  private after = new Date(0);
  /** News: the stories delivered within the lookback. Prices: each symbol's last delivered time. */
  private readonly seen = new Map<string, number>();
  private tailing = false;
  private closed = false;
  readonly stats = {
    delivered: 0,
    dropped: 0,
    lastItemAt: null as string | null,
    lastTailError: null as string | null,
  };

  constructor(private readonly o: FeedHubOptions) {}

  get subscriberCount(): number {
    return this.ofSubscriber.size;
  }

  get symbolCount(): number {
    return this.symbols.size;
  }

  /** Adds the subscriber to the symbols, sends each one's latest items at once, and wakes the pollers. */
  async subscribe(sub: Subscriber, symbols: readonly string[]): Promise<void> {
    if (this.closed) return;
    const mine = this.ofSubscriber.get(sub) ?? new Set<string>();
    this.ofSubscriber.set(sub, mine);
    const fresh: string[] = [];
    for (const symbol of symbols) {
      mine.add(symbol);
      let held = this.symbols.get(symbol);
      if (!held) {
        held = { subscribers: new Set(), sent: new Map() };
        this.symbols.set(symbol, held);
        fresh.push(symbol);
      }
      held.subscribers.add(sub);
    }
    this.ensureTimers();
    await Promise.all(fresh.map((s) => this.tellPoller(s)));
    for (const symbol of symbols) {
      const latest = await this.o.snapshot(symbol, this.o.snapshotSize).catch(() => []);
      const held = this.symbols.get(symbol);
      if (!held?.subscribers.has(sub)) continue;
      for (const doc of latest.reverse()) this.sendTo(sub, held, doc, JSON.stringify(message(doc)));
    }
  }

  unsubscribe(sub: Subscriber, symbols: readonly string[]): void {
    const mine = this.ofSubscriber.get(sub);
    for (const symbol of symbols) {
      mine?.delete(symbol);
      const held = this.symbols.get(symbol);
      if (!held) continue;
      held.subscribers.delete(sub);
      held.sent.delete(sub.id);
      if (held.subscribers.size === 0) this.symbols.delete(symbol);
    }
    if (this.symbols.size === 0) this.stopTimers();
  }

  /** The subscriber's symbols (its connection closed, or it was dropped). */
  remove(sub: Subscriber): void {
    const mine = this.ofSubscriber.get(sub);
    if (!mine) return;
    this.unsubscribe(sub, [...mine]);
    this.ofSubscriber.delete(sub);
  }

  subscriptionsOf(sub: Subscriber): ReadonlySet<string> {
    return this.ofSubscriber.get(sub) ?? new Set();
  }

  close(): void {
    this.closed = true;
    this.stopTimers();
  }

  private ensureTimers(): void {
    if (this.symbols.size === 0 || this.closed) return;
    if (!this.tailTimer && !this.tailing) {
      // Nothing older than a lookback is news to a hub that just started listening: subscribers got the
      // latest items as their snapshot.
      if (this.after.getTime() === 0) this.after = new Date(Date.now() - LOOKBACK_MS);
      this.tailTimer = setTimeout(() => void this.tail(), this.o.tailEveryMs);
    }
    this.interestTimer ??= setInterval(() => {
      for (const symbol of this.symbols.keys()) void this.tellPoller(symbol);
    }, this.o.interestEveryMs);
  }

  private stopTimers(): void {
    clearTimeout(this.tailTimer);
    clearInterval(this.interestTimer);
    this.tailTimer = undefined;
    this.interestTimer = undefined;
    this.after = new Date(0);
    this.seen.clear();
  }

  private async tellPoller(symbol: string): Promise<void> {
    try {
      await this.o.interest(symbol);
    } catch (err) {
      // The next interest tick asks again.
      this.o.logger.warn({ kind: this.o.kind, symbol, err: (err as Error).message }, 'cannot reach the feed poller');
    }
  }

  private async tail(): Promise<void> {
    this.tailTimer = undefined;
    if (this.symbols.size === 0 || this.closed) return;
    this.tailing = true;
    try {
      const docs = await this.o.read([...this.symbols.keys()], this.after);
      this.stats.lastTailError = null;
      if (this.o.kind === 'price') {
        for (const doc of docs) {
          const ts = doc.ts.getTime();
          if ((this.seen.get(doc.symbol) ?? 0) >= ts) continue;
          this.seen.set(doc.symbol, ts);
          this.deliver(doc);
        }
        return;
      }
      let newest = this.after.getTime() + LOOKBACK_MS;
      for (const doc of docs) {
        const ts = doc.ts.getTime();
        newest = Math.max(newest, ts);
        if (this.seen.has(doc._id)) continue;
        this.seen.set(doc._id, ts);
        this.deliver(doc);
      }
      this.after = new Date(newest - LOOKBACK_MS);
      for (const [id, ts] of this.seen) if (ts < this.after.getTime()) this.seen.delete(id);
    } catch (err) {
      this.stats.lastTailError = (err as Error).message;
      this.o.logger.warn({ kind: this.o.kind, err: (err as Error).message }, 'cannot read the feed');
    } finally {
      this.tailing = false;
      if (this.symbols.size > 0 && !this.closed && !this.tailTimer) {
        this.tailTimer = setTimeout(() => void this.tail(), this.o.tailEveryMs);
      }
    }
  }

  private deliver(doc: FeedEventDoc): void {
    const held = this.symbols.get(doc.symbol);
    if (!held) return;
    const text = JSON.stringify(message(doc));
    this.stats.lastItemAt = doc.ts.toISOString();
    for (const sub of held.subscribers) this.sendTo(sub, held, doc, text);
  }

  private sendTo(sub: Subscriber, held: Held, doc: FeedEventDoc, text: string): void {
    const ts = doc.ts.getTime();
    const last = held.sent.get(sub.id);
    // A symbol's price document keeps its id as it changes: prices are told apart by their time.
    if (doc.kind === 'price' ? last && ts <= last.ts : last?.ids.has(doc._id)) return;
    if (sub.bufferedAmount() > this.o.maxBufferedBytes) {
      this.stats.dropped++;
      this.o.logger.warn({ kind: this.o.kind, subscriber: sub.id }, 'dropping a slow consumer');
      this.remove(sub);
      sub.close(SLOW_CONSUMER_CLOSE, 'slow consumer: read faster or subscribe to fewer symbols');
      return;
    }
    const ids = last?.ids ?? new Set<string>();
    // Bounded: the snapshot's items and the few sent since.
    if (ids.size >= 2 * this.o.snapshotSize + 2) ids.delete(ids.values().next().value!);
    ids.add(doc._id);
    held.sent.set(sub.id, { ts: Math.max(ts, last?.ts ?? 0), ids });
    sub.send(text);
    this.stats.delivered++;
  }
}

/** The message a published item becomes: `{type: 'price' | 'news', symbol, data, published_at}`. */
export function message(doc: FeedEventDoc) {
  return { type: doc.kind, symbol: doc.symbol, data: doc.data, published_at: doc.ts.toISOString() };
}
