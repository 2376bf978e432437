import { describe, expect, it } from 'vitest';
import { unitApp } from '../../test/support/unitApp.js';

// Routes over in-memory stores: a refused callback_url is a 422 before any job is planned or started.

const postJson = (json: unknown): RequestInit => ({
  method: 'POST',
  body: JSON.stringify(json),
  headers: { 'content-type': 'application/json' },
});

describe('callback_url checked at trigger time', () => {
  it.each([
    ['/simulate/trigger', { callback_url: 'http://127.0.0.1/hook' }, /loopback/],
    ['/simulate/trigger', { callback_url: 'gopher://example.com/' }, /only http and https/],
    ['/run', { ticker: 'AAPL', callback_url: 'http://[::ffff:10.0.0.1]/hook' }, /private/],
    ['/run', { tickers: ['AAPL', 'MSFT'], callback_url: 'https://a:b@example.com/' }, /credentials/],
    ['/jobs', { ticker: 'AAPL', date: '2025-03-05', callback_url: 'http://169.254.169.254/' }, /link-local/],
  ])('%s %j is a 422 invalid_callback_url', async (path, json, why) => {
    const { app, jobs } = unitApp();
    const res = await app.request(path, postJson(json));
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.error).toBe('invalid_callback_url');
    expect(body.message).toMatch(why);
    expect((await jobs.list({ owner: 'local' }, 10, 0)).total).toBe(0);
  });

  it('documents callback_url on every trigger and the webhook routes in the OpenAPI document', async () => {
    const { app } = unitApp();
    const doc = await (await app.request('/openapi.json')).json();
    for (const [path, ref] of [
      ['/simulate/trigger', 'post'],
      ['/run', 'post'],
      ['/jobs', 'post'],
    ] as const) {
      const schema = doc.paths[path][ref].requestBody.content['application/json'].schema;
      const resolved = schema.$ref ? doc.components.schemas[schema.$ref.split('/').at(-1)] : schema;
      const props = resolved.properties ?? resolved.allOf?.[0]?.properties ?? {};
      expect(props.callback_url, path).toBeDefined();
    }
    expect(doc.paths['/jobs/{jobId}/webhooks'].get.responses['200']).toBeDefined();
    expect(doc.paths['/jobs/{jobId}/webhooks/redeliver'].post.responses['409']).toBeDefined();
  });
});
