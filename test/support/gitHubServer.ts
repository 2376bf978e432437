// A GitHub-shaped OAuth server on loopback, as a GitHub Enterprise server answers (`/login/oauth/*` for the
// browser and the code, the REST API under `/api/v3`): it checks the client's secret, the redirect URI and
// the PKCE verifier as GitHub does, and refuses a code it does not know with HTTP 200 and an `error`.
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

export interface GitHubAccount {
  id: number;
  login: string;
  emails: Array<{ email: string; primary: boolean; verified: boolean }>;
}

export interface GitHubServer {
  url: string;
  clientId: string;
  clientSecret: string;
  signInAs(account: GitHubAccount): void;
  /** Token requests seen, newest last (what our side sent). */
  tokenRequests: URLSearchParams[];
  close(): Promise<void>;
}

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export async function startGitHubServer(): Promise<GitHubServer> {
  const clientId = 'Iv1.tradeflowtest';
  const clientSecret = 'github-test-secret-0123456789abcdef';
  let account: GitHubAccount | undefined;
  const codes = new Map<string, { account: GitHubAccount; redirectUri: string; challenge: string }>();
  const tokens = new Map<string, GitHubAccount>();
  const tokenRequests: URLSearchParams[] = [];
  const app = new Hono();

  app.get('/login/oauth/authorize', (c) => {
    const q = c.req.query();
    if (q.client_id !== clientId || !q.redirect_uri || !q.state) return c.text('bad request', 400);
    if (q.code_challenge_method !== 'S256' || !q.code_challenge) return c.text('PKCE S256 required', 400);
    if (!account) return c.text('nobody signs in', 403);
    const code = randomBytes(10).toString('hex');
    codes.set(code, { account, redirectUri: q.redirect_uri, challenge: q.code_challenge });
    const back = new URL(q.redirect_uri);
    back.searchParams.set('code', code);
    back.searchParams.set('state', q.state);
    return c.redirect(back.toString(), 302);
  });

  app.post('/login/oauth/access_token', async (c) => {
    const form = new URLSearchParams(await c.req.text());
    tokenRequests.push(form);
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
    if (c.req.header('authorization') !== `Basic ${basic}`) return c.json({ error: 'incorrect_client_credentials' });
    const pending = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    if (!pending) return c.json({ error: 'bad_verification_code' });
    if (form.get('redirect_uri') !== pending.redirectUri) return c.json({ error: 'redirect_uri_mismatch' });
    if (s256(form.get('code_verifier') ?? '') !== pending.challenge) return c.json({ error: 'invalid_grant' });
    const token = `gho_${randomBytes(16).toString('hex')}`;
    tokens.set(token, pending.account);
    return c.json({ access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
  });

  const who = (authorization: string | undefined) => tokens.get(/^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '');
  app.get('/api/v3/user', (c) => {
    const a = who(c.req.header('authorization'));
    return a ? c.json({ id: a.id, login: a.login }) : c.json({ message: 'Bad credentials' }, 401);
  });
  app.get('/api/v3/user/emails', (c) => {
    const a = who(c.req.header('authorization'));
    return a ? c.json(a.emails) : c.json({ message: 'Bad credentials' }, 401);
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    clientId,
    clientSecret,
    signInAs(a) {
      account = a;
    },
    tokenRequests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
