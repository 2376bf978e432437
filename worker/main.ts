// The worker process: `node --import tsx worker/main.ts` with TEMPORAL_ADDRESS and MONGODB_URI set (npm start sets them).

import { writeFileSync } from 'node:fs';
import { Client } from '@temporalio/client';
import { createFeedProviders } from '../config/feedProviders.js';
import { createLogger } from '../config/logger.js';
import { loadModelsConfig } from '../config/models.js';
import {
  connectTemporalWorker,
  createHourlySource,
  createMarketSource,
  createNewsSource,
  resolveMarketData,
} from '../config/services.js';
import { loadSettings } from '../config/settings.js';
import { webhookSecret } from '../config/webhookSecret.js';
import { ANALYSIS_LIFECYCLE } from '../jobs/lifecycle.js';
import { BarCache } from '../storage/barCache.js';
import { connectDatabase } from '../storage/db.js';
import { MongoJobStore } from '../storage/jobStore.js';
import { createAgentFactory } from '../trading/agents/factory.js';
import { analysisDepsFrom, buildActivities, webhookDepsFrom } from './buildActivities.js';
import { createWorkers, installQuietRuntime } from './createWorkers.js';
import { ensureJobReconciler } from './jobReconciler.js';
import { sandboxRunnerFor } from './sandboxRunner.js';

const settings = loadSettings();
const logger = createLogger(settings.logLevel, 'tradeflow-worker');
if (!settings.temporal.address || !settings.mongo.uri) {
  logger.fatal('TEMPORAL_ADDRESS and MONGODB_URI must be set (npm start sets them for the embedded services)');
  process.exit(2);
}

installQuietRuntime();
const db = await connectDatabase(settings.mongo.uri, settings.mongo.db);
const marketData = await resolveMarketData(settings.marketData);
const source = createMarketSource(marketData);
const bars = new BarCache(db.collections, source);
const hourly = createHourlySource(settings);
const news = createNewsSource(settings);
const { runner } = await sandboxRunnerFor(settings.sandbox, logger, settings.taskQueues.analysis);
// Sandboxes of jobs that already ended were left by a worker that died: remove them. A job still
// running keeps its sandbox until its retried activity replaces it.
const store = new MongoJobStore(db.collections);
const live = new Set<string>();
for (const status of ANALYSIS_LIFECYCLE.active) {
  for (const job of (await store.list({ kind: 'analysis', status }, 1000, 0)).jobs) live.add(job._id);
}
const removed = await runner.cleanupOrphans(live);
if (removed.length) logger.warn({ removed }, 'removed orphaned sandboxes');
const activities = buildActivities({
  db,
  bars,
  knownSymbols: () => source.defaultSymbols(),
  marketSource: source.name,
  ...(hourly ? { hourly } : {}),
  ...(news ? { news } : {}),
  feeds: createFeedProviders(marketData, bars, source.name, news),
  models: await loadModelsConfig(settings.modelsPath),
  agents: createAgentFactory(),
  logger,
  analysis: analysisDepsFrom(settings, runner),
  webhooks: webhookDepsFrom(settings, webhookSecret(settings)),
});
const connection = await connectTemporalWorker(settings.temporal, settings.temporal.address);
const workers = await createWorkers({
  connection,
  namespace: settings.temporal.namespace,
  taskQueues: settings.taskQueues,
  activities,
  simulationConcurrency: settings.simulationConcurrency,
  jobWritesConcurrency: settings.jobWritesConcurrency,
  analysisConcurrency: settings.analysis.concurrency,
  realtime: { taskQueue: settings.realtime.taskQueue, pollers: settings.realtime.workerPollers },
});
// Jobs whose workflow is gone are closed by the reconciler, which every worker makes sure runs.
const reconcileS = Number(process.env.TRADEFLOW_RECONCILE_INTERVAL_S ?? '');
await ensureJobReconciler(
  new Client({ connection, namespace: settings.temporal.namespace }),
  settings.taskQueues.orchestrator,
  logger,
  reconcileS > 0 ? { intervalMs: reconcileS * 1000 } : {},
).catch((err: Error) =>
  logger.error({ err: err.message }, 'cannot start the job reconciler; the next worker start tries again'),
);
logger.info(
  { taskQueues: settings.taskQueues, temporal: settings.temporal.address, sandbox: runner.mode },
  'worker running',
);
// Containers have no port to probe on a worker: it touches a file while its pollers run instead.
const healthFile = process.env.WORKER_HEALTH_FILE;
const health = healthFile
  ? setInterval(() => {
      if (workers.running()) writeFileSync(healthFile, new Date().toISOString());
    }, 5000)
  : undefined;
// The SDK's runtime shuts the workers down on SIGINT/SIGTERM, letting model-days finish within the grace time.
await workers.run();
clearInterval(health);
await connection.close();
await db.close();
logger.info('worker stopped');
