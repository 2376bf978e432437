import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';
import { Browser, type Hop } from './support/browser.js';
import { type GitHubServer, startGitHubServer } from './support/gitHubServer.js';
import { type OidcServer, startOidcServer } from './support/oidcServer.js';

// Signing in with Google (a real OpenID provider on loopback, `oidc-provider`) and GitHub (a GitHub-shaped
// server on loopback, at an Enterprise-style base URL) over real HTTP, as a browser does it.

let oidc: OidcServer;
let github: GitHubServer;
let h: Harness;

beforeAll(async () => {
  oidc = await startOidcServer();
  github = await startGitHubServer();
  h = await startHarness({
    models: STRATEGY_MODELS,
    env: {
      TRADEFLOW_GOOGLE_CLIENT_ID: oidc.clientId,
      TRADEFLOW_GOOGLE_CLIENT_SECRET: oidc.clientSecret,
      TRADEFLOW_GOOGLE_ISSUER: oidc.issuer,
      TRADEFLOW_GITHUB_CLIENT_ID: github.clientId,
      TRADEFLOW_GITHUB_CLIENT_SECRET: github.clientSecret,
      TRADEFLOW_GITHUB_URL: github.url,
      // Each sign-in here is two requests from one address: this file signs in more than a person would.
      TRADEFLOW_SIGN_IN_PER_IP: '1000',
    },
  });
  oidc.allowRedirect(`${h.baseUrl}/auth/google/callback`);
}, 120_000);
afterAll(async () => {
  await h?.stop();
  await oidc?.close();
  await github?.close();
});

const SESSION = '__Host-tradeflow_session';
const STATE = '__Host-tradeflow_oauth';
const last = (hops: Hop[]) => hops.at(-1)!;
/** The hop that brought the browser back to us from the provider. */
const callbackHop = (hops: Hop[], provider: string) => hops.find((x) => x.url.includes(`/auth/${provider}/callback`))!;

describe('sign-in with Google (OpenID Connect)', () => {
  it('state, PKCE and nonce go out; the verified address signs in its user and lands on return_to', async () => {
    const user = await h.createUser('gwen@example.com');
    oidc.signInAs({ sub: 'google-gwen', email: 'Gwen@Example.com', email_verified: true });
    const browser = new Browser();
    const hops = await browser.follow(`${h.baseUrl}/auth/google/start?return_to=/me`);

    const toProvider = new URL(hops[0]!.location!);
    expect(toProvider.origin).toBe(oidc.issuer);
    expect(toProvider.searchParams.get('code_challenge_method')).toBe('S256');
    for (const p of ['state', 'nonce', 'code_challenge']) expect(toProvider.searchParams.get(p)).toMatch(/.{20,}/);
    expect(toProvider.searchParams.get('scope')).toBe('openid email');
    expect(toProvider.searchParams.get('redirect_uri')).toBe(`${h.baseUrl}/auth/google/callback`);

    const back = callbackHop(hops, 'google');
    expect(back.status).toBe(302);
    expect(back.location).toBe(`${h.baseUrl}/me`);
    expect(last(hops).status).toBe(200);
    expect(JSON.parse(last(hops).body!)).toMatchObject({ user_id: user.id, via: 'session' });
    expect(browser.cookie(h.baseUrl, SESSION)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(browser.cookie(h.baseUrl, STATE)).toBeUndefined();

    // The admin sees the session, how it was opened, and can end it.
    const sessions = await h.api(`/admin/users/${user.id}/sessions`);
    expect(sessions.body.sessions).toEqual([expect.objectContaining({ via: 'google' })]);
    const ended = await h.api(`/admin/users/${user.id}/sessions/${sessions.body.sessions[0].id}`, { method: 'DELETE' });
    expect(ended.status).toBe(204);
    const after = await fetch(`${h.baseUrl}/me`, {
      headers: { cookie: `${SESSION}=${browser.cookie(h.baseUrl, SESSION)}` },
    });
    expect(after.status).toBe(401);
  });

  it('a code comes back once: the same redirect replayed is refused', async () => {
    await h.createUser('rita@example.com');
    oidc.signInAs({ sub: 'google-rita', email: 'rita@example.com', email_verified: true });
    const browser = new Browser();
    const hops = await browser.follow(`${h.baseUrl}/auth/google/start`);
    const back = callbackHop(hops, 'google');
    expect(back.status).toBe(302);
    // Replayed with the state cookie restored, as an attacker holding both would.
    const state = new URL(back.url).searchParams.get('state')!;
    const replay = await fetch(back.url, { redirect: 'manual', headers: { cookie: `${STATE}=${state}` } });
    expect(replay.status).toBe(401);
    expect((await replay.json()).message).toContain('completed already');
  });

  it("another browser cannot finish someone's sign-in (no state cookie: login CSRF)", async () => {
    await h.createUser('vic@example.com');
    oidc.signInAs({ sub: 'google-vic', email: 'vic@example.com', email_verified: true });
    const attacker = new Browser();
    const hops = await attacker.follow(`${h.baseUrl}/auth/google/start`, {
      stopAt: (u) => u.pathname === '/auth/google/callback',
    });
    const callbackUrl = last(hops).url;
    const victim = await fetch(callbackUrl, { redirect: 'manual' });
    expect(victim.status).toBe(401);
    expect((await victim.json()).message).toContain('did not start this sign-in');
    expect(victim.headers.getSetCookie().some((c) => c.startsWith(`${SESSION}=`))).toBe(false);
  });

  it('no account for the address, an unverified address, a disabled user: 401 with the reason, no session', async () => {
    const cases: Array<{ account: Parameters<OidcServer['signInAs']>[0]; reason: string; disable?: string }> = [
      {
        account: { sub: 'google-stranger', email: 'stranger@example.com', email_verified: true },
        reason: 'no account',
      },
      { account: { sub: 'google-unv', email: 'unv@example.com', email_verified: false }, reason: 'not verified' },
      {
        account: { sub: 'google-dis', email: 'dis@example.com', email_verified: true },
        reason: 'disabled',
        disable: 'dis@example.com',
      },
    ];
    await h.createUser('unv@example.com');
    const dis = await h.createUser('dis@example.com');
    await h.api(`/admin/users/${dis.id}`, { method: 'PATCH', json: { disabled: true } });
    for (const c of cases) {
      oidc.signInAs(c.account);
      const browser = new Browser();
      const hops = await browser.follow(`${h.baseUrl}/auth/google/start`);
      expect(last(hops).status, c.reason).toBe(401);
      expect(JSON.parse(last(hops).body!).message, c.reason).toContain(c.reason);
      expect(browser.cookie(h.baseUrl, SESSION), c.reason).toBeUndefined();
    }
  });

  it('return_to is a path of this site only (no open redirect)', async () => {
    for (const bad of ['https://evil.example/', '//evil.example/', '/\\evil.example']) {
      const res = await fetch(`${h.baseUrl}/auth/google/start?return_to=${encodeURIComponent(bad)}`, {
        redirect: 'manual',
      });
      expect(res.status, bad).toBe(400);
    }
  });
});

describe('sign-in with GitHub (OAuth 2 at an Enterprise-style base URL)', () => {
  it('PKCE verifier sent, the primary verified address links the account; a renamed address still signs in', async () => {
    const user = await h.createUser('gil@example.com');
    const account = {
      id: 4242,
      login: 'gil',
      emails: [
        { email: 'old@example.com', primary: false, verified: true },
        { email: 'gil@example.com', primary: true, verified: true },
      ],
    };
    github.signInAs(account);
    const browser = new Browser();
    const hops = await browser.follow(`${h.baseUrl}/auth/github/start?return_to=/jobs`);
    expect(new URL(hops[0]!.location!).origin).toBe(github.url);
    expect(callbackHop(hops, 'github').location).toBe(`${h.baseUrl}/jobs`);
    expect(last(hops).status).toBe(200);
    expect(github.tokenRequests.at(-1)?.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await fetch(`${h.baseUrl}/me`, {
      headers: { cookie: `${SESSION}=${browser.cookie(h.baseUrl, SESSION)}` },
    });
    expect(await me.json()).toMatchObject({ user_id: user.id });

    // The account changes its address at GitHub: the link, by GitHub's account id, still names the user.
    account.emails = [{ email: 'gil@elsewhere.example', primary: true, verified: true }];
    const again = await new Browser().follow(`${h.baseUrl}/auth/github/start`);
    expect(callbackHop(again, 'github').status).toBe(302);
    expect(JSON.parse(last(again).body!)).toMatchObject({ user_id: user.id });
  });

  it('an account without a verified primary address is refused', async () => {
    await h.createUser('nov@example.com');
    github.signInAs({ id: 77, login: 'nov', emails: [{ email: 'nov@example.com', primary: true, verified: false }] });
    const hops = await new Browser().follow(`${h.baseUrl}/auth/github/start`);
    expect(last(hops).status).toBe(401);
    expect(JSON.parse(last(hops).body!).message).toContain('no verified primary email');
  });

  it('a code GitHub does not know (HTTP 200 with an error) is a 401 naming the error', async () => {
    github.signInAs({ id: 78, login: 'x', emails: [{ email: 'x@example.com', primary: true, verified: true }] });
    const browser = new Browser();
    const hops = await browser.follow(`${h.baseUrl}/auth/github/start`, {
      stopAt: (u) => u.pathname === '/auth/github/callback',
    });
    const url = new URL(last(hops).url);
    url.searchParams.set('code', 'not-a-code');
    const res = (await browser.follow(url.toString())).at(-1)!;
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body!).message).toContain('bad_verification_code');
  });
});
