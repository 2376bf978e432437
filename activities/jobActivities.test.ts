import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { parseModelsConfig } from '../config/models.js';
import type { AnalysisJob, SimulationJob } from '../jobs/records.js';
import type { BarCache } from '../storage/barCache.js';
import type { ModelLedgers } from '../storage/modelLedgers.js';
import type { ModelLocks } from '../storage/modelLocks.js';
import type { TradingDays } from '../storage/tradingDays.js';
import { analysisJob, simulationJob } from '../test/support/jobStoreContract.js';
import { MemoryJobEvents, MemoryJobStore } from '../test/support/memoryStores.js';
import { createAgentFactory } from '../trading/agents/factory.js';
import type { SimulationOutcome } from '../workflows/definitions.js';
import { createAnalysisActivities } from './analysis.js';
import { createJobActivities } from './jobs.js';
import { createSimulationActivities } from './simulation/activities.js';

// The bookkeeping activities that move jobs, run in Temporal's mock activity context over in-memory stores.

const logger = createLogger('silent');
const models = parseModelsConfig({ models: [{ id: 'm1', strategy: 'buy-and-hold' }] });
const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used by these activities')) });

function setup() {
  const jobs = new MemoryJobStore();
  const events = new MemoryJobEvents();
  const released: string[] = [];
  const analysis = createAnalysisActivities({
    jobs,
    events,
    bars: unused as BarCache,
    models: models,
    runner: unused as never,
    dataDir: '/nonexistent',
    limits: { memoryMb: 256, cpus: 1, timeoutMs: 1000 },
    network: null,
    benchmark: 'QQQ',
    logger,
  });
  const simulation = createSimulationActivities({
    jobs,
    events,
    locks: { release: async (jobId: string) => void released.push(jobId) } as unknown as ModelLocks,
    tradingDays: unused as TradingDays,
    ledgers: unused as ModelLedgers,
    bars: unused as BarCache,
    models: models,
    agents: createAgentFactory(),
    logger,
  });
  const control = createJobActivities({ jobs, events, logger });
  // The SDK logs each failing activity; the failures here are the point.
  const env = (attempt = 1) => new MockActivityEnvironment({ attempt }, { logger: new DefaultLogger('ERROR') });
  const seedOf = (job: AnalysisJob) => ({
    spec: { ...job.analysis },
    request: job.request,
    createdAt: job.createdAt.toISOString(),
  });
  return { jobs, events, released, analysis, simulation, control, env, seedOf };
}

const types = (events: MemoryJobEvents, jobId: string) =>
  events.all(jobId).map((e) => `${e.type}:${(e.data as { status?: string }).status ?? ''}`);

describe('analysis bookkeeping', () => {
  it('opens run 1 (writing the record if the API could not), records stopping, then the end, each once', async () => {
    const { jobs, events, analysis, control, env, seedOf } = setup();
    const job = analysisJob();
    const open = { jobId: job._id, owner: job.owner, run: 1, seed: seedOf(job) };
    await env().run(analysis.beginAnalysisRun, open);
    await env(2).run(analysis.beginAnalysisRun, open);
    expect((await jobs.get(job._id))?.status).toBe('pending');
    await jobs.transition('analysis', job._id, 'running');
    expect(
      await env().run(control.recordStopping, { kind: 'analysis' as const, jobId: job._id, run: 1, reason: 'user' }),
    ).toBe(true);
    const stopped = { jobId: job._id, run: 1, status: 'stopped' as const, error: 'user' };
    await env().run(analysis.finishAnalysisJob, stopped);
    await env(2).run(analysis.finishAnalysisJob, stopped);
    expect((await jobs.get(job._id))?.status).toBe('stopped');
    expect(types(events, job._id)).toEqual(['status:pending', 'status:stopping', 'completed:stopped']);
    // A stop that lands after the end changes nothing and says nothing.
    expect(
      await env().run(control.recordStopping, { kind: 'analysis' as const, jobId: job._id, run: 1, reason: 'late' }),
    ).toBe(false);
    expect(events.all(job._id)).toHaveLength(3);
  });

  it('never overwrites a final status: a late outcome of the same run is refused', async () => {
    const { jobs, analysis, env } = setup();
    const job = analysisJob();
    await jobs.insertIfAbsent(job);
    await jobs.transition('analysis', job._id, 'running');
    await env().run(analysis.finishAnalysisJob, {
      jobId: job._id,
      status: 'failed' as const,
      errorType: 'timeout' as const,
      error: 'killed at its limit',
    });
    await env().run(analysis.finishAnalysisJob, { jobId: job._id, status: 'completed' as const });
    const stored = (await jobs.get(job._id)) as AnalysisJob;
    expect(stored).toMatchObject({ status: 'failed', error: 'killed at its limit' });
    expect(stored.analysis.errorType).toBe('timeout');
  });

  it('opens run 2 of an ended job once, keeping run 1; a job that cannot run again fails for good', async () => {
    const { jobs, events, analysis, env, seedOf } = setup();
    const job = analysisJob();
    await jobs.insertIfAbsent(job);
    await jobs.transition('analysis', job._id, 'running');
    await jobs.transition('analysis', job._id, 'llm_timeout', { error: 'provider timed out' });
    const open = { jobId: job._id, owner: job.owner, run: 2, seed: seedOf(job) };
    await env().run(analysis.beginAnalysisRun, open);
    await env(2).run(analysis.beginAnalysisRun, open);
    const again = (await jobs.get(job._id)) as AnalysisJob;
    expect(again.status).toBe('pending');
    expect(again.analysis.history).toEqual([expect.objectContaining({ run: 1, status: 'llm_timeout' })]);
    expect(types(events, job._id)).toEqual(['status:pending']);

    await jobs.transition('analysis', job._id, 'running', {}, 2);
    await jobs.transition('analysis', job._id, 'completed', {}, 2);
    const refused = env().run(analysis.beginAnalysisRun, { ...open, run: 3 });
    await expect(refused).rejects.toBeInstanceOf(ApplicationFailure);
    await expect(refused).rejects.toMatchObject({ type: 'JobMissing', nonRetryable: true });
  });
});

describe('simulation bookkeeping', () => {
  it("a job closed as abandoned keeps that end when its workflow's own finish comes late", async () => {
    const { jobs, events, released, simulation, env } = setup();
    const job: SimulationJob = simulationJob();
    await jobs.insertIfAbsent(job);
    await jobs.transition('simulation', job._id, 'running');
    const closed: SimulationOutcome = await env().run(simulation.finishSimulationJob, {
      jobId: job._id,
      owner: job.owner,
      stopped: false,
      error: 'its workflow is no longer running',
      remaining: [],
      remainingFromPlan: true,
    });
    expect(closed.status).toBe('failed');
    expect((await jobs.modelDays(job._id)).map((d) => d.status)).toEqual(['skipped', 'skipped']);
    const late: SimulationOutcome = await env().run(simulation.finishSimulationJob, {
      jobId: job._id,
      owner: job.owner,
      stopped: false,
      remaining: [],
    });
    expect(late.status).toBe('failed');
    expect((await jobs.get(job._id))?.status).toBe('failed');
    expect(types(events, job._id)).toEqual(['error:failed']);
    expect(released).toEqual([job._id, job._id]);
  });

  it('a job closed as abandoned while stopping ends stopped, with why in its record', async () => {
    const { jobs, released, simulation, env } = setup();
    const job: SimulationJob = simulationJob();
    await jobs.insertIfAbsent(job);
    await jobs.transition('simulation', job._id, 'running');
    await jobs.transition('simulation', job._id, 'stopping');
    // As closeAbandonedJobWorkflow asks for a stopped end.
    const closed: SimulationOutcome = await env().run(simulation.finishSimulationJob, {
      jobId: job._id,
      owner: job.owner,
      stopped: true,
      error: 'its workflow was terminated; closed by the job reconciler',
      remaining: [],
      remainingFromPlan: true,
    });
    expect(closed.status).toBe('stopped');
    expect(await jobs.get(job._id)).toMatchObject({
      status: 'stopped',
      error: 'its workflow was terminated; closed by the job reconciler',
    });
    expect((await jobs.modelDays(job._id)).map((d) => d.status)).toEqual(['stopped', 'stopped']);
    expect(released).toEqual([job._id]);
  });
});
