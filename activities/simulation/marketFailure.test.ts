import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseModelsConfig } from '../../config/models.js';
import { MemoryJobEvents, MemoryJobStore, MemoryTradingDays } from '../../test/support/memoryStores.js';
import { YahooError } from '../../trading/market-data/yahoo.js';
import { createSimulationActivities } from './activities.js';

// A model-day whose market source fails: for good (Yahoo does not know the ticker) it ends with the
// reason and no retry; for a while (a rate limit) it is thrown as it is, and Temporal retries it.

function modelDayFailing(err: Error) {
  const activities = createSimulationActivities({
    jobs: new MemoryJobStore(),
    locks: {} as never,
    tradingDays: new MemoryTradingDays() as never,
    ledgers: {} as never,
    events: new MemoryJobEvents(),
    bars: {
      load: async () => {
        throw err;
      },
    } as never,
    models: parseModelsConfig({ models: [{ id: 'alpha', strategy: 'buy-and-hold' }] }),
    agents: (() => ({})) as never,
    logger: pino({ level: 'silent' }),
  });
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  return env.run(activities.computeModelDay, {
    jobId: 'sim-1',
    owner: 'u',
    model: 'alpha',
    date: '2025-03-03',
    symbols: ['ZZZZ'],
    start: null,
  });
}

describe('a model-day whose market data fails', () => {
  it('ends without retries when Yahoo does not know the ticker, saying so', async () => {
    const err = await modelDayFailing(new YahooError('unknown_symbol', 'ZZZZ', 'Yahoo has no data for ZZZZ')).catch(
      (e: unknown) => e as { type?: string; nonRetryable?: boolean; message: string },
    );
    expect(err).toMatchObject({ type: 'MissingMarketData', nonRetryable: true, message: 'Yahoo has no data for ZZZZ' });
  });

  it('is retried by Temporal when Yahoo only rate-limits', async () => {
    const limited = new YahooError('rate_limited', 'ZZZZ', 'wait a minute');
    await expect(modelDayFailing(limited)).rejects.toBe(limited);
  });
});
