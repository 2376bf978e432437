import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { PROVIDERS } from '../auth/oauth/provider.js';
import type { AppDeps, AppEnv } from '../context.js';
import { ApiError, errorResponses, WRITE_ERROR_CODES } from '../http/errors.js';
import { remoteAddress } from '../http/middleware/clientAddress.js';
import { enforce, RateLimiter } from '../http/middleware/rateLimit.js';
import { jsonBody, jsonResponse } from '../http/openapi.js';
import { validationHook } from '../http/validation.js';

/** The session cookie: `__Host-` (this host only, Secure, path /), HttpOnly, SameSite=Lax. */
export const SESSION_COOKIE = 'tradeflow_session';

const StartBody = z.object({ email: z.email().max(254) }).strict();
const VerifyBody = z
  .object({
    request_id: z.string().min(1).max(100),
    code: z.string().regex(/^\d{6}$/, 'the code is 6 digits'),
  })
  .strict();

const start = createRoute({
  method: 'post',
  path: '/email/start',
  summary: 'Ask for a sign-in code by email (the same answer whether or not the address has an account)',
  security: [],
  request: { body: jsonBody(StartBody) },
  responses: {
    202: jsonResponse(
      z.object({ request_id: z.string(), expires_at: z.string(), message: z.string() }),
      'a code is on its way if the address has an account',
    ),
    ...errorResponses('bad_request', 'rate_limited', 'service_unavailable', ...WRITE_ERROR_CODES),
  },
});

const verify = createRoute({
  method: 'post',
  path: '/email/verify',
  summary: 'Sign in with the emailed code: opens a session (cookie `__Host-tradeflow_session`)',
  security: [],
  request: { body: jsonBody(VerifyBody) },
  responses: {
    200: jsonResponse(z.object({ user_id: z.string(), expires_at: z.string() }), 'signed in'),
    ...errorResponses('bad_request', 'unauthorized', 'rate_limited', ...WRITE_ERROR_CODES),
  },
});

const logout = createRoute({
  method: 'post',
  path: '/logout',
  summary: 'End this session',
  responses: { 204: { description: 'signed out' }, ...errorResponses(...WRITE_ERROR_CODES) },
});

const logoutAll = createRoute({
  method: 'post',
  path: '/logout-all',
  summary: 'End every session of the caller, on every device',
  responses: { 204: { description: 'signed out everywhere' }, ...errorResponses(...WRITE_ERROR_CODES) },
});

/** The cookie that ties a provider's return to the browser that left for it. */
const OAUTH_STATE_COOKIE = 'tradeflow_oauth';
/** `__Host-` (this host only, Secure, path /), HttpOnly; Lax, so the provider's redirect back carries it. */
const COOKIE_ATTRIBUTES = { prefix: 'host', path: '/', secure: true, httpOnly: true, sameSite: 'Lax' } as const;

function setSessionCookie(c: Context, token: string, expiresAt: Date) {
  setCookie(c, SESSION_COOKIE, token, { ...COOKIE_ATTRIBUTES, expires: expiresAt });
  c.header('Cache-Control', 'no-store');
}

const ProviderParam = z.object({
  provider: z.enum(PROVIDERS).openapi({ param: { name: 'provider', in: 'path' }, example: 'google' }),
});

/** Only a path of this site: never another site (`//evil.example`, `/\\evil.example`), so no open redirect. */
const ReturnTo = z
  .string()
  .max(2000)
  .regex(/^\/(?![/\\])[\x21-\x7e]*$/, 'return_to is a path of this site, like /me')
  .optional();

const oauthStart = createRoute({
  method: 'get',
  path: '/{provider}/start',
  summary: 'Sign in with Google or GitHub: redirects to the provider (state, PKCE; a nonce for Google)',
  security: [],
  request: { params: ProviderParam, query: z.object({ return_to: ReturnTo }) },
  responses: {
    302: { description: "to the provider's sign-in page; sets the cookie `__Host-tradeflow_oauth` for ten minutes" },
    ...errorResponses('not_found', 'bad_request', 'rate_limited', 'service_unavailable'),
  },
});

const oauthCallback = createRoute({
  method: 'get',
  path: '/{provider}/callback',
  summary: "The provider's redirect back: opens a session and redirects to `return_to` (default /me)",
  security: [],
  request: {
    params: ProviderParam,
    query: z.object({
      code: z.string().max(2000).optional(),
      state: z.string().max(200).optional(),
      error: z.string().max(200).optional(),
    }),
  },
  responses: {
    302: { description: 'signed in: the session cookie `__Host-tradeflow_session` is set' },
    ...errorResponses('unauthorized', 'not_found', 'bad_request', 'rate_limited', 'service_unavailable'),
  },
});

export function authRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const perIp = new RateLimiter('sign-in', deps.auth.signInPerIp, deps.auth.rateLimit.windowMs);

  app.openapi(start, async (c) => {
    const ip = remoteAddress(c);
    enforce(c, perIp, ip ?? 'unknown', 'asking for sign-in codes from this address');
    const result = await deps.signIn.start(c.req.valid('json').email, ip);
    if (!result.ok) throw new ApiError('rate_limited', result.reason, {}, { 'Retry-After': '3600' });
    return c.json(
      {
        request_id: result.requestId,
        expires_at: result.expiresAt.toISOString(),
        message: 'if this address has an account, a code is on its way: send it to /auth/email/verify',
      },
      202,
    );
  });

  app.openapi(verify, async (c) => {
    const ip = remoteAddress(c);
    enforce(c, perIp, ip ?? 'unknown', 'signing in from this address');
    const { request_id, code } = c.req.valid('json');
    const result = await deps.signIn.verify(request_id, code, ip);
    if (!result.ok) {
      if (result.status === 429) throw new ApiError('rate_limited', result.reason);
      throw new ApiError('unauthorized', `sign-in failed: ${result.reason}`);
    }
    const { token, expiresAt } = await deps.signIn.openSession(
      result.userId,
      'email',
      getCookie(c, SESSION_COOKIE, 'host'),
    );
    setSessionCookie(c, token, expiresAt);
    return c.json({ user_id: result.userId, expires_at: expiresAt.toISOString() }, 200);
  });

  app.openapi(oauthStart, async (c) => {
    const { provider } = c.req.valid('param');
    enforce(c, perIp, remoteAddress(c) ?? 'unknown', 'signing in from this address');
    if (!deps.oauth.configured(provider)) {
      throw new ApiError('not_found', `sign-in with ${provider} is not configured on this server`);
    }
    const returnTo = c.req.valid('query').return_to ?? '/me';
    const base = deps.auth.publicUrl ?? new URL(c.req.url).origin;
    const { url, state } = await deps.oauth.begin(provider, `${base}/auth/${provider}/callback`, returnTo);
    setCookie(c, OAUTH_STATE_COOKIE, state, { ...COOKIE_ATTRIBUTES, maxAge: 600 });
    c.header('Cache-Control', 'no-store');
    return c.redirect(url.toString(), 302);
  });

  app.openapi(oauthCallback, async (c) => {
    const { provider } = c.req.valid('param');
    const ip = remoteAddress(c);
    enforce(c, perIp, ip ?? 'unknown', 'signing in from this address');
    if (!deps.oauth.configured(provider)) {
      throw new ApiError('not_found', `sign-in with ${provider} is not configured on this server`);
    }
    const q = c.req.valid('query');
    const cookieState = getCookie(c, OAUTH_STATE_COOKIE, 'host');
    deleteCookie(c, OAUTH_STATE_COOKIE, { prefix: 'host', path: '/', secure: true });
    const result = await deps.oauth.finish(provider, {
      ...(q.state !== undefined ? { state: q.state } : {}),
      ...(q.code !== undefined ? { code: q.code } : {}),
      ...(q.error !== undefined ? { error: q.error } : {}),
      ...(cookieState !== undefined ? { cookieState } : {}),
      ...(ip !== undefined ? { ip } : {}),
    });
    if (!result.ok) throw new ApiError('unauthorized', `sign-in with ${provider} failed: ${result.reason}`);
    const { token, expiresAt } = await deps.signIn.openSession(
      result.userId,
      provider,
      getCookie(c, SESSION_COOKIE, 'host'),
    );
    setSessionCookie(c, token, expiresAt);
    return c.redirect(result.returnTo, 302);
  });

  app.openapi(logout, async (c) => {
    const token = getCookie(c, SESSION_COOKIE, 'host');
    if (token) await deps.signIn.closeSession(token);
    deleteCookie(c, SESSION_COOKIE, { prefix: 'host', path: '/', secure: true });
    return c.body(null, 204);
  });

  app.openapi(logoutAll, async (c) => {
    await deps.signIn.closeAll(c.get('owner'));
    deleteCookie(c, SESSION_COOKIE, { prefix: 'host', path: '/', secure: true });
    return c.body(null, 204);
  });

  return app;
}
