import {
  continueAsNew,
  defineSignal,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { FeedActivities, FeedPollResult } from '../../activities/realtime/pollFeed.js';
import { failureMessage } from '../failures.js';

/** The two live channels (trading/realtime/feed.ts' FeedKind; workflows import nothing from trading/). */
type FeedKind = 'price' | 'news';

/** Sent by each API instance, every `interestEveryMs`, while it has subscribers to the symbol. */
export const feedInterestSignal = defineSignal('feedInterest');

export interface MarketFeedInput {
  kind: FeedKind;
  symbol: string;
  /** The queue of the worker that runs the polls (long activities, kept apart from bookkeeping). */
  taskQueue: string;
  pollEveryMs: number;
  /** One activity polls for this long, then the workflow looks whether anyone still listens. */
  windowMs: number;
  /** With no interest for this long, the poller ends; the next subscriber starts it again. */
  idleMs: number;
  /** Where a replay continues. */
  cursor?: number;
}

/** The one poller of a symbol's feed: the same id from every API instance makes it a singleton. */
export function marketFeedWorkflowId(kind: FeedKind, symbol: string): string {
  return `feed-${kind}-${symbol}`;
}

/** Windows a run polls before it continues as new, keeping its history short. */
const WINDOWS_PER_RUN = 100;

/**
 * Polls one symbol's prices or news while any API instance has a subscriber to it: one activity per
 * window (heartbeating each poll, so a worker's death moves the poll elsewhere within seconds), then a
 * look at whether interest arrived during the last `idleMs`. Interest is counted in windows, not read
 * from a clock.
 */
export async function marketFeedWorkflow(input: MarketFeedInput): Promise<FeedPollResult | undefined> {
  const { pollFeed } = proxyActivities<FeedActivities>({
    taskQueue: input.taskQueue,
    startToCloseTimeout: input.windowMs + 60_000,
    heartbeatTimeout: Math.max(3 * input.pollEveryMs, 20_000),
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
  });
  let windowsSinceInterest = 0;
  setHandler(feedInterestSignal, () => {
    windowsSinceInterest = 0;
  });
  const idleWindows = Math.max(1, Math.ceil(input.idleMs / input.windowMs));
  let cursor = input.cursor ?? 0;
  let last: FeedPollResult | undefined;
  for (let w = 0; w < WINDOWS_PER_RUN; w++) {
    try {
      last = await pollFeed({
        kind: input.kind,
        symbol: input.symbol,
        pollEveryMs: input.pollEveryMs,
        windowMs: input.windowMs,
        cursor,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Five failed windows in a row: the poller ends, and the next interest starts a fresh one.
      log.warn('market feed: polling failed', { kind: input.kind, symbol: input.symbol, error: failureMessage(err) });
      return undefined;
    }
    cursor = last.cursor;
    if (last.stop) return last;
    windowsSinceInterest++;
    if (windowsSinceInterest > idleWindows) return last;
    if (workflowInfo().continueAsNewSuggested) break;
  }
  await continueAsNew<typeof marketFeedWorkflow>({ ...input, cursor });
}
