import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { JobKind } from '../jobs/lifecycle.js';
import type { AnalysisErrorType, AnalysisJobSeed, SimulationJobSeed } from '../jobs/records.js';
import type { RunSettings } from '../jobs/simulationRun.js';

// Search attributes are declared once, in temporal-config/search-attributes.ts.
export { JOB_KIND, MODELS, SYMBOLS, USER_ID } from '../temporal-config/search-attributes.js';

// Handler names on the wire are plain words (`stop`, `progress`); the constants say what they are.

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

export const simulationProgressQuery = defineQuery<SimulationProgress>('progress');

export interface SimulationOptions {
  /** Task queue of the workers that run model-days, so their concurrency is set apart from orchestration. */
  modelDayTaskQueue: string;
  /**
   * Task queue of a job's own writes (its commits and end), whose workers take only a few at a time:
   * the database has one writer, so jobs beyond what it sustains wait in Temporal, not in the requests'
   * path. Absent in runs started before it: those write from the workflow's own queue.
   */
  jobWritesTaskQueue?: string;
  /** A model-day that stops heartbeating for this long is retried elsewhere (e.g. its worker died). */
  heartbeatTimeoutMs: number;
  /** Upper bound for one model-day, LLM calls included. */
  modelDayTimeoutMs: number;
  maxAttempts: number;
  /** History length after which the run continues as new, below Temporal's 51,200-event cap. */
  continueAsNewAfterEvents: number;
}

export const DEFAULT_SIMULATION_OPTIONS: Omit<SimulationOptions, 'modelDayTaskQueue'> = {
  heartbeatTimeoutMs: 15_000,
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
  /**
   * Where each model's ledger stands (its last day and ending position): each model-day starts from
   * here, and no model-day reads the ledger. Null: no day yet. Absent only before the job is prepared.
   */
  ledgers?: Ledgers;
}

/** Each model's ledger end, as the workflow carries it. */
export type Ledgers = Record<
  string,
  { lastDate: string; position: { cash: number; holdings: Record<string, number>; portfolioValue: number } } | null
>;

export interface SimulationInput extends RunSettings {
  jobId: string;
  owner: string;
  models: string[];
  symbols: string[];
  dates: string[];
  /** Index into `dates` of each model's first day (models catching up start earlier). */
  modelStart: Record<string, number>;
  options: SimulationOptions;
  cursor?: SimulationCursor;
  /** The job's creation data (absent in workflows started before it was passed). */
  seed?: SimulationJobSeed;
  /** Cash a model without a ledger starts with, when the trigger named it (an AI-Trader config's). */
  initialCash?: number;
  /** `replace_existing`: each model's first date here; its days from then on are replaced by this job's. */
  replaceFrom?: Record<string, string>;
}

export interface ModelDayRef {
  jobId: string;
  /** Whose ledger the day is kept in: the job's owner, or a backtest's own book (jobs/simulationRun.ts). */
  owner: string;
  model: string;
  date: string;
  symbols: string[];
}

export type SimulationOutcome = {
  jobId: string;
  status: 'completed' | 'partial' | 'failed' | 'stopped';
  completed: number;
  failed: number;
  skipped: number;
  stopped: number;
};

export interface AnalysisProgress {
  jobId: string;
  phase: 'preparing' | 'running' | 'stopping' | 'finishing' | 'done';
}

export const analysisProgressQuery = defineQuery<AnalysisProgress>('progress');

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
  /** 1, then one more per retry (absent in workflows started before runs were passed). */
  run?: number;
  seed?: AnalysisJobSeed;
}

export interface AnalysisRunOutcome {
  status: 'completed' | 'failed' | 'llm_timeout';
  errorType?: AnalysisErrorType;
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

/** Closes a job whose workflow is gone (terminated, or never started): the only way such a job ends. */
export interface CloseAbandonedJobInput {
  jobId: string;
  kind: JobKind;
  owner: string;
  status: 'failed' | 'stopped';
  reason: string;
}

export const closeJobWorkflowId = (jobId: string) => `close-${jobId}`;

/**
 * How long an activity's worker may fall silent before the activity is run again elsewhere. Every
 * activity scheduled with it heartbeats on a clock (worker/heartbeatClock.ts), so this bounds what a
 * crashed worker costs, not how long the work may take (start-to-close bounds that).
 */
export const WORKER_SILENCE_TIMEOUT = '15s';

/**
 * Retries of the bookkeeping activities (their work is writes to our own database): about a quarter of
 * an hour of attempts, so a database outage is waited out rather than ending the job.
 */
export const BOOKKEEPING_RETRY = { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 30 } as const;
