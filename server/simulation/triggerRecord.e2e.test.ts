import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../config/logger.js';
import { parseModelsConfig } from '../../config/models.js';
import { loadSettings } from '../../config/settings.js';
import type { JobDoc } from '../../jobs/records.js';
import { connectDatabase, type Database } from '../../storage/db.js';
import { ModelLocks } from '../../storage/modelLocks.js';
import { MemoryJobStore, MemoryTradingDays } from '../../test/support/memoryStores.js';
import { SyntheticSource } from '../../trading/market-data/synthetic.js';
import { DatabaseDeadlineError } from '../deadline.js';
import { JobControl } from '../jobControl.js';
import { SimulationService } from './service.js';

// A trigger whose workflow started but whose record write missed the API's database deadline (a
// database busy with the jobs' own writes): the job runs, so the client is told it started.

let db: Database;
let connection: Connection;
beforeAll(async () => {
  db = await connectDatabase(inject('mongoUri'), `trigger_record_${Date.now()}`);
  connection = await Connection.connect({ address: inject('temporalAddress') });
});
afterAll(async () => {
  await db?.db.dropDatabase();
  await db?.close();
  await connection?.close();
});

/** The in-memory store, except that writing a new job's record never answers in time. */
class SlowRecordStore extends MemoryJobStore {
  override async insertIfAbsent(_job: JobDoc): Promise<boolean> {
    throw new DatabaseDeadlineError('jobs.insertIfAbsent', 1_500);
  }
}

describe('a trigger whose record write times out after its workflow started', () => {
  it('answers started, with the job its workflow writes, and keeps the models locked', async () => {
    const jobs = new SlowRecordStore();
    const temporal = new Client({ connection });
    const settings = loadSettings({ MARKET_DATA_SOURCE: 'synthetic', TASK_QUEUE_PREFIX: `tr-${Date.now()}-` });
    const logged: string[] = [];
    const logger = createLogger('warn');
    logger.warn = ((o: unknown, msg?: string) => void logged.push(`${msg} ${JSON.stringify(o)}`)) as never;
    const locks = new ModelLocks(db.collections);
    const market = new SyntheticSource(42);
    const service = new SimulationService({
      jobs,
      locks,
      ledgerDays: new MemoryTradingDays(),
      models: parseModelsConfig({ models: [{ id: 'buy-and-hold', strategy: 'buy-and-hold' }] }),
      market,
      defaultSymbols: async () => ['AAPL'],
      temporal,
      control: new JobControl({ jobs, temporal, taskQueue: settings.taskQueues.orchestrator, logger }),
      settings,
      logger,
    });
    const latest = await market.latestDate();
    const result = await service.trigger('local', { start_date: latest, end_date: latest, models: ['buy-and-hold'] });
    expect(result.kind).toBe('started');
    if (result.kind !== 'started') return;
    const handle = temporal.workflow.getHandle(result.job.workflowId);
    try {
      expect((await handle.describe()).status.name).toBe('RUNNING');
      expect(await locks.holders('local', ['buy-and-hold'])).toEqual([result.job._id]);
      expect(logged.join('\n')).toContain(result.job._id);
    } finally {
      // No worker polls this queue: the workflow goes no further than its start.
      await handle.terminate('test over');
    }
  });
});
