import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { RealtimeSettings } from '../../config/realtime.js';
import type { FeedEvents } from '../../storage/feedEvents.js';
import type { FeedKind } from '../../trading/realtime/feed.js';
import { feedInterestSignal, marketFeedWorkflow, marketFeedWorkflowId } from '../../workflows/realtime/marketFeed.js';
import { FeedHub } from './feedHub.js';
import type { RealtimeHubs } from './routes.js';

export interface HubParts {
  events: FeedEvents;
  temporal: Client;
  /** The queue the feed workflows run on (the orchestrator's). */
  workflowTaskQueue: string;
  settings: RealtimeSettings;
  logger: Logger;
  /** Whether a news source is configured for the workers' pollers. */
  news: boolean;
  knownSymbols?: () => Promise<string[]>;
}

/** The price hub, and the news hub when news is configured, of one API instance. */
export function createRealtimeHubs(p: HubParts): RealtimeHubs {
  const s = p.settings;
  const hub = (kind: FeedKind) =>
    new FeedHub({
      kind,
      ...(kind === 'price'
        ? {
            read: (symbols) => p.events.currentPrices(symbols),
            snapshot: (symbol) => p.events.currentPrices([symbol]),
          }
        : {
            read: (symbols, after) => p.events.since('news', symbols, after),
            snapshot: (symbol, n) => p.events.latest('news', symbol, n),
          }),
      logger: p.logger,
      tailEveryMs: s.tailEveryMs,
      interestEveryMs: s.interestEveryMs,
      maxBufferedBytes: s.maxBufferedBytes,
      snapshotSize: kind === 'price' ? 1 : 5,
      // Signal-with-start: the poller's workflow id is the symbol's, so however many instances ask, one
      // poller runs; a finished one is started again.
      interest: async (symbol) => {
        await p.temporal.workflow.signalWithStart(marketFeedWorkflow, {
          workflowId: marketFeedWorkflowId(kind, symbol),
          taskQueue: p.workflowTaskQueue,
          args: [
            {
              kind,
              symbol,
              taskQueue: s.taskQueue,
              pollEveryMs: s.pollEveryMs[kind],
              windowMs: s.windowMs,
              idleMs: s.idleMs,
            },
          ],
          signal: feedInterestSignal,
          signalArgs: [],
          staticSummary: `live ${kind === 'price' ? 'prices' : 'news'} of ${symbol}, while someone listens`,
        });
      },
    });
  return {
    price: hub('price'),
    ...(p.news ? { news: hub('news') } : {}),
    ...(p.knownSymbols ? { knownSymbols: p.knownSymbols } : {}),
    maxSymbolsPerConnection: s.maxSymbolsPerConnection,
    maxConnectionsPerUser: s.maxConnectionsPerUser,
    connections: new Map(),
  };
}

/** Ends every hub's timers (the instance is shutting down). */
export function closeRealtimeHubs(h: RealtimeHubs): void {
  h.price.close();
  h.news?.close();
}
