import type { z } from '@hono/zod-openapi';
import { SIMULATION_LIFECYCLE } from '../../jobs/lifecycle.js';
import type { ModelDayCounts, SimulationJob } from '../../jobs/records.js';
import { modeOf } from '../../jobs/simulationRun.js';
import type { ModelDayDoc, TradingDayDoc } from '../../storage/types.js';
import { dayOf } from '../../trading/barTime.js';
import type { TradingCosts } from '../../trading/costs.js';
import type { SimulationJobStatus, SimulationJobSummary, TradingDayFull, TradingDayMinimal } from '../responses.js';

const iso = (d: Date | undefined) => (d ? d.toISOString() : null);
const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms) / 1000);

/** Which prices a job or an answer was made from, and whether they are the synthetic walk. */
export function marketDataView(source: string) {
  const synthetic = source.startsWith('synthetic');
  return {
    source,
    synthetic,
    ...(synthetic ? { note: 'synthetic prices (a seeded random walk), not the market' } : {}),
  };
}

export function costsView(c: TradingCosts) {
  return {
    commission_per_share: c.commissionPerShare,
    commission_per_order: c.commissionPerOrder,
    commission_minimum: c.commissionMinimum,
    fee_bps: c.feeBps,
    slippage_bps: c.slippageBps,
    slippage_range_fraction: c.slippageRangeFraction,
  };
}

export interface Links {
  webUi?: string;
}

export function simulationSummary(job: SimulationJob, links: Links = {}): z.infer<typeof SimulationJobSummary> {
  return {
    job_id: job._id,
    kind: job.kind,
    owner: job.owner,
    status: job.status,
    models: job.models,
    // AI-Trader's shape: its clients read the range as a list, first and last trading day.
    date_range: [job.dateRange.start, job.dateRange.end],
    total_model_days: job.totalModelDays,
    mode: modeOf(job),
    market_data: job.marketSource ? marketDataView(job.marketSource) : null,
    interval: job.interval ?? '1d',
    ...(job.backtest
      ? { backtest: { initial_cash: job.backtest.initialCash, benchmark: job.backtest.benchmark } }
      : {}),
    costs: job.costs ? costsView(job.costs) : null,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    updated_at: iso(job.updatedAt),
    completed_at: iso(job.completedAt),
    error: job.error ?? null,
    links: {
      status: `/simulate/status/${job._id}`,
      stop: `/jobs/${job._id}/stop`,
      results: `/results?job_id=${job._id}&start_date=${dayOf(job.dateRange.start)}&end_date=${dayOf(job.dateRange.end)}`,
      compare: `/compare?job_id=${job._id}`,
      tearsheet: `/runs/${job._id}/tearsheet`,
      ...(links.webUi ? { temporal_ui: links.webUi } : {}),
    },
  };
}

/** What the workflow is running right now, from its progress query. */
export interface LiveProgress {
  currentDate: string | null;
  currentModels: string[];
}

/** The job's planned model-days in order (date, then model), with the records read for one page of them. */
export interface DetailsPage {
  entries: ReadonlyArray<{ model: string; date: string }>;
  records: ReadonlyMap<string, ModelDayDoc>;
  total: number;
  nextCursor: string | null;
}

/** Live counts from the workflow's progress query (`SimulationProgress`). */
export interface LiveCounts extends LiveProgress {
  completed: number;
  failed: number;
  skipped: number;
  phase: string;
}

export function simulationStatus(
  job: SimulationJob,
  page: DetailsPage,
  links: Links = {},
  live?: LiveCounts,
  /** Counts read from the records when neither the end nor the workflow could say. */
  fallback?: ModelDayCounts,
): z.infer<typeof SimulationJobStatus> {
  // An ended job's counts are its recorded end; a running one's come from its workflow: no record is
  // read for them, and days never run have no record of their own.
  const jobEnded = SIMULATION_LIFECYCLE.isTerminal(job.status);
  const running =
    jobEnded || !live?.currentDate ? [] : live.currentModels.map((model) => ({ model, date: live.currentDate! }));
  const counts: ModelDayCounts =
    job.summary && jobEnded
      ? { ...job.summary, running: 0 }
      : live
        ? { completed: live.completed, failed: live.failed, skipped: live.skipped, stopped: 0, running: running.length }
        : { ...(fallback ?? { completed: 0, failed: 0, skipped: 0, stopped: 0, running: 0 }) };
  const currentDate = running[0]?.date ?? null;
  const done = counts.completed + counts.failed + counts.skipped + counts.stopped;
  const end = job.completedAt ?? (job.status === 'pending' ? undefined : new Date());
  const unrecorded = jobEnded ? (job.status === 'stopped' ? 'stopped' : 'skipped') : 'pending';
  return {
    ...simulationSummary(job, links),
    symbols: job.symbols,
    progress: {
      total_model_days: job.totalModelDays,
      completed: counts.completed,
      failed: counts.failed,
      skipped: counts.skipped,
      stopped: counts.stopped,
      running: counts.running,
      pending: Math.max(0, job.totalModelDays - done - counts.running),
      percent: job.totalModelDays ? Math.round((done / job.totalModelDays) * 1000) / 10 : 100,
      // `model` is AI-Trader v0.3's field (one of the models at work); `models` names them all.
      current: currentDate
        ? { date: currentDate, model: running[0]?.model ?? null, models: running.map((d) => d.model) }
        : null,
    },
    details: page.entries.map(({ model, date }) => {
      const d = page.records.get(`${model}|${date}`);
      const isRunning = running.some((r) => r.model === model && r.date === date);
      const startedAt = iso(d?.startedAt);
      const completedAt = iso(d?.completedAt);
      return {
        date,
        model,
        // The same facts under AI-Trader v0.5's names, which its clients read.
        trading_date: date,
        model_signature: model,
        status: d?.status ?? (isRunning ? 'running' : unrecorded),
        started_at: startedAt,
        completed_at: completedAt,
        start_time: startedAt,
        end_time: completedAt,
        duration_seconds: seconds(d?.durationMs),
        attempts: d?.attempts ?? null,
        error: d?.error || null,
        tokens: d?.tokenUsage ? d.tokenUsage.totalTokens : null,
      };
    }),
    details_total: page.total,
    details_next_cursor: page.nextCursor,
    total_duration_seconds: job.startedAt && end ? seconds(end.getTime() - job.startedAt.getTime()) : null,
  };
}

function positions(p: TradingDayDoc['endingPosition']) {
  return { ...p.holdings, CASH: p.cash };
}

export function tradingDayMinimal(d: TradingDayDoc): z.infer<typeof TradingDayMinimal> {
  return {
    date: d.date,
    model: d.model,
    job_id: d.jobId,
    positions: positions(d.endingPosition),
    trades: d.trades.map((t) => ({
      action: t.action,
      symbol: t.symbol,
      quantity: t.quantity,
      price: t.price,
      total: t.total,
      ...(t.referencePrice !== undefined ? { price_before_slippage: t.referencePrice } : {}),
      ...(t.fee !== undefined ? { fee: t.fee } : {}),
    })),
    daily_pnl: {
      profit: d.dailyPnl.profit,
      return_pct: d.dailyPnl.returnPct,
      portfolio_value: d.endingPosition.portfolioValue,
    },
    cash: d.endingPosition.cash,
    portfolio_value: d.endingPosition.portfolioValue,
    summary: d.summary,
  };
}

export function tradingDayFull(d: TradingDayDoc): z.infer<typeof TradingDayFull> {
  return {
    ...tradingDayMinimal(d),
    starting_position: { ...positions(d.startingPosition), portfolio_value: d.startingPosition.portfolioValue },
    ai_reasoning: {
      total_steps: d.reasoning.length,
      finished: d.finished,
      reasoning_summary: d.summary,
      steps: d.reasoning,
      tool_usage: d.toolUsage,
    },
    token_usage: d.tokenUsage,
    session_duration_seconds: seconds(d.durationMs),
  };
}
