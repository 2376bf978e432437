import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tradingDaysBetween } from '../trading/calendar.js';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';
import { DAILY_H1, HOURLY } from './paths.js';

/** A symbol's bar on a date, straight from the shared file. */
function barFromFile(symbol: string, date: string): { open: number; high: number; low: number; close: number } {
  const line = readFileSync(DAILY_H1, 'utf8')
    .split('\n')
    .find((l) => l.includes(`"2. Symbol": "${symbol}"`));
  const bar = JSON.parse(line!)['Time Series (Daily)'][date];
  return {
    open: Number(bar['1. buy price']),
    high: Number(bar['2. high']),
    low: Number(bar['3. low']),
    close: Number(bar['4. sell price']),
  };
}

/** An hourly bar of a symbol, straight from the shared hourly file. */
function hourlyBar(symbol: string, stamp: string): { open: number; close: number } {
  const line = readFileSync(HOURLY, 'utf8')
    .split('\n')
    .find((l) => l.includes(`"2. Symbol": "${symbol}"`));
  const bar = JSON.parse(line!)['Time Series (60min)'][stamp];
  return { open: Number(bar['1. buy price']), close: Number(bar['4. sell price']) };
}

let h: Harness;
/** The run the comparison test made, for the tear sheet's. */
let comparedRun = '';

beforeAll(async () => {
  h = await startHarness({ models: STRATEGY_MODELS });
});

afterAll(async () => {
  await h?.stop();
});

const trigger = (json: unknown, headers: Record<string, string> = {}) =>
  h.api('/simulate/trigger', { method: 'POST', json, headers });

const PERIOD = { start_date: '2025-03-03', end_date: '2025-03-07' };
const COSTS = { commission_per_share: 0.005, commission_minimum: 1, fee_bps: 1, slippage_bps: 5 };

describe('backtests: runs on a fresh portfolio of their own, with trading costs', () => {
  it('runs the same period twice, apart from each other and from the paper ledgers', async () => {
    const free = await trigger({ ...PERIOD, models: ['buy-and-hold'], mode: 'backtest', initial_cash: 50_000 });
    const costly = await trigger({
      ...PERIOD,
      models: ['buy-and-hold'],
      mode: 'backtest',
      initial_cash: 50_000,
      costs: COSTS,
    });
    expect(free.status).toBe(202);
    expect(costly.status).toBe(202);
    expect(costly.body.job_id).not.toBe(free.body.job_id);
    expect(free.body).toMatchObject({
      mode: 'backtest',
      backtest: { initial_cash: 50_000, benchmark: 'QQQ' },
      market_data: { source: 'files', synthetic: false },
    });
    expect(costly.body.costs).toEqual({ ...COSTS, commission_per_order: 0, slippage_range_fraction: 0 });
    expect((await h.waitForJob(free.body.job_id)).status).toBe('completed');
    expect((await h.waitForJob(costly.body.job_id)).status).toBe('completed');

    // The paper ledger never saw either run.
    const paper = await h.api('/results?start_date=2025-03-03&end_date=2025-03-07&model=buy-and-hold');
    expect(paper.body.models).toEqual([]);
    expect(paper.body.market_data).toEqual({ source: 'files', synthetic: false });

    const read = async (jobId: string) =>
      (await h.api(`/results?job_id=${jobId}&start_date=2025-03-03&end_date=2025-03-07&detail=full`)).body.models[0];
    const a = await read(free.body.job_id);
    const b = await read(costly.body.job_id);
    expect(a.days).toHaveLength(5);
    expect(b.days).toHaveLength(5);
    expect(a.days.every((d: any) => d.job_id === free.body.job_id)).toBe(true);
    expect(a.days[0].starting_position.portfolio_value).toBe(50_000);
    expect(b.days[0].starting_position.portfolio_value).toBe(50_000);

    // Free fills are at the open and carry no costs.
    const freeAapl = a.days[0].trades.find((t: any) => t.symbol === 'AAPL');
    expect(freeAapl.price).toBe(barFromFile('AAPL', '2025-03-03').open);
    expect(freeAapl.fee).toBeUndefined();

    // Costed fills: 5 bp above the open, commission max($1, $0.005 a share) plus 1 bp of the value.
    for (const t of b.days[0].trades) {
      const open = barFromFile(t.symbol, '2025-03-03').open;
      expect(t.price_before_slippage).toBe(open);
      expect(t.price).toBeCloseTo(Math.round(open * 1.0005 * 10_000) / 10_000, 4);
      const fee = Math.max(1, 0.005 * t.quantity) + Math.round(t.quantity * t.price * 1e4 * 1e-4) / 1e4;
      expect(t.fee).toBeCloseTo(fee, 4);
      expect(t.total).toBeCloseTo(t.price * t.quantity + t.fee, 4);
    }
    // Cash is what the trades moved, costs included.
    const spent = b.days[0].trades.reduce((s: number, t: any) => s + (t.action === 'buy' ? t.total : -t.total), 0);
    expect(b.days[0].cash).toBeCloseTo(50_000 - spent, 4);
    // Costs are paid: the costed run ends below the free one.
    expect(b.days.at(-1).portfolio_value).toBeLessThan(a.days.at(-1).portfolio_value);
  });

  it('runs beside a paper run of the same models without taking its locks', async () => {
    const [paper, backtest] = await Promise.all([
      trigger({ start_date: '2025-03-10', end_date: '2025-03-12', models: ['momentum'] }),
      trigger({ start_date: '2025-03-10', end_date: '2025-03-12', models: ['momentum'], mode: 'backtest' }),
    ]);
    expect(paper.status).toBe(202);
    expect(backtest.status).toBe(202);
    expect(paper.body.mode).toBe('paper');
    expect((await h.waitForJob(paper.body.job_id)).status).toBe('completed');
    expect((await h.waitForJob(backtest.body.job_id)).status).toBe('completed');
    const listed = await h.api('/jobs?limit=10');
    const modes = new Map(listed.body.jobs.map((j: any) => [j.job_id, j.mode]));
    expect(modes.get(paper.body.job_id)).toBe('paper');
    expect(modes.get(backtest.body.job_id)).toBe('backtest');
  });

  it('makes one run of retries sent at once under one Idempotency-Key', async () => {
    const body = { start_date: '2025-03-17', end_date: '2025-03-18', models: ['mean-reversion'], mode: 'backtest' };
    const sent = await Promise.all(
      Array.from({ length: 4 }, () => trigger(body, { 'Idempotency-Key': 'backtest-race-1' })),
    );
    expect(sent.map((r) => r.status).sort()).toEqual([200, 200, 200, 202]);
    expect(new Set(sent.map((r) => r.body.job_id)).size).toBe(1);
    await h.waitForJob(sent[0]!.body.job_id);
  });

  it('compares a run’s models in one table with the benchmark and an equal-weight baseline, ranked with intervals', async () => {
    const run = await trigger({
      start_date: '2025-04-01',
      end_date: '2025-05-30',
      models: ['buy-and-hold', 'momentum', 'mean-reversion'],
      mode: 'backtest',
      costs: { commission_per_order: 1 },
    });
    expect((await h.waitForJob(run.body.job_id)).status).toBe('completed');
    const c = await h.api(`/compare?job_id=${run.body.job_id}`);
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({
      job_id: run.body.job_id,
      mode: 'backtest',
      benchmark: 'QQQ',
      trading_days: tradingDaysBetween('2025-04-01', '2025-05-30').length,
    });
    expect(c.body.table.map((r: any) => r.kind)).toEqual(['model', 'model', 'model', 'benchmark', 'equal_weight']);
    // The table's figures are /results' for the same run and days.
    const results = await h.api(`/results?job_id=${run.body.job_id}&start_date=2025-04-01&end_date=2025-05-30`);
    for (const m of results.body.models) {
      const row = c.body.table.find((r: any) => r.name === m.model);
      expect(row.metrics).toEqual(m.period_metrics);
      // $1 an order: the fees are the number of trades.
      expect(row.metrics.total_fees).toBe(row.metrics.total_trades);
    }
    expect(c.body.ranking.map((r: any) => r.rank)).toEqual([1, 2, 3]);
    const sharpes = c.body.ranking.map((r: any) => r.sharpe_ratio);
    expect([...sharpes].sort((a, b) => b - a)).toEqual(sharpes);
    expect(c.body.ranking[0].versus_best).toBeNull();
    for (const r of c.body.ranking.slice(1)) {
      expect(r.versus_best.low).toBeLessThanOrEqual(r.versus_best.sharpe_difference);
      expect(r.versus_best.high).toBeGreaterThanOrEqual(r.versus_best.sharpe_difference);
    }
    expect(c.body.ranking.every((r: any) => r.versus_benchmark !== null)).toBe(true);

    const narrower = await h.api(`/compare?job_id=${run.body.job_id}&confidence=0.8&resamples=500&benchmark=none`);
    expect(narrower.body.benchmark).toBeNull();
    expect(narrower.body.table.map((r: any) => r.kind)).toEqual(['model', 'model', 'model', 'equal_weight']);
    expect(narrower.body.bootstrap).toMatchObject({ confidence: 0.8, resamples: 500 });

    expect((await h.api('/compare?job_id=sim-nope')).status).toBe(404);
    expect((await h.api(`/compare?job_id=${run.body.job_id}&benchmark=ZZZZ`)).body.error).toBe('unknown_ticker');
    expect((await h.api('/compare?model=no-such-model')).body.error).toBe('unknown_model');
    expect((await h.api('/compare?confidence=0.5')).status).toBe(400);
    comparedRun = run.body.job_id;
  });

  it('draws the run’s tear sheet as a page and a PDF, its charts’ data the ledger’s', async () => {
    const page = await h.api(`/runs/${comparedRun}/tearsheet`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const body = String(page.body);
    expect(body.match(/<svg/g)?.length).toBeGreaterThanOrEqual(3);
    // No script runs: the one script element is data.
    expect(body.match(/<script/g)).toHaveLength(1);
    const data = JSON.parse(body.match(/<script type="application\/json" id="tearsheet-data">(.*)<\/script>/s)![1]!);
    const results = await h.api(`/results?job_id=${comparedRun}&start_date=2025-04-01&end_date=2025-05-30`);
    for (const m of results.body.models) {
      const series = data.series.find((s: any) => s.name === m.model);
      const values = m.daily_portfolio_values;
      const base = m.period_metrics.starting_portfolio_value;
      expect(series.points.map((p: any) => p.date)).toEqual(values.map((v: any) => v.date));
      let peak = 100;
      values.forEach((v: any, i: number) => {
        const index = (v.portfolio_value / base) * 100;
        peak = Math.max(peak, index);
        expect(series.points[i].index).toBeCloseTo(index, 3);
        expect(series.points[i].drawdown_pct).toBeCloseTo((index / peak - 1) * 100, 3);
      });
      // Each month's return compounds the days' values.
      const april = values.filter((v: any) => v.date.startsWith('2025-04'));
      const aprilReturn = (april.at(-1).portfolio_value / base - 1) * 100;
      const monthly = data.monthly.find((s: any) => s.name === m.model).months;
      expect(monthly.find((x: any) => x.month === '2025-04').return_pct).toBeCloseTo(aprilReturn, 3);
    }
    expect(data.series.map((s: any) => s.kind)).toEqual(['model', 'model', 'model', 'benchmark', 'equal_weight']);
    expect(data.recent_trades.every((t: any) => t.fee !== null)).toBe(true);

    const pdf = await fetch(`${h.baseUrl}/runs/${comparedRun}/tearsheet.pdf`, {
      headers: { authorization: `Bearer ${h.adminKey}` },
    });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const dir = mkdtempSync(join(tmpdir(), 'tearsheet-'));
    const file = join(dir, 'tearsheet.pdf');
    writeFileSync(file, Buffer.from(await pdf.arrayBuffer()));
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    for (const heading of [
      'Metrics',
      'Monthly returns',
      'Ranking by Sharpe ratio',
      'Trades and costs',
      'Recent fills',
    ]) {
      expect(text).toContain(heading);
    }
    // The monthly table's figures, as the page's data has them.
    for (const s of data.monthly) {
      const table = text.slice(text.lastIndexOf('Monthly returns'), text.indexOf('Ranking by Sharpe ratio'));
      const line = table.split('\n').find((l) => l.trim().startsWith(`${s.name} `))!;
      expect(line, s.name).toBeDefined();
      for (const m of s.months) expect(line).toContain(m.return_pct.toFixed(2));
    }
    const images = execFileSync('pdfimages', ['-list', file], { encoding: 'utf8' }).trim().split('\n').slice(2);
    // The type column: each chart is an image (with its alpha as an smask).
    expect(
      images.filter((l) => l.trim().split(/\s+/)[2] === 'image'),
      images.join('\n'),
    ).toHaveLength(3);
    rmSync(dir, { recursive: true, force: true });

    expect((await h.api('/runs/sim-nope/tearsheet')).status).toBe(404);
    expect((await h.api('/runs/sim-nope/tearsheet.pdf')).status).toBe(404);
  });

  it('trades hourly bars: a session per bar, filled at the bar’s open and valued at its close', async () => {
    const run = await trigger({
      start_date: '2025-10-30',
      end_date: '2025-10-31',
      models: ['buy-and-hold', 'momentum'],
      mode: 'backtest',
      interval: '1h',
    });
    expect(run.status).toBe(202);
    expect(run.body).toMatchObject({
      interval: '1h',
      total_model_days: 24,
      date_range: ['2025-10-30T10:00', '2025-10-31T15:00'],
    });
    expect((await h.waitForJob(run.body.job_id)).status).toBe('completed');
    const results = await h.api(
      `/results?job_id=${run.body.job_id}&start_date=2025-10-30&end_date=2025-10-31&detail=full`,
    );
    const bh = results.body.models.find((m: any) => m.model === 'buy-and-hold');
    expect(bh.days.map((d: any) => d.date)).toEqual(
      ['2025-10-30', '2025-10-31'].flatMap((d) =>
        ['10:00', '11:00', '12:00', '13:00', '14:00', '15:00'].map((t) => `${d}T${t}`),
      ),
    );
    // The first bar buys at its open and is valued at its close, both read here from the hourly file.
    const first = bh.days[0];
    const aapl = first.trades.find((t: any) => t.symbol === 'AAPL');
    expect(aapl.price).toBe(hourlyBar('AAPL', '2025-10-30 10:00:00').open);
    const { CASH, ...held } = first.positions;
    const value = Object.entries(held).reduce(
      (v, [symbol, shares]) => v + (shares as number) * hourlyBar(symbol, '2025-10-30 10:00:00').close,
      CASH,
    );
    expect(first.portfolio_value).toBeCloseTo(value, 2);
    // Each bar starts where the one before ended.
    for (let i = 1; i < bh.days.length; i++) {
      const { portfolio_value: _, ...start } = bh.days[i].starting_position;
      expect(start).toEqual(bh.days[i - 1].positions);
    }
    // Annualized as six bars a day, 252 days a year.
    const r = bh.daily_portfolio_values.map((d: any) => d.return_pct / 100);
    const mean = r.reduce((a: number, b: number) => a + b, 0) / r.length;
    const sd = Math.sqrt(r.reduce((a: number, b: number) => a + (b - mean) ** 2, 0) / (r.length - 1));
    expect(bh.period_metrics.sharpe_ratio).toBeCloseTo((mean / sd) * Math.sqrt(1512), 3);
    const c = await h.api(`/compare?job_id=${run.body.job_id}`);
    expect(c.status).toBe(200);
    expect(c.body.trading_days).toBe(12);
    expect(c.body.table.map((x: any) => x.kind)).toEqual(['model', 'model', 'equal_weight']);
    expect((await h.api(`/runs/${run.body.job_id}/tearsheet`)).status).toBe(200);

    const paper = await trigger({
      start_date: '2025-10-30',
      end_date: '2025-10-31',
      models: ['momentum'],
      interval: '1h',
    });
    expect(paper.status).toBe(400);
  });

  it('refuses what a backtest cannot be, with the reason', async () => {
    const noStart = await trigger({ end_date: '2025-03-07', models: ['momentum'], mode: 'backtest' });
    expect(noStart.status).toBe(422);
    expect(noStart.body.error).toBe('validation_error');
    const replace = await trigger({ ...PERIOD, models: ['momentum'], mode: 'backtest', replace_existing: true });
    expect(replace.status).toBe(400);
    const paperBenchmark = await trigger({ ...PERIOD, models: ['momentum'], benchmark: 'SPY' });
    expect(paperBenchmark.status).toBe(400);
    const weekend = await trigger({
      start_date: '2025-03-08',
      end_date: '2025-03-09',
      models: ['momentum'],
      mode: 'backtest',
    });
    expect(weekend.status).toBe(422);
    expect(weekend.body.message).toMatch(/no NYSE trading day/);
    for (const costs of [{ fee_bps: -1 }, { slippage_bps: 'x' }, { rebate: 1 }, { slippage_range_fraction: 2 }]) {
      const r = await trigger({ ...PERIOD, models: ['momentum'], mode: 'backtest', costs });
      expect(r.status, JSON.stringify(costs)).toBe(400);
      expect(r.body.message).toMatch(/costs/);
    }
    // Another owner's run is not found: its days are not read through a job id.
    const other = await h.api('/results?job_id=sim-00000000-0000-0000-0000-000000000000&start_date=2025-03-03');
    expect(other.body.models).toEqual([]);
  });
});
