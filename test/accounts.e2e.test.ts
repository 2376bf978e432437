import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';
import { routeTable, sendVia, walkRoutes } from './support/routeWalk.js';

// Accounts and isolation over real HTTP on the real services (Temporal, FerretDB, a worker): two users'
// jobs, ledgers, streams, files and keys, the whole route table walked, and no key anywhere it should not be.

const lines: string[] = [];
let h: Harness;
let a: { id: string; key: string; keyId: string };
let b: { id: string; key: string; keyId: string };
let aSimulation: string;
let aAnalysis: string;
let aBatch: string;

beforeAll(async () => {
  h = await startHarness({
    models: STRATEGY_MODELS,
    logger: pino({ level: 'debug' }, { write: (s: string) => lines.push(s) }),
  });
  a = await h.createUser('a@example.com');
  b = await h.createUser('b@example.com');
}, 120_000);
afterAll(async () => h?.stop());

const RANGE = { start_date: '2025-03-03', end_date: '2025-03-05', models: ['buy-and-hold', 'momentum'] };

describe('two users on the real services', () => {
  it('each user starts jobs of its own; the same model id gives each user a ledger of its own', async () => {
    const sim = await h.api('/simulate/trigger', { method: 'POST', json: RANGE, key: a.key });
    expect(sim.status).toBe(202);
    aSimulation = sim.body.job_id;
    const batch = await h.api('/run', {
      method: 'POST',
      json: { tickers: ['AAPL', 'MSFT'], pipeline: 'news-only', date: '2025-07-01' },
      key: a.key,
    });
    expect(batch.status).toBe(202);
    aBatch = batch.body.batch_id;
    aAnalysis = batch.body.job_ids[0];
    const ended = await h.waitForJob(aSimulation, (j) => j.status === 'completed', 120_000);
    expect(ended.owner).toBe(a.id);
    for (const id of batch.body.job_ids) expect((await h.waitForJob(id, undefined, 120_000)).owner).toBe(a.id);

    // B asks for the very same simulation: not A's job, not "already simulated": B's own, from scratch.
    const mine = await h.api('/simulate/trigger', { method: 'POST', json: RANGE, key: b.key });
    expect(mine.status).toBe(202);
    expect(mine.body.job_id).not.toBe(aSimulation);
    await h.waitForJob(mine.body.job_id, (j) => j.status === 'completed', 120_000);
    // Each ledger holds its own user's days only: asked by job, B's has B's job's and none of A's.
    const values = async (key: string, jobId: string) => {
      const r = await h.api(`/results?start_date=2025-03-03&end_date=2025-03-05&job_id=${jobId}`, { key });
      expect(r.status).toBe(200);
      return (r.body.models as Array<{ daily_portfolio_values: unknown[] }>).flatMap((m) => m.daily_portfolio_values)
        .length;
    };
    expect(await values(b.key, mine.body.job_id)).toBe(6);
    expect(await values(b.key, aSimulation)).toBe(0);
    expect(await values(a.key, aSimulation)).toBe(6);
    expect(await values(a.key, mine.body.job_id)).toBe(0);
    // A's catch-up sees only A's ledger: A is up to date, whatever B did.
    const again = await h.api('/simulate/trigger', {
      method: 'POST',
      json: { models: RANGE.models, end_date: RANGE.end_date },
      key: a.key,
    });
    expect(again.body.status).toBe('current');

    // Lists: each user its own, the admin everyone's.
    const ids = async (key: string) =>
      ((await h.api('/jobs?limit=200', { key })).body.jobs as Array<{ job_id: string }>).map((j) => j.job_id);
    expect(await ids(a.key)).toContain(aSimulation);
    expect(await ids(b.key)).toEqual([mine.body.job_id]);
    expect(await ids(h.adminKey)).toEqual(expect.arrayContaining([aSimulation, mine.body.job_id, aAnalysis]));
    expect((await h.api('/simulate/current', { key: b.key })).body.job_id).toBe(mine.body.job_id);
  }, 300_000);

  it('every route of the route table: 401 without a key, 404 for another user, the owner and admins served', async () => {
    const routes = routeTable(h.anotherApp() as never);
    // A schedule of A's, paused, so it starts nothing while the walk runs.
    const scheduleId = `walk-${a.id}`.slice(0, 60);
    const made = await h.api('/schedules', {
      method: 'POST',
      key: a.key,
      json: {
        schedule_id: scheduleId,
        spec: { cron: ['0 17 * * MON-FRI'] },
        time_zone: 'America/New_York',
        paused: true,
        action: { kind: 'simulation_catch_up' },
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const walked = await walkRoutes(routes, sendVia(fetch, h.baseUrl), {
      owner: {
        key: a.key,
        ids: { jobId: aAnalysis, batchId: aBatch, userId: a.id, keyId: a.keyId, scheduleId },
      },
      other: { key: b.key },
      admin: { key: h.adminKey },
    });
    expect(walked).toContain('GET /jobs/:jobId/logs/stream');
    expect(walked).toContain('GET /jobs/:jobId/webhooks');
    expect(walked).toContain('DELETE /schedules/:scheduleId');
    // The simulation-only routes, with A's simulation: B gets 404, A its status.
    expect((await h.api(`/simulate/status/${aSimulation}`, { key: b.key })).status).toBe(404);
    const stream = await fetch(`${h.baseUrl}/jobs/${aSimulation}/logs/stream`, {
      headers: { authorization: `Bearer ${b.key}` },
    });
    expect(stream.status).toBe(404);
    // The walk deleted A at its end (as the admin): A's key no longer opens anything.
    expect((await h.api('/me', { key: a.key })).status).toBe(401);
  }, 300_000);

  it('a revoked key stops at once; a read key cannot start jobs', async () => {
    const reader = await h.api(`/admin/users/${b.id}/api-keys`, { method: 'POST', json: { scopes: ['read'] } });
    expect(reader.status).toBe(201);
    const read = reader.body.key as string;
    expect((await h.api('/jobs', { key: read })).status).toBe(200);
    expect((await h.api('/run', { method: 'POST', json: { ticker: 'AAPL' }, key: read })).status).toBe(403);
    expect((await h.api(`/admin/users/${b.id}/api-keys/${reader.body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.api('/jobs', { key: read })).status).toBe(401);
    const listed = await h.api(`/admin/users/${b.id}/api-keys`);
    const revoked = listed.body.api_keys.find((k: { id: string }) => k.id === reader.body.id);
    expect(revoked.revoked_at).not.toBeNull();
    expect(revoked.last_used_at).not.toBeNull();
  });

  it('no key is in the logs, the error bodies or anything stored', async () => {
    const keys = [h.adminKey, a.key, b.key];
    const logText = lines.join('');
    expect(logText).toContain('authentication failed');
    for (const key of keys) expect(logText).not.toContain(key);
    expect(logText).not.toMatch(/tf_[A-Za-z0-9_-]{20,}/);
    // Every document of every collection: keys are stored as hashes, jobs hold no header.
    const collections = await h.db.db.listCollections().toArray();
    let stored = '';
    for (const { name } of collections) stored += JSON.stringify(await h.db.db.collection(name).find({}).toArray());
    expect(stored).toContain('"keyId"');
    for (const key of keys) {
      expect(stored).not.toContain(key);
      expect(stored).not.toContain(key.slice(3));
    }
    expect(stored).not.toMatch(/tf_[A-Za-z0-9_-]{20,}/);
  });
});
