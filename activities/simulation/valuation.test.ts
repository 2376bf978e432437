import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { modelDayActivities } from '../../test/support/modelDayActivities.js';
import { NO_TOKENS } from '../../trading/agents/types.js';
import type { Bar, BarSeries } from '../../trading/bars.js';

const bar = (date: string, close: number): Bar => ({ date, open: close, high: close, low: close, close, volume: 1 });

/**
 * One model-day of a model holding 7 AAPL and $1000, with everything but the market data stubbed: the
 * agent does nothing, so the day's value is the valuation alone.
 */
async function valueDay(date: string, series: BarSeries) {
  const start = { cash: 1000, holdings: { AAPL: 7 }, portfolioValue: 1899.22 };
  const activities = modelDayActivities({
    bars: series,
    models: { initial_cash: 10000, models: [{ id: 'hold', strategy: 'buy-and-hold' }] },
    agents: () => ({
      run: async () => ({ steps: [], tokenUsage: NO_TOKENS, summary: 'held', finished: true }),
    }),
  });
  const ref = { jobId: 'job-1', owner: 'local', model: 'hold', date, symbols: ['AAPL', 'MSFT'], start };
  const computed = (await new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(
    activities.computeModelDay,
    ref,
  )) as Awaited<ReturnType<typeof activities.computeModelDay>>;
  return { doc: computed.day };
}

// MSFT trades every day, so the day itself has market data; AAPL's bars stop at 2015-02-27 (issue 7's gap).
const msft = [bar('2015-02-27', 43.85), bar('2015-03-02', 43.88), bar('2015-03-31', 40.66), bar('2015-04-01', 40.72)];
const gappedAapl = [bar('2015-02-26', 130.41), bar('2015-02-27', 128.46)];

describe('computeModelDay values holdings only at a close of the day it claims', () => {
  it('fails the day, non-retryable, when a holding has no bar that day nor the trading day before', async () => {
    const run = valueDay(
      '2015-04-01',
      new Map([
        ['AAPL', gappedAapl],
        ['MSFT', msft],
      ]),
    );
    await expect(run).rejects.toBeInstanceOf(ApplicationFailure);
    await expect(run).rejects.toMatchObject({
      type: 'MissingMarketData',
      nonRetryable: true,
      message: expect.stringContaining('no price to value AAPL on 2015-04-01'),
    });
  });

  it("values at the day's close when it is there", async () => {
    const aapl = [...gappedAapl, bar('2015-04-01', 124.25)];
    const { doc } = await valueDay(
      '2015-04-01',
      new Map([
        ['AAPL', aapl],
        ['MSFT', msft],
      ]),
    );
    expect(doc.endingPosition.portfolioValue).toBe(1000 + 7 * 124.25);
  });

  it('keeps the previous close for a one-day halt, and records that it did', async () => {
    const { doc } = await valueDay(
      '2015-03-02',
      new Map([
        ['AAPL', gappedAapl],
        ['MSFT', msft],
      ]),
    );
    expect(doc.endingPosition.portfolioValue).toBe(1000 + 7 * 128.46);
    expect(doc.valuedAtPreviousClose).toEqual(['AAPL']);
  });
});
