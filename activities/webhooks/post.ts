import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import {
  addressRefusal,
  callbackUrlRefusal,
  parseAddress,
  urlHost,
  type WebhookAllowList,
} from '../../jobs/webhookPolicy.js';

/** Resolves a host name to its addresses (dns.lookup by default: what the system resolver says). */
export type Resolve = (host: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolve: Resolve = (host) => dnsLookup(host, { all: true, verbatim: true });

/** Refused by the address policy: no retry can change that (short of changing the allow-list). */
export class WebhookRefused extends Error {
  override readonly name = 'WebhookRefused';
}

export interface PostOutcome {
  statusCode: number;
  /** The address connected to (the one checked). */
  address: string;
  /** The start of the response body, for the delivery log. */
  snippet: string;
  location?: string;
}

/**
 * POSTs a body to a callback URL without server-side request forgery: the host's resolved addresses are
 * checked against the policy (every one of them: a name that also points inside is refused), the
 * connection goes to the address checked (a lookup that answers only with it, so a second DNS answer
 * cannot swap it), redirects are never followed, and the answer is read only a little.
 */
export async function postWebhook(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  o: { allow: WebhookAllowList; resolve: Resolve; timeoutMs: number },
): Promise<PostOutcome> {
  const urlRefused = callbackUrlRefusal(rawUrl, o.allow);
  if (urlRefused) throw new WebhookRefused(`the callback URL ${urlRefused}`);
  const url = new URL(rawUrl);
  const host = urlHost(url);
  const literal = parseAddress(host) !== null;
  const addresses = literal
    ? [{ address: host, family: host.includes(':') ? 6 : 4 }]
    : await o.resolve(host).catch((err: Error) => {
        throw new Error(`could not resolve ${host}: ${err.message}`);
      });
  if (addresses.length === 0) throw new Error(`could not resolve ${host}: no address`);
  if (!o.allow.hosts.includes(host)) {
    for (const a of addresses) {
      const why = addressRefusal(a.address, o.allow);
      if (why) throw new WebhookRefused(`${host} resolves to ${why}; set TRADEFLOW_WEBHOOK_ALLOW to open it`);
    }
  }
  const pinned = addresses[0]!;
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: typeof addresses) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const request = url.protocol === 'https:' ? https.request : http.request;
  let overall: NodeJS.Timeout | undefined;
  // Set when the limit passed: an answer cut short by it is a failure, whatever its status line said.
  let timedOut: Error | undefined;
  const outcome = new Promise<PostOutcome>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        // No pooled socket: each delivery connects to the address it checked.
        agent: false,
        lookup,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'tradeflow-webhooks/1',
          ...headers,
        },
        timeout: o.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < 512) chunks.push(chunk);
          size += chunk.length;
          if (size > 64 * 1024) res.destroy();
        });
        const done = () =>
          timedOut
            ? reject(timedOut)
            : resolve({
                statusCode: res.statusCode ?? 0,
                address: pinned.address,
                snippet: Buffer.concat(chunks).toString('utf8').slice(0, 200),
                ...(res.headers.location ? { location: String(res.headers.location).slice(0, 500) } : {}),
              });
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    // Idle sockets and a receiver that trickles its answer alike: the whole exchange has the limit.
    const giveUp = () => {
      timedOut ??= new Error(`no answer within ${o.timeoutMs} ms`);
      req.destroy(timedOut);
    };
    req.on('timeout', giveUp);
    overall = setTimeout(giveUp, o.timeoutMs);
    req.on('error', reject);
    req.end(body);
  });
  return outcome.finally(() => clearTimeout(overall));
}
