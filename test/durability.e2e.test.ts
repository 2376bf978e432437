import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tradingDaysBetween } from '../trading/calendar.js';
import { type Harness, startHarness } from './harness.js';
import { PROJECT_ROOT } from './paths.js';

const SLOW = (id: string, strategy: string) => ({ id, strategy, params: { decision_delay_ms: 1_000, lookback: 5 } });

let h: Harness;
const workers: ChildProcess[] = [];

/** A real worker process, as `npm start` runs it, so it can be killed with SIGKILL. */
function startWorkerProcess(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...h.env },
    stdio: 'ignore',
  });
  workers.push(child);
  return child;
}

beforeAll(async () => {
  h = await startHarness({
    models: {
      models: [
        SLOW('crash-a', 'buy-and-hold'),
        SLOW('crash-b', 'momentum'),
        SLOW('crash-c', 'mean-reversion'),
        SLOW('crash-d', 'momentum'),
      ],
    },
    worker: false,
    // The default silence timeouts, which the test holds to its goal; histories continue as new often.
    simulationOptions: { continueAsNewAfterEvents: 60 },
  });
});

afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await h?.stop();
});

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Every activity a job's runs scheduled (with its heartbeat timeout) and when each completed, in order. */
async function activityEvents(workflowId: string) {
  const scheduled: Array<{ type: string; heartbeatTimeoutMs: number }> = [];
  const completedAt: number[] = [];
  for await (const run of h.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await h.temporal.workflow.getHandle(workflowId, run.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (a) scheduled.push({ type: a.activityType?.name ?? '?', heartbeatTimeoutMs: ms(a.heartbeatTimeout) });
      if (e.activityTaskCompletedEventAttributes) completedAt.push(ms(e.eventTime));
    }
  }
  return { scheduled, completedAt: completedAt.sort((a, b) => a - b) };
}

describe('durability', () => {
  it('loses nothing and duplicates nothing when the worker is SIGKILLed mid-job', async () => {
    const models = ['crash-a', 'crash-b', 'crash-c', 'crash-d'];
    const dates = tradingDaysBetween('2025-02-03', '2025-02-28');
    const first = startWorkerProcess();
    const res = await h.api('/simulate/trigger', {
      method: 'POST',
      json: { start_date: dates[0], end_date: dates.at(-1), models },
    });
    expect(res.status).toBe(202);
    const total = models.length * dates.length;
    const midway = await h.waitForJob(
      res.body.job_id,
      (b) => b.progress.completed >= 12 && b.progress.running > 0,
      60_000,
    );
    // A date's model-days take a second each: half of one in, they are running on this worker (not
    // only scheduled), so the kill cuts them off.
    await new Promise((r) => setTimeout(r, 500));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(midway.progress.completed).toBeLessThan(total);

    startWorkerProcess();
    const done = await h.waitForJob(res.body.job_id, undefined, 120_000);
    expect(done.status).toBe('completed');
    expect(done.progress.completed).toBe(total);

    // Exactly one stored day per model-day, each starting where the previous one ended.
    const stored = await h.db.collections.tradingDays.find({ jobId: res.body.job_id }).toArray();
    expect(stored).toHaveLength(total);
    for (const model of models) {
      const days = stored.filter((d) => d.model === model).sort((a, b) => (a.date < b.date ? -1 : 1));
      expect(days.map((d) => d.date)).toEqual(dates);
      for (let i = 1; i < days.length; i++) {
        expect(days[i]!.startingPosition).toEqual(days[i - 1]!.endingPosition);
      }
    }
    // The model-days cut off by the kill ran again on the new worker.
    expect(done.details.some((d: any) => d.attempts > 1)).toBe(true);

    // The long history was split: the workflow continued as new at least once.
    const runs: string[] = [];
    for await (const wf of h.temporal.workflow.list({ query: `WorkflowId = '${res.body.job_id}'` }))
      runs.push(wf.status.name);
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.filter((s) => s === 'CONTINUED_AS_NEW').length).toBe(runs.length - 1);

    // What the crash cost: every activity, bookkeeping and commits included, is given up on within
    // 15 s of silence (a commit once waited out its 2-minute bound), so the job never stood still for
    // 30 s, here or wherever the kill lands.
    const { scheduled, completedAt } = await activityEvents(res.body.job_id);
    expect(scheduled.filter((a) => !(a.heartbeatTimeoutMs > 0 && a.heartbeatTimeoutMs <= 15_000))).toEqual([]);
    const gaps = completedAt.slice(1).map((t, i) => t - completedAt[i]!);
    expect(Math.max(...gaps)).toBeLessThan(30_000);
  }, 240_000);
});
