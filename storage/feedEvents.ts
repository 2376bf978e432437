import type { Collection } from 'mongodb';
import type { FeedKind, NewsStory, PriceTick } from '../trading/realtime/feed.js';

/** One published price or story; `_id` makes a repeat (the same quote, the same story) a no-op. */
export interface FeedEventDoc {
  _id: string;
  kind: FeedKind;
  symbol: string;
  /** When the poller wrote it: what every API instance tails by. */
  ts: Date;
  data: PriceTick | NewsStory;
}

const DUPLICATE_KEY = 11000;

/**
 * The feed every API instance tails: the symbol's single poller writes, the instances read what is newer
 * than what they have seen. Writes are inserts under a unique key, never read-modify-write, so two
 * pollers (a retried activity beside a slow one) publish a story once.
 */
export class FeedEvents {
  constructor(private readonly c: { feedEvents: Collection<FeedEventDoc> }) {}

  /** Publishes under `key` (unique per kind and symbol); false when it was there already. */
  async publish(kind: FeedKind, symbol: string, key: string, data: PriceTick | NewsStory, ts = new Date()) {
    try {
      await this.c.feedEvents.insertOne({ _id: `${kind}|${symbol}|${key}`, kind, symbol, ts, data });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === DUPLICATE_KEY) return false;
      throw err;
    }
  }

  /** What was written after `after` for these symbols, oldest first. */
  since(kind: FeedKind, symbols: readonly string[], after: Date, limit = 5_000): Promise<FeedEventDoc[]> {
    return this.c.feedEvents
      .find({ kind, symbol: { $in: [...symbols] }, ts: { $gt: after } })
      .sort({ ts: 1 })
      .limit(limit)
      .toArray();
  }

  /** The newest `n` for one symbol, newest first (what a new subscriber is sent at once). */
  latest(kind: FeedKind, symbol: string, n: number): Promise<FeedEventDoc[]> {
    return this.c.feedEvents.find({ kind, symbol }).sort({ ts: -1 }).limit(n).toArray();
  }

  /**
   * Forgets prices older than `before`, except the newest (a closed market's last price is still what a
   * new subscriber is sent); stories are kept, being the de-duplication record.
   */
  async prune(kind: FeedKind, symbol: string, before: Date): Promise<number> {
    const [newest] = await this.latest(kind, symbol, 1);
    if (!newest) return 0;
    const r = await this.c.feedEvents.deleteMany({ kind, symbol, ts: { $lt: before }, _id: { $ne: newest._id } });
    return r.deletedCount;
  }
}
