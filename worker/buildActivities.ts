import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { type AnalysisActivities, createAnalysisActivities } from '../activities/analysis.js';
import { createChatActivities } from '../activities/chat/activities.js';
import { createReconcilerActivities, type ReconcilerActivities } from '../activities/jobReconciler.js';
import { createJobActivities, type JobActivities } from '../activities/jobs.js';
import { createFeedActivities, type FeedActivities } from '../activities/realtime/pollFeed.js';
import { createScheduleActivities, type ScheduleActivities } from '../activities/schedules.js';
import { createSimulationActivities, type SimulationActivities } from '../activities/simulation/activities.js';
import { createWebhookActivities, type WebhookActivities, type WebhookSettings } from '../activities/webhooks/index.js';
import { systemResolve } from '../activities/webhooks/post.js';
import { adminKeyPath } from '../config/adminKeyFile.js';
import type { ModelRegistry } from '../config/models.js';
import type { Settings } from '../config/settings.js';
import type { SandboxRunner } from '../sandbox/types.js';
import type { BarCache } from '../storage/barCache.js';
import type { Database } from '../storage/db.js';
import { FeedEvents } from '../storage/feedEvents.js';
import { JobEvents } from '../storage/jobEvents.js';
import { MongoJobStore } from '../storage/jobStore.js';
import { ModelLedgers } from '../storage/modelLedgers.js';
import { ModelLocks } from '../storage/modelLocks.js';
import { TradingDays } from '../storage/tradingDays.js';
import { WebhookDeliveries } from '../storage/webhookDeliveries.js';
import type { AgentFactory } from '../trading/agents/factory.js';
import type { IntradaySource } from '../trading/market-data/hourlyFiles.js';
import type { NewsSource } from '../trading/news.js';
import type { NewsProvider, QuoteProvider } from '../trading/realtime/feed.js';
import type { ChatActivities } from '../workflows/chat/contract.js';
import { DEFAULT_WEBHOOK_RETRY } from '../workflows/webhookContract.js';

export function buildActivities(deps: {
  db: Database;
  bars: BarCache;
  hourly?: IntradaySource;
  news?: NewsSource;
  /** What the live hubs' pollers read: quotes, and news where a source is configured. */
  feeds?: { quotes: QuoteProvider; news?: NewsProvider };
  /** The symbols the market source offers (the chat's symbol search); absent: analysed tickers and known names only. */
  knownSymbols?: () => Promise<string[]>;
  /** The market source's name (`synthetic-…`: the chat says its prices are not the market's). */
  marketSource?: string;
  models: ModelRegistry;
  agents: AgentFactory;
  logger: Logger;
  analysis: {
    runner: SandboxRunner;
    dataDir: string;
    limits: { memoryMb: number; cpus: number; timeoutMs: number };
    network: string | null;
    benchmark: string;
  };
  webhooks: WebhookSettings;
}): WorkerActivities {
  const c = deps.db.collections;
  const jobs = new MongoJobStore(c);
  const events = new JobEvents(c);
  const locks = new ModelLocks(c);
  const analysis = createAnalysisActivities({
    jobs,
    events,
    bars: deps.bars,
    models: deps.models,
    logger: deps.logger,
    ...deps.analysis,
  });
  const simulation = createSimulationActivities({
    jobs,
    locks,
    tradingDays: new TradingDays(c),
    ledgers: new ModelLedgers(c),
    events,
    bars: deps.bars,
    ...(deps.hourly ? { hourly: deps.hourly } : {}),
    ...(deps.news ? { news: deps.news } : {}),
    models: deps.models,
    agents: deps.agents,
    logger: deps.logger,
  });
  return {
    ...simulation,
    ...analysis,
    ...createJobActivities({ jobs, events, logger: deps.logger }),
    ...createReconcilerActivities({ jobs, locks, logger: deps.logger }),
    ...createScheduleActivities({
      jobs,
      dataDir: deps.analysis.dataDir,
      latestMarketDate: () => deps.bars.latestDate(),
      serviceApiKey: () => serviceApiKey(deps.analysis.dataDir),
      logger: deps.logger,
    }),
    ...createFeedActivities({
      events: new FeedEvents(c),
      ...(deps.feeds?.quotes ? { quotes: deps.feeds.quotes } : {}),
      ...(deps.feeds?.news ? { news: deps.feeds.news } : {}),
      logger: deps.logger,
    }),
    ...createChatActivities({
      db: deps.db.db,
      prices: deps.bars,
      ...(deps.marketSource ? { priceSource: deps.marketSource } : {}),
      ...(deps.knownSymbols ? { knownSymbols: deps.knownSymbols } : {}),
      models: deps.models,
      logger: deps.logger,
    }),
    ...createWebhookActivities({
      jobs,
      deliveries: new WebhookDeliveries(c),
      settings: deps.webhooks,
      logger: deps.logger,
    }),
  };
}

export type WorkerActivities = SimulationActivities &
  AnalysisActivities &
  JobActivities &
  ReconcilerActivities &
  ScheduleActivities &
  WebhookActivities &
  ChatActivities &
  FeedActivities;

/** The webhook activities' settings, as the worker process wires them (tests override the retry and the allow-list). */
export function webhookDepsFrom(settings: Settings, secret: string): WebhookSettings {
  return {
    secret,
    allow: () => settings.webhooks.allow,
    retry: DEFAULT_WEBHOOK_RETRY,
    resolve: systemResolve,
    timeoutMs: 15_000,
  };
}

/** The analysis activities' settings, as the worker process and the tests both wire them. */
export function analysisDepsFrom(settings: Settings, runner: SandboxRunner) {
  return {
    runner,
    dataDir: settings.dataDir,
    limits: {
      memoryMb: settings.sandbox.memoryMb,
      cpus: settings.sandbox.cpus,
      timeoutMs: settings.analysis.timeoutMs,
    },
    network: settings.sandbox.network ?? null,
    benchmark: settings.analysis.benchmark,
  };
}

/**
 * The admin key the scheduled catch-up acts for a schedule's owner with: `TRADEFLOW_SERVICE_API_KEY`, else
 * the first-run admin key in the data folder (npm start's API and worker share it).
 */
function serviceApiKey(dataDir: string): string | undefined {
  if (process.env.TRADEFLOW_SERVICE_API_KEY) return process.env.TRADEFLOW_SERVICE_API_KEY;
  try {
    return readFileSync(adminKeyPath(dataDir), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
