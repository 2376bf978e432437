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
});
