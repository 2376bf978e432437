import { Client, type Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ModelRegistry } from '../config/models.js';
import { defaultSymbols } from '../config/services.js';
import type { Settings } from '../config/settings.js';
import { isLoopbackHost } from '../config/settings.js';
import { isTerminalStatus } from '../jobs/lifecycle.js';
import { MongoAccounts } from '../storage/accounts.js';
import type { Database } from '../storage/db.js';
import { JobEvents } from '../storage/jobEvents.js';
import { MongoJobStore } from '../storage/jobStore.js';
import { ModelLedgers } from '../storage/modelLedgers.js';
import { ModelLocks } from '../storage/modelLocks.js';
import { MongoSignIn } from '../storage/signIn.js';
import { TradingDays } from '../storage/tradingDays.js';
import { WebhookDeliveries } from '../storage/webhookDeliveries.js';
import type { MarketDataSource } from '../trading/bars.js';
import type { AnalysisOptions, SimulationOptions } from '../workflows/definitions.js';
import { PdfRenderer } from './analysis/pdfRenderer.js';
import { AnalysisService } from './analysis/service.js';
import { createApp } from './app.js';
import { Accounts } from './auth/accounts.js';
import { AdmissionGate } from './auth/jobCap.js';
import { logMailer, smtpMailer } from './auth/mailer.js';
import { configuredProviders } from './auth/oauth/configured.js';
import { OAuthSignIn } from './auth/oauth/flow.js';
import { SignIn } from './auth/signIn.js';
import type { AppDeps } from './context.js';
import { DATABASE_CALL_MS, DATABASE_SCAN_MS, TEMPORAL_CALL_MS, withCallDeadlines } from './deadline.js';
import { JobEventHub } from './eventHub.js';
import { ResponseCache } from './http/responseCache.js';
import { JobControl } from './jobControl.js';
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

/** Builds the HTTP app on real clients; `server/main.ts`, the tests and the benchmark all use it. */
export function wireApp(o: WireOptions) {
  const c = o.db.collections;
  // Every database call a request makes has a deadline: a frozen database answers 503 like a dead one.
  const jobs = withCallDeadlines(new MongoJobStore(c), DATABASE_CALL_MS, 'jobs', { modelDays: DATABASE_SCAN_MS });
  const events = withCallDeadlines(new JobEvents(c), DATABASE_CALL_MS, 'events');
  const temporal = new Client({ connection: o.connection, namespace: o.settings.temporal.namespace });
  const control = new JobControl({ jobs, temporal, taskQueue: o.settings.taskQueues.orchestrator, logger: o.logger });
  const simulations = new SimulationService({
    jobs,
    // Taking locks may ask Temporal whether a holder's workflow still runs: its deadline as well.
    locks: withCallDeadlines(new ModelLocks(c), DATABASE_CALL_MS + TEMPORAL_CALL_MS, 'locks'),
    ledgers: withCallDeadlines(new ModelLedgers(c), DATABASE_CALL_MS, 'ledgers'),
    models: o.models,
    market: o.market,
    defaultSymbols: () => defaultSymbols(o.settings.marketData, o.market),
    temporal,
    control,
    settings: o.settings,
    logger: o.logger,
    ...(o.simulationOptions ? { simulationOptions: o.simulationOptions } : {}),
  });
  const analyses = new AnalysisService({
    jobs,
    models: o.models,
    market: o.market,
    // Any symbol the source holds can be analysed, not only the default simulation universe.
    defaultSymbols: () => o.market.defaultSymbols(),
    closedUniverse: o.settings.marketData.source !== 'yahoo',
    temporal,
    settings: o.settings,
    logger: o.logger,
    ...(o.analysisOptions ? { analysisOptions: o.analysisOptions } : {}),
  });
  const accountStore = withCallDeadlines(new MongoAccounts(c), DATABASE_CALL_MS, 'accounts');
  const signInStore = withCallDeadlines(new MongoSignIn(c), DATABASE_CALL_MS, 'signIn');
  const deps: AppDeps = {
    pingDatabase: () => o.db.db.command({ ping: 1 }),
    storeHealth: new StoreHealth(
      () =>
        o.db.db
          .collection<{ _id: string; at: Date }>('health_probes')
          .updateOne({ _id: 'api' }, { $set: { at: new Date() } }, { upsert: true }),
      o.logger,
    ),
    analyses,
    control,
    liveProgress: new LiveProgressCache(temporal),
    responses: new ResponseCache(),
    pdfs: new PdfRenderer(),
    dataDir: o.settings.dataDir,
    jobs,
    events,
    eventHub: new JobEventHub(events, async (jobId) => {
      const job = await jobs.get(jobId);
      return job !== null && isTerminalStatus(job);
    }),
    tradingDays: withCallDeadlines(new TradingDays(c), DATABASE_CALL_MS, 'tradingDays', { find: DATABASE_SCAN_MS }),
    models: o.models,
    simulations,
    temporal,
    temporalAddress: o.temporalAddress,
    ...(o.temporalUiUrl ? { temporalUiUrl: o.temporalUiUrl } : {}),
    namespace: o.settings.temporal.namespace,
    allowedOrigins: o.settings.allowedOrigins,
    webhooks: {
      deliveries: withCallDeadlines(new WebhookDeliveries(c), DATABASE_CALL_MS, 'webhooks'),
      allow: o.settings.webhooks.allow,
      taskQueue: o.settings.taskQueues.orchestrator,
    },
    accounts: new Accounts(accountStore, { logger: o.logger }),
    signIn: new SignIn(signInStore, accountStore, {
      logger: o.logger,
      mailer: o.settings.auth.smtpUrl
        ? smtpMailer(o.settings.auth.smtpUrl, o.settings.auth.mailFrom)
        : logMailer(o.logger, isLoopbackHost(o.settings.host)),
      sessionTtlMs: o.settings.auth.sessionTtlMs,
    }),
    admission: new AdmissionGate(),
    oauth: new OAuthSignIn(configuredProviders(o.settings.auth), signInStore, accountStore, { logger: o.logger }),
    auth: o.settings.auth,
    schedules: new ScheduleService({
      temporal,
      taskQueue: o.settings.taskQueues.orchestrator,
      analysis: () => ({ ...analyses.options(), sandbox: o.settings.sandbox.mode }),
      checkAction: actionCheck(analyses, o.models),
      ...(o.temporalUiUrl ? { temporalUiUrl: o.temporalUiUrl } : {}),
      namespace: o.settings.temporal.namespace,
    }),
    logger: o.logger,
  };
  return { app: createApp(deps), deps };
}
