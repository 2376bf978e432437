import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { MongoJobStore } from '../storage/jobStore.js';
import { analysisJob, simulationJob } from '../test/support/jobStoreContract.js';
import { unitApp } from '../test/support/unitApp.js';

// Routes over in-memory stores: nothing started. Each `it` builds its own app.

async function seed(ended: 'completed' | 'failed' = 'completed') {
  const u = unitApp();
  const an = analysisJob();
  await u.jobs.insertIfAbsent(an);
  await u.jobs.transition('analysis', an._id, 'running');
  await u.jobs.transition('analysis', an._id, ended);
  const sim = simulationJob({ createdAt: new Date(Date.now() + 1000) });
  await u.jobs.insertIfAbsent(sim);
  return { ...u, an, sim };
}

/** A POST; without `type` no Content-Type is sent (a string body would get text/plain, bytes get none). */
const post = (body: string | undefined, type?: string): RequestInit => ({
  method: 'POST',
  ...(body !== undefined ? { body: new TextEncoder().encode(body) } : {}),
  headers: type ? { 'content-type': type } : {},
});

describe('a request-named key is looked up as data, never as an object property', () => {
  it.each(['__proto__', 'hasOwnProperty', 'valueOf', 'constructor', 'toString'])(
    'GET /jobs/{id}/download/%s is a 404 naming the artifacts',
    async (name) => {
      const { app, an } = await seed();
      const res = await app.request(`/jobs/${an._id}/download/${name}`);
      expect(res.status).toBe(404);
      const body = await res.json();
      expect(body).toMatchObject({ error: 'not_found', message: `no artifact named ${name}` });
      expect(body.artifacts).toContain('professional-report');
    },
  );

  it('a job id or batch id that names an Object property is just not found', async () => {
    const { app } = await seed();
    for (const path of [
      '/jobs/__proto__',
      '/jobs/constructor/logs',
      '/batches/__proto__',
      '/simulate/status/valueOf',
    ]) {
      expect((await app.request(path)).status, path).toBe(404);
    }
  });
});

describe('only JSON is read as JSON', () => {
  const cases: Array<[string, string | undefined, string]> = [
    ['text/plain', 'text/plain', '{"start_date":"2025-03-03"}'],
    ['text/plain;charset=UTF-8', 'text/plain;charset=UTF-8', '{}'],
    ['application/jsonx', 'application/jsonx', '{}'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'a=1'],
    ['multipart/form-data', 'multipart/form-data; boundary=x', '--x--'],
    ['no Content-Type', undefined, '{"start_date":"2025-03-03"}'],
  ];
  it.each(cases)('%s on every POST is 415', async (_name, type, body) => {
    const { app, an, sim } = await seed();
    for (const path of ['/simulate/trigger', '/run', '/jobs', `/jobs/${sim._id}/stop`, `/jobs/${an._id}/retry`]) {
      const res = await app.request(path, post(body, type));
      expect(res.status, `${path} with ${type}`).toBe(415);
      expect((await res.json()).error).toBe('unsupported_media_type');
    }
  });

  it('application/json with a charset, and +json types, are JSON', async () => {
    const { app } = await seed();
    for (const type of ['application/json; charset=utf-8', 'application/vnd.api+json', 'APPLICATION/JSON']) {
      // An unknown field is refused by the schema: the body was read as JSON.
      const res = await app.request('/simulate/trigger', post('{"bogus": 1}', type));
      expect(res.status, type).toBe(400);
      expect((await res.json()).message).toContain("unknown field(s) 'bogus'");
    }
  });

  it('a malformed JSON body is a 400 that says so; an empty body is {}', async () => {
    const { app, an } = await seed();
    const bad = await app.request('/simulate/trigger', post('{"start_date": ', 'application/json'));
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/not valid JSON/);
    // Empty, with a JSON type or none: the stop's optional body is absent, and the ended job says so.
    for (const type of ['application/json', undefined]) {
      const res = await app.request(`/jobs/${an._id}/stop`, post('', type));
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ error: 'not_running', status: 'completed' });
    }
    // Any other declared type is refused even when empty: it is what a cross-site form sends.
    expect((await app.request(`/jobs/${an._id}/retry`, post('', 'text/plain'))).status).toBe(415);
  });
});

/** Waits for `condition` (checked as the event loop turns), failing after a generous bound. */
async function until(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the awaited condition never held');
    await new Promise((r) => setImmediate(r));
  }
}

describe('live streams end', () => {
  async function readAll(res: Response, timeoutMs = 3000) {
    const timer = setTimeout(() => res.body?.cancel(), timeoutMs);
    const text = await res.text();
    clearTimeout(timer);
    return text.split('\n\n').filter(Boolean);
  }

  it('a stream of an ended job whose Last-Event-ID is its last event closes at once, costing no polling', async () => {
    const { app, an, events, hub } = await seed();
    await events.append(an._id, { type: 'status', data: { status: 'running', message: 'go' } });
    await events.append(an._id, { type: 'completed', data: { status: 'completed', message: 'done' } });
    for (const after of ['2', '7']) {
      const started = Date.now();
      const res = await app.request(`/jobs/${an._id}/logs/stream`, { headers: { 'last-event-id': after } });
      const frames = await readAll(res);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(frames).toHaveLength(1);
      expect(frames[0]).toContain('event: connection');
    }
    // Once no feed is left, nothing polls: the reads stop where they are.
    await until(() => hub.activeFeeds === 0);
    const reads = events.reads;
    await new Promise((r) => setImmediate(r));
    expect(events.reads).toBe(reads);
  });

  it('resuming an ended job sends what is left, then closes', async () => {
    const { app, an, events } = await seed();
    await events.append(an._id, { type: 'log', data: { type: 'LOG', message: 'one' } });
    await events.append(an._id, { type: 'log', data: { type: 'LOG', message: 'two' } });
    await events.append(an._id, { type: 'completed', data: { status: 'completed', message: 'done' } });
    const res = await app.request(`/jobs/${an._id}/logs/stream?last_event_id=1`);
    const frames = await readAll(res);
    expect(frames.map((f) => f.match(/^id: (\d+)/m)?.[1] ?? 'connection')).toEqual(['connection', '2', '3']);
  });

  it('an ended job that never logged a final event still closes once drained', async () => {
    const { app, an, events, hub } = await seed('failed');
    await events.append(an._id, { type: 'log', data: { type: 'LOG', message: 'only line' } });
    const res = await app.request(`/jobs/${an._id}/logs/stream`);
    const frames = await readAll(res);
    expect(frames).toHaveLength(2);
    expect(frames[1]).toContain('only line');
    await until(() => hub.activeFeeds === 0);
  });
});

describe('a stream shared by many clients', () => {
  const ids = (frames: string[]) => frames.map((f) => f.match(/^id: (\d+)/m)?.[1] ?? 'connection');
  async function readAll(res: Response, timeoutMs = 3000) {
    const timer = setTimeout(() => res.body?.cancel(), timeoutMs);
    const text = await res.text();
    clearTimeout(timer);
    return text.split('\n\n').filter(Boolean);
  }

  it('a Last-Event-ID past the end does not become the position other streams of the job start from', async () => {
    const u = unitApp();
    const job = analysisJob();
    await u.jobs.insertIfAbsent(job);
    await u.jobs.transition('analysis', job._id, 'running');
    for (const m of ['one', 'two']) await u.events.append(job._id, { type: 'log', data: { type: 'LOG', message: m } });
    const bogus = u.app.request(`/jobs/${job._id}/logs/stream`, { headers: { 'last-event-id': '9999999999' } });
    await until(() => u.hub.subscribers(job._id) === 1);
    const honest = u.app.request(`/jobs/${job._id}/logs/stream`);
    await until(() => u.hub.subscribers(job._id) === 2);
    await u.events.append(job._id, { type: 'log', data: { type: 'LOG', message: 'three' } });
    await u.jobs.transition('analysis', job._id, 'completed');
    await u.events.append(job._id, { type: 'completed', data: { status: 'completed', message: 'done', run: 1 } });
    expect(ids(await readAll(await honest))).toEqual(['connection', '1', '2', '3', '4']);
    expect(ids(await readAll(await bogus))).toEqual(['connection', '3', '4']);
  });

  it('a job that ran again streams on past its earlier run’s end, to the current run’s', async () => {
    const u = unitApp();
    const job = analysisJob();
    await u.jobs.insertIfAbsent(job);
    await u.jobs.transition('analysis', job._id, 'running');
    await u.jobs.transition('analysis', job._id, 'stopped');
    await u.jobs.rerun(job._id, 2, 'wf-2');
    await u.jobs.transition('analysis', job._id, 'running', {}, 2);
    await u.jobs.transition('analysis', job._id, 'completed', {}, 2);
    const append = (type: 'status' | 'completed', data: Record<string, unknown>) =>
      u.events.append(job._id, { type, data: { status: 'running', message: '', ...data } } as never);
    await append('status', {});
    await append('completed', { status: 'stopped', run: 1 });
    await append('status', { status: 'pending' });
    await append('completed', { status: 'completed', run: 2 });
    expect(ids(await readAll(await u.app.request(`/jobs/${job._id}/logs/stream`)))).toEqual([
      'connection',
      '1',
      '2',
      '3',
      '4',
    ]);
  });
});

describe('writes come from programs or this site, not from other sites', () => {
  it('refuses a browser write from another site, with or without a body', async () => {
    const { app, an } = await seed();
    const cases: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'http://localhost:8080', host: 'localhost:9999' },
    ];
    for (const headers of cases) {
      for (const path of ['/simulate/trigger', `/jobs/${an._id}/stop`, `/jobs/${an._id}/retry`]) {
        const res = await app.request(path, { method: 'POST', headers });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
        expect((await res.json()).error).toBe('forbidden_origin');
      }
    }
  });

  it('lets programs, this site and trusted sites write', async () => {
    const { app, an } = await seed();
    const allowed: Array<Record<string, string>> = [
      {},
      { origin: 'http://localhost:8080', host: 'localhost:8080' },
      { 'sec-fetch-site': 'same-origin' },
    ];
    for (const headers of allowed) {
      // Past the origin check: the ended job says it cannot be stopped.
      expect((await app.request(`/jobs/${an._id}/stop`, { method: 'POST', headers })).status).toBe(409);
    }
    const trusting = unitApp({ allowedOrigins: ['https://dashboard.example'] });
    const job = analysisJob();
    await trusting.jobs.insertIfAbsent(job);
    const res = await trusting.app.request(`/jobs/${job._id}/retry`, {
      method: 'POST',
      headers: { origin: 'https://dashboard.example' },
    });
    expect(res.status).toBe(409);
  });
});

describe('jobs are owned and typed apart by kind', () => {
  it('a 10 KB job id is not found, and not echoed back whole', async () => {
    const { app } = await seed();
    const res = await app.request(`/jobs/${'x'.repeat(10_000)}`);
    expect(res.status).toBe(404);
    expect((await res.json()).message.length).toBeLessThan(300);
  });

  it("someone else's job is not found, on every /jobs route", async () => {
    const u = unitApp();
    const theirs = analysisJob({ owner: 'someone-else' });
    await u.jobs.insertIfAbsent(theirs);
    const me = await u.addUser('me@example.com');
    for (const path of [
      '',
      '/logs',
      '/logs/stream',
      '/result',
      '/files',
      '/download/financial-model',
      '/status/detailed',
    ]) {
      const res = await me.app.request(`/jobs/${theirs._id}${path}`);
      expect(res.status, path).toBe(404);
      expect((await res.json()).message).toBe(`no job ${theirs._id}`);
    }
    expect((await me.app.request(`/jobs/${theirs._id}/stop`, { method: 'POST' })).status).toBe(404);
    // An admin sees every user's jobs.
    expect((await u.app.request(`/jobs/${theirs._id}`)).status).toBe(200);
  });

  it('each kind answers in its own shape; /simulate/status refuses an analysis', async () => {
    const { app, an, sim } = await seed();
    const list = await (await app.request('/jobs')).json();
    expect(list.total).toBe(2);
    expect(list.jobs.map((j: any) => [j.kind, 'ticker' in j, 'date_range' in j])).toEqual([
      ['simulation', false, true],
      ['analysis', true, false],
    ]);
    const wrong = await app.request(`/simulate/status/${an._id}`);
    expect(wrong.status).toBe(404);
    expect(await wrong.json()).toMatchObject({ kind: 'analysis', status_url: `/jobs/${an._id}` });
    const files = await app.request(`/jobs/${sim._id}/files`);
    expect(files.status).toBe(404);
    expect((await files.json()).message).toContain('is of kind simulation');
  });

  it('a completed analysis cannot be retried; an ended one cannot be stopped', async () => {
    const { app, an } = await seed();
    const retry = await app.request(`/jobs/${an._id}/retry`, { method: 'POST' });
    expect(retry.status).toBe(409);
    expect(await retry.json()).toMatchObject({ error: 'not_retryable', status: 'completed' });
    expect((await app.request(`/jobs/${an._id}/stop`, { method: 'POST' })).status).toBe(409);
  });

  it('bad query parameters are 400s that name the field', async () => {
    const { app } = await seed();
    const res = await app.request('/jobs?limit=0&color=red');
    expect(res.status).toBe(400);
    const { message } = await res.json();
    expect(message).toContain("unknown field(s) 'color'");
  });
});

describe('a simulation status pages its model-days; its counts are whole', () => {
  it('walks the plan by date then model, reading only the page, and says what days never run became', async () => {
    const u = unitApp();
    const job = simulationJob({
      models: ['m1', 'm2'],
      plan: { dates: ['2025-03-03', '2025-03-04', '2025-03-05'], modelStart: { m1: 0, m2: 1 } },
      totalModelDays: 5,
    });
    await u.jobs.insertIfAbsent(job);
    await u.jobs.transition('simulation', job._id, 'running');
    await u.jobs.setModelDay(job._id, 'm1', '2025-03-03', 'completed', { durationMs: 1200, attempts: 1 });
    await u.jobs.setModelDay(job._id, 'm1', '2025-03-04', 'completed', { durationMs: 900, attempts: 2 });
    await u.jobs.transition('simulation', job._id, 'stopped', {
      summary: { completed: 2, failed: 0, skipped: 0, stopped: 3, running: 0 },
    });
    const first = await (await u.app.request(`/jobs/${job._id}?details_limit=3`)).json();
    expect(first.progress).toMatchObject({ total_model_days: 5, completed: 2, stopped: 3, pending: 0, running: 0 });
    expect(first.details.map((d: any) => [d.date, d.model, d.status])).toEqual([
      ['2025-03-03', 'm1', 'completed'],
      ['2025-03-04', 'm1', 'completed'],
      ['2025-03-04', 'm2', 'stopped'],
    ]);
    expect(first.details[1]).toMatchObject({ duration_seconds: 0.9, attempts: 2 });
    expect(first).toMatchObject({ details_total: 5, details_next_cursor: '3' });
    const rest = await (await u.app.request(`/simulate/status/${job._id}?details_cursor=3`)).json();
    expect(rest.details.map((d: any) => [d.date, d.model])).toEqual([
      ['2025-03-05', 'm1'],
      ['2025-03-05', 'm2'],
    ]);
    expect(rest.details_next_cursor).toBeNull();
    expect((await u.app.request(`/jobs/${job._id}?details_limit=lots`)).status).toBe(400);
    expect((await u.app.request(`/jobs/${job._id}?details_cursor=-1`)).status).toBe(400);
  });
});

describe('when the database is down', () => {
  it('answers 503 within about a second, saying so, instead of hanging or a 500', async () => {
    // Nothing listens on port 1: every operation fails server selection after its timeout.
    const client = new MongoClient('mongodb://127.0.0.1:1/', { serverSelectionTimeoutMS: 500 });
    const db = client.db('unreachable');
    const jobs = new MongoJobStore({
      jobs: db.collection('jobs'),
      modelDays: db.collection('model_days'),
      jobKeys: db.collection('job_keys'),
      jobTransitions: db.collection('job_transitions'),
    });
    const { app } = unitApp({ jobs });
    try {
      for (const path of ['/jobs/abc', '/jobs', '/simulate/status/abc', '/jobs/abc/logs/stream']) {
        const started = Date.now();
        const res = await app.request(path);
        expect(Date.now() - started, path).toBeLessThan(1500);
        expect(res.status, path).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
        expect((await res.json()).message).toContain('database is unreachable');
      }
    } finally {
      await client.close();
    }
  });
});

describe('the OpenAPI document comes from the routes', () => {
  it('documents every route with typed bodies and the shared error schema', async () => {
    const { app } = unitApp();
    const doc = await (await app.request('/openapi.json')).json();
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/simulate/trigger',
      '/simulate/status/{jobId}',
      '/run',
      '/jobs',
      '/jobs/{jobId}',
      '/jobs/{jobId}/stop',
      '/jobs/{jobId}/retry',
      '/jobs/{jobId}/logs/stream',
      '/jobs/{jobId}/files/{path}',
      '/jobs/{jobId}/download/{artifact}',
      '/results',
      '/health',
    ]) {
      expect(paths, p).toContain(p);
    }
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        for (const [status, response] of Object.entries<any>(op.responses)) {
          const schema = response.content?.['application/json']?.schema;
          if (!schema) continue;
          if (Number(status) >= 400 && status !== '503')
            expect(schema.$ref, `${method} ${path} ${status}`).toBe('#/components/schemas/Error');
          // Typed: never a bare object.
          expect(JSON.stringify(schema), `${method} ${path} ${status}`).not.toBe('{"type":"object"}');
        }
      }
    }
    expect(doc.components.schemas.Error.properties.error.enum).toContain('unsupported_media_type');
    // Every write documents what the write middleware can answer.
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      if (!item.post) continue;
      for (const status of ['403', '413', '415'])
        expect(Object.keys(item.post.responses), `POST ${path}`).toContain(status);
    }
  });

  it('every route documents what the middleware answers before it: 429 everywhere, 401 and 403 where a key is needed', async () => {
    const { app, rawApp } = unitApp();
    const doc = await (await app.request('/openapi.json')).json();
    let guarded = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const name = `${method.toUpperCase()} ${path}`;
        expect(op.responses['429']?.description, name).toContain('rate_limited');
        expect(op.responses['429'].headers, name).toHaveProperty('Retry-After');
        if (Array.isArray(op.security) && op.security.length === 0) {
          // No key is asked for, so none can lack a scope.
          expect(op.responses['403']?.description ?? '', name).not.toContain('insufficient_scope');
          continue;
        }
        guarded++;
        expect(op.responses['401']?.description, name).toContain('unauthorized');
        expect(op.responses['403']?.description, name).toContain('insufficient_scope');
      }
    }
    expect(guarded).toBeGreaterThan(30);
    // And what the document says is what the routes do: no key, 401; a read-only key writing, 403.
    expect((await rawApp.request('/jobs')).status).toBe(401);
    expect(doc.paths['/auth/{provider}/start'].get.security).toEqual([]);
  });
});
