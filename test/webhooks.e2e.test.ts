import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWebhookSecret } from '../activities/webhooks/signing.js';
import { NO_ALLOW_LIST, parseAllowList, type WebhookAllowList } from '../jobs/webhookPolicy.js';
import { jobWebhookWorkflow } from '../workflows/jobWebhook.js';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';

/**
 * Completion webhooks end to end on the real Temporal and FerretDB: a receiver on loopback (a real HTTP
 * server) that fails the first attempts of each path and then accepts; every request's signature is
 * checked with the Standard Webhooks library's own verifier.
 */

const SECRET = newWebhookSecret();
// The worker's allow-list, read at each attempt: loopback is open except where a test closes it.
let workerAllow: WebhookAllowList = parseAllowList(['127.0.0.1']);

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}
const received: Received[] = [];
/** Per path: how many requests are answered 503 before one is accepted. */
const failFirst = new Map<string, number>();

let receiver: Server;
let hookBase = '';
let h: Harness;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const path = req.url ?? '';
      const earlier = received.filter((r) => r.path === path).length;
      const answered = earlier < (failFirst.get(path) ?? 0) ? 503 : 200;
      received.push({ path, headers: req.headers, body, answered });
      res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered === 200 ? 'ok' : 'try later');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  h = await startHarness({
    models: STRATEGY_MODELS,
    // The API checks literal addresses at trigger time with the same setting.
    env: { TRADEFLOW_WEBHOOK_SECRET: SECRET, TRADEFLOW_WEBHOOK_ALLOW: '127.0.0.1' },
    webhooks: {
      // Short backoff here; production waits 10 s doubling to an hour.
      retry: { initialIntervalMs: 300, backoffCoefficient: 2, maximumIntervalMs: 1500, maximumAttempts: 6 },
      allow: () => workerAllow,
    },
  });
});

afterAll(async () => {
  await h?.stop();
  await new Promise<void>((r) => receiver?.close(() => r()));
});

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The job's delivery log once every delivery in it (at least `count`) has settled. */
const settledLog = (jobId: string, count = 1) =>
  until(`webhook log of ${jobId}`, async () => {
    const { status, body } = await h.api(`/jobs/${jobId}/webhooks`);
    if (status !== 200 || body.deliveries.length < count) return undefined;
    return body.deliveries.every((d: any) => d.status !== 'pending') ? body : undefined;
  });

const verify = (r: Received) =>
  new Webhook(SECRET).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  }) as any;

describe('completion webhooks', () => {
  it('delivers a simulation’s end, signed, retried through failures, accepted exactly once; a redeliver is a new message', async () => {
    const path = '/hook/simulation';
    failFirst.set(path, 2);
    const res = await h.api('/simulate/trigger', {
      method: 'POST',
      json: {
        start_date: '2025-03-03',
        end_date: '2025-03-05',
        models: ['buy-and-hold'],
        callback_url: `${hookBase}${path}`,
      },
    });
    expect(res.status).toBe(202);
    const jobId = res.body.job_id;
    const job = await h.waitForJob(jobId);
    expect(job.status).toBe('completed');

    const log = await settledLog(jobId);
    expect(log.callback_url).toBe(`${hookBase}${path}`);
    expect(log.deliveries).toHaveLength(1);
    const [d] = log.deliveries;
    expect(d).toMatchObject({ origin: 'job_end', event_type: 'job.completed', status: 'delivered', next_try_at: null });
    expect(d.attempts.map((a: any) => [a.attempt, a.ok, a.status_code])).toEqual([
      [1, false, 503],
      [2, false, 503],
      [3, true, 200],
    ]);
    expect(d.attempts[0].error).toContain('HTTP 503');
    expect(d.attempts[0].address).toBe('127.0.0.1');
    // The next try was announced, and came no earlier than announced.
    expect(Date.parse(d.attempts[0].next_try_at)).toBeGreaterThan(Date.parse(d.attempts[0].at));
    expect(Date.parse(d.attempts[1].at)).toBeGreaterThanOrEqual(Date.parse(d.attempts[0].next_try_at) - 50);

    const mine = received.filter((r) => r.path === path);
    expect(mine.map((r) => r.answered)).toEqual([503, 503, 200]);
    // Every attempt is the same message (one id, one body), each signed afresh, and verifies.
    expect(new Set(mine.map((r) => r.headers['webhook-id']))).toEqual(new Set([d.delivery_id]));
    expect(new Set(mine.map((r) => r.body)).size).toBe(1);
    const event = verify(mine[2]!);
    expect(event).toMatchObject({
      type: 'job.completed',
      data: { job_id: jobId, kind: 'simulation', status: 'completed' },
    });
    expect(event.data.summary).toMatchObject({ completed: 3 });
    expect(mine[2]!.headers['content-type']).toBe('application/json');

    // A second workflow seeing the same end (as the close of a job whose workflow vanished would) leaves
    // it to the first: one end, one message.
    const twin = await h.temporal.workflow.execute(jobWebhookWorkflow, {
      workflowId: `webhook-twin-${jobId}`,
      taskQueue: h.settings.taskQueues.orchestrator,
      args: [{ jobId, origin: 'job_end' }],
    });
    expect(twin).toMatchObject({ status: 'skipped', reason: expect.stringContaining('is delivered by') });

    // Redelivery: a new delivery with a new webhook-id carrying the same event.
    const again = await h.api(`/jobs/${jobId}/webhooks/redeliver`, { method: 'POST' });
    expect(again.status).toBe(202);
    expect(again.body.delivery_id).not.toBe(d.delivery_id);
    const both = await settledLog(jobId, 2);
    expect(both.deliveries.map((x: any) => [x.delivery_id, x.origin, x.status])).toEqual([
      [d.delivery_id, 'job_end', 'delivered'],
      [again.body.delivery_id, 'redeliver', 'delivered'],
    ]);
    const accepted = received.filter((r) => r.path === path && r.answered === 200);
    expect(accepted.map((r) => r.headers['webhook-id'])).toEqual([d.delivery_id, again.body.delivery_id]);
    expect(verify(accepted[1]!)).toEqual(event);
  });

  it('delivers analysis ends started by POST /run and by POST /jobs', async () => {
    const run = await h.api('/run', {
      method: 'POST',
      json: { ticker: 'AAPL', date: '2025-03-05', callback_url: `${hookBase}/hook/run` },
    });
    expect(run.status).toBe(202);
    const ta = await h.api('/jobs', {
      method: 'POST',
      json: { ticker: 'MSFT', date: '2025-03-05', callback_url: `${hookBase}/hook/jobs` },
    });
    expect(ta.status).toBe(202);
    for (const [jobId, path] of [
      [run.body.job_id, '/hook/run'],
      [ta.body.job_id, '/hook/jobs'],
    ] as const) {
      const job = await h.waitForJob(jobId, undefined, 120_000);
      const log = await settledLog(jobId);
      expect(log.deliveries.map((x: any) => [x.status, x.event_type])).toEqual([['delivered', `job.${job.status}`]]);
      const accepted = received.filter((r) => r.path === path && r.answered === 200);
      expect(accepted).toHaveLength(1);
      expect(verify(accepted[0]!)).toMatchObject({ data: { job_id: jobId, kind: 'analysis', status: job.status } });
    }
  });

  it('refuses a bad or private callback_url at trigger time with 422, starting nothing', async () => {
    const before = (await h.api('/jobs?limit=200')).body.total;
    const cases: Array<[string, unknown, RegExp]> = [
      ['/simulate/trigger', { models: ['momentum'], callback_url: 'http://10.0.0.1/hook' }, /private address/],
      ['/simulate/trigger', { models: ['momentum'], callback_url: 'ftp://example.com/hook' }, /only http and https/],
      ['/simulate/trigger', { models: ['momentum'], callback_url: 'https://u:p@example.com/' }, /credentials/],
      ['/run', { ticker: 'AAPL', callback_url: 'http://[::1]:9/hook' }, /loopback/],
      ['/jobs', { ticker: 'AAPL', date: '2025-03-05', callback_url: 'http://169.254.169.254/latest' }, /link-local/],
      ['/jobs', { ticker: 'AAPL', date: '2025-03-05', callback_url: 'not a url' }, /not an absolute URL/],
    ];
    for (const [path, json, why] of cases) {
      const res = await h.api(path, { method: 'POST', json });
      expect(res.status, `${path} ${JSON.stringify(json)}`).toBe(422);
      expect(res.body.error).toBe('invalid_callback_url');
      expect(res.body.message).toMatch(why);
    }
    expect((await h.api('/jobs?limit=200')).body.total).toBe(before);
  });

  it('refuses at delivery a host name that resolves to loopback without the allow-list: failed for good, with why', async () => {
    workerAllow = NO_ALLOW_LIST;
    try {
      const port = (receiver.address() as AddressInfo).port;
      const res = await h.api('/simulate/trigger', {
        method: 'POST',
        json: {
          start_date: '2025-03-03',
          end_date: '2025-03-03',
          models: ['momentum'],
          callback_url: `http://localhost:${port}/hook/refused`,
        },
      });
      expect(res.status).toBe(202);
      await h.waitForJob(res.body.job_id);
      const log = await settledLog(res.body.job_id);
      const [d] = log.deliveries;
      expect(d.status).toBe('failed');
      expect(d.attempts).toHaveLength(1);
      expect(d.attempts[0]).toMatchObject({ ok: false, status_code: null, next_try_at: null });
      expect(d.attempts[0].error).toMatch(/localhost resolves to .* loopback address.*TRADEFLOW_WEBHOOK_ALLOW/);
      expect(received.filter((r) => r.path === '/hook/refused')).toHaveLength(0);
    } finally {
      workerAllow = parseAllowList(['127.0.0.1']);
    }
  });

  it('answers 409 for a redeliver of a job without a callback_url, and lists its empty log', async () => {
    const res = await h.api('/simulate/trigger', {
      method: 'POST',
      json: { start_date: '2025-03-03', end_date: '2025-03-03', models: ['mean-reversion'] },
    });
    expect(res.status).toBe(202);
    await h.waitForJob(res.body.job_id);
    const log = await h.api(`/jobs/${res.body.job_id}/webhooks`);
    expect(log.body).toEqual({ job_id: res.body.job_id, callback_url: null, deliveries: [] });
    const again = await h.api(`/jobs/${res.body.job_id}/webhooks/redeliver`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('no_callback_url');
    expect((await h.api('/jobs/nope/webhooks')).status).toBe(404);
  });

  it('lists the webhook routes in the OpenAPI document', async () => {
    const doc = (await h.api('/openapi.json')).body;
    expect(doc.paths['/jobs/{jobId}/webhooks'].get).toBeDefined();
    expect(doc.paths['/jobs/{jobId}/webhooks/redeliver'].post).toBeDefined();
    expect(doc.components.schemas.WebhookLog).toBeDefined();
  });
});
