import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readXlsxFile from 'read-excel-file/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINES } from '../analysis/contract.js';
import { expectedOutputs } from '../analysis/pipeline/definitions.js';
import { ANALYSIS_LIFECYCLE } from '../jobs/lifecycle.js';
import { startFakeOpenAi } from './fakeOpenAi.js';
import { type Harness, startHarness } from './harness.js';
import { readSse, type SseEvent } from './sseClient.js';

// Analysis jobs in the embedded default sandbox (a child process per job), over real HTTP, on the
// run's real Temporal and FerretDB. The docker sandbox has its own file.

let h: Harness;
let llm: Awaited<ReturnType<typeof startFakeOpenAi>>;
let llmMode: 'ok' | 'overloaded' = 'ok';
const tmp = mkdtempSync(join(tmpdir(), 'tradeflow-analysis-'));

beforeAll(async () => {
  llm = await startFakeOpenAi((req) => {
    if (llmMode === 'overloaded') return { status: 503, body: { error: { message: 'The server is overloaded' } } };
    const role = String(req.messages[0]?.content ?? '');
    const content = role.includes('Portfolio manager')
      ? 'RATING: UNDERWEIGHT\n\nThe model weighs valuation risk above momentum.'
      : `Model view: ${role.slice(11, 40)}`;
    return { content, usage: { prompt: 200, completion: 50 } };
  });
  h = await startHarness({
    models: {
      models: [
        { id: 'buy-and-hold', strategy: 'buy-and-hold' },
        {
          id: 'fake-gpt',
          llm: {
            model: 'gpt-test',
            base_url: llm.baseUrl,
            api_key_env: 'FAKE_LLM_KEY',
            pricing: { prompt_per_million: 2, completion_per_million: 8 },
          },
        },
      ],
    },
    env: { FAKE_LLM_KEY: 'sk-test' },
  });
  process.env.FAKE_LLM_KEY = 'sk-test';
});
afterAll(async () => {
  await h?.stop();
  await llm?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const TERMINAL: readonly string[] = ANALYSIS_LIFECYCLE.terminal;

async function waitForAnalysis(jobId: string, until = (b: any) => TERMINAL.includes(b.status), timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await h.api(`/jobs/${jobId}`);
    if (status === 200 && until(body)) return body;
    if (Date.now() > deadline) throw new Error(`job ${jobId} not there in time: ${JSON.stringify(body).slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function download(path: string): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await fetch(`${h.baseUrl}${path}`, { headers: h.authHeaders });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('analysis jobs: POST /run, live stream, artifacts', () => {
  let jobId = '';
  let job: any;
  let events: SseEvent[] = [];

  it('runs the comprehensive pipeline and streams it from start to finish', async () => {
    const res = await h.api('/run', {
      method: 'POST',
      json: { ticker: 'aapl', company: 'Apple Inc. — Zürich desk', date: '2025-10-15', query: 'Is it cheap? Ελληνικά' },
    });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('pending');
    expect(res.body.ticker).toBe('AAPL');
    jobId = res.body.job_id;
    const stream = await readSse(`${h.baseUrl}/jobs/${jobId}/logs/stream`, { timeoutMs: 90_000, key: h.adminKey });
    events = stream.events;
    expect(stream.closedByServer).toBe(true);
    expect(events[0]!.event).toBe('connection');
    const numbered = events.filter((e) => e.id);
    expect(numbered.map((e) => Number(e.id))).toEqual(numbered.map((_, i) => i + 1));
    const logs = events.filter((e) => e.event === 'log');
    expect(logs.some((e) => e.data.type === 'NL' && String(e.data.message).includes('[Bull researcher]'))).toBe(true);
    expect(logs.some((e) => e.data.type === 'LOG' && e.data.message === 'STAGE: PROFESSIONAL REPORT GENERATION')).toBe(
      true,
    );
    expect(events.some((e) => e.event === 'status' && e.data.stage === 'ANALYSTS')).toBe(true);
    const last = events.at(-1)!;
    expect(last.event).toBe('completed');
    expect(['BUY', 'SELL', 'HOLD']).toContain(last.data.decision);
    expect(last.data.files).toContain('reports/AAPL_Professional_Analysis_Report.pdf');
  });

  it('reports the job completed with its result, steps and a manifest of every file', async () => {
    job = await waitForAnalysis(jobId);
    expect(job.status).toBe('completed');
    expect(job.kind).toBe('analysis');
    expect(job.sandbox).toBe('process');
    expect(job.result.rating).toMatch(/^(BUY|OVERWEIGHT|HOLD|UNDERWEIGHT|SELL)$/);
    expect(job.usage).toEqual({ llm_calls: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 });
    const paths = job.files.map((f: any) => f.path);
    for (const p of expectedOutputs('comprehensive', 'AAPL')) expect(paths).toContain(p);
    const detailed = (await h.api(`/jobs/${jobId}/status/detailed`)).body;
    expect(detailed.steps.map((s: any) => s.step)).toEqual([
      'data',
      'model',
      'analysts',
      'debate',
      'report',
      'summaries',
    ]);
    expect(detailed.exit_code).toBe(0);
    expect(detailed.files_available['financial-model']).toBe(true);
  });

  it('serves each file with the manifest checksum', async () => {
    for (const f of job.files) {
      const got = await download(f.url);
      expect(got.status, f.path).toBe(200);
      expect(got.bytes.length).toBe(f.size);
      expect(sha256(got.bytes)).toBe(f.sha256);
    }
  });

  it("names the market data in the report's header, with no synthetic banner for real prices", async () => {
    const file = job.files.find((f: any) => f.path === 'reports/AAPL_Professional_Analysis_Report.md');
    const report = (await download(file.url)).bytes.toString('utf8');
    expect(report.split('\n')[2]).toContain('market data files');
    expect(report).not.toContain('SYNTHETIC');
  });

  it('writes a PDF report that an independent reader opens: headings, tables, non-ASCII text, page numbers', async () => {
    const pdf = await download(`/jobs/${jobId}/download/professional-report`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const file = join(tmp, 'report.pdf');
    writeFileSync(file, pdf.bytes);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    for (const heading of ['Executive Summary', 'DCF Valuation', 'Investment Thesis', 'Recommendation', 'Appendix']) {
      expect(text).toContain(heading);
    }
    expect(text).toContain('Zürich');
    expect(text).toContain('Ελληνικά');
    expect(text).toMatch(/Rating: (BUY|OVERWEIGHT|HOLD|UNDERWEIGHT|SELL)/);
    expect(text).toMatch(/Page 1 of \d+/);
    const fonts = execFileSync('pdffonts', [file], { encoding: 'utf8' });
    expect(fonts).toMatch(/DejaVuSans/);
    expect(fonts).not.toMatch(/ no +no /);
  });

  it('writes a DCF workbook with live formulas that an xlsx parser reads', async () => {
    const xlsx = await download(`/jobs/${jobId}/download/financial-model`);
    expect(xlsx.status).toBe(200);
    const file = join(tmp, 'model.xlsx');
    writeFileSync(file, xlsx.bytes);
    const sheets = await readXlsxFile(file);
    const names = sheets.map((s: any) => s.sheet);
    for (const n of ['Assumptions', 'Historical', 'Projections', 'Sensitivity', 'Summary']) expect(names).toContain(n);
    const values = JSON.parse(
      (await download(`/jobs/${jobId}/files/models/AAPL_financial_model_computed_values.json`)).bytes.toString(),
    );
    const summary = sheets.find((s: any) => s.sheet === 'Summary')!.data.flat();
    const numbers = summary.filter((v: unknown): v is number => typeof v === 'number');
    expect(numbers.some((n: number) => Math.abs(n - values.blendedValue) < 1e-6)).toBe(true);
    const xml = execFileSync('unzip', ['-p', file, 'xl/worksheets/sheet*.xml'], { encoding: 'utf8' });
    expect((xml.match(/<f>/g) ?? []).length).toBeGreaterThan(30);
  });

  it('returns the TradingAgents-shaped result and a tar of the whole run', async () => {
    const r = await h.api(`/jobs/${jobId}/result`);
    expect(r.status).toBe(200);
    expect(['BUY', 'SELL', 'HOLD']).toContain(r.body.decision);
    expect(r.body.reports.market).toContain('Market analyst');
    expect(r.body.reports.fundamentals).toContain('DCF');
    const tar = await download(`/jobs/${jobId}/download/all-results`);
    expect(tar.status).toBe(200);
    const file = join(tmp, 'run.tar');
    writeFileSync(file, tar.bytes);
    const listed = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listed.sort()).toEqual([...job.files.map((f: any) => f.path), 'manifest.json'].sort());
  });

  it('serves nothing outside the run, whatever the path says', async () => {
    for (const p of [
      '../../../../etc/passwd',
      '..%2F..%2F..%2Fetc%2Fpasswd',
      '%2Fetc%2Fpasswd',
      'job.json',
      'input/bars.json',
    ]) {
      const res = await download(`/jobs/${jobId}/files/${p}`);
      expect(res.status, p).toBe(404);
      expect(res.bytes.toString()).not.toContain('root:');
    }
    // A sandbox could plant a symlink where an artifact was: it is refused, not followed.
    const runDir = join(h.settings.dataDir, 'analysis', 'local', 'AAPL', `2025-10-15_${jobId}`);
    const target = join(runDir, 'summaries', 'AAPL_news_summary.md');
    unlinkSync(target);
    symlinkSync('/etc/passwd', target);
    const res = await download(`/jobs/${jobId}/download/news-summary`);
    expect(res.status).toBe(404);
    expect(res.bytes.toString()).not.toContain('root:');
    const tar = await download(`/jobs/${jobId}/download/all-results`);
    expect(tar.status).toBe(404);
  });

  it('runs every pipeline with its own steps and outputs', async () => {
    const started = await Promise.all(
      PIPELINES.filter((p) => p !== 'comprehensive').map(async (pipeline) => {
        const res = await h.api('/run', { method: 'POST', json: { ticker: 'MSFT', pipeline, date: '2025-09-30' } });
        expect(res.status).toBe(202);
        return { pipeline, id: res.body.job_id as string };
      }),
    );
    for (const { pipeline, id } of started) {
      const done = await waitForAnalysis(id);
      expect(done.status, `${pipeline}: ${done.error}`).toBe('completed');
      expect(done.files.map((f: any) => f.path).sort()).toEqual(
        expect.arrayContaining(expectedOutputs(pipeline, 'MSFT')),
      );
      expect(done.files.map((f: any) => f.path)).not.toContain('reports/MSFT_Professional_Analysis_Report.pdf');
      expect(done.result).not.toBeNull();
    }
  });

  it('serves a markdown summary as PDF on request, rendered by the pipeline: the API stays responsive', async () => {
    const res = await download(`/jobs/${jobId}/download/financial-summary?format=pdf`);
    expect(res.status).toBe(200);
    expect(res.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    // Twenty at once used to render on the event loop and hold /health back for seconds.
    const pdfs = Array.from({ length: 20 }, () => download(`/jobs/${jobId}/download/news-summary?format=pdf`));
    const t0 = performance.now();
    expect((await h.api('/health')).status).toBe(200);
    const healthMs = performance.now() - t0;
    expect((await Promise.all(pdfs)).every((r) => r.status === 200)).toBe(true);
    expect(healthMs).toBeLessThan(500);
  });
});

describe('POST /jobs (TradingAgents shape) and batches', () => {
  it('takes ticker + date and answers with a decision', async () => {
    const res = await h.api('/jobs', {
      method: 'POST',
      json: {
        ticker: 'NVDA',
        date: '2025-08-01',
        config: { selected_analysts: ['market', 'social'], max_debate_rounds: 2 },
      },
    });
    expect(res.status).toBe(202);
    expect(Object.keys(res.body).sort()).toEqual(['created_at', 'date', 'job_id', 'status', 'ticker']);
    const early = await h.api(`/jobs/${res.body.job_id}/result`);
    if (early.status !== 200) expect(early.body.error).toBe('not_completed');
    await waitForAnalysis(res.body.job_id);
    const r = await h.api(`/jobs/${res.body.job_id}/result`);
    expect(r.status).toBe(200);
    expect(r.body.reports.sentiment).toContain('Sentiment analyst');
    expect(r.body.reports.news).toBeNull();
  });

  it('runs several tickers as child workflows of one batch', async () => {
    const res = await h.api('/run', {
      method: 'POST',
      json: { tickers: ['AMZN', 'GOOGL'], pipeline: 'news-only', date: '2025-07-01' },
    });
    expect(res.status).toBe(202);
    expect(res.body.total_jobs).toBe(2);
    for (const id of res.body.job_ids) expect((await waitForAnalysis(id)).status).toBe('completed');
    const batch = await h.api(`/batches/${res.body.batch_id}`);
    expect(batch.body.counts).toEqual({ completed: 2 });
    const parent = await h.temporal.workflow.getHandle(res.body.batch_id).result();
    expect(parent.map((o: any) => o.status)).toEqual(['completed', 'completed']);
  });
});

describe('runs, retries and stops that race', () => {
  const stopAndWait = async (jobId: string) => {
    await waitForAnalysis(jobId, (b) => b.status === 'running');
    expect((await h.api(`/jobs/${jobId}/stop`, { method: 'POST', json: { reason: 'race test' } })).status).toBe(202);
    expect((await waitForAnalysis(jobId)).status).toBe('stopped');
  };

  it('two retries fired together start one run; the job completes once, with its files', async () => {
    const res = await h.api('/run', { method: 'POST', json: { ticker: 'MSFT', pipeline: 'model-only' } });
    await stopAndWait(res.body.job_id);
    const retries = await Promise.all([0, 1].map(() => h.api(`/jobs/${res.body.job_id}/retry`, { method: 'POST' })));
    expect(retries.map((r) => r.status).sort()).toEqual([202, 409]);
    const done = await waitForAnalysis(res.body.job_id, (b) => b.retry_count === 1 && TERMINAL.includes(b.status));
    expect(done.status).toBe('completed');
    expect(done.previous_runs).toHaveLength(1);
    // Nothing runs after the end: the run folder and its events stay as the completed run left them.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await h.api(`/jobs/${res.body.job_id}`);
    expect(after.body).toMatchObject({ status: 'completed', retry_count: 1 });
    expect((await h.api(`/jobs/${res.body.job_id}/download/financial-model`)).status).toBe(200);
    const events = (await h.api(`/jobs/${res.body.job_id}/logs?limit=500`)).body.events;
    const ends = events.filter((e: any) => e.type === 'completed' || e.type === 'error');
    expect(ends.map((e: any) => [e.run, e.status])).toEqual([
      [1, 'stopped'],
      [2, 'completed'],
    ]);
    expect(events.at(-1).type).toBe('completed');
  });

  it('a stop sent right after a retry stops the new run', async () => {
    const res = await h.api('/run', { method: 'POST', json: { ticker: 'NVDA' } });
    await stopAndWait(res.body.job_id);
    expect((await h.api(`/jobs/${res.body.job_id}/retry`, { method: 'POST' })).status).toBe(202);
    const stop = await h.api(`/jobs/${res.body.job_id}/stop`, { method: 'POST' });
    expect(stop.status).toBe(202);
    const ended = await waitForAnalysis(res.body.job_id, (b) => b.retry_count === 1 && TERMINAL.includes(b.status));
    expect(ended.status).toBe('stopped');
  });

  it('a batch child whose workflow is terminated does not take its siblings with it', async () => {
    const res = await h.api('/run', {
      method: 'POST',
      json: { tickers: ['AAPL', 'MSFT', 'NVDA'], pipeline: 'news-only', date: '2025-07-01' },
    });
    const [first, ...others] = res.body.job_ids as string[];
    await waitForAnalysis(first!, (b) => b.status === 'running');
    await h.temporal.workflow.getHandle(`analysis-${first}`).terminate('race test: an operator terminated one');
    for (const id of others) expect((await waitForAnalysis(id)).status).toBe('completed');
    const parent = await h.temporal.workflow.getHandle(res.body.batch_id).result();
    expect(parent.map((o: any) => o.status)).toEqual(['failed', 'completed', 'completed']);
  });

  it('an analysis date before any market data fails as a data error', async () => {
    const res = await h.api('/run', { method: 'POST', json: { ticker: 'AAPL', date: '1990-01-02' } });
    const failed = await waitForAnalysis(res.body.job_id);
    expect(failed).toMatchObject({ status: 'failed', error_type: 'data_error' });
  });
});

describe('LLM mode, llm_timeout and retry', () => {
  it('records tokens and cost of every call and takes the portfolio manager rating', async () => {
    llmMode = 'ok';
    const res = await h.api('/run', { method: 'POST', json: { ticker: 'TSLA', date: '2025-09-02', llm: 'fake-gpt' } });
    expect(res.status).toBe(202);
    const done = await waitForAnalysis(res.body.job_id);
    expect(done.status).toBe('completed');
    expect(done.result.rating).toBe('UNDERWEIGHT');
    expect(done.result.decision).toBe('SELL');
    const calls = done.usage.llm_calls;
    expect(calls).toBeGreaterThanOrEqual(11);
    expect(done.usage.prompt_tokens).toBe(200 * calls);
    expect(done.usage.cost_usd).toBeCloseTo(((200 * 2 + 50 * 8) * calls) / 1e6, 9);
    const logs = (await h.api(`/jobs/${res.body.job_id}/logs?limit=500`)).body;
    expect(JSON.stringify(logs)).toContain('[LLM] fake-gpt');
  });

  it('ends as llm_timeout when the provider is overloaded, and a retry completes it', async () => {
    llmMode = 'overloaded';
    const res = await h.api('/run', {
      method: 'POST',
      json: { ticker: 'META', date: '2025-09-02', llm: 'fake-gpt', pipeline: 'news-only' },
    });
    const failed = await waitForAnalysis(res.body.job_id);
    expect(failed.status).toBe('llm_timeout');
    expect(failed.error_type).toBe('llm_timeout');
    expect(failed.retryable).toBe(true);
    llmMode = 'ok';
    const retried = await h.api(`/jobs/${res.body.job_id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(202);
    const done = await waitForAnalysis(
      res.body.job_id,
      (b) =>
        b.status === 'completed' || (b.retry_count === 1 && TERMINAL.includes(b.status) && b.status !== 'llm_timeout'),
    );
    expect(done.status).toBe('completed');
    expect(done.retry_count).toBe(1);
    // The first run's end is kept, not overwritten by the second.
    expect(done.previous_runs).toEqual([
      expect.objectContaining({ run: 1, status: 'llm_timeout', error_type: 'llm_timeout' }),
    ]);
    expect(done.error).toBeNull();
    const again = await h.api(`/jobs/${res.body.job_id}/retry`, { method: 'POST' });
    expect(again.status).toBe(409);
  });
});

describe('bad analysis requests get a 4xx with a reason', () => {
  const cases: Array<[string, unknown, number, string]> = [
    ['unknown ticker', { ticker: 'ZZZZ' }, 422, 'unknown_ticker'],
    ['unknown pipeline', { ticker: 'AAPL', pipeline: 'everything' }, 400, 'bad_request'],
    ['ticker and tickers', { ticker: 'AAPL', tickers: ['MSFT'] }, 400, 'bad_request'],
    ['no ticker', { pipeline: 'comprehensive' }, 400, 'bad_request'],
    ['future date', { ticker: 'AAPL', date: '2099-01-01' }, 422, 'validation_error'],
    ['a year past 2100', { ticker: 'AAPL', date: '2999-01-01' }, 400, 'bad_request'],
    ['unknown llm', { ticker: 'AAPL', llm: 'gpt-99' }, 422, 'unknown_model'],
    ['unknown field', { ticker: 'AAPL', colour: 'blue' }, 400, 'bad_request'],
  ];
  for (const [name, body, status, code] of cases) {
    it(name, async () => {
      const res = await h.api('/run', { method: 'POST', json: body });
      expect(res.status).toBe(status);
      expect(res.body.error).toBe(code);
      expect(res.body.message).toBeTruthy();
    });
  }

  it('unknown artifact, job or batch', async () => {
    const run = await h.api('/run', {
      method: 'POST',
      json: { ticker: 'AAPL', pipeline: 'model-only', date: '2025-05-01' },
    });
    await waitForAnalysis(run.body.job_id);
    expect((await h.api(`/jobs/${run.body.job_id}/download/secret-plans`)).status).toBe(404);
    expect((await h.api(`/jobs/${run.body.job_id}/download/professional-report`)).body.error).toBe(
      'file_not_available',
    );
    expect((await h.api('/jobs/nope/result')).status).toBe(404);
    expect((await h.api('/batches/nope')).status).toBe(404);
    expect((await h.api('/jobs', { method: 'POST', json: { ticker: 'AAPL' } })).status).toBe(400);
  });
});
