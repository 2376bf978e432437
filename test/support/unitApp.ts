// The real Hono app over in-memory stores, for route tests that start nothing. Temporal is a client
// that cannot connect (port 1): a route that would reach it answers 503, so a test that means to stay
// off Temporal finds out if it does not.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createLogger } from '../../config/logger.js';
import { parseModelsConfig } from '../../config/models.js';
import { loadSettings } from '../../config/settings.js';
import { isTerminalStatus } from '../../jobs/lifecycle.js';
import { AnalysisService } from '../../server/analysisService.js';
import { createApp } from '../../server/app.js';
import type { AppDeps } from '../../server/context.js';
import { JobEventHub, type JobEventHubOptions } from '../../server/eventHub.js';
import { JobControl } from '../../server/jobControl.js';
import { LiveProgressCache } from '../../server/liveProgress.js';
import { PdfRenderer } from '../../server/pdfRenderer.js';
import { ResponseCache } from '../../server/responseCache.js';
import { actionCheck, ScheduleService } from '../../server/schedules/service.js';
import { SimulationService } from '../../server/simulationService.js';
import { StoreHealth } from '../../server/storeHealth.js';
import type { JobStore } from '../../storage/jobStore.js';
import type { ModelLedgers } from '../../storage/modelLedgers.js';
import type { ModelLocks } from '../../storage/modelLocks.js';
import { SyntheticSource } from '../../trading/market-data/synthetic.js';
import { MemoryJobEvents, MemoryJobStore, MemoryTradingDays } from './memoryStores.js';

export function unitApp(
  o: {
    hub?: Partial<JobEventHubOptions>;
    allowedOrigins?: string[];
    jobs?: JobStore;
    /** Another Temporal client (one on a server that never answers, say). */
    temporal?: Client;
    /** The database's write probe (a store that cannot write throws). */
    probeWrite?: () => Promise<unknown>;
  } = {},
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tradeflow-unit-'));
  const settings = loadSettings({ TRADEFLOW_DATA_DIR: dataDir, MARKET_DATA_SOURCE: 'synthetic' });
  const logger = createLogger('silent');
  const memoryJobs = new MemoryJobStore();
  const jobs: JobStore = o.jobs ?? memoryJobs;
  const events = new MemoryJobEvents();
  const tradingDays = new MemoryTradingDays();
  const models = parseModelsConfig({ models: [{ id: 'buy-and-hold', strategy: 'buy-and-hold' }] });
  const market = new SyntheticSource(42);
  const temporal =
    o.temporal ?? new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 200 }) });
  const control = new JobControl({ jobs, temporal, taskQueue: 'unit', logger });
  const unreachable = () => {
    throw new Error('this unit test reached the database');
  };
  const hub = new JobEventHub(
    events,
    async (jobId) => {
      const job = await jobs.get(jobId);
      return job !== null && isTerminalStatus(job);
    },
    { pollMs: 5, endCheckMs: 50, ...o.hub },
  );
  const analyses = new AnalysisService({
    jobs,
    models,
    market,
    defaultSymbols: () => market.defaultSymbols(),
    closedUniverse: true,
    temporal,
    settings,
    logger,
  });
  const deps: AppDeps = {
    pingDatabase: async () => ({ ok: 1 }),
    storeHealth: new StoreHealth(o.probeWrite ?? (async () => ({ ok: 1 })), logger),
    jobs,
    events,
    eventHub: hub,
    tradingDays,
    models,
    simulations: new SimulationService({
      jobs,
      locks: { acquire: unreachable, release: unreachable } as unknown as ModelLocks,
      ledgers: { head: async () => null } as unknown as ModelLedgers,
      models,
      market,
      defaultSymbols: () => market.defaultSymbols(),
      temporal,
      control,
      settings,
      logger,
    }),
    analyses,
    schedules: new ScheduleService({
      temporal,
      taskQueue: 'unit',
      analysis: () => ({ ...analyses.options(), sandbox: 'process' }),
      checkAction: actionCheck(analyses, models),
      namespace: 'default',
    }),
    control,
    liveProgress: new LiveProgressCache(temporal),
    responses: new ResponseCache(),
    pdfs: new PdfRenderer(),
    dataDir,
    temporal,
    temporalAddress: '127.0.0.1:1',
    namespace: 'default',
    allowedOrigins: o.allowedOrigins ?? [],
    logger,
  };
  return { app: createApp(deps), deps, jobs: memoryJobs, events, tradingDays, hub, dataDir };
}
