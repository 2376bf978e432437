import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseModelsConfig } from '../../config/models.js';
import { simulationJobRecord } from '../../jobs/records.js';
import { MemoryJobEvents, MemoryJobStore, MemoryTradingDays } from '../../test/support/memoryStores.js';
import { NO_TOKENS } from '../../trading/agents/types.js';
import { type ComputedModelDay, createSimulationActivities } from './activities.js';

// The hot path's writer: one date of a job, its days, statuses and live-log lines, exactly once however
// often Temporal retries it. Over in-memory stores held to the real stores' contract.

const DATES = ['2025-03-03', '2025-03-04', '2025-03-05'];
const MODELS = ['alpha', 'beta', 'gamma'];

function setUp() {
  const jobs = new MemoryJobStore();
  const events = new MemoryJobEvents();
  const tradingDays = new MemoryTradingDays();
  const activities = createSimulationActivities({
    jobs,
    locks: {} as never,
    tradingDays: tradingDays as never,
    ledgers: {} as never,
    events,
    bars: {} as never,
    models: parseModelsConfig({ models: MODELS.map((id) => ({ id, strategy: 'buy-and-hold' })) }),
    agents: (() => ({})) as never,
    logger: pino({ level: 'silent' }),
  });
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const commit = (input: Parameters<typeof activities.commitSimulationDate>[0]) =>
    env.run(activities.commitSimulationDate, input) as Promise<{ written: number }>;
  const commitMany = (input: Parameters<typeof activities.commitSimulationDates>[0]) =>
    env.run(activities.commitSimulationDates, input) as Promise<{ written: number }>;
  return { jobs, events, tradingDays, commit, commitMany };
}

function computed(model: string, date: string, value: number): ComputedModelDay {
  const start = { cash: 1000, holdings: {}, portfolioValue: 1000 };
  return {
    model,
    date,
    attempt: 1,
    startedAt: Date.parse(`${date}T14:30:00Z`),
    fromLlm: false,
    phasesMs: { agent: 1 },
    day: {
      model,
      date,
      startingPosition: start,
      endingPosition: { cash: value, holdings: {}, portfolioValue: value },
      trades: [],
      dailyPnl: { profit: value - 1000, returnPct: (value - 1000) / 10 },
      summary: 'held',
      reasoning: [],
      finished: true,
      toolUsage: {},
      tokenUsage: NO_TOKENS,
      durationMs: 3,
    },
  };
}

async function seedJob(jobs: MemoryJobStore) {
  const job = simulationJobRecord({
    jobId: 'sim-commit',
    owner: 'ann',
    models: MODELS,
    symbols: ['AAPL'],
    dates: DATES,
    modelStart: {},
    seed: { idempotencyKey: 'k', request: {}, createdAt: new Date().toISOString() },
  });
  await jobs.insertIfAbsent(job);
  return job;
}

describe('commitSimulationDate', () => {
  it('writes a date once: its days, completed statuses and one line each, also when retried', async () => {
    const { jobs, events, tradingDays, commit } = setUp();
    const job = await seedJob(jobs);
    const input = {
      jobId: job._id,
      owner: 'ann',
      date: DATES[0]!,
      days: [computed('alpha', DATES[0]!, 1010), computed('beta', DATES[0]!, 990)],
      failures: [],
      laterDates: DATES.slice(1),
    };
    expect(await commit(input)).toEqual({ written: 2 });
    // Temporal retries a commit whose answer was lost: nothing is written twice.
    expect(await commit(input)).toEqual({ written: 0 });
    expect(tradingDays.days.map((d) => [d.owner, d.model, d.date, d.jobId, d.endingPosition.portfolioValue])).toEqual([
      ['ann', 'alpha', DATES[0], job._id, 1010],
      ['ann', 'beta', DATES[0], job._id, 990],
    ]);
    const statuses = await jobs.modelDays(job._id);
    expect(statuses.filter((d) => d.status === 'completed').map((d) => d.model)).toEqual(['alpha', 'beta']);
    const lines = events.all(job._id).filter((e) => e.type === 'log');
    expect(lines.map((e) => e.data.message)).toEqual([
      `alpha ${DATES[0]}: 0 trade(s), value 1010 (+10)`,
      `beta ${DATES[0]}: 0 trade(s), value 990 (-10)`,
    ]);
  });

  it('a failed model fails that day and skips its later days; a day already in the ledger is skipped, naming its writer', async () => {
    const { jobs, events, tradingDays, commit } = setUp();
    const job = await seedJob(jobs);
    await tradingDays.insertMany([
      {
        ...computed('gamma', DATES[1]!, 1005).day,
        _id: 'x',
        owner: 'ann',
        jobId: 'sim-earlier',
        createdAt: new Date(),
      },
    ]);
    await commit({
      jobId: job._id,
      owner: 'ann',
      date: DATES[1]!,
      days: [computed('alpha', DATES[1]!, 1001)],
      existing: ['gamma'],
      failures: [{ model: 'beta', error: 'provider rejected the key' }],
      laterDates: DATES.slice(2),
    });
    const byKey = new Map((await jobs.modelDays(job._id)).map((d) => [`${d.model} ${d.date}`, d]));
    expect(byKey.get(`alpha ${DATES[1]}`)?.status).toBe('completed');
    expect(byKey.get(`beta ${DATES[1]}`)).toMatchObject({ status: 'failed', error: 'provider rejected the key' });
    expect(byKey.get(`beta ${DATES[2]}`)).toMatchObject({
      status: 'skipped',
      error: `not run: beta failed on ${DATES[1]}`,
    });
    expect(byKey.get(`gamma ${DATES[1]}`)).toMatchObject({ status: 'skipped' });
    expect(byKey.get(`gamma ${DATES[1]}`)?.error).toContain('written by job sim-earlier');
    // The earlier job's day stays as it was written.
    expect((await tradingDays.get('ann', 'gamma', DATES[1]!))?.jobId).toBe('sim-earlier');
    const errors = events.all(job._id).filter((e) => e.data.level === 'error');
    expect(errors.map((e) => e.data.message)).toEqual([`beta ${DATES[1]} failed: provider rejected the key`]);
  });

  it('writes several dates at once as it writes them one by one: the same days, statuses and lines, in order', async () => {
    const one = setUp();
    const many = setUp();
    const dates = DATES.slice(0, 2).map((date, i) => ({
      date,
      days: [computed('alpha', date, 1000 + i), computed('beta', date, 990 - i)],
      failures: i === 1 ? [{ model: 'gamma', error: 'down' }] : [],
      laterDates: DATES.slice(i + 1),
    }));
    const jobOne = await seedJob(one.jobs);
    const jobMany = await seedJob(many.jobs);
    for (const d of dates) await one.commit({ jobId: jobOne._id, owner: 'ann', ...d });
    expect(await many.commitMany({ jobId: jobMany._id, owner: 'ann', dates })).toEqual({ written: 4 });
    // Retried whole: nothing is written twice.
    expect(await many.commitMany({ jobId: jobMany._id, owner: 'ann', dates })).toEqual({ written: 0 });
    const view = (s: ReturnType<typeof setUp>, jobId: string) => ({
      days: s.tradingDays.days.map((d) => [d.model, d.date, d.endingPosition.portfolioValue]),
      lines: s.events.all(jobId).map((e) => [e.type, e.data.message]),
    });
    expect(view(many, jobMany._id)).toEqual(view(one, jobOne._id));
    const statusesOf = async (s: ReturnType<typeof setUp>, jobId: string) =>
      (await s.jobs.modelDays(jobId)).map((d) => [d.model, d.date, d.status, d.error ?? '']).sort();
    expect(await statusesOf(many, jobMany._id)).toEqual(await statusesOf(one, jobOne._id));
  });
});
