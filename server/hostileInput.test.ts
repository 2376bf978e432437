import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { analysisJobRecord } from '../jobs/records.js';
import type { TradingDayDoc } from '../storage/types.js';
import { analysisJob, simulationJob } from '../test/support/jobStoreContract.js';
import { MemoryJobStore } from '../test/support/memoryStores.js';
import { unitApp } from '../test/support/unitApp.js';
import { withCallDeadlines } from './deadline.js';
import { ApiError } from './http/errors.js';
import { ResponseCache } from './http/responseCache.js';
import { StoreHealth } from './storeHealth.js';

// What a hostile client sent a running instance (issue 18, §6), each answered at the HTTP layer over
// in-memory stores: nothing started.

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...headers },
});

function day(model: string, date: string): TradingDayDoc {
  const position = { cash: 10_000, holdings: {}, portfolioValue: 10_000 };
  return {
    _id: `local|${model}|${date}`,
    owner: 'local',
    model,
    date,
    jobId: 'sim-1',
    startingPosition: position,
    endingPosition: position,
    trades: [],
    dailyPnl: { profit: 0, returnPct: 0 },
    summary: 'held',
    reasoning: [],
    finished: true,
    toolUsage: {},
    tokenUsage: { calls: 0, promptTokens: 0, completionTokens: 0 },
    durationMs: 1,
    createdAt: new Date(),
  } as unknown as TradingDayDoc;
}

/** A TCP server that accepts connections and never answers: a frozen process, as SIGSTOP leaves it. */
async function blackhole(): Promise<{ address: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('every list a request names is bounded', () => {
  it('/results with a model named a thousand times answers once per model', async () => {
    const u = unitApp();
    u.tradingDays.days.push(day('buy-and-hold', '2025-03-03'), day('buy-and-hold', '2025-03-04'));
    const names = Array.from({ length: 1000 }, () => 'buy-and-hold').join(',');
    const res = await u.app.request(`/results?start_date=2025-03-01&end_date=2025-03-31&model=${names}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.models.map((m: { model: string }) => m.model)).toEqual(['buy-and-hold']);
    const one = await u.app.request(`/results?date=2025-03-03&model=${names}`);
    expect((await one.json()).results).toHaveLength(1);
  });

  it('/results refuses more distinct models than the cap, saying what the cap is', async () => {
    const u = unitApp();
    const names = Array.from({ length: 101 }, (_, i) => `m${i}`).join(',');
    const res = await u.app.request(`/results?model=${names}`);
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/at most 50/);
  });

  it('/results refuses a range too long to answer in one response', async () => {
    const u = unitApp();
    const res = await u.app.request('/results?start_date=1900-01-01&end_date=2025-03-31&detail=full');
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/at most \d+ days/);
  });

  it('a TradingAgents job names each analyst at most once, four at most', async () => {
    const u = unitApp();
    const res = await u.app.request(
      '/jobs',
      json({
        ticker: 'AAPL',
        date: '2025-03-03',
        config: { selected_analysts: Array.from({ length: 5000 }, () => 'market') },
      }),
    );
    expect(res.status).toBe(400);
  });
});

describe('the shared-answer cache is bounded in bytes', () => {
  it('does not keep an answer larger than an entry may be', async () => {
    const cache = new ResponseCache<unknown>({ maxEntries: 10, maxEntryBytes: 1_000, maxTotalBytes: 10_000 });
    let computed = 0;
    const big = async () => {
      computed++;
      return { blob: 'x'.repeat(5_000) };
    };
    await cache.get('big', 60_000, big);
    await cache.get('big', 60_000, big);
    expect(computed).toBe(2);
    expect(cache.bytes).toBe(0);
  });

  it('drops the oldest answers once the total would be over its bound', async () => {
    const cache = new ResponseCache<unknown>({ maxEntries: 1_000, maxEntryBytes: 1_000, maxTotalBytes: 3_000 });
    for (let i = 0; i < 10; i++) await cache.get(`k${i}`, 60_000, async () => ({ blob: 'x'.repeat(900) }));
    expect(cache.bytes).toBeLessThanOrEqual(3_000);
    expect(cache.size).toBeLessThanOrEqual(3);
    // The newest stay.
    let again = false;
    await cache.get('k9', 60_000, async () => {
      again = true;
      return {};
    });
    expect(again).toBe(false);
  });
});

describe('numbers and dates are what they say', () => {
  it.each(['1e2', '0x10', '1.0', ' 5', '+5', '5 '])('limit=%s is refused, not coerced', async (limit) => {
    const u = unitApp();
    const res = await u.app.request(`/jobs?limit=${encodeURIComponent(limit)}`);
    expect(res.status, limit).toBe(400);
  });

  it('plain decimal integers are accepted', async () => {
    const u = unitApp();
    const res = await u.app.request('/jobs?limit=20&offset=0');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ limit: 20, offset: 0 });
  });

  it.each(['0000-01-01', '1899-12-31', '2101-01-01', '9999-12-31'])('a date of %s is refused', async (date) => {
    const u = unitApp();
    const res = await u.app.request(`/results?end_date=${date}`);
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/1900.*2100/);
    const trigger = await u.app.request('/simulate/trigger', json({ end_date: date }));
    expect(trigger.status).toBe(400);
  });
});

describe('free text is bounded', () => {
  it('a 100 KB llm_provider is refused, not stored', async () => {
    const u = unitApp();
    const res = await u.app.request(
      '/jobs',
      json({ ticker: 'AAPL', date: '2025-03-03', config: { llm_provider: 'x'.repeat(100_000) } }),
    );
    expect(res.status).toBe(400);
    expect((await res.json()).message).toContain('config.llm_provider');
  });

  it.each([
    ['/results?job_id=', 'job_id'],
    ['/jobs?model=', 'model'],
  ])('a 10 KB %s is refused', async (path, field) => {
    const u = unitApp();
    const res = await u.app.request(`${path}${'x'.repeat(10_000)}`);
    expect(res.status).toBe(400);
    expect((await res.json()).message).toContain(field);
  });

  it('a 10 KB Last-Event-ID or file path is refused without being echoed back', async () => {
    const u = unitApp();
    const job = analysisJob();
    await u.jobs.insertIfAbsent(job);
    const long = '9'.repeat(10_000);
    for (const [path, init] of [
      [`/jobs/${job._id}/logs/stream?last_event_id=${long}`, {}],
      [`/jobs/${job._id}/logs/stream`, { headers: { 'last-event-id': long } }],
      [`/jobs/${job._id}/files/${'a'.repeat(10_000)}`, {}],
    ] as const) {
      const res = await u.app.request(path, init);
      expect(res.status, path.slice(0, 60)).toBeGreaterThanOrEqual(400);
      expect(res.status, path.slice(0, 60)).toBeLessThan(500);
      expect(JSON.stringify(await res.json()).length, path.slice(0, 60)).toBeLessThan(1_000);
    }
  });

  it('a 10 KB model name in a trigger is refused', async () => {
    const u = unitApp();
    const res = await u.app.request('/simulate/trigger', json({ models: ['x'.repeat(10_000)] }));
    expect(res.status).toBe(400);
  });
});

describe('a details page always moves on', () => {
  it('details_limit=0 gives the counts and no cursor to follow', async () => {
    const u = unitApp();
    const job = simulationJob({
      models: ['m1'],
      plan: { dates: ['2025-03-03', '2025-03-04', '2025-03-05'], modelStart: { m1: 0 } },
      totalModelDays: 3,
    });
    await u.jobs.insertIfAbsent(job);
    await u.jobs.transition('simulation', job._id, 'running');
    await u.jobs.transition('simulation', job._id, 'completed', {
      summary: { completed: 3, failed: 0, skipped: 0, stopped: 0, running: 0 },
    });
    for (const cursor of ['', '&details_cursor=1']) {
      const body = await (await u.app.request(`/simulate/status/${job._id}?details_limit=0${cursor}`)).json();
      expect(body.details).toEqual([]);
      expect(body.progress.completed).toBe(3);
      expect(body.details_next_cursor, cursor).toBeNull();
    }
  });
});

describe('any +json media type is JSON', () => {
  it.each(['application/vnd.a2+json', 'application/vnd.api.v2+json; charset=utf-8', 'application/merge-patch+json'])(
    '%s is read as JSON',
    async (type) => {
      const u = unitApp();
      const res = await u.app.request('/simulate/trigger', {
        method: 'POST',
        body: '{"bogus": 1}',
        headers: { 'content-type': type },
      });
      expect(res.status, type).toBe(400);
      expect((await res.json()).message).toContain("unknown field(s) 'bogus'");
    },
  );
});

describe('any +json media type is JSON, with an empty body too', () => {
  it('an empty application/vnd.a2+json body is {}', async () => {
    const u = unitApp();
    const job = analysisJob();
    await u.jobs.insertIfAbsent(job);
    await u.jobs.transition('analysis', job._id, 'running');
    await u.jobs.transition('analysis', job._id, 'completed');
    const res = await u.app.request(`/jobs/${job._id}/stop`, {
      method: 'POST',
      body: '',
      headers: { 'content-type': 'application/vnd.a2+json' },
    });
    // Past the media type: the ended job says it cannot be stopped.
    expect(res.status).toBe(409);
  });
});

describe('every 503 says when to try again', () => {
  it('Temporal unreachable at /run', async () => {
    const u = unitApp();
    const res = await u.app.request('/run', json({ ticker: 'AAPL' }));
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('an unhealthy /health', async () => {
    const u = unitApp();
    const res = await u.app.request('/health');
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('a 503 a route throws itself (a busy PDF renderer, say)', async () => {
    const u = unitApp();
    const job = analysisJob();
    await u.jobs.insertIfAbsent(job);
    u.deps.jobs.get = async () => {
      throw new ApiError('service_unavailable', 'busy rendering other PDFs; try again in a moment');
    };
    const res = await u.app.request(`/jobs/${job._id}`);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('the OpenAPI document says every 503 carries Retry-After', () => {
  it('documents the header on each 503', async () => {
    const { app } = unitApp();
    const doc = await (await app.request('/openapi.json')).json();
    const unavailable = Object.entries<any>(doc.paths).flatMap(([path, item]) =>
      Object.entries<any>(item)
        .filter(([, op]) => op.responses?.['503'])
        .map(([method, op]) => [`${method} ${path}`, op.responses['503']] as const),
    );
    expect(unavailable.map(([where]) => where)).toEqual(expect.arrayContaining(['post /run', 'get /health']));
    for (const [where, response] of unavailable) expect(response.headers?.['Retry-After'], where).toBeDefined();
  });
});

describe('a hung Temporal gets a fast 503', () => {
  it.each([
    ['/run', { ticker: 'AAPL' }],
    ['/jobs', { ticker: 'AAPL', date: '2025-03-03' }],
  ])(
    'POST %s answers 503 with Retry-After within a few seconds',
    async (path, body) => {
      const hole = await blackhole();
      const temporal = new Client({ connection: Connection.lazy({ address: hole.address }) });
      const u = unitApp({ temporal });
      try {
        const started = Date.now();
        const res = await u.app.request(path, json(body));
        expect(Date.now() - started).toBeLessThan(8_000);
        expect(res.status).toBe(503);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      } finally {
        await hole.close();
      }
    },
    30_000,
  );

  it('/health answers 503 with Retry-After within a few seconds', async () => {
    const hole = await blackhole();
    const temporal = new Client({ connection: Connection.lazy({ address: hole.address }) });
    const u = unitApp({ temporal });
    try {
      const started = Date.now();
      const res = await u.app.request('/health');
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(res.status).toBe(503);
      expect((await res.json()).services.temporal.status).toBe('down');
    } finally {
      await hole.close();
    }
  }, 30_000);
});

describe('/run honours Idempotency-Key', () => {
  function startsRecorded(u: ReturnType<typeof unitApp>) {
    const started: string[] = [];
    (u.deps.temporal.workflow as unknown as { start: unknown }).start = async (
      _wf: unknown,
      o: { workflowId: string },
    ) => {
      started.push(o.workflowId);
      return { workflowId: o.workflowId };
    };
    return started;
  }

  it('the same key and body is the same job; another body is refused', async () => {
    const u = unitApp();
    const started = startsRecorded(u);
    const headers = { 'idempotency-key': 'run-key-1' };
    const first = await u.app.request('/run', json({ ticker: 'AAPL' }, headers));
    expect(first.status).toBe(202);
    const job = await first.json();
    const again = await u.app.request('/run', json({ ticker: 'AAPL' }, headers));
    expect(again.status).toBe(200);
    expect((await again.json()).job_id).toBe(job.job_id);
    expect(started).toHaveLength(1);
    const other = await u.app.request('/run', json({ ticker: 'MSFT' }, headers));
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ error: 'idempotency_key_reused', job_id: job.job_id });
    // Without a key, each request is a job of its own.
    expect((await u.app.request('/run', json({ ticker: 'AAPL' }))).status).toBe(202);
    expect(started).toHaveLength(2);
  });

  it('a batch with a key is the same batch again', async () => {
    const u = unitApp();
    const started = startsRecorded(u);
    const headers = { 'idempotency-key': 'batch-key-1' };
    const first = await (await u.app.request('/run', json({ tickers: ['AAPL', 'MSFT'] }, headers))).json();
    const again = await u.app.request('/run', json({ tickers: ['AAPL', 'MSFT'] }, headers));
    expect(again.status).toBe(200);
    const body = await again.json();
    expect(body.batch_id).toBe(first.batch_id);
    expect([...body.job_ids].sort()).toEqual([...first.job_ids].sort());
    expect(started).toHaveLength(1);
  });

  it('a retry whose first start went through although it answered 503 finds that job', async () => {
    const u = unitApp();
    const started: string[] = [];
    let fail = true;
    (u.deps.temporal.workflow as unknown as { start: unknown }).start = async (
      _wf: unknown,
      o: { workflowId: string; args: [Parameters<typeof analysisJobRecord>[0]]; workflowIdReusePolicy?: unknown },
    ) => {
      if (started.includes(o.workflowId)) {
        expect(o.workflowIdReusePolicy).toBeDefined();
        throw new WorkflowExecutionAlreadyStartedError('already started', o.workflowId, 'analysisWorkflow');
      }
      started.push(o.workflowId);
      if (fail) {
        fail = false;
        // The start went through, but its answer came too late; the workflow's first activity writes the record.
        await u.jobs.insertIfAbsent(analysisJobRecord(o.args[0]));
        throw new Error('deadline exceeded');
      }
      return { workflowId: o.workflowId };
    };
    const headers = { 'idempotency-key': 'run-key-2' };
    expect((await u.app.request('/run', json({ ticker: 'AAPL' }, headers))).status).toBe(503);
    // The workflow's first activity writes the record of a job the API could not.
    const again = await u.app.request('/run', json({ ticker: 'AAPL' }, headers));
    expect(again.status).toBe(200);
    expect(started).toHaveLength(1);
  });
});

describe('a store that cannot write is visible', () => {
  it('/health says the database cannot write, with a 503 and Retry-After', async () => {
    const u = unitApp({ probeWrite: async () => Promise.reject(new Error('attempt to write a readonly database')) });
    // Temporal is unreachable in the unit app: only the database's own entry is looked at.
    const res = await u.app.request('/health');
    const body = await res.json();
    expect(res.status).toBe(503);
    expect(body.services.mongodb).toMatchObject({ status: 'down', writable: false });
    expect(body.services.mongodb.error).toContain('readonly');
  });

  it("a job's status carries a warning while the store cannot write", async () => {
    const u = unitApp({ probeWrite: async () => Promise.reject(new Error('attempt to write a readonly database')) });
    const job = simulationJob();
    await u.jobs.insertIfAbsent(job);
    await u.jobs.transition('simulation', job._id, 'running');
    const body = await (await u.app.request(`/simulate/status/${job._id}`)).json();
    expect(body.storage_warning).toMatch(/cannot write/);
    const an = analysisJob();
    await u.jobs.insertIfAbsent(an);
    expect((await (await u.app.request(`/jobs/${an._id}`)).json()).storage_warning).toMatch(/cannot write/);
  });

  it('no warning while writes go through', async () => {
    const u = unitApp();
    const job = simulationJob();
    await u.jobs.insertIfAbsent(job);
    const body = await (await u.app.request(`/simulate/status/${job._id}`)).json();
    expect(body.storage_warning).toBeUndefined();
  });
});

describe('a database that does not answer', () => {
  it('answers 503 with Retry-After from the first request, within its deadline', async () => {
    const jobs = new MemoryJobStore();
    // A frozen database: the connection is up, no answer ever comes.
    jobs.get = () => new Promise(() => undefined);
    jobs.list = () => new Promise(() => undefined);
    const { app } = unitApp({ jobs: withCallDeadlines(jobs, 300, 'jobs') });
    for (const path of ['/simulate/status/abc', '/jobs', '/jobs/abc']) {
      const started = Date.now();
      const res = await app.request(path);
      expect(Date.now() - started, path).toBeLessThan(2_000);
      expect(res.status, path).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await res.json()).message).toContain('database');
    }
  });

  it('passes through what is not a promise, and answers that come in time', async () => {
    const target = {
      n: 1,
      sync: () => 2,
      async fast() {
        return this.n;
      },
    };
    const bounded = withCallDeadlines(target, 1_000);
    expect(bounded.sync()).toBe(2);
    expect(await bounded.fast()).toBe(1);
    expect(bounded.n).toBe(1);
  });

  it('a read that grows with a job has a deadline of its own', async () => {
    const late = () => new Promise((r) => setTimeout(() => r('done'), 100));
    const store = withCallDeadlines({ get: late, modelDays: late }, 20, 'jobs', { modelDays: 5_000 });
    expect(await store.modelDays()).toBe('done');
    await expect(store.get()).rejects.toThrow('the database did not answer jobs.get within 20 ms');
  });
});

describe('the log says when the store stops writing, and when it writes again', () => {
  it('logs each change once, however often it is asked', async () => {
    const lines: Array<[string, string]> = [];
    const logger = {
      error: (_o: unknown, msg: string) => lines.push(['error', msg]),
      info: (_o: unknown, msg: string) => lines.push(['info', msg]),
    } as unknown as Logger;
    let writable = false;
    const health = new StoreHealth(
      async () => {
        if (!writable) throw new Error('attempt to write a readonly database');
      },
      logger,
      { freshMs: 0, timeoutMs: 1_000 },
    );
    for (let i = 0; i < 3; i++) expect((await health.check()).writable).toBe(false);
    writable = true;
    for (let i = 0; i < 3; i++) expect((await health.check()).writable).toBe(true);
    expect(lines).toEqual([
      ['error', 'the database cannot write: jobs cannot record progress until it can'],
      ['info', 'the database writes again'],
    ]);
  });

  it('a write with no answer counts as none', async () => {
    const health = new StoreHealth(
      () => new Promise(() => undefined),
      {
        error: () => undefined,
        info: () => undefined,
      } as unknown as Logger,
      { freshMs: 0, timeoutMs: 50 },
    );
    expect(await health.check()).toMatchObject({ writable: false, error: expect.stringContaining('no answer') });
  });
});
