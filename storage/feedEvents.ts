import type { Collection } from 'mongodb';
import type { FeedKind, NewsStory, PriceTick } from '../trading/realtime/feed.js';

/**
 * One published story (`_id` per story, so a repeat is a no-op), or a symbol's current price (`_id` per
 * symbol, replaced by each new quote: only the latest price matters to a subscriber).
 */
export interface FeedEventDoc {
  _id: string;
  kind: FeedKind;
  symbol: string;
  /** When the poller wrote it: what every API instance tails by. */
  ts: Date;
  data: PriceTick | NewsStory;
  /** A price's quote key (its time and price): the same quote polled again is not written again. */
  key?: string;
}

const DUPLICATE_KEY = 11000;

/**
 * The feed every API instance tails: the symbol's single poller writes, the instances read what is newer
 * than what they have seen. Writes are inserts under a unique key, never read-modify-write, so two
 * pollers (a retried activity beside a slow one) publish a story once.
 */
export class FeedEvents {
  constructor(private readonly c: { feedEvents: Collection<FeedEventDoc> }) {}

  /**
   * Makes `tick` the symbol's current price, unless it is the quote already there (same `key`); false
   * then. One document per symbol, so what an instance reads each tick stays as small as its symbols.
   */
  async publishPrice(symbol: string, key: string, tick: PriceTick, ts = new Date()): Promise<boolean> {
    try {
      const r = await this.c.feedEvents.updateOne(
        { _id: `price|${symbol}`, key: { $ne: key } },
        { $set: { kind: 'price', symbol, ts, data: tick, key } },
        { upsert: true },
      );
      return r.modifiedCount + r.upsertedCount > 0;
    } catch (err) {
      // The filter missed because the key is the same, and the upsert then hit the existing _id.
      if ((err as { code?: number }).code === DUPLICATE_KEY) return false;
      throw err;
    }
  }

  /** The current prices of these symbols. */
  currentPrices(symbols: readonly string[]): Promise<FeedEventDoc[]> {
    return this.c.feedEvents.find({ _id: { $in: symbols.map((s) => `price|${s}`) } }).toArray();
  }

  /** Publishes a story under `key` (unique per symbol); false when it was there already. */
  async publish(kind: FeedKind, symbol: string, key: string, data: PriceTick | NewsStory, ts = new Date()) {
    try {
      await this.c.feedEvents.insertOne({ _id: `${kind}|${symbol}|${key}`, kind, symbol, ts, data });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === DUPLICATE_KEY) return false;
      throw err;
    }
  }

  /** The stories written after `after` for these symbols, oldest first. */
  since(kind: FeedKind, symbols: readonly string[], after: Date, limit = 5_000): Promise<FeedEventDoc[]> {
    return this.c.feedEvents
      .find({ kind, symbol: { $in: [...symbols] }, ts: { $gt: after } })
      .sort({ ts: 1 })
      .limit(limit)
      .toArray();
  }

  /** The newest `n` stories of one symbol, newest first (what a new subscriber is sent at once). */
  latest(kind: FeedKind, symbol: string, n: number): Promise<FeedEventDoc[]> {
    return this.c.feedEvents.find({ kind, symbol }).sort({ ts: -1 }).limit(n).toArray();
  }
}
