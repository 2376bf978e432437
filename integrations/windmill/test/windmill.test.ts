// The Windmill integration checked offline with Windmill's own tools (wmill lint, its TypeScript parser),
// and the scripts' HTTP behaviour against a loopback stand-in for tradeflow (headers, errors, bounds).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setClient } from 'windmill-client';
import { parse } from 'yaml';
import { main as fetchReport } from '../f/tradeflow/fetch_analysis_report.js';
import { main as runAnalysis } from '../f/tradeflow/run_analysis.js';
import { main as trigger } from '../f/tradeflow/trigger_simulation.js';
import { main as waitFor } from '../f/tradeflow/wait_for_simulation.js';
import { inputSchema, parseMain } from './windmillSchema.js';

const ROOT = resolve(import.meta.dirname, '..');
const SCRIPTS = join(ROOT, 'f', 'tradeflow');
const WMILL = resolve(ROOT, '..', '..', 'node_modules', '.bin', 'wmill');
const readYaml = (path: string) => parse(readFileSync(path, 'utf8'));
const scriptCode = (name: string) => readFileSync(join(SCRIPTS, `${name}.ts`), 'utf8');

const tradeflowRes = { type: 'object', format: 'resource-tradeflow', default: null };
const str = (d: unknown = null) => ({ type: 'string', originalType: 'string', default: d });
const int = (d: number) => ({ type: 'integer', default: d });

/** What Windmill's form shows for each script: its parameters, types, defaults and which are required. */
const EXPECTED: Record<string, { required: string[]; properties: Record<string, unknown> }> = {
  trigger_simulation: {
    required: ['tradeflow'],
    properties: {
      tradeflow: tradeflowRes,
      start_date: str(),
      end_date: str(),
      models: { type: 'array', items: { type: 'string' }, originalType: 'string[]', default: null },
    },
  },
  wait_for_simulation: {
    required: ['tradeflow', 'job_id'],
    properties: {
      tradeflow: tradeflowRes,
      job_id: str(),
      poll_interval_seconds: int(30),
      timeout_minutes: int(180),
      accept_partial: { type: 'boolean', default: true },
    },
  },
  store_simulation_results: {
    required: ['tradeflow', 'db', 'job_id'],
    properties: {
      tradeflow: tradeflowRes,
      db: { type: 'object', format: 'resource-postgresql', default: null },
      job_id: str(),
      table: str('tradeflow_daily_results'),
    },
  },
  run_analysis: {
    required: ['tradeflow', 'ticker'],
    properties: {
      tradeflow: tradeflowRes,
      ticker: str(),
      pipeline: {
        type: 'string',
        originalType: 'enum',
        enum: ['comprehensive', 'financial-only', 'model-only', 'news-only', 'model-to-price', 'news-to-price'],
        default: 'comprehensive',
      },
      date: str(),
      llm: str(),
      poll_interval_seconds: int(10),
      timeout_minutes: int(60),
    },
  },
  fetch_analysis_report: {
    required: ['tradeflow', 'job_id'],
    properties: {
      tradeflow: tradeflowRes,
      job_id: str(),
      artifact: {
        type: 'string',
        originalType: 'enum',
        enum: [
          'professional-report',
          'financial-model',
          'professional-report-markdown',
          'financial-summary',
          'news-summary',
          'all-results',
        ],
        default: 'professional-report',
      },
    },
  },
};

const withoutDescriptions = (props: Record<string, any>) =>
  Object.fromEntries(Object.entries(props).map(([k, { description: _d, ...rest }]) => [k, rest]));

function lint(dir: string): Promise<{ code: number; report: any }> {
  return new Promise((done) => {
    execFile(
      WMILL,
      ['lint', '--json', '.'],
      { cwd: dir, env: { ...process.env, WMILL_CONFIG_DIR: join(dir, '.wmill-config'), NO_COLOR: '1' } },
      (err, stdout) => {
        const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
        const json = stdout.slice(stdout.indexOf('{'));
        done({ code, report: JSON.parse(json) });
      },
    );
  });
}

describe('Windmill scripts, as Windmill parses them', () => {
  it('has exactly the scripts the flow and the README name', () => {
    const scripts = readdirSync(SCRIPTS)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(scripts).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`${name}: main's parameters are the input schema Windmill shows`, () => {
      const code = scriptCode(name);
      expect(code).toMatch(/^export async function main\(/m);
      expect(inputSchema(code)).toEqual(expected);
    });

    it(`${name}: its committed metadata (${name}.script.yaml) carries that schema`, () => {
      const meta = readYaml(join(SCRIPTS, `${name}.script.yaml`));
      expect(meta.kind).toBe('script');
      expect(meta.summary).toMatch(/\w/);
      expect(meta.schema.required).toEqual(expected.required);
      expect(withoutDescriptions(meta.schema.properties)).toEqual(expected.properties);
      for (const p of Object.values<any>(meta.schema.properties)) expect(p.description).toMatch(/\w/);
    });
  }

  it('the parser tells a resource from an object typed in the script, so the check above can fail', () => {
    const inlined = parseMain('type Tradeflow = { base_url: string };\nexport async function main(t: Tradeflow) {}');
    expect(inlined.args[0]?.typ).toMatchObject({ object: { name: 'tradeflow' } });
    expect(parseMain('export async function main(t: RT.Tradeflow) {}').args[0]?.typ).toEqual({ resource: 'tradeflow' });
  });

  it('the resource type holds what the scripts read: base_url (required) and api_key', () => {
    const rt = readYaml(join(ROOT, 'tradeflow.resource-type.yaml'));
    expect(Object.keys(rt.schema.properties).sort()).toEqual(['api_key', 'base_url']);
    expect(rt.schema.required).toEqual(['base_url']);
  });
});

describe('the flow and the schedule', () => {
  const flow = readYaml(join(SCRIPTS, 'daily_simulation.flow', 'flow.yaml'));
  const schedule = readYaml(join(SCRIPTS, 'daily_simulation.schedule.yaml'));

  it('wmill lint validates both, offline, in a folder bound to no workspace', async () => {
    const { code, report } = await lint(ROOT);
    expect(report.issues).toEqual([]);
    expect(report).toMatchObject({ success: true, validatedFiles: 2, validFiles: 2 });
    expect(code).toBe(0);
  }, 120_000);

  it('wmill lint fails a broken flow and a broken schedule (the check above can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tradeflow-wmill-lint-'));
    try {
      cpSync(ROOT, dir, { recursive: true, filter: (src) => !src.includes(`${join(ROOT, 'test')}`) });
      const brokenFlow = structuredClone(flow);
      delete brokenFlow.value.modules[1].value.path;
      brokenFlow.value.modules[0].value.type = 'no-such-type';
      writeFileSync(join(dir, 'f/tradeflow/daily_simulation.flow/flow.yaml'), JSON.stringify(brokenFlow));
      const { timezone: _t, ...brokenSchedule } = schedule;
      writeFileSync(join(dir, 'f/tradeflow/daily_simulation.schedule.yaml'), JSON.stringify(brokenSchedule));
      const { code, report } = await lint(dir);
      expect(code).toBe(1);
      expect(report.success).toBe(false);
      expect(report.issues.map((i: any) => i.path).sort()).toEqual([
        'f/tradeflow/daily_simulation.flow/flow.yaml',
        'f/tradeflow/daily_simulation.schedule.yaml',
      ]);
      expect(JSON.stringify(report.issues)).toMatch(/timezone/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('chains the scripts: each step names a script here and gives it every required input, and nothing else', () => {
    const ids = flow.value.modules.map((m: any) => m.id);
    expect(ids).toEqual(['trigger', 'wait', 'store', 'analysis', 'report']);
    const inputs = Object.keys(flow.schema.properties);
    flow.value.modules.forEach((m: any, i: number) => {
      expect(m.value.type).toBe('script');
      const name = m.value.path.replace(/^f\/tradeflow\//, '');
      const schema = EXPECTED[name];
      expect(schema, m.value.path).toBeDefined();
      const given = Object.keys(m.value.input_transforms);
      expect(given.filter((g) => !(g in schema!.properties))).toEqual([]);
      expect(schema!.required.filter((r) => !given.includes(r))).toEqual([]);
      for (const t of Object.values<any>(m.value.input_transforms)) {
        if (t.type === 'static') continue;
        expect(t.type).toBe('javascript');
        for (const [, input] of t.expr.matchAll(/flow_input\.(\w+)/g)) expect(inputs).toContain(input);
        // results.<id> only of steps before this one
        for (const [, step] of t.expr.matchAll(/results\.(\w+)/g)) expect(ids.slice(0, i)).toContain(step);
      }
    });
    expect(flow.value.modules[0].stop_after_if.expr).toBe('result.job_id == null');
  });

  it('runs the flow daily at 06:00 New York time, with every input the flow requires', () => {
    expect(schedule).toMatchObject({
      schedule: '0 0 6 * * *',
      timezone: 'America/New_York',
      script_path: 'f/tradeflow/daily_simulation',
      is_flow: true,
      enabled: true,
    });
    expect(Object.keys(schedule.args).filter((a) => !(a in flow.schema.properties))).toEqual([]);
    expect(flow.schema.required.filter((r: string) => !(r in schedule.args))).toEqual([]);
    for (const r of flow.schema.required) expect(schedule.args[r]).toMatch(/^\$res:f\/tradeflow\//);
  });
});

// A stand-in for tradeflow on loopback: each test says how it answers and sees every request.
let server: Server;
let baseUrl: string;
let handler: (req: IncomingMessage, body: string, res: ServerResponse) => void;
const seen: Array<{ method: string; url: string; auth: string | undefined; body: string }> = [];
const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => {
  seen.length = 0;
});

describe('the scripts over HTTP (a loopback stand-in for tradeflow)', () => {
  const res = () => ({ base_url: `${baseUrl}/`, api_key: 'tf-key-1' });

  it('sends the API key as a bearer token and only the fields given', async () => {
    handler = (_req, _b, r) => json(r, 202, { job_id: 'sim-1', status: 'pending' });
    const out = await trigger(res(), '2025-03-03', undefined, []);
    expect(out).toMatchObject({ job_id: 'sim-1', created: true });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/simulate/trigger', auth: 'Bearer tf-key-1' });
    expect(JSON.parse(seen[0]!.body)).toEqual({ start_date: '2025-03-03' });
  });

  it('trigger: nothing to simulate is a result with job_id null; a conflict names the running job', async () => {
    handler = (_req, _b, r) => json(r, 200, { status: 'current', message: 'up to date', models: ['m'] });
    expect(await trigger({ base_url: baseUrl })).toMatchObject({ job_id: null, status: 'current' });
    expect(seen[0]!.auth).toBeUndefined();
    handler = (_req, _b, r) =>
      json(r, 409, { error: 'conflict', message: 'another simulation is running', current_job_id: 'sim-9' });
    await expect(trigger(res(), '2025-03-03')).rejects.toThrow(/409 conflict: another simulation.*sim-9/);
  });

  it('a tradeflow that does not answer is an error naming the URL', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(trigger({ base_url: `http://127.0.0.1:${port}` })).rejects.toThrow(
      `tradeflow did not answer POST http://127.0.0.1:${port}/simulate/trigger`,
    );
  });

  it('wait: rides out 503s, returns the final status; failed is an error with the job’s error', async () => {
    let calls = 0;
    handler = (_req, _b, r) => {
      calls++;
      if (calls === 1) return json(r, 503, { error: 'service_unavailable', message: 'db down' });
      if (calls === 2) return json(r, 200, { job_id: 'sim-1', status: 'running', progress: { completed: 1 } });
      return json(r, 200, { job_id: 'sim-1', status: 'completed', progress: { completed: 2, total_model_days: 2 } });
    };
    const out = await waitFor(res(), 'sim-1', 0.05, 5);
    expect(out).toMatchObject({ job_id: 'sim-1', status: 'completed' });
    expect(calls).toBe(3);
    expect(seen[0]!.url).toBe('/simulate/status/sim-1?details_limit=0');

    handler = (_req, _b, r) => json(r, 200, { job_id: 'sim-2', status: 'failed', error: 'all model-days failed' });
    await expect(waitFor(res(), 'sim-2', 0.05, 5)).rejects.toThrow(
      'simulation sim-2 ended failed: all model-days failed',
    );
    handler = (_req, _b, r) => json(r, 200, { job_id: 'sim-3', status: 'partial', progress: {} });
    await expect(waitFor(res(), 'sim-3', 0.05, 5, false)).rejects.toThrow('ended partial');
  });

  it('wait: an unknown job fails at once; a job that never ends fails at the bound', async () => {
    handler = (_req, _b, r) => json(r, 404, { error: 'not_found', message: 'no job sim-x' });
    await expect(waitFor(res(), 'sim-x', 0.05, 5)).rejects.toThrow('404 not_found: no job sim-x');
    expect(seen).toHaveLength(1);
    handler = (_req, _b, r) => json(r, 200, { job_id: 'sim-1', status: 'running', progress: { completed: 0 } });
    // A job that stays running can only end this way, however slow the machine.
    await expect(waitFor(res(), 'sim-1', 0.05, 0.005)).rejects.toThrow(/did not end within 0.005 minutes/);
  });

  it('wait: inside a Windmill job, the job’s progress follows the simulation’s (windmill-client)', async () => {
    let calls = 0;
    handler = (req, _b, r) => {
      if (req.url!.startsWith('/api/')) return json(r, 200, 'ok');
      calls++;
      const percent = calls === 1 ? 40 : 100;
      return json(r, 200, { job_id: 'sim-1', status: calls === 1 ? 'running' : 'completed', progress: { percent } });
    };
    // What a Windmill worker sets before the script runs (its job, workspace, token and API).
    process.env.WM_JOB_ID = 'wm-job-7';
    process.env.WM_WORKSPACE = 'tradeflow-ws';
    setClient('wm-token', baseUrl);
    try {
      await waitFor(res(), 'sim-1', 0.05, 5);
    } finally {
      delete process.env.WM_JOB_ID;
      delete process.env.WM_WORKSPACE;
    }
    const progress = seen.filter((s) => s.url.startsWith('/api/'));
    expect(progress.map((p) => [p.method, p.url, p.auth, JSON.parse(p.body).percent])).toEqual([
      ['POST', '/api/w/tradeflow-ws/job_metrics/set_progress/wm-job-7', 'Bearer wm-token', 40],
      ['POST', '/api/w/tradeflow-ws/job_metrics/set_progress/wm-job-7', 'Bearer wm-token', 100],
    ]);
    // Outside Windmill nothing is sent to it.
    seen.length = 0;
    calls = 1;
    await waitFor(res(), 'sim-1', 0.05, 5);
    expect(seen.filter((s) => s.url.startsWith('/api/'))).toEqual([]);
  });

  it('run_analysis: an analysis that ends failed is an error with its type; fetch_analysis_report returns a file', async () => {
    handler = (req, _b, r) => {
      if (req.method === 'POST') return json(r, 202, { job_id: 'an-1', status: 'pending' });
      return json(r, 200, { job_id: 'an-1', status: 'failed', error: 'no bars', error_type: 'data_error' });
    };
    await expect(runAnalysis(res(), 'AAPL', 'comprehensive', undefined, undefined, 0.05, 5)).rejects.toThrow(
      'analysis an-1 of AAPL ended failed (data_error): no bars',
    );
    expect(JSON.parse(seen[0]!.body)).toEqual({ ticker: 'AAPL', pipeline: 'comprehensive' });

    const pdf = Buffer.from('%PDF-1.7 fake');
    handler = (_req, _b, r) => {
      r.writeHead(200, {
        'content-type': 'application/pdf',
        'content-disposition': 'attachment; filename="AAPL_Professional_Analysis_Report.pdf"',
      });
      r.end(pdf);
    };
    const out = await fetchReport(res(), 'an-1');
    expect(out.file).toMatchObject({
      filename: 'AAPL_Professional_Analysis_Report.pdf',
      content_type: 'application/pdf',
      size: pdf.length,
    });
    expect(Buffer.from(out.file.content, 'base64')).toEqual(pdf);
    expect(seen.at(-1)).toMatchObject({ url: '/jobs/an-1/download/professional-report', auth: 'Bearer tf-key-1' });
    handler = (_req, _b, r) => json(r, 404, { error: 'not_found', message: 'no professional-report for this run' });
    await expect(fetchReport(res(), 'an-1')).rejects.toThrow('404 not_found: no professional-report for this run');
  });
});
