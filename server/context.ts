import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ModelRegistry } from '../config/models.js';
import type { AuthSettings } from '../config/settings.js';
import type { JobDoc } from '../jobs/records.js';
import type { WebhookAllowList } from '../jobs/webhookPolicy.js';
import type { JobEventLog } from '../storage/jobEvents.js';
import type { JobStore } from '../storage/jobStore.js';
import type { TradingDayReader } from '../storage/tradingDays.js';
import type { WebhookDeliveries } from '../storage/webhookDeliveries.js';
import type { MarketDataSource } from '../trading/bars.js';
import type { IntradaySource } from '../trading/market-data/hourlyFiles.js';
import type { PdfRenderer } from './analysis/pdfRenderer.js';
import type { AnalysisService } from './analysis/service.js';
import type { Accounts } from './auth/accounts.js';
import type { AdmissionGate } from './auth/jobCap.js';
import type { OAuthSignIn } from './auth/oauth/flow.js';
import type { Principal } from './auth/principal.js';
import type { SignIn } from './auth/signIn.js';
import type { ChatService } from './chat/service.js';
import type { JobEventHub } from './eventHub.js';
import type { ResponseCache } from './http/responseCache.js';
import type { JobControl } from './jobControl.js';
import type { RealtimeHubs } from './realtime/routes.js';
import type { HealthFacts } from './routes/healthDetails.js';
import type { ScheduleService } from './schedules/service.js';
import type { LiveProgressCache } from './simulation/liveProgress.js';
import type { SimulationService } from './simulation/service.js';
import type { StoreHealth } from './storeHealth.js';

export interface AppDeps {
  /** Answers when the database does (the health check). */
  pingDatabase(): Promise<unknown>;
  /** Whether the database can write (a write probe): in /health, job statuses and the log. */
  storeHealth: StoreHealth;
  jobs: JobStore;
  events: JobEventLog;
  eventHub: JobEventHub;
  tradingDays: TradingDayReader;
  models: ModelRegistry;
  /** The market data source (benchmarks for /results). */
  market: MarketDataSource;
  /** Hourly bars for hourly backtests, when configured. */
  hourly?: IntradaySource;
  /** The symbols a closed source (files, synthetic) holds; absent for sources that fetch any (yahoo). */
  knownSymbols?: () => Promise<string[]>;
  simulations: SimulationService;
  analyses: AnalysisService;
  /** Chat sessions (a workflow each) and the answers being written (server/chat/). */
  chat: ChatService;
  control: JobControl;
  liveProgress: LiveProgressCache;
  /** Answers shared by the clients that ask the same thing at once (status pages, results). */
  responses: ResponseCache<unknown>;
  /** Markdown artifacts of older runs rendered as PDF on request (server/pdfRenderer.ts). */
  pdfs: PdfRenderer;
  /** Where analysis runs keep their folders (shared with the workers that run them). */
  dataDir: string;
  temporal: Client;
  temporalAddress: string;
  /** Base URL of the Temporal Web UI, for links to each job's workflow. */
  temporalUiUrl?: string;
  namespace: string;
  /** Sites whose pages may write (see http/middleware/sameOrigin.ts). */
  allowedOrigins?: readonly string[];
  /** Completion webhooks: the delivery log, what the SSRF policy opens, the queue redeliveries run on. */
  webhooks?: { deliveries: WebhookDeliveries; allow: WebhookAllowList; taskQueue: string };
  /** Users and API keys; who may call, how often, how many jobs each may run at once. */
  accounts: Accounts;
  /** Email codes and the sessions they open. */
  signIn: SignIn;
  /** The per-user cap on unfinished jobs, held without a race between starts (server/auth/jobCap.ts). */
  admission: AdmissionGate;
  /** Sign-in with Google and GitHub (the ones configured). */
  oauth: OAuthSignIn;
  auth: AuthSettings;
  /** What /health/details reads of the settings (task queues, sandbox, which optional keys are set). */
  healthFacts: HealthFacts;
  /** The live price and news hubs (`/api/realtime/ws`, `/api/news/ws`); absent in apps built without Temporal. */
  realtime?: RealtimeHubs;
  /** Temporal Schedules (`/schedules`); absent in apps built without Temporal. */
  schedules?: ScheduleService;
  logger: Logger;
}

export interface AppEnv {
  /** `owner` is the principal's user id: what a request creates is its own, and it sees only its own. */
  /** `clientIp`: who sent the request (server/http/middleware/clientAddress.ts). */
  Variables: { owner: string; principal: Principal; requestId: string; clientIp?: string };
}

/** Whether the request may see a resource of `owner`: its own, or anyone's for an admin. */
export function maySee(c: { get(key: 'principal'): Principal }, owner: string): boolean {
  const p = c.get('principal');
  return p.admin || p.userId === owner;
}

/** The owner filter of a listing: the caller's own, none for an admin (who sees all). */
export function listOwner(c: { get(key: 'principal'): Principal }): string | undefined {
  const p = c.get('principal');
  return p.admin ? undefined : p.userId;
}

/** Routes under `/jobs/{jobId}`: the owned-job middleware has loaded the job. */
export interface JobEnv {
  Variables: AppEnv['Variables'] & { job: JobDoc };
}

export function workflowUiLink(deps: Pick<AppDeps, 'temporalUiUrl' | 'namespace'>, workflowId: string) {
  if (!deps.temporalUiUrl) return undefined;
  return `${deps.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
