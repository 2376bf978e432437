import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { type AnalysisJob, analysisJobRecord } from '../jobs/records.js';
import { MemoryJobStore } from '../test/support/memoryStores.js';
import { createScheduleActivities } from './schedules.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tradeflow-schedules-'));
const servers: Server[] = [];
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  for (const s of servers) s.close();
});

function job(jobId: string, ticker: string, status: AnalysisJob['status'], decision?: 'BUY' | 'SELL' | 'HOLD') {
  const doc = analysisJobRecord({
    jobId,
    owner: 'local',
    seed: {
      spec: {
        ticker,
        company: ticker,
        pipeline: 'news-only',
        asOf: '2025-07-02',
        analysts: ['news'],
        debateRounds: 1,
        riskRounds: 1,
        llm: 'deterministic',
        sandbox: 'process',
        runDir: `analysis/local/${ticker}/x`,
      },
      request: {},
      createdAt: '2025-07-03T12:30:00Z',
    },
  });
  doc.status = status;
  if (status === 'failed') doc.error = 'no market data for ZZZ';
  if (decision) {
    doc.analysis.manifest = {
      result: { decision, rating: decision === 'BUY' ? 'OVERWEIGHT' : 'SELL', targetPrice: 123.4 },
    } as unknown as NonNullable<AnalysisJob['analysis']['manifest']>;
  }
  return doc;
}

function activities(apiUrl = 'http://127.0.0.1:1') {
  const jobs = new MemoryJobStore();
  return {
    jobs,
    a: createScheduleActivities({
      jobs,
      dataDir,
      latestMarketDate: async () => '2025-10-30',
      apiUrl: () => apiUrl,
      logger: createLogger('silent'),
    }),
  };
}

describe('the calendar step', () => {
  it('answers a holiday closed with its name, and a report date with the session before it, within the data', async () => {
    const { a } = activities();
    expect(await a.checkMarketDay({ at: '2025-07-04T12:30:00Z' })).toMatchObject({
      open: false,
      reason: 'NYSE closed (Independence Day)',
    });
    expect(await a.checkMarketDay({ at: '2025-07-07T12:30:00Z' })).toMatchObject({ open: true, asOf: '2025-07-03' });
    // Past the market data's end: the last session the data has.
    expect(await a.checkMarketDay({ at: '2026-12-07T13:30:00Z' })).toMatchObject({ open: true, asOf: '2025-10-30' });
  });
});

describe('the daily digest', () => {
  it('aggregates the batch (some completed: partial), writes sector reports, and a PDF with every decision and error', async () => {
    const { a, jobs } = activities();
    await jobs.insertIfAbsent(job('j1', 'AAPL', 'completed', 'BUY'));
    await jobs.insertIfAbsent(job('j2', 'MSFT', 'completed', 'SELL'));
    await jobs.insertIfAbsent(job('j3', 'ZZZ', 'failed'));
    const watchlist = [
      { ticker: 'AAPL', sector: 'Tech' },
      { ticker: 'MSFT', sector: 'Tech' },
      { ticker: 'ZZZ', sector: 'Other | odd' },
    ];
    const done = await a.writeDailyDigest({
      date: '2025-07-03',
      asOf: '2025-07-02',
      batchId: 'batch-t',
      scheduleId: 'reports',
      watchlist,
      jobs: watchlist.map((w, i) => ({ jobId: `j${i + 1}`, ticker: w.ticker, sector: w.sector, status: 'running' })),
    });
    // The records decide the statuses, not what the workflow saw.
    expect(done.status).toBe('partial');
    expect(done.counts).toEqual({ completed: 2, failed: 1 });
    expect(done.jobs[0]).toMatchObject({ ticker: 'AAPL', decision: 'BUY', rating: 'OVERWEIGHT', targetPrice: 123.4 });
    expect(done.jobs[2]).toMatchObject({ status: 'failed', error: 'no market data for ZZZ' });
    expect(done.sectors.map((s) => s.sector)).toEqual(['Tech', 'Other | odd']);
    const tech = readFileSync(join(dataDir, done.sectors[0]!.report), 'utf8');
    expect(tech).toContain('2 companies, 2 decided: 1 BUY, 0 HOLD, 1 SELL (neutral)');
    const markdown = readFileSync(join(dataDir, done.digest.markdown), 'utf8');
    // A pipe in a sector name does not break the table.
    expect(markdown).toContain('| ZZZ | Other / odd | failed | — |');
    const text = execFileSync('pdftotext', ['-layout', join(dataDir, done.digest.pdf), '-'], { encoding: 'utf8' });
    expect(text).toContain('Pre-market digest for 2025-07-03');
    expect(text).toContain('Batch status: partial (2 completed, 1 failed)');
    expect(text).toMatch(/AAPL\s+Tech\s+completed\s+BUY\s+OVERWEIGHT\s+123.4/);
    expect(text).toContain('ZZZ: no market data for ZZZ');
  });

  it('is failed when no job completed', async () => {
    const { a, jobs } = activities();
    await jobs.insertIfAbsent(job('f1', 'AAPL', 'stopped'));
    const done = await a.writeDailyDigest({
      date: '2025-07-07',
      asOf: '2025-07-03',
      batchId: 'batch-f',
      scheduleId: 'reports',
      watchlist: [{ ticker: 'AAPL', sector: 'Tech' }],
      jobs: [{ jobId: 'f1', ticker: 'AAPL', sector: 'Tech', status: 'stopped' }],
    });
    expect(done.status).toBe('failed');
    expect(done.counts).toEqual({ stopped: 1 });
  });
});

/** A stand-in API answering each trigger with the next canned answer; records the requests. */
async function standIn(answers: Array<{ status: number; body: unknown }>) {
  const seen: Array<{ key: string | undefined; body: string }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      seen.push({ key: req.headers['idempotency-key'] as string | undefined, body });
      const answer = answers.shift() ?? { status: 500, body: {} };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, seen };
}

describe('the simulation catch-up trigger', () => {
  it('posts the no-dates trigger with the run’s key and reads each answer', async () => {
    const api = await standIn([
      { status: 202, body: { job_id: 'sim-1', status: 'pending' } },
      { status: 200, body: { status: 'current', message: 'nothing left to simulate' } },
      { status: 409, body: { error: 'conflict', message: 'another simulation runs' } },
      { status: 503, body: { error: 'service_unavailable', message: 'Temporal is unreachable' } },
    ]);
    const { a } = activities(api.url);
    const input = { idempotencyKey: 'schedule:run-1', date: '2025-07-07' };
    expect(await a.triggerSimulationCatchUp(input)).toEqual({
      status: 'triggered',
      date: '2025-07-07',
      httpStatus: 202,
      jobId: 'sim-1',
    });
    expect(api.seen[0]).toEqual({ key: 'schedule:run-1', body: '{}' });
    expect(
      await a.triggerSimulationCatchUp({ ...input, models: ['m1'], callbackUrl: 'https://example.com/hook' }),
    ).toMatchObject({ status: 'current' });
    expect(JSON.parse(api.seen[1]!.body)).toEqual({ models: ['m1'], callback_url: 'https://example.com/hook' });
    expect(await a.triggerSimulationCatchUp(input)).toMatchObject({ status: 'failed', httpStatus: 409 });
    // A 503 is thrown, so Temporal retries the activity.
    await expect(a.triggerSimulationCatchUp(input)).rejects.toThrow(/answered 503/);
  });
});
