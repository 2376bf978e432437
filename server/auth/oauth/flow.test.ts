import { describe, expect, it } from 'vitest';
import { unitApp } from '../../../test/support/unitApp.js';
import { type AuthorizationRequest, type ExternalIdentity, OAuthFailure, type OAuthProvider } from './provider.js';

// The two legs of an OAuth sign-in over the app on in-memory stores, with a provider that hands out codes in
// memory. The real providers' halves run against real servers on loopback in test/oauth.e2e.test.ts.

class ProviderInMemory implements OAuthProvider {
  readonly name = 'google' as const;
  readonly asked: AuthorizationRequest[] = [];
  private readonly codes = new Map<string, { identity: ExternalIdentity; verifier: string; nonce: string }>();
  /** Who signs in at the provider next. */
  person: ExternalIdentity = { subject: 's-1', email: 'ann@example.com' };

  async authorizationUrl(r: AuthorizationRequest) {
    this.asked.push(r);
    const code = `code-${this.asked.length}`;
    this.codes.set(code, { identity: this.person, verifier: r.codeVerifier, nonce: r.nonce });
    const url = new URL('https://provider.example/authorize');
    url.searchParams.set('state', r.state);
    url.searchParams.set('code_for_test', code);
    return url;
  }

  async identify(r: { code: string; codeVerifier: string; nonce: string }) {
    const pending = this.codes.get(r.code);
    if (!pending || pending.verifier !== r.codeVerifier || pending.nonce !== r.nonce) {
      throw new OAuthFailure('the provider refused the code: invalid_grant');
    }
    return pending.identity;
  }
}

function setUp() {
  let clock = Date.now();
  const provider = new ProviderInMemory();
  const u = unitApp({
    env: { TRADEFLOW_SIGN_IN_PER_IP: '1000' },
    oauthProviders: new Map([['google', provider]]),
    now: () => new Date(clock),
  });
  /** The first leg: our redirect, and the state cookie it sets. */
  const start = async (query = '') => {
    const res = await u.rawApp.request(`/auth/google/start${query}`);
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    const cookie = /__Host-tradeflow_oauth=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
    return { state: to.searchParams.get('state')!, code: to.searchParams.get('code_for_test')!, cookie, res };
  };
  /** The second leg, as the browser brings it back. */
  const callback = (p: { state?: string; code?: string; cookie?: string | undefined; error?: string }) => {
    const q = new URLSearchParams();
    if (p.state) q.set('state', p.state);
    if (p.code) q.set('code', p.code);
    if (p.error) q.set('error', p.error);
    return u.rawApp.request(`/auth/google/callback?${q}`, {
      headers: p.cookie ? { cookie: `__Host-tradeflow_oauth=${p.cookie}` } : {},
    });
  };
  return { u, provider, start, callback, advance: (ms: number) => (clock += ms) };
}

describe('OAuth sign-in', () => {
  it('sets a __Host- state cookie and keeps the verifier and nonce on the server; the return opens a session', async () => {
    const { u, provider, start, callback } = setUp();
    const ann = await u.addUser('ann@example.com');
    const s = await start('?return_to=/jobs?status=running');
    const cookie = s.res.headers.get('set-cookie')!;
    for (const a of ['Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax', 'Max-Age=600']) expect(cookie).toContain(a);
    expect(s.cookie).toBe(s.state);
    expect(s.res.headers.get('location')).not.toContain(provider.asked[0]!.codeVerifier);
    expect(provider.asked[0]!.redirectUri).toBe('http://localhost/auth/google/callback');

    const back = await callback(s);
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe('/jobs?status=running');
    const session = /__Host-tradeflow_session=([A-Za-z0-9_-]{43});/.exec(back.headers.get('set-cookie') ?? '')?.[1];
    expect(back.headers.get('set-cookie')).toMatch(/__Host-tradeflow_oauth=;/);
    const me = await u.rawApp.request('/me', { headers: { cookie: `__Host-tradeflow_session=${session}` } });
    expect(await me.json()).toMatchObject({ user_id: ann.id, via: 'session' });
  });

  it('the redirect base is TRADEFLOW_PUBLIC_URL when set', async () => {
    const provider = new ProviderInMemory();
    const u = unitApp({
      env: { TRADEFLOW_PUBLIC_URL: 'https://trade.example.com/' },
      oauthProviders: new Map([['google', provider]]),
    });
    expect((await u.rawApp.request('/auth/google/start')).status).toBe(302);
    expect(provider.asked[0]!.redirectUri).toBe('https://trade.example.com/auth/google/callback');
  });

  it('refuses a missing or different state cookie, a second use, a late return, and a provider error', async () => {
    const { u, start, callback, advance } = setUp();
    await u.addUser('ann@example.com');
    const reasons: string[] = [];
    const refused = async (res: Response) => {
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie') ?? '').not.toContain('__Host-tradeflow_session=');
      reasons.push((await res.json()).message);
    };
    const a = await start();
    await refused(await callback({ ...a, cookie: undefined }));
    const b = await start();
    await refused(await callback({ ...b, cookie: a.state }));
    const c = await start();
    expect((await callback(c)).status).toBe(302);
    await refused(await callback(c));
    const d = await start();
    advance(11 * 60_000);
    await refused(await callback(d));
    const e = await start();
    await refused(await callback({ state: e.state, cookie: e.cookie, error: 'access_denied' }));
    const f = await start();
    await refused(await callback({ ...f, code: 'code-1' }));
    expect(reasons).toEqual([
      expect.stringContaining('did not start this sign-in'),
      expect.stringContaining('did not start this sign-in'),
      expect.stringContaining('completed already'),
      expect.stringContaining('took too long'),
      expect.stringContaining('access_denied'),
      expect.stringContaining('invalid_grant'),
    ]);
  });

  it('links the provider account on first sign-in; the link, not the address, names the user later', async () => {
    const { u, provider, start, callback } = setUp();
    const ann = await u.addUser('ann@example.com');
    await u.addUser('other@example.com');
    expect((await callback(await start())).status).toBe(302);
    // The address at the provider changes to another user's: the account still signs in as Ann.
    provider.person = { subject: 's-1', email: 'other@example.com' };
    const back = await callback(await start());
    const session = /__Host-tradeflow_session=([^;]+)/.exec(back.headers.get('set-cookie') ?? '')?.[1];
    const me = await u.rawApp.request('/me', { headers: { cookie: `__Host-tradeflow_session=${session}` } });
    expect((await me.json()).user_id).toBe(ann.id);
  });

  it('two first sign-ins of one account at once link it once', async () => {
    const { u, start, callback } = setUp();
    const ann = await u.addUser('ann@example.com');
    const [x, y] = [await start(), await start()];
    const both = await Promise.all([callback(x), callback(y)]);
    expect(both.map((r) => r.status)).toEqual([302, 302]);
    expect([...u.signInStore.identities.values()]).toEqual([expect.objectContaining({ userId: ann.id })]);
  });

  it('nobody gets an account by signing in; a disabled user is refused', async () => {
    const { u, provider, start, callback } = setUp();
    provider.person = { subject: 's-9', email: 'stranger@example.com' };
    const res = await callback(await start());
    expect(res.status).toBe(401);
    expect((await res.json()).message).toContain('no account has the address stranger@example.com');
    expect(await u.accountStore.userByEmail('stranger@example.com')).toBeNull();
    const ann = await u.addUser('ann@example.com');
    await u.app.request(`/admin/users/${ann.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ disabled: true }),
      headers: { 'content-type': 'application/json' },
    });
    provider.person = { subject: 's-1', email: 'ann@example.com' };
    expect((await callback(await start())).status).toBe(401);
  });

  it('a provider not configured is a 404 that says so; a foreign return_to a 400', async () => {
    const { u } = setUp();
    const github = await u.rawApp.request('/auth/github/start');
    expect(github.status).toBe(404);
    expect((await github.json()).message).toBe('sign-in with github is not configured on this server');
    expect((await u.rawApp.request('/auth/facebook/start')).status).toBe(401);
    for (const bad of ['https://evil.example', '//evil.example', '/\\evil.example', 'me']) {
      const res = await u.rawApp.request(`/auth/google/start?return_to=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
    }
  });

  it('an admin lists a user’s sessions, ends one, or all', async () => {
    const { u, start, callback } = setUp();
    const ann = await u.addUser('ann@example.com');
    const cookies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const back = await callback(await start());
      cookies.push(/__Host-tradeflow_session=([^;]+)/.exec(back.headers.get('set-cookie') ?? '')![1]!);
    }
    const me = (c: string) => u.rawApp.request('/me', { headers: { cookie: `__Host-tradeflow_session=${c}` } });
    const listed = await (await u.app.request(`/admin/users/${ann.id}/sessions`)).json();
    expect(listed.sessions).toHaveLength(3);
    expect(listed.sessions[0]).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{16}$/), via: 'google' });
    for (const c of cookies) expect(JSON.stringify(listed)).not.toContain(c);
    // Ask which session each cookie is by ending them one at a time.
    expect(
      (await u.app.request(`/admin/users/${ann.id}/sessions/${listed.sessions[0].id}`, { method: 'DELETE' })).status,
    ).toBe(204);
    expect(
      (await u.app.request(`/admin/users/${ann.id}/sessions/${listed.sessions[0].id}`, { method: 'DELETE' })).status,
    ).toBe(404);
    const alive = await Promise.all(cookies.map(async (c) => (await me(c)).status));
    expect(alive.filter((s) => s === 200)).toHaveLength(2);
    expect((await u.app.request(`/admin/users/${ann.id}/sessions`, { method: 'DELETE' })).status).toBe(204);
    for (const c of cookies) expect((await me(c)).status).toBe(401);
    expect((await (await u.app.request(`/admin/users/${ann.id}/sessions`)).json()).sessions).toEqual([]);
    expect((await u.app.request('/admin/users/nobody/sessions')).status).toBe(404);
  });
});
