import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerType } from '@hono/node-server';
import { type Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { WebhookSettings } from '../activities/webhooks/index.js';
import { createFeedProviders } from '../config/feedProviders.js';
import { createLogger } from '../config/logger.js';
import { parseModelsConfig } from '../config/models.js';
import {
  createHourlySource,
  createMarketSource,
  createNewsSource,
  type ResolvedMarketData,
  resolveMarketData,
} from '../config/services.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { webhookSecret } from '../config/webhookSecret.js';
import { ANALYSIS_LIFECYCLE, SIMULATION_LIFECYCLE } from '../jobs/lifecycle.js';
import type { SandboxRunner } from '../sandbox/types.js';
import { ensureAdmin } from '../server/auth/bootstrap.js';
import type { AppDeps } from '../server/context.js';
import { listen } from '../server/listen.js';
import { closeRealtimeHubs } from '../server/realtime/hubs.js';
import { wireApp } from '../server/wire.js';
import { BarCache } from '../storage/barCache.js';
import { connectDatabase, type Database } from '../storage/db.js';
import { createAgentFactory } from '../trading/agents/factory.js';
import type { MarketDataSource } from '../trading/bars.js';
import { analysisDepsFrom, buildActivities, webhookDepsFrom } from '../worker/buildActivities.js';
import { createWorkers, installQuietRuntime, type Workers } from '../worker/createWorkers.js';
import { ensureJobReconciler, type JobReconcilerOptions } from '../worker/jobReconciler.js';
import { sandboxRunnerFor } from '../worker/sandboxRunner.js';
import type { AnalysisOptions, SimulationOptions } from '../workflows/definitions.js';
import { DAILY_H1, DAILY_H2, HOURLY } from './paths.js';
import { workflowBundle } from './support/workflowBundle.js';

export { workflowBundle };

/** Every kind's final statuses. */
const TERMINAL: readonly string[] = [...SIMULATION_LIFECYCLE.terminal, ...ANALYSIS_LIFECYCLE.terminal];

export interface HarnessOptions {
  models: unknown;
  temporalAddress: string;
  mongoUri: string;
  env?: Record<string, string>;
  simulationOptions?: Partial<SimulationOptions>;
  /** False when the test runs its own worker processes (crash tests). */
  worker?: boolean;
  simulationConcurrency?: number;
  analysisOptions?: Partial<AnalysisOptions>;
  /** Delay of every fetch the worker makes from the market source, as a network source has (race tests). */
  marketLatencyMs?: number;
  /**
   * Runs the job reconciler (as the worker process does) with these options; off by default, so a test's
   * jobs whose workflow is gone are found only the lazy way unless it asks.
   */
  reconciler?: JobReconcilerOptions;
  /** The worker's webhook settings over the defaults (a short retry, an allow-list the test changes). */
  webhooks?: Partial<WebhookSettings>;
  /** The API's and the worker's logger (a test that reads what they log). */
  logger?: Logger;
  /** The `fetch` the worker's Yahoo clients use (a fake Yahoo on loopback). */
  yahooFetch?: typeof fetch;
}

/** The source with a delay before each fetch, so jobs fetching together overlap as they do against Yahoo. */
function withLatency(source: MarketDataSource, ms: number): MarketDataSource {
  return {
    name: source.name,
    loadDaily: async (symbols, from, to) => {
      await new Promise((r) => setTimeout(r, ms));
      return source.loadDaily(symbols, from, to);
    },
    latestDate: () => source.latestDate(),
    defaultSymbols: () => source.defaultSymbols(),
  };
}

/** The app served over HTTP (and WebSocket) on a free loopback port. */
async function serveOnFreePort(fetch: (request: Request, env?: unknown) => Response | Promise<Response>) {
  return new Promise<ReturnType<typeof listen> & { baseUrl: string }>((resolve) => {
    const s = listen(fetch, 0, '127.0.0.1', (port) => resolve({ ...s, baseUrl: `http://127.0.0.1:${port}` }));
  });
}

export interface Harness {
  baseUrl: string;
  settings: Settings;
  env: Record<string, string>;
  db: Database;
  temporal: Client;
  /** The first-run admin's API key (the harness starts as `npm start` does: with an admin and its key). */
  adminKey: string;
  /** `Authorization` for the admin's key, for tests that call the API with their own client. */
  authHeaders: { authorization: string };
  /** A request to the API with the admin's key, another `key`, or none (`key: null`). */
  api(
    path: string,
    init?: RequestInit & { json?: unknown; key?: string | null },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** A new user (through the admin API) and an API key of `scopes`. */
  createUser(
    email: string,
    scopes?: Array<'read' | 'run' | 'admin'>,
  ): Promise<{ id: string; key: string; keyId: string }>;
  waitForJob(jobId: string, until?: (body: any) => boolean, timeoutMs?: number): Promise<any>;
  /** A second API instance on the same database and Temporal, as another replica would be. */
  anotherApp(): { fetch: (req: Request) => Response | Promise<Response> };
  /** Another replica served over HTTP (with its own live hubs); stopped with the harness. */
  anotherServer(): Promise<{ baseUrl: string; deps: AppDeps; close(): Promise<void> }>;
  /** The first instance's services (its live hubs, say). */
  deps: AppDeps;
  stop(): Promise<void>;
}

/**
 * The real service on a given Temporal and MongoDB-protocol server: the Hono app served over HTTP on a free
 * port, and (by default) a worker in this process. Each harness has its own database and task queues.
 */
export async function startService(o: HarnessOptions): Promise<Harness> {
  installQuietRuntime();
  const id = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), `tradeflow-h-${id}-`));
  const modelsPath = join(dir, 'models.json');
  writeFileSync(modelsPath, JSON.stringify(o.models));
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: o.temporalAddress,
    MONGODB_URI: o.mongoUri,
    MONGODB_DB: `t_${id}`,
    TASK_QUEUE_PREFIX: `t-${id}-`,
    TRADEFLOW_MODELS: modelsPath,
    TRADEFLOW_DATA_DIR: dir,
    MARKET_DATA_FILES: `${DAILY_H1},${DAILY_H2}`,
    MARKET_HOURLY_FILES: HOURLY,
    MARKET_SYMBOLS: 'AAPL,MSFT,NVDA,AMZN,GOOGL,META,TSLA,QQQ',
    LOG_LEVEL: 'silent',
    // Tests and the benchmark poll hard from one address with one key: the limits are tested on their own.
    TRADEFLOW_RATE_LIMIT_PER_KEY: '1000000',
    TRADEFLOW_RATE_LIMIT_PER_IP: '1000000',
    TRADEFLOW_MAX_ACTIVE_JOBS_PER_USER: '100000',
    ...o.env,
  };
  // Decided once, as a process does at start (a harness without files and source would ask Yahoo).
  const loaded = loadSettings(env);
  const settings: Settings = { ...loaded, marketData: await resolveMarketData(loaded.marketData) };
  const logger = o.logger ?? createLogger('silent');
  const db = await connectDatabase(env.MONGODB_URI!, settings.mongo.db);
  const models = parseModelsConfig(o.models);
  const market = createMarketSource(settings.marketData);
  const hourly = createHourlySource(settings);
  const news = createNewsSource(settings);
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
  const { app, deps } = wireApp({
    settings,
    db,
    connection,
    temporalAddress: env.TEMPORAL_ADDRESS!,
    temporalUiUrl: 'http://127.0.0.1:8233',
    models,
    market,
    logger,
    ...(o.simulationOptions ? { simulationOptions: o.simulationOptions } : {}),
    ...(o.analysisOptions ? { analysisOptions: o.analysisOptions } : {}),
  });

  let runner: SandboxRunner | undefined;
  let workers: Workers | undefined;
  let workerRun: Promise<void> | undefined;
  let workerConnection: NativeConnection | undefined;
  if (o.worker !== false) {
    workerConnection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS! });
    // The scope keeps each test file's orphan cleanup away from other files' containers.
    runner = (await sandboxRunnerFor(settings.sandbox, logger, settings.taskQueues.analysis)).runner;
    const bars = new BarCache(db.collections, o.marketLatencyMs ? withLatency(market, o.marketLatencyMs) : market);
    workers = await createWorkers({
      connection: workerConnection,
      namespace: settings.temporal.namespace,
      taskQueues: settings.taskQueues,
      activities: buildActivities({
        db,
        bars,
        knownSymbols: () => market.defaultSymbols(),
        marketSource: market.name,
        ...(hourly ? { hourly } : {}),
        ...(news ? { news } : {}),
        feeds: createFeedProviders(
          settings.marketData as ResolvedMarketData,
          bars,
          market.name,
          news,
          o.yahooFetch ? { fetch: o.yahooFetch } : {},
        ),
        models,
        agents: createAgentFactory(env),
        logger,
        analysis: analysisDepsFrom(settings, runner),
        webhooks: { ...webhookDepsFrom(settings, webhookSecret(settings)), ...o.webhooks },
      }),
      simulationConcurrency: o.simulationConcurrency ?? 16,
      jobWritesConcurrency: settings.jobWritesConcurrency,
      analysisConcurrency: settings.analysis.concurrency,
      realtime: { taskQueue: settings.realtime.taskQueue, pollers: settings.realtime.workerPollers },
      workflowBundle: await workflowBundle(),
    });
    workerRun = workers.run();
    if (o.reconciler) await ensureJobReconciler(deps.temporal, settings.taskQueues.orchestrator, logger, o.reconciler);
  }

  const served = await serveOnFreePort(app.fetch);
  const server: ServerType = served.server;
  const baseUrl = served.baseUrl;
  const extraServers: Array<Awaited<ReturnType<typeof serveOnFreePort>> & { close(): Promise<void> }> = [];

  const admin = await ensureAdmin(deps.accounts, settings.dataDir);
  if (!admin.created) throw new Error('the harness database already had an admin');
  const adminKey = admin.key;

  const api: Harness['api'] = async (path, init = {}) => {
    const { json, key, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (json !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    const bearer = key === undefined ? adminKey : key;
    if (bearer !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${bearer}`);
    const res = await fetch(`${baseUrl}${path}`, {
      ...rest,
      headers,
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, body, headers: res.headers };
  };

  const createUser: Harness['createUser'] = async (email, scopes = ['read', 'run']) => {
    const user = await api('/admin/users', { method: 'POST', json: { email } });
    if (user.status !== 201) throw new Error(`creating user ${email}: ${user.status} ${JSON.stringify(user.body)}`);
    const made = await api(`/admin/users/${user.body.id}/api-keys`, { method: 'POST', json: { scopes } });
    if (made.status !== 201)
      throw new Error(`creating a key for ${email}: ${made.status} ${JSON.stringify(made.body)}`);
    return { id: user.body.id, key: made.body.key, keyId: made.body.id };
  };

  const waitForJob: Harness['waitForJob'] = async (
    jobId,
    until = (b) => TERMINAL.includes(b.status),
    timeoutMs = 60_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { status, body } = await api(`/jobs/${jobId}`);
      if (status === 200 && until(body)) return body;
      if (Date.now() > deadline)
        throw new Error(`job ${jobId} not there in time: ${JSON.stringify(body).slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };

  return {
    baseUrl,
    settings,
    env,
    db,
    temporal: deps.temporal,
    adminKey,
    authHeaders: { authorization: `Bearer ${adminKey}` },
    api,
    createUser,
    waitForJob,
    anotherApp: () =>
      wireApp({ settings, db, connection, temporalAddress: env.TEMPORAL_ADDRESS!, models, market, logger }).app,
    anotherServer: async () => {
      const other = wireApp({
        settings,
        db,
        connection,
        temporalAddress: env.TEMPORAL_ADDRESS!,
        models,
        market,
        logger,
      });
      const s = await serveOnFreePort(other.app.fetch);
      const close = async () => {
        if (other.deps.realtime) closeRealtimeHubs(other.deps.realtime);
        s.closeSockets();
        await new Promise<void>((r) => s.server.close(() => r()));
      };
      extraServers.push({ ...s, close });
      return { baseUrl: s.baseUrl, deps: other.deps, close };
    },
    deps,
    stop: async () => {
      for (const extra of extraServers.splice(0)) await extra.close();
      if (deps.realtime) closeRealtimeHubs(deps.realtime);
      served.closeSockets();
      await new Promise<void>((r) => server.close(() => r()));
      workers?.shutdown();
      await workerRun;
      await workerConnection?.close();
      await connection.close();
      await db.db.dropDatabase().catch(() => undefined);
      await db.close();
    },
  };
}

export const STRATEGY_MODELS = {
  initial_cash: 10000,
  models: [
    { id: 'buy-and-hold', strategy: 'buy-and-hold' },
    { id: 'momentum', strategy: 'momentum', params: { lookback: 10, top: 2 } },
    { id: 'mean-reversion', strategy: 'mean-reversion', params: { lookback: 10 } },
  ],
};
