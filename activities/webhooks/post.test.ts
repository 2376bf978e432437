import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_ALLOW_LIST, parseAllowList } from '../../jobs/webhookPolicy.js';
import { postWebhook, type Resolve, WebhookRefused } from './post.js';

let server: Server;
let port: number;
const seen: Array<{ host: string | undefined; path: string | undefined; body: string }> = [];
let answer = 204;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ host: req.headers.host, path: req.url, body });
      if (answer === 0) {
        // Headers, then a body that never ends.
        res.writeHead(200);
        res.write('partial');
        return;
      }
      if (answer === 302) res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
      else res.writeHead(answer).end('nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const fixed =
  (...addresses: string[]): Resolve =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
const loopbackAllowed = parseAllowList(['127.0.0.1']);

describe('posting a webhook without SSRF', () => {
  it('connects to the address it checked, not to what a second lookup would say', async () => {
    seen.length = 0;
    answer = 204;
    let lookups = 0;
    // A name the system cannot resolve at all: the request can only reach the server through the pinned address.
    const resolve: Resolve = async () => {
      lookups += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const out = await postWebhook(
      `http://hook.invalid:${port}/in`,
      '{"a":1}',
      { 'webhook-id': 'm1' },
      {
        allow: loopbackAllowed,
        resolve,
        timeoutMs: 5000,
      },
    );
    expect(out).toMatchObject({ statusCode: 204, address: '127.0.0.1' });
    expect(lookups).toBe(1);
    expect(seen).toEqual([{ host: `hook.invalid:${port}`, path: '/in', body: '{"a":1}' }]);
  });

  it('refuses a host that resolves to loopback without the allow-list, and sends nothing', async () => {
    seen.length = 0;
    const post = postWebhook(
      `http://hook.invalid:${port}/in`,
      '{}',
      {},
      {
        allow: NO_ALLOW_LIST,
        resolve: fixed('127.0.0.1'),
        timeoutMs: 5000,
      },
    );
    await expect(post).rejects.toThrow(WebhookRefused);
    await expect(post).rejects.toThrow(/resolves to 127\.0\.0\.1 is a loopback address/);
    expect(seen).toHaveLength(0);
  });

  it('refuses a host with any inside address among its answers (IPv4-mapped IPv6 too)', async () => {
    for (const inside of ['10.0.0.7', '::ffff:127.0.0.1', '169.254.169.254']) {
      await expect(
        postWebhook(
          'http://hook.invalid/in',
          '{}',
          {},
          {
            allow: NO_ALLOW_LIST,
            resolve: fixed('93.184.215.14', inside),
            timeoutMs: 5000,
          },
        ),
      ).rejects.toThrow(WebhookRefused);
    }
  });

  it('refuses a literal private address and a URL with credentials before any lookup', async () => {
    const resolve: Resolve = async () => {
      throw new Error('no lookup expected');
    };
    const o = { allow: NO_ALLOW_LIST, resolve, timeoutMs: 5000 };
    await expect(postWebhook(`http://127.0.0.1:${port}/`, '{}', {}, o)).rejects.toThrow(WebhookRefused);
    await expect(postWebhook('http://u:p@example.com/', '{}', {}, o)).rejects.toThrow(/credentials/);
  });

  it('gives up on a receiver that never finishes answering, within the limit', async () => {
    answer = 0; // the server holds the request open
    const started = Date.now();
    await expect(
      postWebhook(
        `http://127.0.0.1:${port}/slow`,
        '{}',
        {},
        { allow: loopbackAllowed, resolve: fixed(), timeoutMs: 300 },
      ),
    ).rejects.toThrow(/no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('does not follow a redirect: the 3xx is the answer', async () => {
    seen.length = 0;
    answer = 302;
    const out = await postWebhook(
      `http://127.0.0.1:${port}/in`,
      '{}',
      {},
      {
        allow: loopbackAllowed,
        resolve: fixed(),
        timeoutMs: 5000,
      },
    );
    expect(out.statusCode).toBe(302);
    expect(out.location).toContain('/elsewhere');
    expect(seen.map((s) => s.path)).toEqual(['/in']);
  });
});
