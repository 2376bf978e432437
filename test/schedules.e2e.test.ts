import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateIn } from '../trading/marketDay.js';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';
import { PROJECT_ROOT } from './paths.js';
import { workflowBundle } from './support/workflowBundle.js';

/**
 * Temporal Schedules on the real Temporal dev server: the server fires them (trigger-now, an interval,
 * a backfill), the scheduled workflows ask the exchange calendar first (July 4th is skipped with its
 * reason), run a batch of analyses as child workflows and write a digest read back with pdftotext;
 * pause, resume and delete act on the server's schedule.
 */

let h: Harness;
const uid = () => randomBytes(3).toString('hex');
/** Completion webhooks the scheduled jobs send (loopback is allowed for this harness). */
const hooks: Array<{ path: string; body: any }> = [];
let receiver: Server;
let hookBase = '';
beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hooks.push({ path: req.url ?? '', body: JSON.parse(body || '{}') });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  hookBase = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  h = await startHarness({ models: STRATEGY_MODELS, env: { TRADEFLOW_WEBHOOK_ALLOW: '127.0.0.1' } });
  // The scheduled catch-up posts its trigger to this API (the worker runs in this process).
  process.env.TRADEFLOW_API_URL = h.baseUrl;
});
afterAll(async () => {
  delete process.env.TRADEFLOW_API_URL;
  await h?.stop();
  receiver?.close();
});

/** Histories recorded from these runs replay on the current code; with UPDATE_HISTORIES=1 they are added (never overwritten). */
async function keepHistory(workflowId: string, name: string) {
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
  if (!process.env.UPDATE_HISTORIES) return history;
  const file = `${PROJECT_ROOT}test/histories/${name}.v1.json`;
  if (!existsSync(file)) writeFileSync(file, historyToJSON(history));
  return history;
}

const listed = async (): Promise<string[]> =>
  (await h.api('/schedules')).body.schedules.map((s: { schedule_id: string }) => s.schedule_id);
const create = (body: Record<string, unknown>) => h.api('/schedules', { method: 'POST', json: body });

/** Waits until the schedule has started `n` workflows and all of them ended; returns them oldest first. */
async function endedRuns(scheduleId: string, n: number, timeoutMs = 240_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await h.api(`/schedules/${scheduleId}/runs?limit=50`);
    expect(res.status).toBe(200);
    const runs = res.body.runs as Array<Record<string, any>>;
    if (runs.length >= n && runs.every((r) => r.status !== 'running')) {
      return runs.sort((a, b) => String(a.scheduled_at).localeCompare(String(b.scheduled_at)));
    }
    if (Date.now() > deadline)
      throw new Error(`schedule ${scheduleId}: runs not ended in time: ${JSON.stringify(runs)}`);
    await sleep(500);
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await sleep(300);
  }
}

const WEEKDAYS_0830 = { calendars: [{ hour: 8, minute: 30, day_of_week: 'MON-FRI' }] };

describe('daily pre-market reports on a Temporal Schedule', () => {
  it('is created paused at 08:30 New York on weekdays; trigger-now runs the batch and writes the digest', async () => {
    const id = `reports-${uid()}`;
    const made = await create({
      schedule_id: id,
      spec: WEEKDAYS_0830,
      time_zone: 'America/New_York',
      action: {
        kind: 'daily_reports',
        watchlist: [
          { ticker: 'AAPL', sector: 'Technology' },
          { ticker: 'MSFT', sector: 'Technology' },
          { ticker: 'AMZN', sector: 'Consumer Discretionary' },
        ],
        pipeline: 'news-only',
        // Trigger-now runs today, whatever the calendar says: the skip is tested by the backfill below.
        skip_closed_days: false,
        callback_url: `${hookBase}/reports`,
      },
      paused: true,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ schedule_id: id, managed: true, paused: true, overlap_policy: 'skip' });
    expect(made.body.catchup_window_s).toBe(3600);
    // Temporal computes the next times from the spec and the zone: 08:30 in New York, Monday to Friday.
    expect(made.body.next_action_times.length).toBeGreaterThan(0);
    for (const t of made.body.next_action_times as string[]) {
      const ny = new Intl.DateTimeFormat('en-US', {
        timeZone: 'America/New_York',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(new Date(t));
      expect(ny).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 08:30$/);
    }
    const again = await create({ schedule_id: id, spec: WEEKDAYS_0830, action: made.body.action });
    expect(again.status).toBe(409);
    // Temporal lists schedules from its visibility store, which follows a write within moments.
    await until('listed', async () => (await listed()).includes(id));

    const fired = await h.api(`/schedules/${id}/trigger`, { method: 'POST' });
    expect(fired.status).toBe(202);
    const [run] = await endedRuns(id, 1);
    expect(run!.status).toBe('completed');
    const result = run!.result;
    expect(result.date).toBe(dateIn(new Date(run!.scheduled_at), 'America/New_York'));
    expect(result.status, JSON.stringify(result)).toBe('completed');
    expect(result.counts).toEqual({ completed: 3 });
    expect(result.jobs.map((j: any) => j.ticker)).toEqual(['AAPL', 'MSFT', 'AMZN']);

    // The batch is the one POST /run batches are: its jobs and counts at /batches/{id}, each a child workflow.
    const batch = await h.api(`/batches/${result.batchId}`);
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({ total_jobs: 3, counts: { completed: 3 } });
    for (const j of result.jobs) {
      const job = await h.api(`/jobs/${j.jobId}`);
      expect(job.body.status).toBe('completed');
      expect(job.body.ticker).toBe(j.ticker);
      expect(['BUY', 'SELL', 'HOLD']).toContain(j.decision);
    }

    // The digest, read by an independent PDF reader: the date, the batch's status, every decision, each sector.
    const download = await fetch(`${h.baseUrl}/schedules/${id}/runs/${run!.workflow_id}/digest`, {
      headers: h.authHeaders,
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    const pdf = join(h.settings.dataDir, 'downloaded-digest.pdf');
    writeFileSync(pdf, Buffer.from(await download.arrayBuffer()));
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    expect(text).toContain(`Pre-market digest for ${result.date}`);
    expect(text).toMatch(/Batch status: completed \(3 completed\)/);
    // A long sector name wraps in its table cell: its first word is on the row.
    for (const j of result.jobs)
      expect(text).toMatch(new RegExp(`${j.ticker}\\s+${j.sector.split(' ')[0]}\\s+completed\\s+${j.decision}`));
    expect(text).toContain('Sector: Technology');
    expect(text).toContain('Sector: Consumer Discretionary');
    const markdown = await (
      await fetch(`${h.baseUrl}/schedules/${id}/runs/${run!.workflow_id}/digest?format=markdown`, {
        headers: h.authHeaders,
      })
    ).text();
    expect(markdown).toBe(readFileSync(join(h.settings.dataDir, result.digest.markdown), 'utf8'));
    expect(markdown).toContain(`| AAPL | Technology | completed | ${result.jobs[0].decision} |`);
    expect(result.sectors.map((s: any) => [s.sector, s.tickers])).toEqual([
      ['Technology', ['AAPL', 'MSFT']],
      ['Consumer Discretionary', ['AMZN']],
    ]);
    const tech = readFileSync(join(h.settings.dataDir, result.sectors[0].report), 'utf8');
    expect(tech).toMatch(/2 companies, 2 decided/);

    // Each scheduled job delivers its end to the schedule's callback URL, once.
    await until('three deliveries', async () => hooks.filter((k) => k.path === '/reports').length >= 3);
    expect(
      hooks
        .filter((k) => k.path === '/reports')
        .map((k) => [k.body.type, k.body.data.job_id])
        .sort(),
    ).toEqual(result.jobs.map((j: any) => ['job.completed', j.jobId]).sort());

    await keepHistory(run!.workflow_id, 'dailyReportsWorkflow-batch');
    expect((await h.api(`/schedules/${id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('a backfill over July 3-7, 2025 runs July 3rd and 7th and skips July 4th with its reason', async () => {
    const id = `reports-backfill-${uid()}`;
    const made = await create({
      schedule_id: id,
      spec: WEEKDAYS_0830,
      action: { kind: 'daily_reports', watchlist: [{ ticker: 'NVDA', sector: 'Technology' }], pipeline: 'news-only' },
      paused: true,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const res = await h.api(`/schedules/${id}/backfill`, {
      method: 'POST',
      json: { start: '2025-07-03', end: '2025-07-07' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ start_at: '2025-07-03T04:00:00.000Z', end_at: '2025-07-08T04:00:00.000Z' });

    // 08:30 on Thursday the 3rd, Friday the 4th and Monday the 7th (the weekend is not in the spec).
    const runs = await endedRuns(id, 3);
    expect(runs.map((r) => r.scheduled_at)).toEqual([
      '2025-07-03T12:30:00.000Z',
      '2025-07-04T12:30:00.000Z',
      '2025-07-07T12:30:00.000Z',
    ]);
    const [thu, fri, mon] = runs.map((r) => r.result);
    expect(fri).toEqual({ status: 'skipped', date: '2025-07-04', reason: 'NYSE closed (Independence Day)' });
    // Each backfilled day runs as of its own date: the session before it.
    expect(thu).toMatchObject({
      status: 'completed',
      date: '2025-07-03',
      asOf: '2025-07-02',
      counts: { completed: 1 },
    });
    expect(mon).toMatchObject({
      status: 'completed',
      date: '2025-07-07',
      asOf: '2025-07-03',
      counts: { completed: 1 },
    });
    const job = await h.api(`/jobs/${mon.jobs[0].jobId}`);
    expect(job.body).toMatchObject({ kind: 'analysis', ticker: 'NVDA', date: '2025-07-03', status: 'completed' });

    // The skip is decided before any work: the holiday's run started no child workflow.
    const noDigest = await h.api(`/schedules/${id}/runs/${runs[1]!.workflow_id}/digest`);
    expect(noDigest.status).toBe(404);
    expect(noDigest.body.message).toMatch(/skipped: NYSE closed \(Independence Day\)/);
    const skipped = await keepHistory(runs[1]!.workflow_id, 'dailyReportsWorkflow-holiday');
    const types = (skipped.events ?? []).map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes')));
    expect(types).toContain('activityTaskScheduledEventAttributes');
    expect(types).not.toContain('startChildWorkflowExecutionInitiatedEventAttributes');
    expect((await h.api(`/schedules/${id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('refuses a backfill that ends before it starts, and answers 404 for a schedule that does not exist', async () => {
    const id = `reports-bad-${uid()}`;
    expect(
      (await create({ schedule_id: id, spec: WEEKDAYS_0830, action: { kind: 'simulation_catch_up' }, paused: true }))
        .status,
    ).toBe(201);
    const bad = await h.api(`/schedules/${id}/backfill`, {
      method: 'POST',
      json: { start: '2025-07-07', end: '2025-07-03' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toMatch(/not after start/);
    expect((await h.api(`/schedules/${id}`, { method: 'DELETE' })).status).toBe(200);
    for (const [method, path] of [
      ['GET', `/schedules/${id}`],
      ['DELETE', `/schedules/${id}`],
      ['POST', `/schedules/${id}/pause`],
      ['POST', `/schedules/${id}/trigger`],
    ] as const) {
      const res = await h.api(path, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error).toBe('not_found');
    }
  });
});

describe('the simulation catch-up on a short interval', () => {
  it('fires on its own, triggers the catch-up, stops while paused, fires again once resumed, and is deleted', async () => {
    const id = `catch-up-${uid()}`;
    const made = await create({
      schedule_id: id,
      spec: { intervals: [{ every_s: 3 }] },
      time_zone: 'UTC',
      action: { kind: 'simulation_catch_up', skip_closed_days: false },
      overlap_policy: 'skip',
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.paused).toBe(false);

    // Fired by the server's clock, not by us: wait for two ended runs.
    const runs = await endedRuns(id, 2, 180_000);
    const first = runs[0]!.result;
    expect(first, JSON.stringify(first)).toMatchObject({ status: 'triggered', httpStatus: 202 });
    // The same catch-up POST /simulate/trigger with no dates starts: every model from its next day.
    const sim = await h.waitForJob(first.jobId, undefined, 180_000);
    expect(sim.kind).toBe('simulation');
    expect(sim.status).toBe('completed');
    expect(sim.models.sort()).toEqual(STRATEGY_MODELS.models.map((m) => m.id).sort());

    const paused = await h.api(`/schedules/${id}/pause`, { method: 'POST', json: { note: 'e2e pause' } });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, note: 'e2e pause' });
    const taken = paused.body.actions_taken as number;
    // Nothing is taken while paused: three intervals and more go by.
    await sleep(10_000);
    const still = await h.api(`/schedules/${id}`);
    expect(still.body.paused).toBe(true);
    expect(still.body.actions_taken).toBe(taken);

    const resumed = await h.api(`/schedules/${id}/resume`, { method: 'POST' });
    expect(resumed.status).toBe(200);
    expect(resumed.body.paused).toBe(false);
    await until('an action after resume', async () => (await h.api(`/schedules/${id}`)).body.actions_taken > taken);

    const ended = await endedRuns(id, 1);
    await keepHistory(ended[0]!.workflow_id, 'simulationCatchUpWorkflow-triggered');

    const deleted = await h.api(`/schedules/${id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect((await h.api(`/schedules/${id}`)).status).toBe(404);
    await until('no longer listed', async () => !(await listed()).includes(id));
    // Temporal itself no longer has it.
    await expect(h.temporal.schedule.getHandle(id).describe()).rejects.toThrow();
  });
});
