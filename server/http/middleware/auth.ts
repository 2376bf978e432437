import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Logger } from 'pino';
import type { AuthSettings } from '../../../config/settings.js';
import { inCidr, parseAddress } from '../../../jobs/webhookPolicy.js';
import type { Scope } from '../../../storage/accounts.js';
import type { Accounts } from '../../auth/accounts.js';
import { ADMIN_USER_ID, type Principal } from '../../auth/principal.js';
import type { SignIn } from '../../auth/signIn.js';
import type { AppEnv } from '../../context.js';
import { ApiError } from '../errors.js';
import { remoteAddress } from './clientAddress.js';
import { PUBLIC_PATHS } from './paths.js';
import { enforce, type RateLimiter } from './rateLimit.js';

/** The scope a request needs: reads `read`, writes `run`, anything under /admin `admin`. */
export function requiredScope(method: string, path: string): Scope {
  if (path === '/admin' || path.startsWith('/admin/')) return 'admin';
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'read' : 'run';
}

export interface AuthenticateOptions {
  accounts: Accounts;
  signIn: SignIn;
  settings: AuthSettings;
  logger: Logger;
  limits: { perKey: RateLimiter; authFailures: RateLimiter };
}

const CHALLENGE = 'Bearer realm="tradeflow"';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The session cookie's name (routes/auth.ts sets it; `__Host-` prefixed). */
const SESSION_COOKIE = 'tradeflow_session';

/**
 * Who the request acts as: the user of its `Authorization: Bearer` API key; else, from a trusted network,
 * the trusted-network service user (read and run); else, with authentication off (loopback only), the
 * admin; else 401. Then the scope the route needs, and the per-key (or per-user) rate limit. Health and
 * the OpenAPI document need nothing.
 */
export function authenticate(o: AuthenticateOptions): MiddlewareHandler<AppEnv> {
  const trusted = o.settings.trustedNetworks;
  const serviceScopes: ReadonlySet<Scope> = new Set(['read', 'run']);
  const seenTrusted = new Set<string>();
  return async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path)) return next();
    const ip = remoteAddress(c);
    const ipKey = ip ?? 'unknown';
    const header = c.req.header('authorization');
    let principal: Principal;
    if (!o.settings.enabled) {
      principal = { userId: ADMIN_USER_ID, via: 'auth_off', scopes: new Set(['read', 'run', 'admin']), admin: true };
    } else if (header !== undefined) {
      // An address that keeps presenting wrong keys is refused for a while, even with a right one.
      if (!o.limits.authFailures.peek(ipKey).allowed)
        enforce(c, o.limits.authFailures, ipKey, 'with wrong credentials');
      const bearer = /^Bearer +(\S+) *$/i.exec(header)?.[1];
      const result = bearer
        ? await o.accounts.authenticate(bearer)
        : { ok: false as const, reason: 'the Authorization header is not "Bearer <API key>"' };
      if (!result.ok) {
        o.limits.authFailures.take(ipKey);
        o.logger.warn({ ip, path: c.req.path, reason: result.reason }, 'authentication failed');
        throw new ApiError(
          'unauthorized',
          `authentication failed: ${result.reason}`,
          {},
          { 'WWW-Authenticate': `${CHALLENGE}, error="invalid_token"` },
        );
      }
      principal = result.principal;
    } else if (getCookie(c, SESSION_COOKIE, 'host') !== undefined) {
      const session = await o.signIn.session(getCookie(c, SESSION_COOKIE, 'host')!);
      if (!session) {
        o.limits.authFailures.take(ipKey);
        throw new ApiError(
          'unauthorized',
          'the session is over (expired or signed out): sign in again',
          {},
          {
            'WWW-Authenticate': CHALLENGE,
          },
        );
      }
      // A browser's cookie goes along on any site's request: a change needs the page to say where it is from
      // (server/http/middleware/sameOrigin.ts then checks that it is this site or an allowed one).
      if (!SAFE_METHODS.has(c.req.method) && c.req.header('origin') === undefined) {
        throw new ApiError('forbidden_origin', 'a change made with a session cookie needs an Origin header');
      }
      principal = session;
    } else if (ip !== undefined && fromTrustedNetwork(ip, trusted)) {
      principal = { userId: o.settings.trustedUser, via: 'trusted_network', scopes: serviceScopes, admin: false };
      const write = c.req.method !== 'GET' && c.req.method !== 'HEAD';
      if (write || !seenTrusted.has(ip)) {
        if (seenTrusted.size < 10_000) seenTrusted.add(ip);
        o.logger.info(
          { ip, user: principal.userId, method: c.req.method, path: c.req.path },
          'request from a trusted network, acting as its service user',
        );
      }
    } else {
      throw new ApiError(
        'unauthorized',
        'authentication required: send an API key as "Authorization: Bearer <key>"',
        {},
        { 'WWW-Authenticate': CHALLENGE },
      );
    }
    const needed = requiredScope(c.req.method, c.req.path);
    if (!principal.scopes.has(needed)) {
      throw new ApiError(
        'insufficient_scope',
        `this request needs the ${needed} scope; this ${principal.via === 'api_key' ? 'key' : 'caller'} has ${[...principal.scopes].join(', ') || 'none'}`,
        { required_scope: needed },
        { 'WWW-Authenticate': `${CHALLENGE}, error="insufficient_scope", scope="${needed}"` },
      );
    }
    // An admin key may act for a user (the worker starting a user's scheduled job, say): the request is
    // then that user's, with that user's view, and is logged as such.
    const actAs = c.req.header('x-tradeflow-act-as');
    if (actAs !== undefined) {
      if (!principal.admin || principal.via !== 'api_key') {
        throw new ApiError('insufficient_scope', 'only an admin API key may act for another user', {
          required_scope: 'admin',
        });
      }
      o.logger.info(
        { admin: principal.userId, actAs, method: c.req.method, path: c.req.path },
        'admin key acting for a user',
      );
      principal = {
        userId: actAs.slice(0, 200),
        via: 'api_key',
        scopes: serviceScopes,
        admin: false,
        ...(principal.keyId ? { keyId: principal.keyId } : {}),
      };
    }
    c.set('principal', principal);
    c.set('owner', principal.userId);
    if (principal.via !== 'auth_off') {
      enforce(c, o.limits.perKey, principal.keyId ?? `user:${principal.userId}`, 'with this API key');
    }
    await next();
  };
}

function fromTrustedNetwork(ip: string, networks: AuthSettings['trustedNetworks']): boolean {
  if (networks.length === 0) return false;
  const bytes = parseAddress(ip);
  return bytes !== null && networks.some((n) => inCidr(bytes, n));
}
