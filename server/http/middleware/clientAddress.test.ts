import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../../jobs/webhookPolicy.js';
import { unitApp } from '../../../test/support/unitApp.js';
import { forwardedClient } from './clientAddress.js';

const proxies = ['10.0.0.0/8', '::1'].map((c) => parseCidr(c)!);

describe('the client behind trusted proxies', () => {
  it('believes X-Forwarded-For only from a trusted proxy, and only up to the first hop it cannot vouch for', () => {
    expect(forwardedClient('203.0.113.9', '198.51.100.1', proxies)).toBe('203.0.113.9');
    expect(forwardedClient('10.0.0.2', '198.51.100.1', proxies)).toBe('198.51.100.1');
    // The client wrote the left part itself: the right-most untrusted hop is who connected to our proxy.
    expect(forwardedClient('10.0.0.2', '1.2.3.4, 198.51.100.1, 10.0.0.7', proxies)).toBe('198.51.100.1');
    expect(forwardedClient('10.0.0.2', '10.0.0.9, 10.0.0.7', proxies)).toBe('10.0.0.9');
    expect(forwardedClient('10.0.0.2', 'nonsense, 198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(forwardedClient('10.0.0.2', '198.51.100.1, nonsense', proxies)).toBe('10.0.0.2');
    expect(forwardedClient('::1', '[2001:db8::5]:4711', proxies)).toBe('2001:db8::5');
    expect(forwardedClient('10.0.0.2', '198.51.100.1:4711', proxies)).toBe('198.51.100.1');
    expect(forwardedClient('10.0.0.2', '198.51.100.1', [])).toBe('10.0.0.2');
    expect(forwardedClient('10.0.0.2', undefined, proxies)).toBe('10.0.0.2');
  });

  it('per-address limits count the client behind the proxy, not the proxy', async () => {
    const u = unitApp({ env: { TRADEFLOW_TRUSTED_PROXIES: '10.0.0.0/8', TRADEFLOW_AUTH_FAILURES_PER_IP: '2' } });
    const viaProxy = (client: string) => ({ incoming: { socket: { remoteAddress: '10.0.0.2' } }, client });
    const wrong = (client: string) =>
      u.rawApp.request(
        '/jobs',
        { headers: { authorization: 'Bearer tf_wrong', 'x-forwarded-for': client } },
        viaProxy(client),
      );
    for (let i = 0; i < 2; i++) expect((await wrong('198.51.100.1')).status).toBe(401);
    expect((await wrong('198.51.100.1')).status).toBe(429);
    // Another client behind the same proxy is not locked out with the first.
    expect((await wrong('198.51.100.2')).status).toBe(401);
  });
});
