import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';

// Rate limits, the trusted network, Host checks and key expiry over real HTTP, on a service with small
// limits (no worker: nothing here runs a job).

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    models: STRATEGY_MODELS,
    worker: false,
    env: {
      TRADEFLOW_RATE_LIMIT_PER_KEY: '20',
      TRADEFLOW_RATE_LIMIT_PER_IP: '1000',
      TRADEFLOW_AUTH_FAILURES_PER_IP: '5',
      TRADEFLOW_TRUSTED_NETWORKS: '127.0.0.0/8',
      TRADEFLOW_ALLOWED_HOSTS: 'tradeflow.example',
    },
  });
}, 120_000);
afterAll(async () => h?.stop());

/** A GET with the Host header we choose (fetch sets Host from the URL). */
function getWithHost(path: string, host: string, key: string): Promise<{ status: number; body: string }> {
  const url = new URL(h.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, headers: { host, authorization: `Bearer ${key}` } },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('abuse resistance over real HTTP', () => {
  it('a key over its limit gets 429 with the standard headers; another key does not', async () => {
    const u = await h.createUser('limited@example.com', ['read']);
    const statuses: number[] = [];
    let last: Awaited<ReturnType<Harness['api']>> | undefined;
    for (let i = 0; i < 21; i++) {
      last = await h.api('/jobs', { key: u.key });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([...Array(20).fill(200), 429]);
    expect(last!.headers.get('ratelimit-policy')).toContain('"per-key";q=20;w=60');
    expect(last!.headers.get('ratelimit')).toMatch(/"per-key";r=0;t=\d+/);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last!.body.error).toBe('rate_limited');
    const other = await h.createUser('other@example.com', ['read']);
    expect((await h.api('/jobs', { key: other.key })).status).toBe(200);
  });

  it('answers only the Host names it has: loopback and the allowed ones (DNS rebinding)', async () => {
    const key = (await h.createUser('hosts@example.com', ['read'])).key;
    expect((await getWithHost('/me', 'evil.example', key)).status).toBe(403);
    expect((await getWithHost('/me', 'evil.example', key)).body).toContain('forbidden_host');
    expect((await getWithHost('/me', 'tradeflow.example', key)).status).toBe(200);
    expect((await getWithHost('/me', 'localhost:8080', key)).status).toBe(200);
    expect((await getWithHost('/health', 'evil.example', key)).status).not.toBe(403);
  });

  it('an expiring key works until its time, then is a 401', async () => {
    const u = await h.createUser('expiring@example.com', ['read']);
    const expiresAt = new Date(Date.now() + 3_000);
    const made = await h.api(`/admin/users/${u.id}/api-keys`, {
      method: 'POST',
      json: { scopes: ['read'], expires_at: expiresAt.toISOString() },
    });
    expect(made.status).toBe(201);
    expect(made.body.expires_at).toBe(expiresAt.toISOString());
    const first = await h.api('/me', { key: made.body.key });
    // However slow the machine, the key was good before its time and is refused after it.
    if (Date.now() < expiresAt.getTime()) expect(first.status).toBe(200);
    let status = first.status;
    const deadline = Date.now() + 60_000;
    while (status !== 401 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await h.api('/me', { key: made.body.key })).status;
    }
    expect(status).toBe(401);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime());
    expect((await h.api('/me', { key: made.body.key })).body.message).toContain('expired');
  });

  // Last: it locks this address out for the rest of the window.
  it('from a trusted network a request without a key is the service user; wrong keys lock the address out', async () => {
    const me = await h.api('/me', { key: null });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user_id: 'trusted-network', via: 'trusted_network', scopes: ['read', 'run'] });
    expect((await h.api('/admin/users', { key: null })).status).toBe(403);
    // Wrong (and expired) keys count against the address, whatever network it is on: a few, then 429.
    const seen: number[] = [];
    for (let i = 0; i < 6 && !seen.includes(429); i++) {
      seen.push((await h.api('/me', { key: `tf_${String(i).repeat(43)}` })).status);
    }
    expect(seen.at(-1)).toBe(429);
    expect(seen.slice(0, -1).every((s) => s === 401)).toBe(true);
    // A right key from that address is refused too, until the window ends.
    const locked = await h.api('/me', { key: h.adminKey });
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe('rate_limited');
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
