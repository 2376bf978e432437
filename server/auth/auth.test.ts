import { mkdtempSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.js';
import { MemoryAccounts } from '../../storage/accounts.js';
import { analysisJob, simulationJob } from '../../test/support/jobStoreContract.js';
import { routeTable, sendVia, walkRoutes } from '../../test/support/routeWalk.js';
import { unitApp } from '../../test/support/unitApp.js';
import { Accounts } from './accounts.js';
import { ensureAdmin } from './bootstrap.js';
import { newApiKey } from './keys.js';

// Authentication, scopes, keys, rate limits, hosts, CORS and headers over the real app on in-memory stores.

const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
const from = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });
const postJson = (body: unknown, key?: string): RequestInit => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
});

/** A logger whose lines the test reads back. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(s) });
  return { logger, text: () => lines.join('') };
}

describe('authentication', () => {
  it('a request without credentials is a 401 that says how to authenticate; health and the document are open', async () => {
    const { rawApp } = unitApp();
    for (const path of ['/jobs', '/', '/models', '/results', '/admin/users', '/me', '/no-such-route']) {
      const res = await rawApp.request(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate'), path).toMatch(/^Bearer realm="tradeflow"/);
      expect((await res.json()).error).toBe('unauthorized');
    }
    expect((await rawApp.request('/openapi.json')).status).toBe(200);
    for (const path of ['/health', '/healthz']) expect((await rawApp.request(path)).status, path).not.toBe(401);
  });

  it('a wrong, malformed, revoked or expired key, or a disabled or deleted user, is a 401 that never repeats the key', async () => {
    const u = unitApp();
    const user = await u.addUser('a@example.com');
    const expiring = await u.accounts.createKey(user.id, {
      scopes: ['read'],
      expiresAt: new Date(Date.now() + 60_000),
    });
    const unknown = newApiKey().key;
    const tries: Array<[string, string | undefined, RegExp]> = [
      ['unknown key', `Bearer ${unknown}`, /unknown API key/],
      ['not a key', 'Bearer hello', /not a tradeflow API key/],
      ['basic auth', 'Basic dXNlcjpwYXNz', /is not .{0,4}Bearer <API key>/],
      ['empty', '', /is not .{0,4}Bearer <API key>/],
    ];
    for (const [what, header, reason] of tries) {
      const res = await u.rawApp.request('/jobs', { headers: { authorization: header ?? '' } });
      expect(res.status, what).toBe(401);
      const text = await res.text();
      expect(text, what).toMatch(reason);
      expect(text).not.toContain(unknown);
    }
    expect((await u.rawApp.request('/me', bearer(user.key))).status).toBe(200);
    expect((await u.rawApp.request('/me', bearer(expiring.key))).status).toBe(200);

    // Expired: the same key, a minute later by the accounts' clock.
    const later = new Accounts(u.accountStore, {
      logger: pino({ level: 'silent' }),
      now: () => new Date(Date.now() + 120_000),
    });
    expect(await later.authenticate(expiring.key)).toEqual({
      ok: false,
      reason: `API key ${expiring.doc.keyId} expired`,
    });

    expect((await u.app.request(`/admin/users/${user.id}/api-keys/${user.keyId}`, { method: 'DELETE' })).status).toBe(
      204,
    );
    const revoked = await u.rawApp.request('/me', bearer(user.key));
    expect(revoked.status).toBe(401);
    expect(await revoked.text()).toContain('was revoked');

    const second = await u.accounts.createKey(user.id, { scopes: ['read'] });
    expect((await u.rawApp.request('/me', bearer(second.key))).status).toBe(200);
    const disable = await u.app.request(`/admin/users/${user.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ disabled: true }),
      headers: { 'content-type': 'application/json' },
    });
    expect(disable.status).toBe(200);
    expect((await disable.json()).disabled).toBe(true);
    expect(await (await u.rawApp.request('/me', bearer(second.key))).text()).toContain('is disabled');
    await u.app.request(`/admin/users/${user.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ disabled: false }),
      headers: { 'content-type': 'application/json' },
    });
    expect((await u.rawApp.request('/me', bearer(second.key))).status).toBe(200);
    expect((await u.app.request(`/admin/users/${user.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await u.rawApp.request('/me', bearer(second.key))).status).toBe(401);
    expect((await u.app.request(`/admin/users/${user.id}`)).status).toBe(404);
  });

  it('scopes: read reads, run writes, admin manages; a key never holds more than its user', async () => {
    const u = unitApp();
    const reader = await u.addUser('r@example.com', ['read']);
    const runner = await u.addUser('w@example.com', ['run']);
    const read = await reader.app.request('/jobs');
    expect(read.status).toBe(200);
    const write = await reader.app.request('/run', postJson({ ticker: 'AAPL' }));
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toContain('error="insufficient_scope", scope="run"');
    expect(await write.json()).toMatchObject({ error: 'insufficient_scope', required_scope: 'run' });
    expect((await runner.app.request('/jobs')).status).toBe(403);
    expect((await runner.app.request('/admin/users')).status).toBe(403);
    expect((await reader.app.request('/admin/users')).status).toBe(403);
    // The admin scope for a user who is not an admin is refused.
    const refused = await u.app.request(`/admin/users/${reader.id}/api-keys`, postJson({ scopes: ['admin'] }));
    expect(refused.status).toBe(422);
  });

  it('an admin key acts for a user with x-tradeflow-act-as (the worker starting a scheduled job); no other key may', async () => {
    const u = unitApp();
    const user = await u.addUser('owner@example.com');
    const other = await u.addUser('other@example.com');
    const me = await u.app.request('/me', { headers: { 'x-tradeflow-act-as': user.id } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user_id: user.id, role: 'user', scopes: ['read', 'run'] });
    // Acting as the user, the admin sees only the user's jobs.
    const theirs = analysisJob({ owner: other.id });
    await u.jobs.insertIfAbsent(theirs);
    const seen = await u.app.request(`/jobs/${theirs._id}`, { headers: { 'x-tradeflow-act-as': user.id } });
    expect(seen.status).toBe(404);
    const refused = await other.app.request('/me', { headers: { 'x-tradeflow-act-as': user.id } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'insufficient_scope' });
  });

  it('admins create users and keys: the key is shown once, listed never, and works at once', async () => {
    const u = unitApp();
    const created = await u.app.request('/admin/users', postJson({ email: 'Carol@Example.com' }));
    expect(created.status).toBe(201);
    const user = await created.json();
    expect(user).toMatchObject({ email: 'carol@example.com', role: 'user', disabled: false });
    expect(user.id).toMatch(/^usr_[0-9a-f]{16}$/);
    expect((await u.app.request('/admin/users', postJson({ email: 'carol@example.com' }))).status).toBe(409);

    const made = await u.app.request(
      `/admin/users/${user.id}/api-keys`,
      postJson({ scopes: ['read', 'run'], name: 'cron', expires_at: '2099-01-01T00:00:00Z' }),
    );
    expect(made.status).toBe(201);
    expect(made.headers.get('cache-control')).toBe('no-store');
    const key = await made.json();
    expect(key.key).toMatch(/^tf_[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({
      user_id: user.id,
      scopes: ['read', 'run'],
      name: 'cron',
      expires_at: '2099-01-01T00:00:00.000Z',
    });
    expect(key.prefix).toBe(key.key.slice(0, 7));
    // Stored as its hash: nothing in the store holds the key.
    expect(JSON.stringify([...u.accountStore.keysByHash.values()])).not.toContain(key.key);

    const me = await u.rawApp.request('/me', bearer(key.key));
    expect(await me.json()).toMatchObject({
      user_id: user.id,
      email: 'carol@example.com',
      via: 'api_key',
      key_id: key.id,
    });

    const listed = await (await u.app.request(`/admin/users/${user.id}/api-keys`)).json();
    expect(listed.api_keys).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(key.key);
    expect(listed.api_keys[0].last_used_at).not.toBeNull();
    const own = await (await u.rawApp.request('/me/api-keys', bearer(key.key))).json();
    expect(own.api_keys.map((k: { id: string }) => k.id)).toEqual([key.id]);
    const users = await (await u.app.request('/admin/users')).json();
    expect(users.users.map((x: { id: string }) => x.id)).toEqual(['local', user.id]);

    // A user revokes its own key; another user's key id is not found.
    const other = await u.addUser('d@example.com');
    expect(
      (await u.rawApp.request(`/me/api-keys/${other.keyId}`, { method: 'DELETE', ...bearer(key.key) })).status,
    ).toBe(404);
    expect((await u.rawApp.request(`/me/api-keys/${key.id}`, { method: 'DELETE', ...bearer(key.key) })).status).toBe(
      204,
    );
    expect((await u.rawApp.request('/me', bearer(key.key))).status).toBe(401);
    expect((await u.rawApp.request('/me', bearer(other.key))).status).toBe(200);
    // An admin cannot lock itself out.
    expect((await u.app.request('/admin/users/local', { method: 'DELETE' })).status).toBe(422);
  });

  it('while the database cannot be asked, a key checked good a moment ago stays good; an unchecked one is an error', async () => {
    const store = new MemoryAccounts();
    let clock = Date.now();
    const accounts = new Accounts(store, { logger: pino({ level: 'silent' }), cacheMs: 1_000 });
    const user = await accounts.createUser('f@example.com', 'user');
    const { key } = await accounts.createKey(user._id, { scopes: ['read'] });
    const other = (await accounts.createKey(user._id, { scopes: ['read'] })).key;
    expect((await accounts.authenticate(key)).ok).toBe(true);
    store.keyByHash = async () => {
      throw new Error('database unreachable');
    };
    const realNow = Date.now;
    try {
      clock += 5_000;
      Date.now = () => clock;
      expect((await accounts.authenticate(key)).ok).toBe(true);
      await expect(accounts.authenticate(other)).rejects.toThrow('database unreachable');
      clock += 10 * 60_000;
      await expect(accounts.authenticate(key)).rejects.toThrow('database unreachable');
    } finally {
      Date.now = realNow;
    }
  });

  it('the first start creates the admin and its key in a 0600 file; later starts create nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tradeflow-admin-'));
    const accounts = new Accounts(new MemoryAccounts(), { logger: pino({ level: 'silent' }) });
    const first = await ensureAdmin(accounts, dir);
    expect(first.created).toBe(true);
    if (!first.created) return;
    expect(first.file).toBe(join(dir, 'admin-api-key'));
    expect((await readFile(first.file, 'utf8')).trim()).toBe(first.key);
    expect((await stat(first.file)).mode & 0o777).toBe(0o600);
    const who = await accounts.authenticate(first.key);
    expect(who.ok && who.principal).toMatchObject({ userId: 'local', admin: true });
    expect(await ensureAdmin(accounts, dir)).toEqual({ created: false, file: first.file, fileExists: true });
    expect(await accounts.store.keys('local')).toHaveLength(1);
  });
});

describe('trusted networks and authentication off', () => {
  it('a request from a trusted network acts as the service user with read and run, logged as such', async () => {
    const log = capturedLogger();
    const u = unitApp({ env: { TRADEFLOW_TRUSTED_NETWORKS: '10.0.0.0/8, fd00::/8' }, logger: log.logger });
    const me = await u.rawApp.request('/me', {}, from('10.1.2.3'));
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      user_id: 'trusted-network',
      via: 'trusted_network',
      role: 'service',
      scopes: ['read', 'run'],
    });
    expect((await u.rawApp.request('/me', {}, from('::ffff:10.9.9.9'))).status).toBe(200);
    expect((await u.rawApp.request('/me', {}, from('fd00::1'))).status).toBe(200);
    expect((await u.rawApp.request('/admin/users', {}, from('10.1.2.3'))).status).toBe(403);
    expect((await u.rawApp.request('/me', {}, from('192.168.1.1'))).status).toBe(401);
    expect((await u.rawApp.request('/me', {}, from('11.0.0.1'))).status).toBe(401);
    expect(log.text()).toMatch(/"ip":"10\.1\.2\.3","user":"trusted-network".*trusted network/);
    // A key still speaks for its user from a trusted network.
    const who = await (await u.rawApp.request('/me', bearer(u.adminKey), from('10.1.2.3'))).json();
    expect(who.user_id).toBe('local');
  });

  it('turning authentication off is refused unless the service listens on loopback', () => {
    expect(() => loadSettings({ TRADEFLOW_AUTH: 'off', HOST: '0.0.0.0' })).toThrow(
      /only allowed on a loopback address/,
    );
    expect(() => loadSettings({ TRADEFLOW_AUTH: 'off', HOST: '192.168.1.10' })).toThrow(/loopback/);
    expect(loadSettings({ TRADEFLOW_AUTH: 'off', HOST: '127.0.0.1' }).auth.enabled).toBe(false);
    expect(loadSettings({ TRADEFLOW_AUTH: 'off', HOST: '::1' }).auth.enabled).toBe(false);
    expect(loadSettings({}).auth.enabled).toBe(true);
    expect(() => loadSettings({ TRADEFLOW_TRUSTED_NETWORKS: '10.0.0.0/33' })).toThrow(/not an address or CIDR/);
  });

  it('with authentication off every request acts as the admin', async () => {
    const u = unitApp({ env: { TRADEFLOW_AUTH: 'off' } });
    const me = await u.rawApp.request('/me');
    expect(await me.json()).toMatchObject({ user_id: 'local', via: 'auth_off' });
  });
});

describe('rate limits and the job cap', () => {
  it('per key: the limit is counted per key, told in RateLimit headers, and a 429 says when to retry', async () => {
    const u = unitApp({ env: { TRADEFLOW_RATE_LIMIT_PER_KEY: '3' } });
    const a = await u.addUser('a@example.com');
    const b = await u.addUser('b@example.com');
    const first = await a.app.request('/jobs');
    expect(first.headers.get('ratelimit-policy')).toContain('"per-key";q=3;w=60');
    expect(first.headers.get('ratelimit')).toMatch(/"per-key";r=2;t=\d+/);
    await a.app.request('/jobs');
    await a.app.request('/jobs');
    const over = await a.app.request('/jobs');
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.headers.get('ratelimit')).toMatch(/"per-key";r=0;t=\d+/);
    expect((await over.json()).error).toBe('rate_limited');
    expect((await b.app.request('/jobs')).status).toBe(200);
  });

  it('per address, whatever the key, and fewer tries for wrong keys', async () => {
    const u = unitApp({ env: { TRADEFLOW_RATE_LIMIT_PER_IP: '4', TRADEFLOW_AUTH_FAILURES_PER_IP: '2' } });
    for (let i = 0; i < 4; i++) expect((await u.app.request('/jobs', {}, from('203.0.113.7'))).status).toBe(200);
    const over = await u.app.request('/jobs', {}, from('203.0.113.7'));
    expect(over.status).toBe(429);
    expect(over.headers.get('ratelimit-policy')).toContain('"per-ip";q=4;w=60');
    expect(over.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await u.app.request('/jobs', {}, from('203.0.113.8'))).status).toBe(200);

    const wrong = bearer(newApiKey().key);
    expect((await u.rawApp.request('/jobs', wrong, from('198.51.100.1'))).status).toBe(401);
    expect((await u.rawApp.request('/jobs', wrong, from('198.51.100.1'))).status).toBe(401);
    const locked = await u.rawApp.request('/jobs', bearer(u.adminKey), from('198.51.100.1'));
    expect(locked.status).toBe(429);
    expect(locked.headers.get('ratelimit-policy')).toContain('"auth-failures";q=2');
    expect((await u.rawApp.request('/jobs', bearer(u.adminKey), from('198.51.100.2'))).status).toBe(200);
  });

  it('a user with as many unfinished jobs as the cap cannot start another; other users can', async () => {
    const u = unitApp({ env: { TRADEFLOW_MAX_ACTIVE_JOBS_PER_USER: '1' } });
    const a = await u.addUser('a@example.com');
    const b = await u.addUser('b@example.com');
    await u.jobs.insertIfAbsent(analysisJob({ owner: a.id }));
    for (const [path, body] of [
      ['/run', { ticker: 'AAPL' }],
      ['/jobs', { ticker: 'AAPL', date: '2025-06-02' }],
      ['/simulate/trigger', {}],
    ] as const) {
      const res = await a.app.request(path, postJson(body));
      expect(res.status, path).toBe(429);
      expect(res.headers.get('retry-after')).toBe('30');
      expect(await res.json()).toMatchObject({ error: 'too_many_active_jobs', active_jobs: 1, limit: 1 });
    }
    // B has none running: its start goes past the cap (and on to Temporal, which this unit app cannot reach).
    expect((await b.app.request('/run', postJson({ ticker: 'AAPL' }))).status).not.toBe(429);
  });
});

describe('browsers: hosts, CORS and headers', () => {
  it('a Host that is not loopback or configured is refused (DNS rebinding); health answers any Host', async () => {
    const u = unitApp({ env: { TRADEFLOW_ALLOWED_HOSTS: 'api.example.com,tradeflow:8080' } });
    const evil = await u.app.request('http://rebound.attacker.example/jobs');
    expect(evil.status).toBe(403);
    expect((await evil.json()).error).toBe('forbidden_host');
    for (const url of [
      'http://localhost:8080/jobs',
      'http://127.0.0.1:8080/jobs',
      'http://[::1]:8080/jobs',
      'http://api.example.com/jobs',
      'http://tradeflow:8080/jobs',
    ]) {
      expect((await u.app.request(url)).status, url).toBe(200);
    }
    expect((await u.app.request('http://tradeflow:9999/jobs')).status).toBe(403);
    expect((await u.app.request('http://10.0.0.5:8080/health')).status).not.toBe(403);
  });

  it('CORS answers the allowed origins only', async () => {
    const u = unitApp({ allowedOrigins: ['https://dash.example.com'] });
    const preflight = (origin: string) =>
      u.rawApp.request('/jobs', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
    const ok = await preflight('https://dash.example.com');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    expect(ok.headers.get('access-control-allow-headers')).toContain('Authorization');
    const bad = await preflight('https://evil.example');
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    const get = await u.app.request('/jobs', { headers: { origin: 'https://evil.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await u.app.request('/jobs', { headers: { origin: 'https://dash.example.com' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('RateLimit');
  });

  it('every response carries the security headers: success, error, 401, 429 and health alike', async () => {
    const u = unitApp({ env: { TRADEFLOW_RATE_LIMIT_PER_KEY: '1' } });
    const responses = [
      await u.app.request('/jobs'),
      await u.app.request('/jobs'), // 429
      await u.rawApp.request('/jobs'), // 401
      await u.rawApp.request('/health'),
      await u.rawApp.request('/openapi.json'),
      await u.rawApp.request('http://evil.example/jobs'),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 429, 401, expect.any(Number), 200, 403]);
    for (const res of responses) {
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
  });
});

describe('no secrets in logs or errors', () => {
  it('keys created, used, mistyped and revoked never reach the log', async () => {
    const log = capturedLogger();
    const u = unitApp({ logger: log.logger });
    const keys: string[] = [u.adminKey];
    const made = await (await u.app.request('/admin/users', postJson({ email: 'e@example.com' }))).json();
    const key = (await (await u.app.request(`/admin/users/${made.id}/api-keys`, postJson({ scopes: ['read'] }))).json())
      .key;
    keys.push(key);
    await u.rawApp.request('/jobs', bearer(key));
    const typo = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    keys.push(typo);
    const wrong = await u.rawApp.request('/jobs', bearer(typo));
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain(typo);
    await u.rawApp.request('/run', postJson({ ticker: 'AAPL' }, key));
    await u.app.request(`/admin/users/${made.id}/api-keys/${key.slice(0, 10)}`, { method: 'DELETE' });
    const text = log.text();
    expect(text).toContain('authentication failed');
    expect(text).toContain('API key created');
    for (const k of keys) {
      expect(text).not.toContain(k);
      expect(text).not.toContain(k.slice(3));
    }
    expect(text).not.toMatch(/tf_[A-Za-z0-9_-]{20,}/);
  });
});

describe('isolation: every route of the route table, as nobody, another user, the owner and an admin', () => {
  it('walks the whole table over in-memory stores', async () => {
    const u = unitApp();
    const a = await u.addUser('a@example.com');
    const b = await u.addUser('b@example.com');
    const batchId = 'batch-walk-a';
    const an = analysisJob({ owner: a.id });
    an.analysis.batchId = batchId;
    await u.jobs.insertIfAbsent(an);
    await u.jobs.insertIfAbsent(simulationJob({ owner: a.id }));
    // Schedules live in Temporal, which this app cannot reach: their routes are walked over HTTP on the real
    // Temporal (test/accounts.e2e.test.ts).
    const routes = routeTable(u.rawApp).filter((r) => !r.path.startsWith('/schedules'));
    const send = sendVia((url, init) => Promise.resolve(u.rawApp.request(url, init)), 'http://localhost');
    const walked = await walkRoutes(routes, send, {
      owner: { key: a.key, ids: { jobId: an._id, batchId, userId: a.id, keyId: a.keyId } },
      other: { key: b.key },
      admin: { key: u.adminKey },
    });
    // The table is the app's: the documented routes are all in it, and so are the undocumented ones.
    const documented = Object.entries((await (await u.rawApp.request('/openapi.json')).json()).paths).flatMap(
      ([path, item]) =>
        Object.keys(item as object).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    for (const d of documented.filter((x) => !x.includes(' /schedules'))) {
      expect(walked.map((w) => w.replace(/\{[^}]*\}/g, ''))).toContain(d);
    }
    expect(walked).toContain('GET /jobs/:jobId/files/:path{.+}');
    expect(walked).toContain('DELETE /admin/users/:userId');
    expect(walked.length).toBeGreaterThan(30);
  });
});
