import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Writes come from this service's own pages or from programs, never from another site. A browser names
 * the page a request comes from (`Origin`, `Sec-Fetch-Site`) on every cross-site write, including the
 * bodyless `fetch(…, { mode: 'no-cors' })` no preflight stops; programs (curl, Windmill, scripts) send
 * neither header and are let through. `allowedOrigins` are sites a deployment trusts to call it.
 */
export function sameOriginWrites(allowedOrigins: readonly string[] = []): MiddlewareHandler {
  const allowed = new Set(allowedOrigins.map((o) => o.replace(/\/$/, '').toLowerCase()));
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      const normalized = origin.toLowerCase();
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      // The request's own host: its Host header (what the URL is built from when served over HTTP).
      const own = (c.req.header('host') ?? new URL(c.req.url).host).toLowerCase();
      if (!allowed.has(normalized) && (host === undefined || host !== own)) {
        throw new ApiError('forbidden_origin', `writes from ${origin} are not accepted`, {
          hint: 'set TRADEFLOW_ALLOWED_ORIGINS to accept a site you trust',
        });
      }
      return next();
    }
    const site = c.req.header('sec-fetch-site');
    if (site === 'cross-site' || site === 'same-site') {
      throw new ApiError('forbidden_origin', `a ${site} write from a browser is not accepted`);
    }
    return next();
  };
}
