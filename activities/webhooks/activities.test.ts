import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Collection } from 'mongodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../config/logger.js';
import type { JobDoc } from '../../jobs/records.js';
import { NO_ALLOW_LIST, parseAllowList, type WebhookAllowList } from '../../jobs/webhookPolicy.js';
import { type WebhookCollections, WebhookDeliveries } from '../../storage/webhookDeliveries.js';
import { simulationJob } from '../../test/support/jobStoreContract.js';
import type { PreparedJobWebhook, WebhookRetry } from '../../workflows/webhookContract.js';
import { createWebhookActivities } from './index.js';
import { newWebhookSecret } from './signing.js';

/** A collection of insert-once documents read by `_id`: what the delivery log asks of MongoDB, and no more. */
function keyedCollection<T extends { _id: string }>(): Collection<T> {
  const docs = new Map<string, T>();
  return {
    insertOne: async (doc: T) => {
      if (docs.has(doc._id)) throw Object.assign(new Error('E11000 duplicate key'), { code: 11000 });
      docs.set(doc._id, structuredClone(doc));
      return { acknowledged: true, insertedId: doc._id };
    },
    findOne: async (q: { _id: string }) => structuredClone(docs.get(q._id) ?? null),
  } as unknown as Collection<T>;
}

const SECRET = newWebhookSecret();
const RETRY: WebhookRetry = {
  initialIntervalMs: 1000,
  backoffCoefficient: 2,
  maximumIntervalMs: 3000,
  maximumAttempts: 4,
};
let server: Server;
let url = '';
let answer = 503;
const bodies: Array<{ body: string; headers: Record<string, string> }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      bodies.push({ body, headers: req.headers as Record<string, string> });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function setUp(job: JobDoc, allow: WebhookAllowList = parseAllowList(['127.0.0.1'])) {
  const c: WebhookCollections = {
    webhookDeliveries: keyedCollection(),
    webhookAttempts: keyedCollection(),
    webhookIndex: keyedCollection(),
  };
  const deliveries = new WebhookDeliveries(c);
  const activities = createWebhookActivities({
    jobs: { get: async (id) => (id === job._id ? job : null) },
    deliveries,
    settings: { secret: SECRET, allow: () => allow, retry: RETRY, resolve: async () => [], timeoutMs: 5000 },
    logger: createLogger('silent'),
  });
  const env = (attempt: number) => new MockActivityEnvironment({ attempt }, { logger: new DefaultLogger('ERROR') });
  return { deliveries, activities, env };
}

async function preparedId(s: ReturnType<typeof setUp>, jobId: string): Promise<string> {
  const p = (await s
    .env(1)
    .run(s.activities.prepareJobWebhook, { jobId, origin: 'job_end' as const, preparedBy: 'w' })) as PreparedJobWebhook;
  if (!p.deliver) throw new Error(p.reason);
  return p.deliveryId;
}

const ended = (overrides: Partial<JobDoc> = {}) =>
  simulationJob({ status: 'completed', completedAt: new Date(), callbackUrl: url, ...(overrides as object) });

describe('webhook activities', () => {
  it('prepares a job end once: a second workflow seeing the same end is told to leave it', async () => {
    const job = ended();
    const { activities, deliveries, env } = setUp(job);
    const first = await env(1).run(activities.prepareJobWebhook, {
      jobId: job._id,
      origin: 'job_end' as const,
      preparedBy: 'wf-a',
    });
    expect(first).toEqual({ deliver: true, deliveryId: `msg_${job._id}_end1`, retry: RETRY });
    // The same workflow's retried activity goes on; another workflow does not.
    expect(
      await env(2).run(activities.prepareJobWebhook, {
        jobId: job._id,
        origin: 'job_end' as const,
        preparedBy: 'wf-a',
      }),
    ).toMatchObject({ deliver: true });
    expect(
      await env(1).run(activities.prepareJobWebhook, {
        jobId: job._id,
        origin: 'job_end' as const,
        preparedBy: 'wf-b',
      }),
    ).toMatchObject({ deliver: false, reason: expect.stringContaining('delivered by wf-a') });
    expect((await deliveries.forJob(job._id)).map((d) => d._id)).toEqual([`msg_${job._id}_end1`]);
  });

  it('skips a job without a callback_url or not ended', async () => {
    const none = ended({ callbackUrl: undefined });
    expect(
      await setUp(none)
        .env(1)
        .run(setUp(none).activities.prepareJobWebhook, {
          jobId: none._id,
          origin: 'job_end' as const,
          preparedBy: 'w',
        }),
    ).toMatchObject({ deliver: false, reason: 'the job names no callback_url' });
    const running = ended({ status: 'running' });
    const r = setUp(running);
    expect(
      await r
        .env(1)
        .run(r.activities.prepareJobWebhook, { jobId: running._id, origin: 'job_end' as const, preparedBy: 'w' }),
    ).toMatchObject({ deliver: false, reason: expect.stringContaining('not ended') });
  });

  it('logs each failed attempt with its next try, the last as final, and sends nothing after an accepted one', async () => {
    const job = ended();
    const s = setUp(job);
    const { activities, deliveries, env } = s;
    const deliveryId = await preparedId(s, job._id);
    bodies.length = 0;
    answer = 503;
    for (const attempt of [1, 2]) {
      await expect(env(attempt).run(activities.deliverJobWebhook, { deliveryId, retry: RETRY })).rejects.toThrow(
        `HTTP 503 (attempt ${attempt})`,
      );
    }
    let [view] = await deliveries.forJob(job._id);
    expect(view!.status).toBe('pending');
    const [a1, a2] = view!.attempts;
    expect(a1!.nextTryAt!.getTime() - a1!.at.getTime()).toBe(1000);
    expect(a2!.nextTryAt!.getTime() - a2!.at.getTime()).toBe(2000);
    expect(view!.nextTryAt).toEqual(a2!.nextTryAt);

    answer = 204;
    expect(await env(3).run(activities.deliverJobWebhook, { deliveryId, retry: RETRY })).toEqual({ statusCode: 204 });
    // An attempt after a lost completion: already accepted, nothing is sent.
    expect(await env(4).run(activities.deliverJobWebhook, { deliveryId, retry: RETRY })).toEqual({ statusCode: 0 });
    expect(bodies).toHaveLength(3);
    [view] = await deliveries.forJob(job._id);
    expect(view!.status).toBe('delivered');
    expect(view!.attempts.map((a) => [a.attempt, a.statusCode, a.ok])).toEqual([
      [1, 503, false],
      [2, 503, false],
      [3, 204, true],
    ]);
    for (const b of bodies)
      expect(new Webhook(SECRET).verify(b.body, b.headers)).toMatchObject({ type: 'job.completed' });
    expect(new Set(bodies.map((b) => b.headers['webhook-id']))).toEqual(new Set([deliveryId]));
  });

  it('marks the last attempt final, and a refusal by the policy final at once (not retryable)', async () => {
    const job = ended();
    const s = setUp(job);
    const { activities, deliveries, env } = s;
    const deliveryId = await preparedId(s, job._id);
    answer = 500;
    await expect(env(4).run(activities.deliverJobWebhook, { deliveryId, retry: RETRY })).rejects.toThrow(/the last/);
    let [view] = await deliveries.forJob(job._id);
    expect(view).toMatchObject({ status: 'failed', nextTryAt: null });

    const refusedJob = ended();
    const r = setUp(refusedJob, NO_ALLOW_LIST);
    const prepared = { deliveryId: await preparedId(r, refusedJob._id) };
    const err = await r
      .env(1)
      .run(r.activities.deliverJobWebhook, { deliveryId: prepared.deliveryId, retry: RETRY })
      .catch((e) => e);
    expect(err).toMatchObject({ type: 'WebhookRefused', nonRetryable: true });
    [view] = await r.deliveries.forJob(refusedJob._id);
    expect(view!.status).toBe('failed');
    expect(view!.attempts[0]!.error).toMatch(/loopback/);
  });
});
