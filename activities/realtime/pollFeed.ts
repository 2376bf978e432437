import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { FeedEvents } from '../../storage/feedEvents.js';
import { YahooError } from '../../trading/market-data/yahoo.js';
import type { FeedKind, NewsProvider, QuoteProvider } from '../../trading/realtime/feed.js';
import { storyKey } from '../../trading/realtime/newsProviders.js';
import { checkpoint } from '../checkpoint.js';

export interface FeedPollInput {
  kind: FeedKind;
  symbol: string;
  pollEveryMs: number;
  windowMs: number;
  cursor: number;
}

export interface FeedPollResult {
  polls: number;
  published: number;
  cursor: number;
  /** Why the poller should end now rather than poll again: nothing will ever come. */
  stop?: 'unknown_symbol' | 'not_configured';
}

export interface FeedDeps {
  events: FeedEvents;
  quotes?: QuoteProvider;
  news?: NewsProvider;
  logger: Logger;
}

/** The poller's one activity: a window of polls of one symbol, each published the moment it is read. */
export function createFeedActivities(d: FeedDeps) {
  return {
    async pollFeed(input: FeedPollInput): Promise<FeedPollResult> {
      const ctx = Context.current();
      const provider = input.kind === 'price' ? d.quotes : d.news;
      if (!provider) return { polls: 0, published: 0, cursor: input.cursor, stop: 'not_configured' };
      // A retried window goes on from the cursor its predecessor last reported.
      const resumed = ctx.info.heartbeatDetails as { cursor?: number } | undefined;
      let cursor = typeof resumed?.cursor === 'number' ? resumed.cursor : input.cursor;
      const end = Date.now() + input.windowMs;
      let polls = 0;
      let published = 0;
      let backoffMs = input.pollEveryMs;
      while (Date.now() < end) {
        try {
          if (input.kind === 'price') {
            const r = await d.quotes!.quote(input.symbol, cursor);
            cursor = r.cursor;
            // The quote's own time is its key: an unchanged quote polled again is not published twice.
            if (r.tick && (await d.events.publishPrice(input.symbol, `${r.tick.at}|${r.tick.price}`, r.tick))) {
              published++;
            }
          } else {
            const r = await d.news!.latest(input.symbol, cursor);
            cursor = r.cursor;
            for (const story of r.stories) {
              if (await d.events.publish('news', input.symbol, storyKey(story), story)) published++;
            }
          }
          backoffMs = input.pollEveryMs;
        } catch (err) {
          if (err instanceof YahooError && err.failure === 'unknown_symbol') {
            d.logger.warn({ symbol: input.symbol, kind: input.kind, err: err.message }, 'feed: unknown symbol');
            return { polls, published, cursor, stop: 'unknown_symbol' };
          }
          // A rate limit or an outage: wait longer each time (up to a minute), within the window.
          backoffMs = Math.min(backoffMs * 2, 60_000);
          d.logger.warn(
            { symbol: input.symbol, kind: input.kind, err: (err as Error).message, retryInMs: backoffMs },
            'feed: poll failed',
          );
        }
        polls++;
        checkpoint(ctx, { cursor });
        // Cancellation (the poller stopped, the worker shutting down) ends the sleep with a CancelledFailure.
        await ctx.sleep(Math.min(backoffMs, Math.max(0, end - Date.now())));
      }
      return { polls, published, cursor };
    },
  };
}

export type FeedActivities = ReturnType<typeof createFeedActivities>;
