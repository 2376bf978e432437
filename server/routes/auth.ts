import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppDeps, AppEnv } from '../context.js';
import { ApiError, errorResponses, WRITE_ERROR_CODES } from '../errors.js';
import { remoteAddress } from '../middleware/auth.js';
import { enforce, RateLimiter } from '../middleware/rateLimit.js';
import { validationHook } from '../validation.js';

/** The session cookie: `__Host-` (this host only, Secure, path /), HttpOnly, SameSite=Lax. */
export const SESSION_COOKIE = 'tradeflow_session';

const StartBody = z.object({ email: z.email().max(254) }).strict();
const VerifyBody = z
  .object({
    request_id: z.string().min(1).max(100),
    code: z.string().regex(/^\d{6}$/, 'the code is 6 digits'),
  })
  .strict();
const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const body = <S extends z.ZodType>(schema: S) => ({ required: true, content: { 'application/json': { schema } } });

const start = createRoute({
  method: 'post',
  path: '/email/start',
  summary: 'Ask for a sign-in code by email (the same answer whether or not the address has an account)',
  security: [],
  request: { body: body(StartBody) },
  responses: {
    202: json(
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
  request: { body: body(VerifyBody) },
  responses: {
    200: json(z.object({ user_id: z.string(), expires_at: z.string() }), 'signed in'),
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
    const { token, expiresAt } = await deps.signIn.openSession(result.userId, getCookie(c, SESSION_COOKIE, 'host'));
    setCookie(c, SESSION_COOKIE, token, {
      prefix: 'host',
      path: '/',
      secure: true,
      httpOnly: true,
      sameSite: 'Lax',
      expires: expiresAt,
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ user_id: result.userId, expires_at: expiresAt.toISOString() }, 200);
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
