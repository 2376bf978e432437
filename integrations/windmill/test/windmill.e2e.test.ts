// The Windmill scripts' `main`s against a running tradeflow (the real API on the run's Temporal and
// FerretDB) and a real PostgreSQL (TRADEFLOW_TEST_POSTGRES_URL, else 127.0.0.1:5432, else Debian's started
// here), then the daily flow run step by step as Windmill would run it: input transforms, stop_after_if,
// skip_if.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensurePostgres, freshSchema, type PostgresServer } from '../../../devstack/postgres.js';
import { type Harness, STRATEGY_MODELS, startHarness } from '../../../test/harness.js';
import { main as fetchReport } from '../f/tradeflow/fetch_analysis_report.js';
import { main as runAnalysis } from '../f/tradeflow/run_analysis.js';
import { main as store } from '../f/tradeflow/store_simulation_results.js';
import { main as trigger } from '../f/tradeflow/trigger_simulation.js';
import { main as waitFor } from '../f/tradeflow/wait_for_simulation.js';
import { parseMain } from './windmillSchema.js';

const ROOT = resolve(import.meta.dirname, '..');
let h: Harness;
let server: PostgresServer;
let schema: { schema: string; drop(): Promise<void> };
let db: RT.Postgresql;
let tradeflow: RT.Tradeflow;
let windmill: { id: string; key: string };
const dir = mkdtempSync(join(tmpdir(), 'tradeflow-windmill-'));

beforeAll(async () => {
  server = await ensurePostgres({ dir, log: (m) => console.log(m) });
  schema = await freshSchema(server.url, 'windmill_test');
  const u = new URL(server.url);
  db = {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    dbname: u.pathname.slice(1) || 'postgres',
    sslmode: 'disable',
  };
  h = await startHarness({ models: STRATEGY_MODELS });
  // The scripts act as a user of their own with a read+run key, as a Windmill resource holds it.
  windmill = await h.createUser('windmill@example.com', ['read', 'run']);
  tradeflow = { base_url: h.baseUrl, api_key: windmill.key };
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await schema?.drop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function query<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

describe('the Windmill scripts against tradeflow and PostgreSQL', () => {
  const table = () => `${schema.schema}.daily`;
  let jobId: string;

  it('trigger_simulation starts a job, and the same request again finds it', async () => {
    const models = ['buy-and-hold', 'momentum'];
    const first = await trigger(tradeflow, '2025-03-03', '2025-03-07', models);
    expect(first).toMatchObject({ created: true, total_model_days: 10 });
    expect(first.job_id).toMatch(/^sim-/);
    jobId = first.job_id;
    const again = await trigger(tradeflow, '2025-03-03', '2025-03-07', models);
    expect(again).toMatchObject({ job_id: jobId, created: false });
    await expect(trigger(tradeflow, '2025-03-03', '2025-03-07', ['no-such-model'])).rejects.toThrow(
      /422 unknown_model/,
    );
    // The job is the resource's user's; a resource without a key, or with a wrong one, gets nothing.
    expect((await h.api(`/jobs/${jobId}`)).body.owner).toBe(windmill.id);
    await expect(trigger({ base_url: h.baseUrl }, '2025-03-03', '2025-03-07', models)).rejects.toThrow(/401/);
    await expect(
      trigger({ base_url: h.baseUrl, api_key: `tf_${'x'.repeat(43)}` }, '2025-03-03', '2025-03-07', models),
    ).rejects.toThrow(/401 .*unknown API key/);
  });

  it('wait_for_simulation returns once the job has ended', async () => {
    const done = await waitFor(tradeflow, jobId, 1, 5);
    expect(done).toMatchObject({ job_id: jobId, status: 'completed' });
    expect(done.progress).toMatchObject({ total_model_days: 10, completed: 10, failed: 0 });
    const { body } = await h.api(`/jobs/${jobId}`);
    expect(body.status).toBe('completed');
    await expect(waitFor(tradeflow, 'sim-does-not-exist', 1, 5)).rejects.toThrow(/404/);
  }, 360_000);

  it('store_simulation_results writes each model-day once, with the values /results gives', async () => {
    const out = await store(tradeflow, db, jobId, table());
    expect(out).toMatchObject({ job_id: jobId, model_days: 10, inserted: 10, already_stored: 0 });

    const rows = await query(
      `SELECT model, date::text AS date, job_id, portfolio_value::float8 AS value, daily_profit::float8 AS profit,
              cash::float8 AS cash, positions, trades FROM ${table()} ORDER BY model, date`,
    );
    expect(rows).toHaveLength(10);
    expect(new Set(rows.map((r) => r.job_id))).toEqual(new Set([jobId]));
    expect(rows.map((r) => r.date).slice(0, 5)).toEqual([
      '2025-03-03',
      '2025-03-04',
      '2025-03-05',
      '2025-03-06',
      '2025-03-07',
    ]);
    const day = await h.api(`/results?date=2025-03-05&model=momentum&job_id=${jobId}`, { key: windmill.key });
    const api = day.body.results[0];
    const row = rows.find((r) => r.model === 'momentum' && r.date === '2025-03-05');
    expect(row.value).toBeCloseTo(api.daily_pnl.portfolio_value, 6);
    expect(row.profit).toBeCloseTo(api.daily_pnl.profit, 6);
    expect(row.cash).toBeCloseTo(api.cash, 6);
    expect(row.positions).toEqual(api.positions);
    expect(row.trades).toEqual(api.trades);
  }, 120_000);

  it('store_simulation_results run again stores nothing twice', async () => {
    const again = await store(tradeflow, db, jobId, table());
    expect(again).toMatchObject({ model_days: 10, inserted: 0, already_stored: 10 });
    const [count] = await query(
      `SELECT count(*)::int AS n, count(DISTINCT (model, date))::int AS days FROM ${table()}`,
    );
    expect(count).toEqual({ n: 10, days: 10 });
  }, 120_000);

  it('store_simulation_results refuses a bad table name and an unreachable database with clear errors', async () => {
    await expect(store(tradeflow, db, jobId, 'x; DROP TABLE y')).rejects.toThrow(/not a plain name/);
    await expect(store(tradeflow, { ...db, port: 1 }, jobId, table())).rejects.toThrow(
      /cannot connect to PostgreSQL at .*:1\//,
    );
  }, 120_000);

  it('run_analysis runs an analysis to its end and fetch_analysis_report returns its PDF', async () => {
    const done = await runAnalysis(tradeflow, 'AAPL', 'comprehensive', undefined, undefined, 1, 5);
    expect(done).toMatchObject({ status: 'completed', ticker: 'AAPL' });
    expect(done.result.decision).toMatch(/^(BUY|HOLD|SELL)$/);
    const out = await fetchReport(tradeflow, done.job_id);
    expect(out.file.content_type).toBe('application/pdf');
    expect(out.file.filename).toMatch(/\.pdf$/);
    const bytes = Buffer.from(out.file.content, 'base64');
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(out.file.size).toBe(bytes.length);
    // The very file the run's manifest lists, byte for byte.
    const pdf = done.files.find((f: any) => f.path.endsWith('_Professional_Analysis_Report.pdf'));
    expect(pdf).toBeDefined();
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(pdf.sha256);
  }, 360_000);
});

/**
 * The flow as Windmill runs it: each step's inputs from its input transforms (`flow_input`, `results`),
 * the script's main called with them by name, skip_if before and stop_after_if after.
 */
async function runFlow(flowInput: Record<string, unknown>) {
  const flow = parse(readFileSync(join(ROOT, 'f/tradeflow/daily_simulation.flow/flow.yaml'), 'utf8'));
  const input: Record<string, unknown> = {};
  for (const [k, p] of Object.entries<any>(flow.schema.properties)) input[k] = flowInput[k] ?? p.default;
  const results: Record<string, unknown> = {};
  const ran: string[] = [];
  const evaluate = (expr: string, result?: unknown) =>
    new Function('flow_input', 'results', 'result', `return (${expr});`)(input, results, result);
  for (const m of flow.value.modules) {
    if (m.skip_if && evaluate(m.skip_if.expr)) continue;
    const name = m.value.path.replace(/^f\/tradeflow\//, '');
    const file = join(ROOT, 'f/tradeflow', `${name}.ts`);
    const args: Record<string, unknown> = {};
    for (const [k, t] of Object.entries<any>(m.value.input_transforms)) {
      args[k] = t.type === 'static' ? t.value : evaluate(t.expr);
    }
    const params = parseMain(readFileSync(file, 'utf8')).args.map((a) => a.name);
    const { main } = await import(file);
    results[m.id] = await main(...params.map((p) => args[p] ?? undefined));
    ran.push(m.id);
    if (m.stop_after_if && evaluate(m.stop_after_if.expr, results[m.id])) break;
  }
  return { ran, results };
}

describe('the daily flow, step by step', () => {
  it('catches up, waits, stores, analyses and fetches the report; runs again store nothing twice or stop at once', async () => {
    const table = `${schema.schema}.flow_daily`;
    const first = await runFlow({
      tradeflow,
      db,
      models: ['mean-reversion'],
      table,
      analysis_ticker: 'MSFT',
      poll_interval_seconds: 1,
      timeout_minutes: 5,
    });
    expect(first.ran).toEqual(['trigger', 'wait', 'store', 'analysis', 'report']);
    const stored = first.results.store as any;
    expect(stored.inserted).toBeGreaterThan(0);
    expect((first.results.report as any).file.content_type).toBe('application/pdf');
    const [{ n }] = await query(`SELECT count(*)::int AS n FROM ${table} WHERE model = 'mean-reversion'`);
    expect(n).toBe(stored.model_days);

    // The same morning again: the same request finds the same (ended) job, and the store adds nothing.
    const again = await runFlow({ tradeflow, db, models: ['mean-reversion'], table, poll_interval_seconds: 1 });
    expect(again.ran).toEqual(['trigger', 'wait', 'store']);
    expect(again.results.trigger).toMatchObject({ job_id: (first.results.trigger as any).job_id, created: false });
    expect(again.results.store).toMatchObject({ inserted: 0, already_stored: stored.model_days });

    // Nothing left to simulate (a backfill of days the model has): the trigger answers "current" and
    // stop_after_if ends the flow at its first step.
    const range = (first.results.wait as any).date_range;
    const lastDay = Array.isArray(range) ? range.at(-1) : range.end;
    const caughtUp = await runFlow({
      tradeflow,
      db,
      models: ['mean-reversion'],
      start_date: lastDay,
      table,
      poll_interval_seconds: 1,
    });
    expect(caughtUp.ran).toEqual(['trigger']);
    expect(caughtUp.results.trigger).toMatchObject({ job_id: null, status: 'current' });
    const [{ n: after }] = await query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(after).toBe(n);
  }, 600_000);
});
