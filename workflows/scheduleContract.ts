// What scheduled workflows take and return: imported by the workflows, their activities and the API alike.
import type { AnalysisSpec } from '../jobs/records.js';
import type { AnalysisOptions } from './definitions.js';

export interface WatchlistEntry {
  ticker: string;
  /** The sector whose report this company's analysis feeds. */
  sector: string;
}

/** The daily pre-market reports: one analysis per watchlist ticker, one report per sector, one digest. */
export interface DailyReportsInput {
  owner: string;
  watchlist: WatchlistEntry[];
  pipeline: AnalysisSpec['pipeline'];
  llm: string;
  analysts?: AnalysisSpec['analysts'];
  debateRounds: number;
  riskRounds: number;
  /** When false the action runs on days the exchange is closed too (the default skips them). */
  skipClosedDays: boolean;
  /** Where each analysis job's end is POSTed (checked when the schedule was made). */
  callbackUrl?: string;
  /** How analyses are run, as the API's settings had it when the schedule was made. */
  analysis: AnalysisOptions & { sandbox: 'process' | 'docker' };
}

/** The simulation catch-up after the close: what `POST /simulate/trigger` with no dates does. */
export interface SimulationCatchUpInput {
  owner: string;
  /** Models to catch up; all configured ones when absent. */
  models?: string[];
  skipClosedDays: boolean;
  /** Sent as the trigger's `callback_url`: the simulation job's end is POSTed there. */
  callbackUrl?: string;
}

export interface ScheduledSkip {
  status: 'skipped';
  date: string;
  reason: string;
}

export interface DailyReportJob {
  jobId: string;
  ticker: string;
  sector: string;
  status: string;
  decision?: string;
  rating?: string;
  targetPrice?: number | null;
  error?: string;
}

export interface DailyReportsDone {
  /** The batch's aggregated status: completed (every job), partial (some), failed (none). */
  status: 'completed' | 'partial' | 'failed';
  date: string;
  asOf: string;
  batchId: string;
  counts: Record<string, number>;
  jobs: DailyReportJob[];
  sectors: Array<{ sector: string; report: string; tickers: string[] }>;
  /** Relative to the data directory. */
  digest: { markdown: string; pdf: string };
}

export type DailyReportsOutcome = ScheduledSkip | DailyReportsDone;

export interface SimulationCatchUpDone {
  status: 'triggered' | 'current' | 'failed';
  date: string;
  httpStatus: number;
  jobId?: string;
  message?: string;
}

export type SimulationCatchUpOutcome = ScheduledSkip | SimulationCatchUpDone;

/** Workflow types a schedule can start (the API's `action.kind`). */
export const SCHEDULED_WORKFLOWS = {
  daily_reports: 'dailyReportsWorkflow',
  simulation_catch_up: 'simulationCatchUpWorkflow',
} as const;
export type ScheduleActionKind = keyof typeof SCHEDULED_WORKFLOWS;

/** Where a batch's digest and sector reports are written, relative to the data directory. */
export const dailyReportsDir = (date: string, batchId: string) => `reports/daily/${date}/${batchId}`;
