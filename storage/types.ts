import type { AnalysisManifest, Analyst, LlmUsage, Pipeline } from '../analysis/contract.js';
import type { TokenUsage } from '../trading/agents/types.js';
import type { IsoDate } from '../trading/calendar.js';
import type { Trade } from '../trading/portfolio.js';

export const JOB_STATUSES = [
  'pending',
  'running',
  'completed',
  'partial',
  'failed',
  'llm_timeout',
  'stopping',
  'stopped',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'partial', 'failed', 'llm_timeout', 'stopped'];
/** Statuses `POST /jobs/{id}/retry` accepts. */
export const RETRYABLE_JOB_STATUSES: readonly JobStatus[] = ['failed', 'llm_timeout', 'stopped', 'partial'];

export const MODEL_DAY_STATUSES = ['pending', 'running', 'completed', 'failed', 'skipped', 'stopped'] as const;
export type ModelDayStatus = (typeof MODEL_DAY_STATUSES)[number];

export type JobKind = 'simulation' | 'analysis';

/** Why an analysis job failed, for clients that branch on it (TradingAgents' `error_type`). */
export type AnalysisErrorType =
  | 'timeout'
  | 'oom'
  | 'llm_error'
  | 'llm_timeout'
  | 'data_error'
  | 'sandbox_error'
  | 'pipeline_error';

export interface AnalysisJobInfo {
  ticker: string;
  company: string;
  pipeline: Pipeline;
  asOf: IsoDate;
  query?: string;
  analysts: Analyst[];
  debateRounds: number;
  riskRounds: number;
  /** `deterministic` or a configured LLM model id. */
  llm: string;
  sandbox: 'process' | 'docker';
  /** The run folder, relative to the data directory. */
  runDir: string;
  batchId?: string;
  /** The pipeline's progress: its current stage, from the stage lines it prints. */
  stage?: string;
  attempts?: number;
  /** 1, then one more per `POST /jobs/{id}/retry`: event keys are per run so a retry's events are not skipped. */
  runs: number;
  /** The limit the request asked for, if any. */
  timeoutMs?: number;
  errorType?: AnalysisErrorType;
  exitCode?: number | null;
  manifest?: AnalysisManifest;
  usage?: LlmUsage;
  /** Milliseconds from starting the sandbox to its first output line. */
  firstOutputMs?: number | null;
}

/** What a simulation job will run: models start at different dates when they catch up from different days. */
export interface SimulationPlan {
  dates: IsoDate[];
  /** Index into `dates` of each model's first day. */
  modelStart: Record<string, number>;
}

export interface JobDoc {
  _id: string;
  kind: JobKind;
  owner: string;
  status: JobStatus;
  idempotencyKey: string;
  models: string[];
  symbols: string[];
  dateRange: { start: IsoDate; end: IsoDate };
  plan: SimulationPlan;
  totalModelDays: number;
  request: unknown;
  workflowId: string;
  createdAt: Date;
  updatedAt: Date;
  startedAt?: Date;
  completedAt?: Date;
  error?: string;
  /** Counts written when the job ends; live counts come from model_days. */
  summary?: ModelDayCounts;
  /** Analysis jobs only. */
  analysis?: AnalysisJobInfo;
}

export interface ModelDayCounts {
  completed: number;
  failed: number;
  skipped: number;
  stopped: number;
  running: number;
}

export interface ModelDayDoc {
  _id: string;
  jobId: string;
  model: string;
  date: IsoDate;
  status: ModelDayStatus;
  startedAt?: Date;
  completedAt?: Date;
  durationMs?: number;
  error?: string;
  attempts?: number;
  tokenUsage?: TokenUsage;
  /** Milliseconds per phase of the last attempt: position, market, agent, valuation, write. */
  phasesMs?: Record<string, number>;
}

export interface PositionRecord {
  cash: number;
  holdings: Record<string, number>;
  portfolioValue: number;
}

/** One model's trading day: written once, whole, so a retried activity can never write half a day twice. */
export interface TradingDayDoc {
  _id: string;
  owner: string;
  model: string;
  date: IsoDate;
  jobId: string;
  startingPosition: PositionRecord;
  endingPosition: PositionRecord;
  trades: Array<Omit<Trade, 'price' | 'total'> & { price: number; total: number }>;
  dailyPnl: { profit: number; returnPct: number };
  summary: string;
  reasoning: Array<{ step: number; role: string; content: string; tool?: string; arguments?: unknown }>;
  finished: boolean;
  /** Holdings without a bar on this day (a halt), valued at the previous trading day's close. */
  valuedAtPreviousClose?: string[];
  toolUsage: Record<string, number>;
  tokenUsage: TokenUsage;
  durationMs: number;
  createdAt: Date;
}

export interface ModelLockDoc {
  _id: string;
  owner: string;
  model: string;
  jobId: string;
  idempotencyKey: string;
  acquiredAt: Date;
}

/**
 * One symbol's bars for one calendar year, as one fetch from the source returned them for
 * [January 1, `through`]: a date up to `through` without a bar is known to have none (a holiday), not
 * missing. Every document is written whole from a single fetch and only ever replaced by one reaching
 * further, so concurrent writers can never leave it claiming dates it does not hold.
 */
export interface BarYearDoc {
  /** `${source}|${symbol}|${year}`: every read is by `_id`, the only lookup FerretDB v1 pushes down. */
  _id: string;
  source: string;
  symbol: string;
  year: number;
  /** The last date the source was asked for: December 31, or its latest date while the year is open. */
  through: IsoDate;
  /** The bars, packed by `packBars` (see there why a string). */
  bars: string;
  fetchedAt: Date;
}

export interface ModelLedgerDoc {
  _id: string;
  owner: string;
  model: string;
  lastDate: IsoDate;
  position: PositionRecord;
  updatedAt: Date;
}
