// Stores an ended simulation's daily results in PostgreSQL (the database Windmill itself runs on, or any
// other), one row per model, date and job. Idempotent: the key is (model, date, job_id) and a day already
// stored is left as it is, so running this twice (a retried flow step) stores each day once.
import pg from 'pg';

const FINAL = ['completed', 'partial', 'failed', 'stopped'];

/** One call to tradeflow; a non-2xx answer or no answer is an Error that says what was asked and why. */
async function tradeflowCall(
  tradeflow: RT.Tradeflow,
  method: string,
  path: string,
  json?: unknown,
): Promise<{ status: number; body: any }> {
  if (!tradeflow?.base_url) throw new Error('the tradeflow resource has no base_url');
  const url = `${tradeflow.base_url.replace(/\/+$/, '')}${path}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (tradeflow.api_key) headers.authorization = `Bearer ${tradeflow.api_key}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new Error(`tradeflow did not answer ${method} ${url}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  if (!res.ok) {
    const what = typeof body === 'object' && body ? `${body.error ?? 'error'}: ${body.message ?? text}` : text;
    const err = new Error(`tradeflow answered ${method} ${path} with ${res.status} ${what}`.slice(0, 2000));
    Object.assign(err, { status: res.status, body });
    throw err;
  }
  return { status: res.status, body };
}

/** `table` or `schema.table`, each a plain identifier, quoted. */
function qualifiedName(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((p) => /^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(p))) {
    throw new Error(`table "${table}" is not a plain name or schema.name (letters, digits, underscores)`);
  }
  return parts.map((p) => `"${p}"`).join('.');
}

/** node-postgres options from Windmill's postgresql resource. */
function pgConfig(db: RT.Postgresql): pg.ClientConfig {
  const mode = db.sslmode ?? 'disable';
  // node-postgres cannot try TLS and fall back, so disable/allow/prefer connect without it.
  const ssl =
    mode === 'require'
      ? { rejectUnauthorized: false }
      : mode === 'verify-ca' || mode === 'verify-full'
        ? { rejectUnauthorized: true, ...(db.root_certificate_pem ? { ca: db.root_certificate_pem } : {}) }
        : false;
  return {
    host: db.host,
    port: db.port ?? 5432,
    user: db.user,
    password: db.password,
    database: db.dbname,
    ssl,
    connectionTimeoutMillis: 30_000,
  };
}

/** date_range as tradeflow gives it ({start, end}) or as the AI-Trader documents give it ([start, end] or [date]). */
function rangeOf(job: any): { start: string; end: string } {
  const r = job.date_range;
  if (Array.isArray(r) && r.length > 0) return { start: r[0], end: r[r.length - 1] };
  if (r?.start && r?.end) return { start: r.start, end: r.end };
  throw new Error(`simulation ${job.job_id} has no date range: ${JSON.stringify(r)}`);
}

interface DayRow {
  job_id: string;
  model: string;
  date: string;
  portfolio_value: number | null;
  daily_profit: number | null;
  daily_return_pct: number | null;
  cash: number | null;
  positions: unknown;
  trades: unknown;
}

export async function main(
  tradeflow: RT.Tradeflow,
  db: RT.Postgresql,
  job_id: string,
  table = 'tradeflow_daily_results',
) {
  if (!job_id) throw new Error('job_id is empty: pass the job_id of an ended simulation');
  const target = qualifiedName(table);
  const job = (await tradeflowCall(tradeflow, 'GET', `/simulate/status/${encodeURIComponent(job_id)}?details_limit=0`))
    .body;
  if (!FINAL.includes(job.status)) {
    throw new Error(`simulation ${job_id} is still ${job.status}: wait for it to end first (wait_for_simulation)`);
  }
  const { start, end } = rangeOf(job);
  const jobQuery = `job_id=${encodeURIComponent(job_id)}`;
  // The dates this job wrote, per model (days it found already written by another job are not its own).
  const range = (
    await tradeflowCall(tradeflow, 'GET', `/results?start_date=${start}&end_date=${end}&${jobQuery}&detail=minimal`)
  ).body;
  const dates = new Set<string>();
  for (const m of range.models ?? []) for (const v of m.daily_portfolio_values ?? []) dates.add(v.date);

  const rows: DayRow[] = [];
  for (const date of [...dates].sort()) {
    const day = (await tradeflowCall(tradeflow, 'GET', `/results?date=${date}&${jobQuery}`)).body;
    for (const r of day.results ?? []) {
      if (r.job_id && r.job_id !== job_id) continue;
      rows.push({
        job_id,
        model: r.model,
        date: r.date ?? date,
        portfolio_value: r.daily_pnl?.portfolio_value ?? r.portfolio_value ?? null,
        daily_profit: r.daily_pnl?.profit ?? null,
        daily_return_pct: r.daily_pnl?.return_pct ?? null,
        cash: r.cash ?? r.positions?.CASH ?? null,
        positions: r.positions ?? {},
        trades: r.trades ?? [],
      });
    }
  }

  const client = new pg.Client(pgConfig(db));
  try {
    await client.connect();
  } catch (e) {
    throw new Error(
      `cannot connect to PostgreSQL at ${db.host}:${db.port ?? 5432}/${db.dbname}: ${(e as Error).message}`,
    );
  }
  let inserted = 0;
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS ${target} (
      job_id text NOT NULL,
      model text NOT NULL,
      date date NOT NULL,
      portfolio_value numeric,
      daily_profit numeric,
      daily_return_pct numeric,
      cash numeric,
      positions jsonb NOT NULL,
      trades jsonb NOT NULL,
      stored_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (model, date, job_id)
    )`);
    await client.query('BEGIN');
    for (const r of rows) {
      const res = await client.query(
        `INSERT INTO ${target} (job_id, model, date, portfolio_value, daily_profit, daily_return_pct, cash, positions, trades)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (model, date, job_id) DO NOTHING`,
        [
          r.job_id,
          r.model,
          r.date,
          r.portfolio_value,
          r.daily_profit,
          r.daily_return_pct,
          r.cash,
          JSON.stringify(r.positions),
          JSON.stringify(r.trades),
        ],
      );
      inserted += res.rowCount ?? 0;
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`storing simulation ${job_id} in ${table} failed: ${(e as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  console.log(
    `${rows.length} model-days of ${job_id}: ${inserted} stored now, ${rows.length - inserted} already stored`,
  );
  return {
    job_id,
    status: job.status,
    table,
    model_days: rows.length,
    inserted,
    already_stored: rows.length - inserted,
    dates: { start, end },
  };
}
