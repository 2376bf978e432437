import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tradingDaysBetween } from '../trading/calendar.js';
import { JOB_KIND, MODELS, simulationProgressQuery } from '../workflows/definitions.js';
import { startFakeOpenAi } from './fakeOpenAi.js';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';
import { DAILY_H1 } from './paths.js';

function openFromFile(symbol: string, date: string): string {
  const line = readFileSync(DAILY_H1, 'utf8')
    .split('\n')
    .find((l) => l.includes(`"2. Symbol": "${symbol}"`));
  return JSON.parse(line!)['Time Series (Daily)'][date]['1. buy price'];
}

let h: Harness;
let llm: Awaited<ReturnType<typeof startFakeOpenAi>>;

beforeAll(async () => {
  // A provider that rejects the key: a failure no retry can fix, for the partial-failure case.
  llm = await startFakeOpenAi(() => ({ status: 401, body: { error: { message: 'Incorrect API key provided' } } }));
  h = await startHarness({
    models: {
      initial_cash: 10000,
      models: [
        ...STRATEGY_MODELS.models,
        { id: 'slow-a', strategy: 'buy-and-hold', params: { decision_delay_ms: 400 } },
        { id: 'slow-b', strategy: 'momentum', params: { decision_delay_ms: 400, lookback: 5 } },
        // Models no other test runs: a long job's plan is all of its dates.
        { id: 'long-a', strategy: 'buy-and-hold', params: { decision_delay_ms: 400 } },
        { id: 'long-b', strategy: 'momentum', params: { decision_delay_ms: 400, lookback: 5 } },
        { id: 'bad-key-llm', llm: { model: 'gpt-test', base_url: llm.baseUrl, api_key_env: 'NO_SUCH_KEY' } },
      ],
    },
    simulationOptions: { heartbeatTimeoutMs: 5000 },
  });
});

afterAll(async () => {
  await h?.stop();
  await llm?.close();
});

const trigger = (json: unknown, headers: Record<string, string> = {}) =>
  h.api('/simulate/trigger', { method: 'POST', json, headers });

describe('simulation jobs over HTTP on real Temporal and FerretDB', () => {
  it('runs dates in sequence and models in parallel, with per model-day status and results', async () => {
    const models = ['buy-and-hold', 'momentum', 'mean-reversion'];
    const res = await trigger({ start_date: '2025-03-03', end_date: '2025-03-14', models });
    expect(res.status).toBe(202);
    expect(res.body.job_id).toMatch(/^sim-/);
    expect(res.body.total_model_days).toBe(30);
    const done = await h.waitForJob(res.body.job_id);
    expect(done.status).toBe('completed');
    expect(done.progress).toMatchObject({ total_model_days: 30, completed: 30, failed: 0, pending: 0 });
    expect(done.details).toHaveLength(30);
    expect(done.details.every((d: any) => d.status === 'completed' && d.duration_seconds >= 0)).toBe(true);

    const day = await h.api('/results?date=2025-03-03&model=buy-and-hold');
    expect(day.status).toBe(200);
    const [first] = day.body.results;
    expect(first.trades.length).toBeGreaterThan(0);
    expect(first.positions.CASH).toBeGreaterThanOrEqual(0);
    // Fills are at the day's open, read here straight from the shared file.
    const aapl = first.trades.find((t: any) => t.symbol === 'AAPL');
    expect(aapl.price).toBe(Number(openFromFile('AAPL', '2025-03-03')));
    expect(aapl.total).toBeCloseTo(aapl.price * aapl.quantity, 4);

    const full = await h.api('/results?date=2025-03-04&model=momentum&detail=full');
    expect(full.body.results[0].ai_reasoning.tool_usage).toBeDefined();
    expect(full.body.results[0].starting_position).toBeDefined();

    const range = await h.api('/results?start_date=2025-03-03&end_date=2025-03-14&model=buy-and-hold,momentum');
    expect(range.body.models).toHaveLength(2);
    for (const m of range.body.models) {
      expect(m.daily_portfolio_values).toHaveLength(10);
      expect(m.period_metrics.trading_days).toBe(10);
    }
    // Against QQQ, by default: its buy-and-hold return over the same days, read here from the shared file
    // (the close before the first day to the last day's close).
    const qqq = (date: string) =>
      Number(
        JSON.parse(
          readFileSync(DAILY_H1, 'utf8')
            .split('\n')
            .find((l) => l.includes('"2. Symbol": "QQQ"'))!,
        )['Time Series (Daily)'][date]['4. sell price'],
      );
    const b = range.body.models[0].period_metrics.benchmark;
    expect(b.symbol).toBe('QQQ');
    expect(b.period_return_pct).toBeCloseTo((qqq('2025-03-14') / qqq('2025-02-28') - 1) * 100, 3);
    for (const k of ['alpha', 'beta', 'tracking_error_pct', 'information_ratio']) expect(typeof b[k], k).toBe('number');
    const none = await h.api('/results?start_date=2025-03-03&end_date=2025-03-14&model=momentum&benchmark=none');
    expect(none.body.models[0].period_metrics.benchmark).toBeNull();
    const unknown = await h.api('/results?start_date=2025-03-03&end_date=2025-03-14&model=momentum&benchmark=ZZZZ');
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toBe('unknown_ticker');
  });

  it('keeps each ledger continuous: a day starts where the previous day ended', async () => {
    const range = await h.api('/results?start_date=2025-03-03&end_date=2025-03-14&model=momentum&detail=full');
    const days = range.body.models[0].days;
    for (let i = 1; i < days.length; i++) {
      const { portfolio_value: _, ...start } = days[i].starting_position;
      expect(start).toEqual(days[i - 1].positions);
    }
  });

  it('answers a repeated trigger with the same job, by request or by Idempotency-Key', async () => {
    const body = {
      start_date: '2025-03-03',
      end_date: '2025-03-14',
      models: ['buy-and-hold', 'momentum', 'mean-reversion'],
    };
    const first = await h.api('/jobs?limit=1');
    const again = await trigger(body);
    expect(again.status).toBe(200);
    expect(again.body.job_id).toBe(first.body.jobs[0].job_id);

    const keyed = await trigger(
      { start_date: '2025-03-17', end_date: '2025-03-18', models: ['buy-and-hold'] },
      { 'Idempotency-Key': 'abc-1' },
    );
    expect(keyed.status).toBe(202);
    const keyedAgain = await trigger(
      { start_date: '2025-03-17', end_date: '2025-03-18', models: ['buy-and-hold'] },
      { 'Idempotency-Key': 'abc-1' },
    );
    expect(keyedAgain.status).toBe(200);
    expect(keyedAgain.body.job_id).toBe(keyed.body.job_id);
    // The same key with another request is the client's mistake, not that job.
    const reused = await trigger(
      { start_date: '2025-03-17', end_date: '2025-03-18', models: ['momentum'] },
      { 'Idempotency-Key': 'abc-1' },
    );
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ error: 'idempotency_key_reused', job_id: keyed.body.job_id });
    await h.waitForJob(keyed.body.job_id);
  });

  it("catches up from each model's last simulated day, and says when it is current", async () => {
    const res = await trigger({ end_date: '2025-03-21', models: ['buy-and-hold', 'momentum'] });
    expect(res.status).toBe(202);
    // buy-and-hold has days up to 03-18, momentum up to 03-14.
    expect(res.body.date_range).toEqual(['2025-03-17', '2025-03-21']);
    expect(res.body.total_model_days).toBe(3 + 5);
    const done = await h.waitForJob(res.body.job_id);
    expect(done.status).toBe('completed');
    const repeated = await trigger({ end_date: '2025-03-21', models: ['buy-and-hold', 'momentum'] });
    expect(repeated.body.job_id).toBe(res.body.job_id);
    const current = await trigger({ end_date: '2025-03-20', models: ['buy-and-hold', 'momentum'] });
    expect(current.status).toBe(200);
    expect(current.body.last_simulation_date).toBe('2025-03-21');
    expect(current.body.status).toBe('current');
    expect(current.body.next_trading_day).toBe('2025-03-24');
  });

  it('refuses a different simulation over a running model with 409 and the running job id', async () => {
    const running = await trigger({ start_date: '2025-04-01', end_date: '2025-04-17', models: ['slow-a'] });
    expect(running.status).toBe(202);
    const conflict = await trigger({
      start_date: '2025-04-01',
      end_date: '2025-04-03',
      models: ['slow-a', 'buy-and-hold'],
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ error: 'conflict', current_job_id: running.body.job_id });
    // Nothing of the refused job was kept, and the other model is free for a job of its own.
    const free = await trigger({ start_date: '2025-03-24', end_date: '2025-03-25', models: ['buy-and-hold'] });
    expect(free.status).toBe(202);
    await h.api(`/jobs/${running.body.job_id}/stop`, { method: 'POST' });
    await h.waitForJob(running.body.job_id);
    await h.waitForJob(free.body.job_id);
  });

  it('stops a running job cleanly and resumes it with a new trigger', async () => {
    const body = { start_date: '2025-05-01', end_date: '2025-05-30', models: ['slow-b'] };
    const res = await trigger(body);
    expect(res.status).toBe(202);
    await h.waitForJob(res.body.job_id, (b) => b.progress.completed >= 2);
    const stop = await h.api(`/jobs/${res.body.job_id}/stop`, { method: 'POST', json: { reason: 'test' } });
    expect(stop.status).toBe(202);
    const stopped = await h.waitForJob(res.body.job_id);
    expect(stopped.status).toBe('stopped');
    expect(stopped.progress.running).toBe(0);
    expect(stopped.progress.completed).toBeLessThan(21);
    // Nothing half-written: exactly one stored day per completed model-day.
    const results = await h.api('/results?start_date=2025-05-01&end_date=2025-05-30&model=slow-b');
    expect(results.body.models[0]?.daily_portfolio_values.length ?? 0).toBe(stopped.progress.completed);
    expect((await h.api(`/jobs/${res.body.job_id}/stop`, { method: 'POST' })).status).toBe(409);

    const resumed = await trigger(body);
    expect(resumed.status).toBe(202);
    expect(resumed.body.job_id).not.toBe(res.body.job_id);
    expect(resumed.body.total_model_days).toBe(21 - stopped.progress.completed);
    expect((await h.waitForJob(resumed.body.job_id, undefined, 90_000)).status).toBe('completed');
    const all = await h.api('/results?start_date=2025-05-01&end_date=2025-05-30&model=slow-b');
    expect(all.body.models[0].daily_portfolio_values.map((d: any) => d.date)).toEqual(
      tradingDaysBetween('2025-05-01', '2025-05-30'),
    );
  }, 120_000);

  it('stops a long job in seconds, whatever is left of it', async () => {
    // Two slow models over eight months: about 340 model-days, nearly all of them left when it stops.
    const res = await trigger({ start_date: '2025-01-02', end_date: '2025-08-29', models: ['long-a', 'long-b'] });
    expect(res.status).toBe(202);
    expect(res.body.total_model_days).toBeGreaterThan(300);
    await h.waitForJob(res.body.job_id, (b) => b.progress.completed >= 2);
    const asked = Date.now();
    await h.api(`/jobs/${res.body.job_id}/stop`, { method: 'POST' });
    const stopped = await h.waitForJob(res.body.job_id);
    // The model-days in flight take up to 0.4 s to finish; the rest is the stop's own bookkeeping.
    expect(Date.now() - asked).toBeLessThan(5_000);
    expect(stopped.status).toBe('stopped');
    expect(stopped.progress.completed + stopped.progress.stopped).toBe(stopped.progress.total_model_days);
    expect(stopped.progress.pending).toBe(0);
  });

  it('treats a Cancel from the Temporal Web UI like a stop: cleanup runs and the job ends stopped', async () => {
    const res = await trigger({ start_date: '2025-06-02', end_date: '2025-06-13', models: ['slow-a'] });
    expect(res.status).toBe(202);
    await h.waitForJob(res.body.job_id, (b) => b.progress.completed >= 1);
    await h.temporal.workflow.getHandle(res.body.job_id).cancel();
    const done = await h.waitForJob(res.body.job_id);
    expect(done.status).toBe('stopped');
    expect(done.progress.running).toBe(0);
    expect(done.progress.completed + done.progress.stopped).toBe(done.progress.total_model_days);
    // The job record is final before the workflow itself closes as cancelled; wait for that too.
    await expect(h.temporal.workflow.getHandle(res.body.job_id).result()).rejects.toThrow();
    const desc = await h.temporal.workflow.getHandle(res.body.job_id).describe();
    expect(desc.status.name).toBe('CANCELLED');
    // The model is free again: its lock was released by the cleanup.
    const next = await trigger({ start_date: '2025-06-16', end_date: '2025-06-16', models: ['slow-a'] });
    expect(next.status).toBe(202);
    await h.waitForJob(next.body.job_id);
  });

  it('ends partial when one model fails: that model-day is failed with the error, the others complete', async () => {
    const res = await trigger({
      start_date: '2025-06-02',
      end_date: '2025-06-04',
      models: ['bad-key-llm', 'mean-reversion'],
    });
    expect(res.status).toBe(202);
    const done = await h.waitForJob(res.body.job_id);
    expect(done.status).toBe('partial');
    const failed = done.details.filter((d: any) => d.model === 'bad-key-llm');
    expect(failed[0]).toMatchObject({ date: '2025-06-02', status: 'failed' });
    expect(failed[0].error).toContain('401');
    expect(failed.slice(1).every((d: any) => d.status === 'skipped')).toBe(true);
    expect(done.details.filter((d: any) => d.model === 'mean-reversion' && d.status === 'completed')).toHaveLength(3);
    // Non-retryable: the provider was asked once, not five times.
    expect(llm.requests.length).toBe(1);
  });

  it('retries a stopped job through POST /jobs/{id}/retry, and refuses to retry a completed one', async () => {
    const res = await trigger({ start_date: '2025-07-01', end_date: '2025-07-11', models: ['slow-b'] });
    await h.waitForJob(res.body.job_id, (b) => b.progress.completed >= 1);
    await h.api(`/jobs/${res.body.job_id}/stop`, { method: 'POST' });
    const stopped = await h.waitForJob(res.body.job_id);
    expect(stopped.status).toBe('stopped');
    const retry = await h.api(`/jobs/${res.body.job_id}/retry`, { method: 'POST' });
    expect(retry.status).toBe(202);
    expect(retry.body.retried_job_id).toBe(res.body.job_id);
    expect(retry.body.total_model_days).toBe(8 - stopped.progress.completed);
    const done = await h.waitForJob(retry.body.job_id);
    expect(done.status).toBe('completed');
    const again = await h.api(`/jobs/${retry.body.job_id}/retry`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('not_retryable');
  });

  it('gives detailed status: steps, timings, per-model tokens and cost', async () => {
    const jobs = await h.api('/jobs?status=partial');
    const res = await h.api(`/jobs/${jobs.body.jobs[0].job_id}/status/detailed`);
    expect(res.status).toBe(200);
    expect(res.body.steps.map((s: any) => s.step)).toEqual(['accepted', 'running', 'partial']);
    const llmModel = res.body.models.find((m: any) => m.model === 'bad-key-llm');
    expect(llmModel.days).toMatchObject({ failed: 1, skipped: 2 });
    expect(llmModel.last_error).toContain('401');
    const strategy = res.body.models.find((m: any) => m.model === 'mean-reversion');
    expect(strategy).toMatchObject({ days: { completed: 3 }, tokens: { total: 0 }, cost_usd: 0 });
    expect(strategy.seconds.per_phase_mean).toHaveProperty('agent');
    // The LLM model has no prices configured, so the job's cost is unknown rather than wrong.
    expect(res.body.totals.cost_usd).toBeNull();
  });

  it('is a visible Temporal workflow with search attributes and a live progress query', async () => {
    const res = await trigger({ start_date: '2025-06-09', end_date: '2025-06-10', models: ['momentum'] });
    await h.waitForJob(res.body.job_id);
    const handle = h.temporal.workflow.getHandle(res.body.job_id);
    const desc = await handle.describe();
    expect(desc.typedSearchAttributes.get(JOB_KIND)).toBe('simulation');
    expect(desc.typedSearchAttributes.get(MODELS)).toEqual(['momentum']);
    // The record says completed when the end is written; the workflow says done once it has returned.
    await handle.result();
    const progress = await handle.query(simulationProgressQuery);
    expect(progress).toMatchObject({ phase: 'done', completed: 2, totalModelDays: 2 });
    expect(res.body.links.temporal_ui).toContain(`/workflows/${res.body.job_id}`);
  });

  it("runs a job's commits and end on their own queue and its dates on the workflow's, so the writes wait in Temporal", async () => {
    const res = await trigger({ start_date: '2025-06-11', end_date: '2025-06-12', models: ['momentum'] });
    await h.waitForJob(res.body.job_id);
    const queues = new Map<string, Set<string>>();
    for (const e of (await h.temporal.workflow.getHandle(res.body.job_id).fetchHistory()).events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (!a?.activityType?.name) continue;
      queues.set(a.activityType.name, (queues.get(a.activityType.name) ?? new Set()).add(a.taskQueue?.name ?? ''));
    }
    const { orchestrator, jobWrites } = h.settings.taskQueues;
    expect(Object.fromEntries([...queues].map(([k, v]) => [k, [...v]]))).toEqual({
      startSimulationJob: [orchestrator],
      computeDate: [orchestrator],
      commitSimulationDates: [jobWrites],
      finishSimulationJob: [jobWrites],
    });
  });

  it('lists jobs with filters and paging', async () => {
    const all = await h.api('/jobs?limit=2');
    expect(all.status).toBe(200);
    expect(all.body.jobs).toHaveLength(2);
    expect(all.body.total).toBeGreaterThan(2);
    const next = await h.api('/jobs?limit=2&offset=2');
    expect(next.body.jobs[0].job_id).not.toBe(all.body.jobs[0].job_id);
    const partial = await h.api('/jobs?status=partial');
    expect(partial.body.jobs.every((j: any) => j.status === 'partial')).toBe(true);
    expect(partial.body.jobs.length).toBeGreaterThan(0);
    const byModel = await h.api('/jobs?model=slow-b');
    expect(byModel.body.jobs.every((j: any) => j.models.includes('slow-b'))).toBe(true);
    expect((await h.api('/simulate/current')).body.job_id).toBe(all.body.jobs[0].job_id);
    expect((await h.api('/jobs?status=bogus')).status).toBe(400);
    expect((await h.api('/simulate/status/sim-nope')).status).toBe(404);
  });

  it('serves an OpenAPI document generated from the request schemas', async () => {
    const res = await h.api('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const trigger = res.body.paths['/simulate/trigger'].post;
    const body = trigger.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties)).toEqual([
      'config_path',
      'date_range',
      'start_date',
      'end_date',
      'models',
      'symbols',
      'replace_existing',
      'mode',
      'initial_cash',
      'benchmark',
      'costs',
      'interval',
      'callback_url',
    ]);
    expect(body.additionalProperties).toBe(false);
    expect(Object.keys(trigger.responses)).toEqual(expect.arrayContaining(['202', '200', '400', '409', '422']));
    const results = res.body.paths['/results'].get.parameters.map((p: any) => p.name);
    expect(results).toEqual(expect.arrayContaining(['date', 'start_date', 'end_date', 'model', 'job_id', 'detail']));
  });

  it('reports health of Temporal and MongoDB', async () => {
    const res = await h.api('/health');
    expect(res.status).toBe(200);
    expect(res.body.services.temporal.status).toBe('ok');
    expect(res.body.services.mongodb.status).toBe('ok');
  });
});

describe('bad trigger requests get 4xx with a message naming the problem', () => {
  const cases: Array<[string, unknown, number, RegExp]> = [
    ['unknown model', { models: ['nope'] }, 422, /unknown model\(s\): nope/],
    ['malformed date', { start_date: '2025-13-01', end_date: '2025-03-01' }, 400, /start_date: must be a real date/],
    ['future date', { start_date: '2025-03-03', end_date: '2099-01-02' }, 422, /end_date 2099-01-02 is in the future/],
    [
      'past the data',
      { start_date: '2025-10-01', end_date: '2025-11-03' },
      422,
      /after the last day with market data \(2025-10-30\)/,
    ],
    [
      'end before start',
      { start_date: '2025-03-10', end_date: '2025-03-03' },
      422,
      /end_date 2025-03-03 is before start_date 2025-03-10/,
    ],
    [
      'range over the maximum',
      { start_date: '2024-01-02', end_date: '2025-10-30', models: ['bad-key-llm'] },
      422,
      /maximum is 260/,
    ],
    ['unknown field', { start_date: '2025-03-03', colour: 'red' }, 400, /unknown field\(s\) 'colour'/],
    ['wrong type', { models: 'momentum' }, 400, /models: /],
    [
      'weekend only',
      { start_date: '2025-03-08', end_date: '2025-03-09', models: ['bad-key-llm'] },
      422,
      /no NYSE trading day/,
    ],
  ];
  for (const [name, body, status, message] of cases) {
    it(name, async () => {
      const res = await trigger(body);
      expect(res.status).toBe(status);
      expect(res.body.message).toMatch(message);
    });
  }

  it('malformed JSON', async () => {
    const res = await h.api('/simulate/trigger', {
      method: 'POST',
      body: '{"start_date":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/not valid JSON/);
  });
});
