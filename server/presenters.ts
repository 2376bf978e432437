import type { z } from '@hono/zod-openapi';
import { SIMULATION_LIFECYCLE } from '../jobs/lifecycle.js';
import type { SimulationJob } from '../jobs/records.js';
import { countModelDays } from '../storage/jobStore.js';
import type { ModelDayDoc, TradingDayDoc } from '../storage/types.js';
import type { SimulationJobStatus, SimulationJobSummary, TradingDayFull, TradingDayMinimal } from './responses.js';

const iso = (d: Date | undefined) => (d ? d.toISOString() : null);
const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms) / 1000);

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
    date_range: job.dateRange,
    total_model_days: job.totalModelDays,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    updated_at: iso(job.updatedAt),
    completed_at: iso(job.completedAt),
    error: job.error ?? null,
    links: {
      status: `/simulate/status/${job._id}`,
      stop: `/jobs/${job._id}/stop`,
      results: `/results?job_id=${job._id}&start_date=${job.dateRange.start}&end_date=${job.dateRange.end}`,
      ...(links.webUi ? { temporal_ui: links.webUi } : {}),
    },
  };
}

/** What the workflow is running right now, from its progress query. */
export interface LiveProgress {
  currentDate: string | null;
  currentModels: string[];
}

export function simulationStatus(
  job: SimulationJob,
  days: readonly ModelDayDoc[],
  links: Links = {},
  live?: LiveProgress,
): z.infer<typeof SimulationJobStatus> {
  // An ended job's counts are its recorded end: days it never ran have no record of their own.
  const jobEnded = SIMULATION_LIFECYCLE.isTerminal(job.status);
  const counts = job.summary && jobEnded ? { ...job.summary } : countModelDays(days);
  const ended = new Set(days.filter((d) => d.status !== 'running').map((d) => `${d.model}|${d.date}`));
  const liveDate = live?.currentDate;
  const liveRunning = liveDate
    ? live.currentModels.filter((m) => !ended.has(`${m}|${liveDate}`)).map((model) => ({ model, date: liveDate }))
    : [];
  const retrying = days.filter((d) => d.status === 'running');
  const running = jobEnded
    ? []
    : [...retrying, ...liveRunning.filter((r) => !retrying.some((d) => d.model === r.model && d.date === r.date))];
  counts.running = running.length;
  const currentDate =
    running
      .map((d) => d.date)
      .sort()
      .at(-1) ?? null;
  const done = counts.completed + counts.failed + counts.skipped + counts.stopped;
  const end = job.completedAt ?? (job.status === 'pending' ? undefined : new Date());
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
      current: currentDate
        ? { date: currentDate, models: running.filter((d) => d.date === currentDate).map((d) => d.model) }
        : null,
    },
    details: days.map((d) => ({
      date: d.date,
      model: d.model,
      status: d.status,
      started_at: iso(d.startedAt),
      completed_at: iso(d.completedAt),
      duration_seconds: seconds(d.durationMs),
      attempts: d.attempts ?? null,
      error: d.error || null,
      tokens: d.tokenUsage ? d.tokenUsage.totalTokens : null,
    })),
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
