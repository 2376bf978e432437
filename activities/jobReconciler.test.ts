import { describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import type { JobDoc } from '../jobs/records.js';
import type { ModelLocks } from '../storage/modelLocks.js';
import type { ModelLockDoc } from '../storage/types.js';
import { analysisJob, simulationJob } from '../test/support/jobStoreContract.js';
import { MemoryJobStore } from '../test/support/memoryStores.js';
import { createReconcilerActivities, FIRST_LOOK_BACK_MS, START_GRACE_MS, type WorkflowState } from './jobReconciler.js';

// The reconciler's look, over in-memory jobs and locks and a Temporal that answers what each test says.

const NOW = Date.parse('2026-12-02T12:00:00Z');
const logger = createLogger('silent');

function setup(
  o: { states?: Record<string, WorkflowState>; ended?: Array<{ workflowId: string; type: string }> } = {},
) {
  const jobs = new MemoryJobStore();
  const held: ModelLockDoc[] = [];
  const released: string[] = [];
  const looks: number[] = [];
  let listFails = false;
  const locks = {
    held: async () => held.filter((l) => !released.includes(l.jobId)),
    release: async (jobId: string) => void released.push(jobId),
  } as unknown as ModelLocks;
  const activities = createReconcilerActivities({
    jobs,
    locks,
    logger,
    now: () => NOW,
    lookup: () => ({
      state: async (workflowId) => o.states?.[workflowId] ?? { state: 'missing' },
      endedSince: async (since) => {
        looks.push(since);
        if (listFails) throw new Error('visibility unavailable');
        return o.ended ?? [];
      },
    }),
  });
  const lock = (jobId: string, ageMs = 5_000) =>
    held.push({
      _id: `local|${jobId}`,
      owner: 'local',
      model: `model-of-${jobId}`,
      jobId,
      idempotencyKey: 'k',
      acquiredAt: new Date(NOW - ageMs),
    });
  const add = async (job: JobDoc) => {
    await jobs.insertIfAbsent(job);
    return job;
  };
  return {
    jobs,
    lock,
    add,
    released,
    looks,
    failList: () => {
      listFails = true;
    },
    find: activities.findAbandonedJobs,
  };
}

const created = (ageMs: number) => new Date(NOW - ageMs);

describe('findAbandonedJobs', () => {
  it('closes a locked simulation whose workflow was terminated, saying why, and leaves running ones alone', async () => {
    const terminated = simulationJob({ status: 'running', createdAt: created(120_000) });
    const running = simulationJob({ status: 'running', createdAt: created(120_000) });
    const s = setup({
      states: {
        [terminated.workflowId]: { state: 'closed', status: 'TERMINATED' },
        [running.workflowId]: { state: 'running' },
      },
    });
    await s.add(terminated);
    await s.add(running);
    s.lock(terminated._id);
    s.lock(running._id);
    const found = await s.find({ since: NOW - 15_000 });
    expect(found.abandoned).toEqual([
      {
        jobId: terminated._id,
        kind: 'simulation',
        owner: 'local',
        status: 'failed',
        reason: expect.stringMatching(/workflow .* was terminated .*closed by the job reconciler/),
      },
    ]);
    expect(found.checkedUntil).toBe(NOW);
    expect(s.released).toEqual([]);
  });

  it('ends a job that was asked to stop as stopped', async () => {
    const job = simulationJob({ status: 'stopping', createdAt: created(120_000) });
    const s = setup({ states: { [job.workflowId]: { state: 'closed', status: 'TIMED_OUT' } } });
    await s.add(job);
    s.lock(job._id);
    const found = await s.find({});
    expect(found.abandoned).toMatchObject([
      { jobId: job._id, status: 'stopped', reason: expect.stringMatching(/timed out/) },
    ]);
  });

  it('finds analyses (no locks) through the workflows that ended since the last look, with an overlap', async () => {
    const job = analysisJob({ status: 'running', createdAt: created(120_000) });
    const done = analysisJob({ status: 'completed', createdAt: created(120_000) });
    const s = setup({
      states: { [job.workflowId]: { state: 'closed', status: 'TERMINATED' } },
      ended: [
        { workflowId: job.workflowId, type: 'analysisWorkflow' },
        { workflowId: done.workflowId, type: 'analysisWorkflow' },
        { workflowId: 'someone-elses', type: 'otherWorkflow' },
      ],
    });
    await s.add(job);
    await s.add(done);
    const found = await s.find({ since: NOW - 10_000 });
    expect(found.abandoned).toMatchObject([{ jobId: job._id, kind: 'analysis', status: 'failed' }]);
    expect(s.looks[0]).toBeLessThan(NOW - 10_000);
  });

  it('looks back a week the first time', async () => {
    const s = setup();
    await s.find({});
    expect(s.looks).toEqual([NOW - FIRST_LOOK_BACK_MS]);
  });

  it('counts a missing workflow as lost only after the start grace', async () => {
    const young = simulationJob({ status: 'pending', createdAt: created(START_GRACE_MS / 2) });
    const old = simulationJob({ status: 'pending', createdAt: created(START_GRACE_MS * 2) });
    const s = setup();
    await s.add(young);
    await s.add(old);
    s.lock(young._id);
    s.lock(old._id);
    const found = await s.find({});
    expect(found.abandoned.map((j) => j.jobId)).toEqual([old._id]);
    expect(found.abandoned[0]?.reason).toMatch(/does not exist/);
  });

  it('does not close a job whose workflow recorded its end just before it closed', async () => {
    const job = simulationJob({ status: 'running', createdAt: created(120_000) });
    const s = setup({ states: { [job.workflowId]: { state: 'closed', status: 'COMPLETED' } } });
    await s.add(job);
    s.lock(job._id);
    // The first read sees it running; the fresh read after the describe sees the end.
    const get = s.jobs.get.bind(s.jobs);
    let reads = 0;
    s.jobs.get = async (id: string) => {
      const doc = await get(id);
      return doc && ++reads > 1 ? { ...doc, status: 'completed' } : doc;
    };
    expect((await s.find({})).abandoned).toEqual([]);
  });

  it('releases locks of ended jobs, and of jobs that never got a record or a workflow, after the grace', async () => {
    const ended = simulationJob({ status: 'failed', createdAt: created(120_000) });
    const s = setup();
    await s.add(ended);
    s.lock(ended._id);
    s.lock('sim-never-recorded', START_GRACE_MS * 2);
    s.lock('sim-being-triggered', 1_000);
    expect((await s.find({})).abandoned).toEqual([]);
    expect(s.released.sort()).toEqual([ended._id, 'sim-never-recorded'].sort());
  });

  it('still closes locked jobs when the ended workflows cannot be listed, and looks at that window again', async () => {
    const job = simulationJob({ status: 'running', createdAt: created(120_000) });
    const s = setup({ states: { [job.workflowId]: { state: 'closed', status: 'TERMINATED' } } });
    await s.add(job);
    s.lock(job._id);
    s.failList();
    const found = await s.find({ since: NOW - 15_000 });
    expect(found.abandoned.map((j) => j.jobId)).toEqual([job._id]);
    expect(found.checkedUntil).toBe(NOW - 15_000);
  });
});
