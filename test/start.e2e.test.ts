import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../devstack/processes.js';
import { PROJECT_ROOT } from './paths.js';

/** `npm start` as a user runs it (minus the install step): embedded Temporal, FerretDB, worker, API. */
async function startTradeflow(dataDir: string, ports: Record<string, number>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: '',
      MONGODB_URI: '',
      TRADEFLOW_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // The default market data asks Yahoo at start: here it asks a loopback port nothing listens on, so
      // the test never leaves the machine and always sees the offline default.
      MARKET_DATA_SOURCE: '',
      MARKET_DATA_FILES: '',
      TRADEFLOW_YAHOO_URL: 'http://127.0.0.1:1',
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  const deadline = Date.now() + 90_000;
  while (!output.includes('tradeflow is running')) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, output: () => output };
}

/** The pid of the child of `parent` whose command line contains `name` (read from /proc, no tools needed). */
function childOf(parent: number, name: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the command name before it may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(name)) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  throw new Error(`no child ${name} of ${parent}`);
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

const dataDir = mkdtempSync(join(tmpdir(), 'tradeflow-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start', () => {
  it('starts everything on embedded defaults (the default schedules paused), runs a job, stops cleanly, and keeps jobs and schedules across a restart', async () => {
    const ports = {
      PORT: await freePort(),
      TRADEFLOW_TEMPORAL_PORT: await freePort(),
      TRADEFLOW_TEMPORAL_UI_PORT: await freePort(),
      TRADEFLOW_MONGO_PORT: await freePort(),
    };
    const api = `http://127.0.0.1:${ports.PORT}`;
    const first = await startTradeflow(dataDir, ports);
    expect(first.output()).toContain(`Temporal UI    http://127.0.0.1:${ports.TRADEFLOW_TEMPORAL_UI_PORT}`);
    expect((await fetch(`http://127.0.0.1:${ports.TRADEFLOW_TEMPORAL_UI_PORT}/`)).status).toBe(200);
    expect((await fetch(`${api}/health`)).status).toBe(200);

    // The first start made an admin key: in a file only its owner reads, shown on the terminal once.
    const keyFile = join(dataDir, 'admin-api-key');
    const key = readFileSync(keyFile, 'utf8').trim();
    expect(key).toMatch(/^tf_[A-Za-z0-9_-]{43}$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(first.output().split(key)).toHaveLength(2);
    expect(first.output()).toContain(`-H "Authorization: Bearer $(cat ${keyFile})"`);
    const authed = (url: string, init: RequestInit = {}) =>
      fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${key}` } });
    expect((await fetch(`${api}/jobs`)).status).toBe(401);
    expect((await authed(`${api}/me`)).status).toBe(200);

    // The two default Temporal Schedules exist, paused, at their market times.
    expect(first.output()).toContain('daily-premarket-reports (created, paused)');
    expect(first.output()).toContain('daily-simulation-catch-up (created, paused)');
    const schedule = async (id: string) => (await (await authed(`${api}/schedules/${id}`)).json()) as any;
    const reports = await schedule('daily-premarket-reports');
    expect(reports).toMatchObject({ paused: true, time_zone: 'America/New_York', action: { kind: 'daily_reports' } });
    expect(reports.spec.calendars[0]).toMatchObject({ hour: 8, minute: 30, day_of_week: 'MON-FRI' });
    expect((await schedule('daily-simulation-catch-up')).spec.calendars[0]).toMatchObject({ hour: 17, minute: 0 });
    // A user's change survives a restart: resumed here, still resumed after it.
    const resumed = await authed(`${api}/schedules/daily-premarket-reports/resume`, { method: 'POST' });
    expect(resumed.status).toBe(200);

    const res = await authed(`${api}/simulate/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ start_date: '2026-03-02', end_date: '2026-03-06' }),
    });
    expect(res.status).toBe(202);
    const { job_id, market_data } = (await res.json()) as {
      job_id: string;
      market_data: { source: string; synthetic: boolean; note?: string };
    };
    // Offline, the default is the synthetic walk: the banner says so once, and everything made from it.
    expect(market_data).toMatchObject({ synthetic: true, note: expect.stringMatching(/not the market/) });
    expect(first.output()).toMatch(
      /market data +synthetic: offline \(Yahoo unreachable\), a seeded random walk, not the market/,
    );
    expect(first.output().split('Yahoo unreachable')).toHaveLength(2);
    let status = '';
    for (let i = 0; i < 300 && status !== 'completed'; i++) {
      status = ((await (await authed(`${api}/simulate/status/${job_id}`)).json()) as { status: string }).status;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe('completed');

    // Services that die are started again; the instance stays up and runs the next job.
    for (const name of ['ferretdb', 'worker/main.ts']) process.kill(childOf(first.child.pid!, name), 'SIGKILL');
    const deadline = Date.now() + 60_000;
    while (
      !(first.output().includes('ferretdb is running again') && first.output().includes('worker is running again'))
    ) {
      if (Date.now() > deadline) throw new Error(`no restart: ${first.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    let healthy = 0;
    for (let i = 0; i < 50 && healthy !== 200; i++) {
      healthy = (await fetch(`${api}/health`)).status;
      if (healthy !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(healthy).toBe(200);
    const next = await authed(`${api}/simulate/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ start_date: '2026-03-09', end_date: '2026-03-10' }),
    });
    expect(next.status).toBe(202);
    const nextId = ((await next.json()) as { job_id: string }).job_id;
    let nextStatus = '';
    for (let i = 0; i < 300 && nextStatus !== 'completed'; i++) {
      nextStatus = ((await (await authed(`${api}/jobs/${nextId}`)).json()) as { status: string }).status;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(nextStatus).toBe('completed');
    expect(await stop(first.child)).toBe(0);
    // The key is in no log file.
    for (const file of readdirSync(join(dataDir, 'logs'))) {
      expect(readFileSync(join(dataDir, 'logs', file), 'utf8'), file).not.toContain(key);
    }

    const second = await startTradeflow(dataDir, ports);
    try {
      // The same key still works; the second start says where it is, and does not show it again.
      expect(second.output()).not.toContain(key);
      expect(second.output()).toContain(`API key        ${keyFile}`);
      const again = (await (await authed(`${api}/simulate/status/${job_id}`)).json()) as {
        status: string;
        progress: { completed: number };
      };
      expect(again.status).toBe('completed');
      expect(again.progress.completed).toBe(15);
      expect(second.output()).toContain('daily-premarket-reports (exists, left as is)');
      expect((await schedule('daily-premarket-reports')).paused).toBe(false);
      expect((await schedule('daily-simulation-catch-up')).paused).toBe(true);
    } finally {
      expect(await stop(second.child)).toBe(0);
    }
  }, 240_000);
});
