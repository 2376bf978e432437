import { Client, type Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { ChatChunks } from '../activities/chat/chunks.js';
import type { ModelRegistry } from '../config/models.js';
import { createHourlySource, defaultSymbols } from '../config/services.js';
import type { Settings } from '../config/settings.js';
import { isLoopbackHost } from '../config/settings.js';
import { isTerminalStatus } from '../jobs/lifecycle.js';
import { type AccountStore, MongoAccounts } from '../storage/accounts.js';
import { BarCache, cachedSource } from '../storage/barCache.js';
import type { Database } from '../storage/db.js';
import { FeedEvents } from '../storage/feedEvents.js';
import { JobEvents } from '../storage/jobEvents.js';
import { MongoJobStore } from '../storage/jobStore.js';
import { ModelLocks } from '../storage/modelLocks.js';
import { MongoSignIn, type SignInStore } from '../storage/signIn.js';
import { TradingDays } from '../storage/tradingDays.js';
import { WebhookDeliveries } from '../storage/webhookDeliveries.js';
import type { MarketDataSource } from '../trading/bars.js';
import type { IntradaySource } from '../trading/market-data/hourlyFiles.js';
import { DEFAULT_CHAT_OPTIONS } from '../workflows/chat/contract.js';
import type { AnalysisOptions, SimulationOptions } from '../workflows/definitions.js';
import { PdfRenderer } from './analysis/pdfRenderer.js';
import { AnalysisService } from './analysis/service.js';
import { createApp } from './app.js';
import { Accounts } from './auth/accounts.js';
import { AdmissionGate } from './auth/jobCap.js';
import { logMailer, smtpMailer } from './auth/mailer.js';
import { configuredProviders } from './auth/oauth/configured.js';
import { OAuthSignIn } from './auth/oauth/flow.js';
import type { OAuthProvider, ProviderName } from './auth/oauth/provider.js';
import { type CodeMailer, SignIn } from './auth/signIn.js';
import { type ChatChunkReader, ChatService } from './chat/service.js';
import { type ChatSessionStore, MongoChatSessions } from './chat/sessions.js';
import type { AppDeps } from './context.js';
import { DATABASE_CALL_MS, DATABASE_SCAN_MS, TEMPORAL_CALL_MS, withCallDeadlines } from './deadline.js';
import { JobEventHub, type JobEventHubOptions } from './eventHub.js';
import { ResponseCache } from './http/responseCache.js';
import { JobControl } from './jobControl.js';
import { createRealtimeHubs } from './realtime/hubs.js';
import type { RealtimeHubs } from './realtime/routes.js';
import type { HealthFacts } from './routes/healthDetails.js';
import { actionCheck, ScheduleService } from './schedules/service.js';
import { LiveProgressCache } from './simulation/liveProgress.js';
import { SimulationService } from './simulation/service.js';
import { StoreHealth } from './storeHealth.js';

export interface WireOptions {
  settings: Settings;
  db: Database;
  connection: Connection;
  temporalAddress: string;
  temporalUiUrl?: string;
  models: ModelRegistry;
  market: MarketDataSource;
  logger: Logger;
  simulationOptions?: Partial<SimulationOptions>;
  analysisOptions?: Partial<AnalysisOptions>;
}

/** The stores the API reads and writes: MongoDB's in production, in-memory ones in the unit layer. */
export interface AppStores {
  jobs: AppDeps['jobs'];
  events: AppDeps['events'];
  tradingDays: AppDeps['tradingDays'];
  locks: Pick<ModelLocks, 'acquire' | 'release'>;
  accounts: AccountStore;
  signIn: SignInStore;
  webhooks?: WebhookDeliveries;
  /** Answers being written (activities/chat/chunks.ts); absent: chat streams send each answer whole. */
  chatChunks?: ChatChunkReader;
  /** Who owns each chat session; absent: kept in memory (the unit layer). */
  chatSessions?: ChatSessionStore;
}

/** Everything the API is built from: its stores and clients, and what a test may put in their place. */
export interface AppParts {
  settings: Settings;
  stores: AppStores;
  temporal: Client;
  temporalAddress: string;
  temporalUiUrl?: string;
  models: ModelRegistry;
  market: MarketDataSource;
  hourly?: IntradaySource;
  /** The symbols a simulation trades when its trigger names none. */
  defaultSymbols: () => Promise<string[]>;
  /** Whether an analysis may only name symbols the market source holds (file and synthetic sources). */
  closedUniverse: boolean;
  logger: Logger;
  pingDatabase: () => Promise<unknown>;
  /** The database's write probe (server/storeHealth.ts). */
  probeWrite: () => Promise<unknown>;
  simulationOptions?: Partial<SimulationOptions>;
  analysisOptions?: Partial<AnalysisOptions>;
  /** Where sign-in codes go: SMTP or the log by the settings, unless given. */
  mailer?: CodeMailer;
  /** OAuth providers: the configured ones, unless given. */
  oauthProviders?: ReadonlyMap<ProviderName, OAuthProvider>;
  /** The sign-in clock (codes, sessions, OAuth states). */
  now?: () => Date;
  hub?: Partial<JobEventHubOptions>;
  /** The live hubs (the real app's; the unit layer has none). */
  realtime?: RealtimeHubs;
}

/** The API's services over its stores: one builder for the real app and the unit layer's. */
export function createAppDeps(p: AppParts): AppDeps {
  const { settings, stores, temporal, logger } = p;
  const jobs = stores.jobs;
  const control = new JobControl({ jobs, temporal, taskQueue: settings.taskQueues.orchestrator, logger });
  const simulations = new SimulationService({
    jobs,
    locks: stores.locks as ModelLocks,
    ledgerDays: stores.tradingDays,
    models: p.models,
    market: p.market,
    ...(p.hourly ? { hourly: p.hourly } : {}),
    defaultSymbols: p.defaultSymbols,
    temporal,
    control,
    settings,
    logger,
    ...(p.simulationOptions ? { simulationOptions: p.simulationOptions } : {}),
  });
  const analyses = new AnalysisService({
    jobs,
    models: p.models,
    market: p.market,
    // Any symbol the source holds can be analysed, not only the default simulation universe.
    defaultSymbols: () => p.market.defaultSymbols(),
    closedUniverse: p.closedUniverse,
    temporal,
    settings,
    logger,
    ...(p.analysisOptions ? { analysisOptions: p.analysisOptions } : {}),
  });
  const clock = p.now ? { now: p.now } : {};
  const llmKeys = p.models.list().flatMap((m) => (m.kind === 'llm' && m.apiKeyEnv ? [m.apiKeyEnv] : []));
  const healthFacts: HealthFacts = {
    taskQueues: settings.taskQueues,
    ...(p.realtime ? { realtimeTaskQueue: settings.realtime.taskQueue } : {}),
    sandbox: {
      mode: settings.sandbox.mode,
      ...(settings.sandbox.dockerHost ? { dockerHost: settings.sandbox.dockerHost } : {}),
      ...(settings.sandbox.image ? { image: settings.sandbox.image } : {}),
    },
    // Whether each is set, never what it is.
    optionalKeys: {
      ...Object.fromEntries(llmKeys.map((k) => [k, Boolean(process.env[k])])),
      TRADEFLOW_SMTP_URL: settings.auth.smtpUrl !== undefined,
      TRADEFLOW_GOOGLE_CLIENT_SECRET: settings.auth.google !== undefined,
      TRADEFLOW_GITHUB_CLIENT_SECRET: settings.auth.github !== undefined,
      TRADEFLOW_WEBHOOK_SECRET: settings.webhooks.secret !== undefined,
      TEMPORAL_API_KEY: settings.temporal.apiKey !== undefined,
      MARKET_HOURLY_FILES: settings.hourlyFiles.length > 0,
      NEWS_FILES: settings.newsFiles.length > 0,
    },
    newsFiles: settings.newsFiles.length,
  };
  return {
    healthFacts,
    pingDatabase: p.pingDatabase,
    storeHealth: new StoreHealth(p.probeWrite, logger),
    analyses,
    chat: new ChatService({
      temporal,
      taskQueue: settings.taskQueues.orchestrator,
      options: { ...DEFAULT_CHAT_OPTIONS, answerTaskQueue: settings.taskQueues.chat },
      models: p.models,
      ...(stores.chatChunks ? { chunks: stores.chatChunks } : {}),
      ...(stores.chatSessions ? { sessions: stores.chatSessions } : {}),
      logger,
    }),
    control,
    liveProgress: new LiveProgressCache(temporal),
    responses: new ResponseCache(),
    pdfs: new PdfRenderer(),
    dataDir: settings.dataDir,
    jobs,
    events: stores.events,
    eventHub: new JobEventHub(
      stores.events,
      async (jobId) => {
        const job = await jobs.get(jobId);
        return job !== null && isTerminalStatus(job);
      },
      p.hub,
    ),
    tradingDays: stores.tradingDays,
    models: p.models,
    market: p.market,
    ...(p.hourly ? { hourly: p.hourly } : {}),
    ...(p.closedUniverse ? { knownSymbols: () => p.market.defaultSymbols() } : {}),
    ...(p.realtime ? { realtime: p.realtime } : {}),
    simulations,
    temporal,
    temporalAddress: p.temporalAddress,
    ...(p.temporalUiUrl ? { temporalUiUrl: p.temporalUiUrl } : {}),
    namespace: settings.temporal.namespace,
    allowedOrigins: settings.allowedOrigins,
    ...(stores.webhooks
      ? {
          webhooks: {
            deliveries: stores.webhooks,
            allow: settings.webhooks.allow,
            taskQueue: settings.taskQueues.orchestrator,
          },
        }
      : {}),
    accounts: new Accounts(stores.accounts, { logger }),
    signIn: new SignIn(stores.signIn, stores.accounts, {
      logger,
      mailer:
        p.mailer ??
        (settings.auth.smtpUrl
          ? smtpMailer(settings.auth.smtpUrl, settings.auth.mailFrom)
          : logMailer(logger, isLoopbackHost(settings.host))),
      sessionTtlMs: settings.auth.sessionTtlMs,
      ...clock,
    }),
    admission: new AdmissionGate(),
    oauth: new OAuthSignIn(p.oauthProviders ?? configuredProviders(settings.auth), stores.signIn, stores.accounts, {
      logger,
      ...clock,
    }),
    auth: settings.auth,
    schedules: new ScheduleService({
      temporal,
      taskQueue: settings.taskQueues.orchestrator,
      analysis: () => ({ ...analyses.options(), sandbox: settings.sandbox.mode }),
      checkAction: actionCheck(analyses, p.models),
      ...(p.temporalUiUrl ? { temporalUiUrl: p.temporalUiUrl } : {}),
      namespace: settings.temporal.namespace,
    }),
    logger,
  };
}

/** Builds the HTTP app on real clients; `server/main.ts`, the tests and the benchmark all use it. */
export function wireApp(o: WireOptions) {
  const c = o.db.collections;
  const temporal = new Client({ connection: o.connection, namespace: o.settings.temporal.namespace });
  const closedUniverse = o.settings.marketData.source !== 'yahoo';
  // Reads go through the bar cache the workers fill too: Yahoo is asked once per symbol and year.
  const market = cachedSource(new BarCache(c, o.market), o.market);
  const deps = createAppDeps({
    settings: o.settings,
    // Every database call a request makes has a deadline: a frozen database answers 503 like a dead one.
    stores: {
      jobs: withCallDeadlines(new MongoJobStore(c), DATABASE_CALL_MS, 'jobs', { modelDays: DATABASE_SCAN_MS }),
      events: withCallDeadlines(new JobEvents(c), DATABASE_CALL_MS, 'events'),
      tradingDays: withCallDeadlines(new TradingDays(c), DATABASE_CALL_MS, 'tradingDays', { find: DATABASE_SCAN_MS }),
      // Taking locks may ask Temporal whether a holder's workflow still runs: its deadline as well.
      locks: withCallDeadlines(new ModelLocks(c), DATABASE_CALL_MS + TEMPORAL_CALL_MS, 'locks'),
      accounts: withCallDeadlines(new MongoAccounts(c), DATABASE_CALL_MS, 'accounts'),
      signIn: withCallDeadlines(new MongoSignIn(c), DATABASE_CALL_MS, 'signIn'),
      webhooks: withCallDeadlines(new WebhookDeliveries(c), DATABASE_CALL_MS, 'webhooks'),
      chatChunks: withCallDeadlines(new ChatChunks(o.db.db), DATABASE_CALL_MS, 'chatChunks'),
      chatSessions: withCallDeadlines(new MongoChatSessions(o.db.db), DATABASE_CALL_MS, 'chatSessions'),
    },
    temporal,
    temporalAddress: o.temporalAddress,
    ...(o.temporalUiUrl ? { temporalUiUrl: o.temporalUiUrl } : {}),
    models: o.models,
    market,
    ...optionalHourly(createHourlySource(o.settings)),
    defaultSymbols: () => defaultSymbols(o.settings.marketData, market),
    closedUniverse,
    logger: o.logger,
    realtime: createRealtimeHubs({
      events: new FeedEvents(c),
      temporal,
      workflowTaskQueue: o.settings.taskQueues.orchestrator,
      settings: o.settings.realtime,
      logger: o.logger,
      // Yahoo has news for any symbol; offline, only news files do.
      news: o.settings.marketData.source === 'yahoo' || o.settings.newsFiles.length > 0,
      ...(closedUniverse ? { knownSymbols: () => o.market.defaultSymbols() } : {}),
    }),
    pingDatabase: () => o.db.db.command({ ping: 1 }),
    probeWrite: () =>
      o.db.db
        .collection<{ _id: string; at: Date }>('health_probes')
        .updateOne({ _id: 'api' }, { $set: { at: new Date() } }, { upsert: true }),
    ...(o.simulationOptions ? { simulationOptions: o.simulationOptions } : {}),
    ...(o.analysisOptions ? { analysisOptions: o.analysisOptions } : {}),
  });
  return { app: createApp(deps), deps };
}

const optionalHourly = (hourly: IntradaySource | undefined) => (hourly ? { hourly } : {});
