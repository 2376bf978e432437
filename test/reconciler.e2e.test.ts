import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulationJobRecord } from '../jobs/records.js';
import { type Harness, startHarness } from './harness.js';

/**
 * Jobs nobody closes: a job whose workflow was terminated (here with the `temporal` CLI, as an operator
 * would) is closed by the job reconciler within its bound, with the reason in its record and its
 * models free again, without anyone stopping or re-triggering it. And a re-trigger that closes such a
 * job itself does not count the terminated job's days a second time.
 */

const MODELS = {
  initial_cash: 10000,
  models: [{ id: 'slow', strategy: 'momentum', params: { lookback: 5, decision_delay_ms: 300 } }],
};
/** A few weeks of one slow model: long enough to be caught running. */
const REQUEST = { start_date: '2025-03-03', end_date: '2025-04-30', models: ['slow'] };

async function terminateWithCli(h: Harness, workflowId: string) {
  const bin = process.env.TRADEFLOW_TEMPORAL_BIN;
  if (!bin) throw new Error('TRADEFLOW_TEMPORAL_BIN is not set: run through npm, which sets it');
  await promisify(execFile)(bin, [
    'workflow',
    'terminate',
    '--address',
    h.env.TEMPORAL_ADDRESS!,
    '--namespace',
    h.settings.temporal.namespace,
    '--workflow-id',
    workflowId,
    '--reason',
    'e2e: an operator terminated it',
  ]);
}

/** Waits until the ledger stops growing: work in flight when the workflow was terminated has landed. */
async function ledgerSettled(h: Harness) {
  let last = -1;
  for (let stable = 0; stable < 3; ) {
    const n = await h.db.collections.tradingDays.countDocuments({});
    stable = n === last ? stable + 1 : 0;
    last = n;
    await sleep(1000);
  }
}

describe('the job reconciler', () => {
  let h: Harness;
  beforeAll(async () => {
    // A short interval through the option; the deployed default is 15 s.
    h = await startHarness({ models: MODELS, reconciler: { intervalMs: 1000 } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('closes a job whose workflow was terminated, says why, frees its models; the same request is accepted again', async () => {
    const res = await h.api('/simulate/trigger', { method: 'POST', json: REQUEST });
    expect(res.status).toBe(202);
    const jobId = res.body.job_id;
    await h.waitForJob(jobId, (b) => b.progress.completed >= 2);
    const terminatedAt = Date.now();
    await terminateWithCli(h, jobId);

    // Nobody stops, triggers or reads anything but the status: the reconciler alone closes it.
    const closed = await h.waitForJob(jobId, undefined, 120_000);
    const tookMs = Date.now() - terminatedAt;
    console.log(`job closed by the reconciler ${tookMs} ms after its workflow was terminated`);
    expect(closed.status).toBe('failed');
    expect(closed.error).toMatch(/workflow .* was terminated/);
    expect(closed.error).toMatch(/reconciler/);
    expect(closed.progress.running).toBe(0);
    expect(await h.db.collections.modelLocks.countDocuments({ jobId })).toBe(0);

    const again = await h.api('/simulate/trigger', { method: 'POST', json: REQUEST });
    expect(again.status).toBe(202);
    expect(again.body.job_id).not.toBe(jobId);
    const resumed = await h.waitForJob(again.body.job_id, undefined, 180_000);
    expect(resumed.status).toBe('completed');
  }, 420_000);

  it("finds a terminated job that holds no lock through Temporal's list, and a job whose workflow never existed", async () => {
    const res = await h.api('/simulate/trigger', {
      method: 'POST',
      json: { start_date: '2025-06-02', end_date: '2025-06-30', models: ['slow'] },
    });
    expect(res.status).toBe(202);
    const unlocked = res.body.job_id;
    await h.waitForJob(unlocked, (b) => b.progress.completed >= 1);
    // As if its lock had been taken over: only Temporal's list of ended workflows can show it now.
    await h.db.collections.modelLocks.deleteMany({ jobId: unlocked });
    await terminateWithCli(h, unlocked);

    // A record (and a lock) whose workflow never started, from long enough ago to count as lost.
    const lost = simulationJobRecord({
      jobId: `sim-lost-${Date.now()}`,
      owner: 'local',
      models: ['ghost'],
      symbols: ['AAPL'],
      dates: ['2025-03-03', '2025-03-04'],
      modelStart: { ghost: 0 },
      seed: { idempotencyKey: 'lost', request: {}, createdAt: new Date(Date.now() - 10 * 60_000).toISOString() },
    });
    await h.db.collections.jobs.insertOne(lost);
    await h.db.collections.modelLocks.insertOne({
      _id: `local|ghost`,
      owner: 'local',
      model: 'ghost',
      jobId: lost._id,
      idempotencyKey: 'lost',
      acquiredAt: new Date(Date.now() - 10 * 60_000),
    });

    const closed = await h.waitForJob(unlocked, undefined, 120_000);
    expect(closed.status).toBe('failed');
    expect(closed.error).toMatch(/was terminated/);
    const gone = await h.waitForJob(lost._id, undefined, 120_000);
    expect(gone.status).toBe('failed');
    expect(gone.error).toMatch(/does not exist/);
    expect(await h.db.collections.modelLocks.countDocuments({ jobId: lost._id })).toBe(0);
  }, 420_000);

  it('runs once per deployment: ensuring it again from a second worker finds it running', async () => {
    const { ensureJobReconciler } = await import('../worker/jobReconciler.js');
    const { createLogger } = await import('../config/logger.js');
    const second = await ensureJobReconciler(h.temporal, h.settings.taskQueues.orchestrator, createLogger('silent'));
    expect(second.started).toBe(false);
    expect((await h.temporal.workflow.getHandle(second.workflowId).describe()).status.name).toBe('RUNNING');
  });
});

describe('a re-trigger that closes a terminated job itself', () => {
  let h: Harness;
  beforeAll(async () => {
    // No reconciler: the re-trigger is what finds the terminated job.
    h = await startHarness({ models: MODELS });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('leaves each model-day counted by the job that ran it', async () => {
    const first = await h.api('/simulate/trigger', { method: 'POST', json: REQUEST });
    expect(first.status).toBe(202);
    const a = first.body.job_id;
    await h.waitForJob(a, (b) => b.progress.completed >= 4);
    await h.temporal.workflow.getHandle(a).terminate('e2e: an operator terminated it');
    await ledgerSettled(h);

    // The same request again: it closes the terminated job and starts over the days that job left.
    const second = await h.api('/simulate/trigger', { method: 'POST', json: REQUEST });
    expect(second.status).toBe(202);
    const b = second.body.job_id;
    expect(b).not.toBe(a);
    const endB = await h.waitForJob(b, undefined, 180_000);
    const endA = await h.waitForJob(a, undefined, 120_000);
    expect(endA.status).toBe('failed');
    expect(endB.status).toBe('completed');

    const days = await h.db.collections.tradingDays.find({ model: 'slow' }).toArray();
    const ranBy = (jobId: string) => days.filter((d) => d.jobId === jobId).length;
    expect(ranBy(a)).toBeGreaterThanOrEqual(4);
    expect(ranBy(a) + ranBy(b)).toBe(days.length);
    // Each job counts what it ran: no day is completed in both.
    expect(endA.progress.completed).toBe(ranBy(a));
    expect(endB.progress.completed).toBe(ranBy(b));
    expect(endA.progress.completed + endB.progress.completed).toBe(days.length);
    // The days B found written are recorded in B as not run, naming the job that ran them.
    const detailsB = (await h.api(`/jobs/${b}?details_limit=1000`)).body.details as Array<{
      status: string;
      error: string | null;
    }>;
    const foundWritten = detailsB.filter((d) => d.error?.includes('already in the ledger'));
    expect(foundWritten.length).toBe(endB.progress.skipped);
    for (const d of foundWritten) {
      expect(d.status).toBe('skipped');
      expect(d.error).toContain(a);
    }
  }, 420_000);
});
