import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const JOB_KIND = defineSearchAttributeKey('JobKind', SearchAttributeType.KEYWORD);
export const USER_ID = defineSearchAttributeKey('UserId', SearchAttributeType.KEYWORD);
export const MODELS = defineSearchAttributeKey('Models', SearchAttributeType.KEYWORD_LIST);
export const SYMBOLS = defineSearchAttributeKey('Symbols', SearchAttributeType.KEYWORD_LIST);

/** Asks a job to stop: work in flight finishes or is cancelled, nothing is left half-written. */
export const stopSignal = defineSignal<[{ reason?: string }?]>('stop');

export interface SimulationProgress {
  jobId: string;
  phase: 'preparing' | 'running' | 'stopping' | 'finishing' | 'done';
  totalDates: number;
  dateIndex: number;
  currentDate: string | null;
  currentModels: string[];
  totalModelDays: number;
  completed: number;
  failed: number;
  skipped: number;
}

export const progressQuery = defineQuery<SimulationProgress>('progress');

export interface SimulationOptions {
  /** Task queue of the workers that run model-days, so their concurrency is set apart from orchestration. */
  modelDayTaskQueue: string;
  /** A model-day that stops heartbeating for this long is retried elsewhere (e.g. its worker died). */
  heartbeatTimeoutMs: number;
  /** Upper bound for one model-day, LLM calls included. */
  modelDayTimeoutMs: number;
  maxAttempts: number;
  /** History length after which the run continues as new, below Temporal's 51,200-event cap. */
  continueAsNewAfterEvents: number;
}

export const DEFAULT_SIMULATION_OPTIONS: Omit<SimulationOptions, 'modelDayTaskQueue'> = {
  heartbeatTimeoutMs: 30_000,
  modelDayTimeoutMs: 15 * 60_000,
  maxAttempts: 5,
  continueAsNewAfterEvents: 8_000,
};

export interface SimulationCursor {
  dateIndex: number;
  /** Models that failed a day: their later days are skipped so their ledgers keep no gaps. */
  failedModels: string[];
  completed: number;
  failed: number;
  skipped: number;
  prepared: boolean;
}

export interface SimulationInput {
  jobId: string;
  owner: string;
  models: string[];
  symbols: string[];
  dates: string[];
  /** Index into `dates` of each model's first day (models catching up start earlier). */
  modelStart: Record<string, number>;
  options: SimulationOptions;
  cursor?: SimulationCursor;
}

export interface ModelDayRef {
  jobId: string;
  owner: string;
  model: string;
  date: string;
  symbols: string[];
}

export interface ModelDaySummary {
  model: string;
  date: string;
  portfolioValue: number;
  profit: number;
  trades: number;
  /** False when the day was already in the ledger (a retry or a rerun): the stored day is returned. */
  written: boolean;
}

export type SimulationOutcome = {
  jobId: string;
  status: 'completed' | 'partial' | 'failed' | 'stopped';
  completed: number;
  failed: number;
  skipped: number;
  stopped: number;
};

/** Error types the model-day activity raises that no retry can fix. */
export const NON_RETRYABLE_ERRORS = ['AgentConfigurationError', 'MissingMarketData', 'UnknownModel'];

export interface AnalysisProgress {
  jobId: string;
  phase: 'preparing' | 'running' | 'stopping' | 'finishing' | 'done';
}

export const analysisProgressQuery = defineQuery<AnalysisProgress>('analysisProgress');

export interface AnalysisOptions {
  /** Task queue of the workers that host sandboxes (they need the Docker API or may spawn processes). */
  sandboxTaskQueue: string;
  /** The job's own limit: the sandbox is killed when it runs longer. */
  timeoutMs: number;
  /** A sandbox whose worker stops heartbeating for this long is run again elsewhere. */
  heartbeatTimeoutMs: number;
  /** Attempts for infrastructure failures (worker lost, engine unreachable); a pipeline failure is final. */
  maxAttempts: number;
}

export interface AnalysisInput {
  jobId: string;
  owner: string;
  options: AnalysisOptions;
}

export interface AnalysisRunOutcome {
  status: 'completed' | 'failed' | 'llm_timeout';
  errorType?: string;
  error?: string;
}

export interface AnalysisOutcome {
  jobId: string;
  status: 'completed' | 'failed' | 'llm_timeout' | 'stopped';
  error?: string;
}

export interface AnalysisBatchInput {
  batchId: string;
  jobs: Array<AnalysisInput & { workflowId: string }>;
}

/** Raised by the sandbox activity for failures no retry can fix. */
export const NON_RETRYABLE_ANALYSIS_ERRORS = ['MissingMarketData', 'AnalysisJobMissing'];
