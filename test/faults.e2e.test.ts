import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type ManagedProcess, startService as startProcess } from '../devstack/processes.js';
import { binariesFromEnv, ferretdbArgs } from '../devstack/stack.js';
import { devServerArgs } from '../temporal-config/dev-server.js';
import { SEARCH_ATTRIBUTES } from '../temporal-config/search-attributes.js';
import { tradingDaysBetween } from '../trading/calendar.js';
import { type Harness, startService } from './service.js';

// Faults injected into a running service: its own FerretDB and Temporal dev server, killed mid-job and
// started again on the same files and ports. The job must finish on its own, nothing lost and nothing
// written twice.

const bins = binariesFromEnv();
const dir = mkdtempSync(join(tmpdir(), 'tradeflow-faults-'));
const ferretDir = join(dir, 'ferretdb');
mkdirSync(ferretDir);
let ferret: ManagedProcess;
let temporal: ManagedProcess;
let mongoPort: number;
let temporalPort: number;
let h: Harness;

const startFerret = () =>
  startProcess({
    name: 'ferretdb',
    command: bins.ferretdbBin!,
    // Its own folder: FerretDB takes every .sqlite file in its folder for one of its databases.
    args: ferretdbArgs({ port: mongoPort, dir: ferretDir }),
    port: mongoPort,
    logFile: join(dir, 'ferretdb.log'),
  });

let httpPort: number;
let metricsPort: number;
const startTemporal = () =>
  startProcess({
    name: 'temporal',
    command: bins.temporalBin!,
    args: devServerArgs({
      port: temporalPort,
      uiPort: 0,
      httpPort,
      metricsPort,
      dbFile: join(dir, 'temporal.sqlite'),
      headless: true,
      searchAttributes: SEARCH_ATTRIBUTES,
    }),
    port: temporalPort,
    logFile: join(dir, 'temporal.log'),
  });

const MODELS = ['fault-a', 'fault-b', 'fault-c'];

/**
 * Runs `f` with `service` frozen (SIGSTOP: its connections stay open, nothing answers, as a stalled disk
 * or a paused VM leaves it), and always thaws it again.
 */
async function whileFrozen<T>(service: ManagedProcess, f: () => Promise<T>): Promise<T> {
  service.child.kill('SIGSTOP');
  try {
    return await f();
  } finally {
    service.child.kill('SIGCONT');
  }
}

/** A request's answer and how long it took. */
async function timed(path: string, init?: RequestInit & { json?: unknown }) {
  const started = Date.now();
  const res = await h.api(path, init);
  return { ...res, ms: Date.now() - started };
}

/** SIGKILL, as a crash or the OOM killer would: no chance to flush or say goodbye. */
async function kill(service: ManagedProcess) {
  const exited = new Promise((r) => service.child.once('exit', r));
  service.child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  [mongoPort, temporalPort, httpPort, metricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  ferret = await startFerret();
  temporal = await startTemporal();
  h = await startService({
    temporalAddress: `127.0.0.1:${temporalPort}`,
    mongoUri: `mongodb://127.0.0.1:${mongoPort}/`,
    models: {
      models: MODELS.map((id, i) => ({
        id,
        strategy: ['buy-and-hold', 'momentum', 'mean-reversion'][i],
        params: { decision_delay_ms: 250, ...(i ? { lookback: 5 } : {}) },
      })),
    },
  });
}, 120_000);

afterAll(async () => {
  await h?.stop().catch(() => undefined);
  await temporal?.stop();
  await ferret?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every model's ledger over `dates`: one day each, each starting where the one before ended. */
async function expectWholeLedgers(jobId: string, dates: string[]) {
  const stored = await h.db.collections.tradingDays.find({ jobId }).toArray();
  expect(stored).toHaveLength(MODELS.length * dates.length);
  for (const model of MODELS) {
    const days = stored.filter((d) => d.model === model).sort((a, b) => (a.date < b.date ? -1 : 1));
    expect(days.map((d) => d.date)).toEqual(dates);
    for (let i = 1; i < days.length; i++) expect(days[i]!.startingPosition).toEqual(days[i - 1]!.endingPosition);
  }
  // Each model-day's line in the live log exactly once.
  const lines = await h.db.collections.jobEvents.find({ jobId, type: 'log' }).toArray();
  const perDay = new Map<string, number>();
  for (const e of lines) {
    const d = e.data as { model?: string; date?: string; type?: string };
    if (d.model && d.date && d.type === 'LOG')
      perDay.set(`${d.model}|${d.date}`, (perDay.get(`${d.model}|${d.date}`) ?? 0) + 1);
  }
  expect(perDay.size).toBe(MODELS.length * dates.length);
  expect([...perDay.values()].every((n) => n === 1)).toBe(true);
}

describe('faults', () => {
  it('rides out its database going away for 20 s mid-job: the job completes, nothing lost or doubled', async () => {
    const dates = tradingDaysBetween('2025-03-03', '2025-03-31');
    const res = await h.api('/simulate/trigger', {
      method: 'POST',
      json: { start_date: dates[0], end_date: dates.at(-1), models: MODELS },
    });
    expect(res.status).toBe(202);
    await h.waitForJob(res.body.job_id, (b) => b.progress.completed >= 9);
    await kill(ferret);
    await new Promise((r) => setTimeout(r, 20_000));
    ferret = await startFerret();
    const done = await h.waitForJob(res.body.job_id, undefined, 180_000);
    expect(done.status).toBe('completed');
    expect(done.progress).toMatchObject({ completed: MODELS.length * dates.length, failed: 0, skipped: 0 });
    await expectWholeLedgers(res.body.job_id, dates);
  }, 300_000);

  it('rides out its Temporal server being killed and started again mid-job', async () => {
    const dates = tradingDaysBetween('2025-04-01', '2025-04-30');
    const res = await h.api('/simulate/trigger', {
      method: 'POST',
      json: { start_date: dates[0], end_date: dates.at(-1), models: MODELS },
    });
    expect(res.status).toBe(202);
    await h.waitForJob(res.body.job_id, (b) => b.progress.completed >= 9);
    await kill(temporal);
    await new Promise((r) => setTimeout(r, 5_000));
    temporal = await startTemporal();
    const done = await h.waitForJob(res.body.job_id, undefined, 180_000);
    expect(done.status).toBe('completed');
    expect(done.progress).toMatchObject({ completed: MODELS.length * dates.length, failed: 0 });
    await expectWholeLedgers(res.body.job_id, dates);
  }, 300_000);

  it('a frozen database answers like a dead one: 503 with Retry-After within about a second, from the first request', async () => {
    // Warm: the API's connections to the database are open, as on a running instance.
    expect((await h.api('/jobs?limit=1')).status).toBe(200);
    const answers = await whileFrozen(ferret, async () => {
      const out = [];
      for (const path of ['/simulate/status/sim-none', '/jobs/none', '/jobs?limit=1', '/results', '/health']) {
        out.push({ path, ...(await timed(path)) });
      }
      return out;
    });
    for (const a of answers) {
      expect(a.status, a.path).toBe(503);
      // About a second: the deadline is 1.5 s; a busy machine gets some slack, the 13 s of before does not.
      expect(a.ms, a.path).toBeLessThan(4_000);
    }
    // And it answers again once the database does.
    const deadline = Date.now() + 60_000;
    while ((await h.api('/jobs?limit=1')).status !== 200) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 120_000);

  it('a frozen Temporal gets a fast 503 with Retry-After, and a retry with the same request makes no second job', async () => {
    const dates = tradingDaysBetween('2025-05-01', '2025-05-09');
    const trigger = { start_date: dates[0], end_date: dates.at(-1), models: MODELS };
    const run = { ticker: 'AAPL', pipeline: 'model-only' };
    const key = { 'idempotency-key': `frozen-${Date.now()}` };
    const [started, ran] = await whileFrozen(temporal, async () => [
      await timed('/simulate/trigger', { method: 'POST', json: trigger }),
      await timed('/run', { method: 'POST', json: run, headers: key }),
    ]);
    for (const [what, a] of [
      ['trigger', started],
      ['run', ran],
    ] as const) {
      expect(a.status, `${what}: ${JSON.stringify(a.body)}`).toBe(503);
      expect(a.ms, what).toBeLessThan(10_000);
    }
    // Temporal thawed: the same requests again are each one job, whether or not the frozen server took
    // the first starts late.
    const again = async (path: string, init: RequestInit & { json?: unknown }) => {
      const until = Date.now() + 90_000;
      for (;;) {
        const res = await h.api(path, init);
        if (res.status !== 503 && res.status !== 409) return res;
        expect(Date.now(), JSON.stringify(res.body)).toBeLessThan(until);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const sim = await again('/simulate/trigger', { method: 'POST', json: trigger });
    expect([200, 202]).toContain(sim.status);
    const analysis = await again('/run', { method: 'POST', json: run, headers: key });
    expect([200, 202]).toContain(analysis.status);
    const twice = await h.api('/run', { method: 'POST', json: run, headers: key });
    expect(twice.status).toBe(200);
    expect(twice.body.job_id).toBe(analysis.body.job_id);
    const done = await h.waitForJob(sim.body.job_id, undefined, 180_000);
    expect(done.status).toBe('completed');
    await h.waitForJob(analysis.body.job_id, undefined, 180_000);
    // One simulation over these dates, one analysis of AAPL: nothing the frozen server took late ran twice.
    const sims = await h.db.collections.jobs
      .find({ kind: 'simulation', 'dateRange.start': dates[0] } as never)
      .toArray();
    expect(sims.map((j) => j._id)).toEqual([sim.body.job_id]);
    const analyses = await h.db.collections.jobs.find({ kind: 'analysis' } as never).toArray();
    expect(analyses.map((j) => j._id)).toEqual([analysis.body.job_id]);
    await expectWholeLedgers(sim.body.job_id, dates);
  }, 400_000);
});
