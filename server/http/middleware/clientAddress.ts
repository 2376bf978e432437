import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { type Cidr, inCidr, parseAddress } from '../../../jobs/webhookPolicy.js';
import type { AppEnv } from '../../context.js';

/** The socket's peer; undefined for requests that came through no socket. */
function socketAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/**
 * Who the client is: the socket's peer, or, when that peer is one of the configured reverse proxies, the
 * right-most address of `X-Forwarded-For` that is not a trusted proxy (each proxy appends the address it
 * saw, so everything left of the last untrusted hop may be forged by the client). A hop that is not an
 * address ends the walk at the last hop vouched for.
 */
export function forwardedClient(
  peer: string | undefined,
  forwardedFor: string | undefined,
  proxies: readonly Cidr[],
): string | undefined {
  if (peer === undefined || forwardedFor === undefined || proxies.length === 0) return peer;
  const trusted = (ip: string) => {
    const bytes = parseAddress(ip);
    return bytes !== null && proxies.some((p) => inCidr(bytes, p));
  };
  if (!trusted(peer)) return peer;
  const hops = forwardedFor
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.replace(/^\[([^\]]+)\](:\d+)?$/, '$1').replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, '$1');
    if (parseAddress(hop) === null) break;
    client = hop;
    if (!trusted(hop)) break;
  }
  return client;
}

/** Sets the request's client address once, for rate limits, trusted networks and logs. */
export function clientAddress(proxies: readonly Cidr[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const ip = forwardedClient(socketAddress(c), c.req.header('x-forwarded-for'), proxies);
    if (ip !== undefined) c.set('clientIp', ip);
    await next();
  };
}

/** The client's address (see clientAddress); the socket's peer where the middleware did not run. */
export function remoteAddress(c: Context): string | undefined {
  return (c.get('clientIp') as string | undefined) ?? socketAddress(c);
}
