import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { unitApp } from '../../test/support/unitApp.js';

// Email codes and sessions over the real app on in-memory stores; the "mailer" keeps what it sent.

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...headers },
});
const cookieOf = (res: Response) => /__Host-tradeflow_session=([^;]*)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
const withCookie = (token: string, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), cookie: `__Host-tradeflow_session=${token}` },
});

function setUp(o: { env?: Record<string, string> } = {}) {
  const lines: string[] = [];
  let clock = Date.now();
  const u = unitApp({
    env: { TRADEFLOW_SIGN_IN_PER_IP: '1000', ...o.env },
    logger: pino({ level: 'debug' }, { write: (s: string) => lines.push(s) }),
    now: () => new Date(clock),
  });
  const signIn = async (email: string, previous?: string) => {
    const started = await u.rawApp.request('/auth/email/start', json({ email }));
    expect(started.status).toBe(202);
    const { request_id } = await started.json();
    const code = u.mail.at(-1)!.code;
    const res = await u.rawApp.request(
      '/auth/email/verify',
      json({ request_id, code }, previous ? { cookie: `__Host-tradeflow_session=${previous}` } : {}),
    );
    expect(res.status).toBe(200);
    return { res, token: cookieOf(res)!, code };
  };
  return { u, lines, signIn, advance: (ms: number) => (clock += ms) };
}

describe('email sign-in codes', () => {
  it('a code by mail opens a session: a __Host- cookie, HttpOnly, Secure, SameSite=Lax', async () => {
    const { u, signIn } = setUp();
    const carol = await u.addUser('carol@example.com');
    const { res, token, code } = await signIn('Carol@Example.com');
    expect(u.mail).toEqual([{ to: 'carol@example.com', code }]);
    expect(code).toMatch(/^\d{6}$/);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^__Host-tradeflow_session=[A-Za-z0-9_-]{43};/);
    for (const attr of ['Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']) expect(cookie).toContain(attr);
    expect(cookie).not.toContain('Domain=');
    expect(await res.json()).toMatchObject({ user_id: carol.id });
    const me = await u.rawApp.request('/me', withCookie(token));
    expect(await me.json()).toMatchObject({ user_id: carol.id, via: 'session', scopes: ['read', 'run'] });
    // Reads go; changes need the page's Origin, and it must be this site.
    expect((await u.rawApp.request('/jobs', withCookie(token))).status).toBe(200);
    const noOrigin = await u.rawApp.request('/auth/logout-all', withCookie(token, json({})));
    expect(noOrigin.status).toBe(403);
    expect((await noOrigin.json()).error).toBe('forbidden_origin');
    const foreign = await u.rawApp.request(
      '/run',
      withCookie(token, json({ ticker: 'AAPL' }, { origin: 'https://evil.example' })),
    );
    expect(foreign.status).toBe(403);
    const same = await u.rawApp.request('/run', withCookie(token, json({ bogus: 1 }, { origin: 'http://localhost' })));
    expect(same.status).toBe(400);
    // The session and the code are stored as hashes only.
    expect(JSON.stringify([...u.signInStore.sessions.values(), ...u.signInStore.codes.values()])).not.toContain(token);
    expect(JSON.stringify([...u.signInStore.codes.values()])).not.toContain(`"${code}"`);
  });

  it('a code works once, a few wrong tries end it, and it expires after 10 minutes', async () => {
    const { u, advance } = setUp();
    await u.addUser('dan@example.com');
    const start = async () =>
      (await (await u.rawApp.request('/auth/email/start', json({ email: 'dan@example.com' }))).json()).request_id;
    const verify = (request_id: string, code: string) =>
      u.rawApp.request('/auth/email/verify', json({ request_id, code }));

    const once = await start();
    const code = u.mail.at(-1)!.code;
    expect((await verify(once, code)).status).toBe(200);
    const again = await verify(once, code);
    expect(again.status).toBe(401);
    expect((await again.json()).message).toContain('used already');

    const guessed = await start();
    const right = u.mail.at(-1)!.code;
    const wrong = right === '000000' ? '000001' : '000000';
    for (let i = 0; i < 4; i++) expect((await verify(guessed, wrong)).status).toBe(401);
    // The fifth try is the last one the code takes, and then even the right code is refused.
    expect((await verify(guessed, wrong)).status).toBe(401);
    expect((await verify(guessed, right)).status).toBe(429);

    const late = await start();
    advance(10 * 60_000 + 1);
    const expired = await verify(late, u.mail.at(-1)!.code);
    expect(expired.status).toBe(401);
    expect((await expired.json()).message).toContain('expired');
    expect((await verify('sir_nonsense', '123456')).status).toBe(401);
  });

  it('unknown and disabled addresses get the same answer and no mail; an address gets 5 codes an hour', async () => {
    const { u, advance } = setUp();
    const erin = await u.addUser('erin@example.com');
    const ask = (email: string) => u.rawApp.request('/auth/email/start', json({ email }));
    const unknown = await ask('nobody@example.com');
    expect(unknown.status).toBe(202);
    expect(Object.keys(await unknown.json()).sort()).toEqual(['expires_at', 'message', 'request_id']);
    await u.accounts.setDisabled(erin.id, true);
    expect((await ask('erin@example.com')).status).toBe(202);
    expect(u.mail).toEqual([]);
    for (let i = 0; i < 4; i++) expect((await ask('nobody@example.com')).status).toBe(202);
    const sixth = await ask('nobody@example.com');
    expect(sixth.status).toBe(429);
    expect(sixth.headers.get('retry-after')).toBe('3600');
    advance(3_600_000);
    expect((await ask('nobody@example.com')).status).toBe(202);
  });

  it('per address: a few sign-in requests a window, then 429 with RateLimit headers', async () => {
    const { u } = setUp({ env: { TRADEFLOW_SIGN_IN_PER_IP: '3' } });
    const from = { incoming: { socket: { remoteAddress: '203.0.113.9' } } };
    const ask = () => u.rawApp.request('/auth/email/start', json({ email: 'x@example.com' }), from);
    for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(202);
    const over = await ask();
    expect(over.status).toBe(429);
    expect(over.headers.get('ratelimit-policy')).toContain('"sign-in";q=3');
  });
});

describe('sessions', () => {
  it('logout ends the session; a new sign-in rotates it; logout-all ends every one; disabling ends them too', async () => {
    const { u, signIn, lines, advance } = setUp();
    const frank = await u.addUser('frank@example.com');
    const origin = { origin: 'http://localhost' };
    const a = (await signIn('frank@example.com')).token;
    const rotated = (await signIn('frank@example.com', a)).token;
    expect(rotated).not.toBe(a);
    expect((await u.rawApp.request('/me', withCookie(a))).status).toBe(401);
    expect((await u.rawApp.request('/me', withCookie(rotated))).status).toBe(200);

    const out = await u.rawApp.request('/auth/logout', withCookie(rotated, json({}, origin)));
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/__Host-tradeflow_session=;.*Max-Age=0/);
    expect((await u.rawApp.request('/me', withCookie(rotated))).status).toBe(401);

    const phone = (await signIn('frank@example.com')).token;
    const laptop = (await signIn('frank@example.com')).token;
    expect((await u.rawApp.request('/auth/logout-all', withCookie(phone, json({}, origin)))).status).toBe(204);
    for (const t of [phone, laptop]) expect((await u.rawApp.request('/me', withCookie(t))).status).toBe(401);

    advance(1);
    const again = (await signIn('frank@example.com')).token;
    expect((await u.rawApp.request('/me', withCookie(again))).status).toBe(200);
    await u.accounts.setDisabled(frank.id, true);
    expect((await u.rawApp.request('/me', withCookie(again))).status).toBe(401);
    // Failed sign-ins are logged with the address and why; codes and tokens never.
    const text = lines.join('');
    expect(text).toContain('sign-in code sent');
    for (const m of u.mail) expect(text).not.toMatch(new RegExp(`(?<![0-9a-f])${m.code}(?![0-9a-f])`));
    for (const t of [a, rotated, phone, laptop, again]) expect(text).not.toContain(t);
  });

  it('a session ends at its time', async () => {
    const { u, signIn, advance } = setUp({ env: { TRADEFLOW_SESSION_TTL_H: '1' } });
    await u.addUser('gina@example.com');
    const { token } = await signIn('gina@example.com');
    advance(59 * 60_000);
    expect((await u.rawApp.request('/me', withCookie(token))).status).toBe(200);
    advance(2 * 60_000);
    expect((await u.rawApp.request('/me', withCookie(token))).status).toBe(401);
  });

  it('an admin signed in by email has the admin scope', async () => {
    const { u, signIn } = setUp();
    await u.accounts.createUser('boss@example.com', 'admin');
    const { token } = await signIn('boss@example.com');
    expect((await u.rawApp.request('/admin/users', withCookie(token))).status).toBe(200);
  });
});
