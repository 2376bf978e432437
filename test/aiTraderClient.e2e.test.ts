// A client written from the AI-Trader API documents alone (../shared/seeds/2-*.txt and the v0.3.0 / v0.5.0
// contracts in research/mission-anchors.md §2): the deployment check `curl -X POST /simulate/trigger -d
// '{"config_path": "configs/default_config.json"}'`, polling status to the end, results by job, by date
// and by model, a second trigger while the first runs, and bad config paths.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';
import { PROJECT_ROOT } from './paths.js';

let h: Harness;
let configDir: string;

beforeAll(async () => {
  // The shipped AI-Trader folder's default config, and one of the client's own naming its cash.
  configDir = mkdtempSync(join(tmpdir(), 'tradeflow-ai-trader-'));
  mkdirSync(join(configDir, 'configs'));
  copyFileSync(
    join(PROJECT_ROOT, 'ai-trader', 'configs', 'default_config.json'),
    join(configDir, 'configs', 'default_config.json'),
  );
  writeFileSync(
    join(configDir, 'configs', 'rich.json'),
    JSON.stringify({
      agent_type: 'BaseAgent',
      date_range: { init_date: '2025-09-02', end_date: '2025-09-05' },
      models: [{ name: 'm', basemodel: 'tradeflow/momentum', signature: 'cash-momentum', enabled: true }],
      agent_config: { initial_cash: 50000.0 },
    }),
  );
  writeFileSync(join(tmpdir(), 'tradeflow-outside.json'), '{}');
  h = await startHarness({
    models: { ...STRATEGY_MODELS, models: [...STRATEGY_MODELS.models, { id: 'cash-momentum', strategy: 'momentum' }] },
    env: { TRADEFLOW_CONFIG_DIR: configDir },
  });
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const trigger = (json: unknown) => h.api('/simulate/trigger', { method: 'POST', json });

async function pollUntilDone(jobId: string) {
  for (const started = Date.now(); Date.now() - started < 180_000; ) {
    const res = await h.api(`/simulate/status/${jobId}`);
    expect(res.status).toBe(200);
    if (['completed', 'partial', 'failed'].includes(res.body.status)) return res.body;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`job ${jobId} did not finish within 3 minutes`);
}

describe('the AI-Trader client, unchanged', () => {
  it('runs the seed’s deployment check and reads the results by job, by date and by model', async () => {
    const res = await trigger({ config_path: 'configs/default_config.json' });
    expect(res.status).toBe(202);
    // The fields the seed's clients read.
    expect(res.body).toMatchObject({
      job_id: expect.any(String),
      status: 'pending',
      models: ['buy-and-hold', 'momentum', 'mean-reversion'],
      date_range: ['2025-10-01', '2025-10-21'],
      created_at: expect.any(String),
      message: expect.any(String),
    });
    const jobId = res.body.job_id;

    // A second trigger while the first runs: the same request is the same job; another range over the
    // same models is a conflict that names the running job and its range.
    const again = await trigger({ config_path: 'configs/default_config.json' });
    expect(again.status).toBe(200);
    expect(again.body.job_id).toBe(jobId);
    const other = await trigger({ date_range: ['2025-10-22', '2025-10-24'], models: ['momentum'] });
    if (other.status === 409) {
      expect(other.body).toMatchObject({ error: 'conflict', current_job_id: jobId });
      expect(other.body.current_date_range).toEqual(['2025-10-01', '2025-10-21']);
    } else {
      // The first job was already over: then the second is a job of its own.
      expect(other.status).toBe(202);
    }

    const done = await pollUntilDone(jobId);
    expect(done.status).toBe('completed');
    expect(done.progress).toMatchObject({ total_model_days: 45, completed: 45, failed: 0, pending: 0 });
    expect(done).toMatchObject({ job_id: jobId, date_range: ['2025-10-01', '2025-10-21'] });
    expect(done.total_duration_seconds).toBeGreaterThan(0);
    // Details as v0.3 (date, model) and v0.5 (trading_date, model_signature, start/end time) read them.
    expect(done.details[0]).toMatchObject({
      date: '2025-10-01',
      trading_date: '2025-10-01',
      model: done.details[0].model_signature,
      status: 'completed',
      start_time: expect.any(String),
      end_time: expect.any(String),
      duration_seconds: expect.any(Number),
    });

    const byJob = await h.api(`/results?job_id=${jobId}&start_date=2025-10-01&end_date=2025-10-21`);
    expect(byJob.status).toBe(200);
    expect(byJob.body.models.map((m: { model: string }) => m.model).sort()).toEqual([
      'buy-and-hold',
      'mean-reversion',
      'momentum',
    ]);
    for (const m of byJob.body.models) expect(m.daily_portfolio_values).toHaveLength(15);

    const byDate = await h.api('/results?date=2025-10-01');
    expect(byDate.status).toBe(200);
    expect(byDate.body.date).toBe('2025-10-01');
    expect(byDate.body.results).toHaveLength(3);
    for (const r of byDate.body.results) {
      expect(r.positions.CASH).toBeGreaterThanOrEqual(0);
      expect(r.daily_pnl).toMatchObject({ profit: expect.any(Number), portfolio_value: expect.any(Number) });
    }

    const byModel = await h.api('/results?date=2025-10-21&model=momentum&detail=full');
    expect(byModel.body.results).toHaveLength(1);
    expect(byModel.body.results[0]).toMatchObject({ model: 'momentum', trades: expect.any(Array) });
    expect(byModel.body.results[0].ai_reasoning).toBeDefined();
    // v0.5 asks for a range with `reasoning=` instead of `detail=`.
    const v05 = await h.api('/results?start_date=2025-10-20&end_date=2025-10-21&model=momentum&reasoning=full');
    expect(v05.status).toBe(200);
    expect(v05.body.models[0]).toMatchObject({ model: 'momentum', period_metrics: { trading_days: 2 } });
    expect(v05.body.models[0].days).toHaveLength(2);
    const summary = await h.api('/results?start_date=2025-10-20&end_date=2025-10-21&model=momentum&reasoning=summary');
    expect(summary.body.models[0].days).toBeUndefined();
  }, 240_000);

  it('takes date_range as [start, end] or [date], and a config’s initial cash', async () => {
    const res = await trigger({ config_path: 'configs/rich.json' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      models: ['cash-momentum'],
      date_range: ['2025-09-02', '2025-09-05'],
    });
    await pollUntilDone(res.body.job_id);
    const first = await h.api('/results?date=2025-09-02&model=cash-momentum&detail=full');
    expect(first.body.results[0].starting_position).toMatchObject({ CASH: 50000, portfolio_value: 50000 });

    const oneDay = await trigger({ date_range: ['2025-09-08'], models: ['cash-momentum'] });
    expect(oneDay.status).toBe(202);
    expect(oneDay.body).toMatchObject({ total_model_days: 1, date_range: ['2025-09-08', '2025-09-08'] });
    await pollUntilDone(oneDay.body.job_id);
  }, 240_000);

  it('replace_existing: true runs kept days again; the old days stay as history, the new ones become the ledger', async () => {
    const before = await h.api('/results?start_date=2025-09-02&end_date=2025-09-08&model=cash-momentum');
    const old = before.body.models[0].daily_portfolio_values;
    expect(old.map((v: { date: string }) => v.date)).toEqual([
      '2025-09-02',
      '2025-09-03',
      '2025-09-04',
      '2025-09-05',
      '2025-09-08',
    ]);
    // Without it, days the model has are not run again.
    const kept = await trigger({ date_range: ['2025-09-03', '2025-09-04'], models: ['cash-momentum'] });
    expect(kept.body.status).toBe('current');

    const res = await trigger({
      date_range: ['2025-09-03', '2025-09-04'],
      models: ['cash-momentum'],
      replace_existing: true,
    });
    expect(res.status).toBe(202);
    expect(res.body.total_model_days).toBe(2);
    const jobId = res.body.job_id;
    expect((await pollUntilDone(jobId)).status).toBe('completed');

    // Another question than the first (answers are shared for a second, and this job may take less).
    const after = await h.api('/results?start_date=2025-09-02&end_date=2025-09-09&model=cash-momentum');
    const values = after.body.models[0].daily_portfolio_values;
    // The new days are the ledger from their date on; the days after them went with the run they belonged to.
    expect(values.map((v: { date: string; job_id: string }) => [v.date, v.job_id === jobId])).toEqual([
      ['2025-09-02', false],
      ['2025-09-03', true],
      ['2025-09-04', true],
    ]);
    expect(values[0]).toEqual(old[0]);
    const days = await h.api('/results?start_date=2025-09-02&end_date=2025-09-03&model=cash-momentum&detail=full');
    const [d2, d3] = days.body.models[0].days;
    expect(d3.starting_position).toMatchObject({ CASH: d2.positions.CASH });
    const history = await h.db.collections.tradingDayHistory.find({ replacedBy: jobId }).toArray();
    expect(history.map((d) => d.date).sort()).toEqual(['2025-09-03', '2025-09-04', '2025-09-05', '2025-09-08']);
    expect(history.every((d) => d.jobId !== jobId)).toBe(true);

    // The ledger's head moved back with it: a catch-up continues from the day after the new run.
    const next = await trigger({ end_date: '2025-09-09', models: ['cash-momentum'] });
    expect(next.status).toBe(202);
    expect(next.body.date_range).toEqual(['2025-09-05', '2025-09-09']);
    await pollUntilDone(next.body.job_id);
  }, 240_000);

  it.each([
    [
      { config_path: '../tradeflow-outside.json' },
      422,
      /config_path '\.\.\/tradeflow-outside\.json': is outside the config folder/,
    ],
    [{ config_path: join(tmpdir(), 'tradeflow-outside.json') }, 422, /is outside the config folder/],
    [{ config_path: 'configs/nope.json' }, 422, /config_path 'configs\/nope\.json': no such file/],
    [{ date_range: ['2025-09-10', '2025-09-09'] }, 422, /date_range starts \(2025-09-10\) after it ends/],
    [{ date_range: ['2025-09-10'], start_date: '2025-09-10' }, 400, /not both/],
    [{ replace_existing: true }, 422, /replace_existing: true needs the date to run again from/],
  ])('refuses %j with %i and says why', async (body, status, why) => {
    const res = await trigger(body);
    expect(res.status).toBe(status);
    expect(res.body.message).toMatch(why);
  });
});
