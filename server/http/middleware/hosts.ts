import type { MiddlewareHandler } from 'hono';
import { isLoopbackHost } from '../../../config/settings.js';
import { ApiError } from '../errors.js';
import { HEALTH_PATHS } from './paths.js';

/**
 * Answers only requests that name this service in `Host`: a page that rebinds its own DNS name to this
 * address (DNS rebinding) still sends its own name and is refused. Loopback names are always allowed;
 * `allowed` adds names (with or without port). Health checks are exempt: orchestrators probe by address.
 */
export function allowedHosts(allowed: readonly string[]): MiddlewareHandler {
  const names = new Set(allowed.map((h) => h.toLowerCase()));
  return async (c, next) => {
    if (HEALTH_PATHS.has(c.req.path)) return next();
    const url = new URL(c.req.url);
    if (isLoopbackHost(url.hostname) || names.has(url.hostname) || names.has(url.host)) return next();
    throw new ApiError('forbidden_host', `this service does not answer to the host name ${url.host.slice(0, 100)}`, {
      hint: 'set TRADEFLOW_ALLOWED_HOSTS to the names clients use',
    });
  };
}
