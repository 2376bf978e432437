import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisJob } from '../jobs/records.js';
import type { Bar } from '../trading/bars.js';
import { AlphaVantageFileSource } from '../trading/market-data/alphaVantageFiles.js';
import { type Harness, startHarness } from './harness.js';
import { DAILY_H1, DAILY_H2 } from './paths.js';

// Issue 7 §4 as users hit it: a simulation and analyses triggered together fetch overlapping bars
// (different ranges of the same symbols) into an empty cache at the same moment. Every figure is
// checked against the shared data file, read here on its own.

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA'];
let h: Harness;
let file: Map<string, Bar[]>;

beforeAll(async () => {
  h = await startHarness({
    models: { initial_cash: 10000, models: [{ id: 'buy-and-hold', strategy: 'buy-and-hold' }] },
    // A network source's latency (issue 7 used Yahoo): jobs fetching together overlap every time.
    marketLatencyMs: 300,
  });
  file = await new AlphaVantageFileSource([DAILY_H1, DAILY_H2]).loadDaily(
    [...SYMBOLS, 'QQQ'],
    '2000-01-01',
    '2030-01-01',
  );
});
afterAll(async () => {
  await h?.stop();
});

const barOn = (symbol: string, date: string) => file.get(symbol)!.find((b) => b.date === date);

async function waitForAnalysis(jobId: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await h.api(`/jobs/${jobId}`);
    if (status === 200 && ['completed', 'failed', 'llm_timeout', 'stopped'].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`job ${jobId} not done in time: ${JSON.stringify(body).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Activity attempts that failed in a workflow. Temporal retries hide a lost update (the retry may read
 * what another job wrote meanwhile); the history keeps each retried activity's attempt and last failure.
 */
async function failedAttempts(workflowId: string): Promise<string[]> {
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    if (e.activityTaskFailedEventAttributes) return [e.activityTaskFailedEventAttributes.failure?.message ?? '?'];
    const started = e.activityTaskStartedEventAttributes;
    return started && (started.attempt ?? 1) > 1 ? [started.lastFailure?.message ?? '?'] : [];
  });
}

describe('a simulation and analyses fetching bars at the same time', () => {
  it('each sees every bar of its own range, and the simulation is valued at the closes of the file', async () => {
    const [sim, run] = await Promise.all([
      h.api('/simulate/trigger', {
        method: 'POST',
        json: { start_date: '2025-08-01', end_date: '2025-08-29', models: ['buy-and-hold'], symbols: SYMBOLS },
      }),
      h.api('/run', { method: 'POST', json: { tickers: SYMBOLS, pipeline: 'model-only', date: '2025-06-02' } }),
    ]);
    expect(sim.status).toBe(202);
    expect(run.status).toBe(202);

    const done = await h.waitForJob(sim.body.job_id, undefined, 120_000);
    expect(done.status, JSON.stringify(done.details?.filter((d: any) => d.error))).toBe('completed');
    expect(await failedAttempts(sim.body.job_id)).toEqual([]);
    const dates = file.get('AAPL')!.filter((b) => b.date >= '2025-08-01' && b.date <= '2025-08-29');
    expect(dates).toHaveLength(21);
    const days = await Promise.all(
      dates.map(async ({ date }) => (await h.api(`/results?date=${date}&model=buy-and-hold`)).body.results[0]),
    );
    // Day one buys every symbol at the file's open; every day is worth its cash plus the file's closes.
    expect(days[0].trades.map((t: any) => [t.symbol, t.price]).sort()).toEqual(
      SYMBOLS.map((s) => [s, barOn(s, '2025-08-01')!.open]),
    );
    for (const day of days) {
      const { CASH, ...held } = day.positions;
      expect(Object.keys(held).sort()).toEqual(SYMBOLS);
      const expected = CASH + SYMBOLS.reduce((sum, s) => sum + held[s] * barOn(s, day.date)!.close, 0);
      expect(day.portfolio_value, `value on ${day.date}`).toBeCloseTo(expected, 3);
    }

    // Each analysis got the whole history the file has up to its date (420 days asked, the file starts 2025-01-02).
    for (const jobId of run.body.job_ids as string[]) {
      const job = await waitForAnalysis(jobId);
      expect(job.status, job.error).toBe('completed');
      const doc = await h.db.collections.jobs.findOne({ _id: jobId });
      expect(await failedAttempts(doc!.workflowId)).toEqual([]);
      const input = JSON.parse(
        await readFile(
          join(h.env.TRADEFLOW_DATA_DIR!, (doc as AnalysisJob).analysis.runDir, 'input', 'bars.json'),
          'utf8',
        ),
      );
      const expected = file.get(input.symbol)!.filter((b) => b.date <= '2025-06-02');
      expect(input.bars.length, `${input.symbol} bars seen by its analysis`).toBe(expected.length);
    }
  });
});
