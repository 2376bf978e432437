import type { AnalysisManifest, Analyst, LlmUsage, Pipeline } from '../analysis/contract.js';
import type { AnalysisStatus, JobKind, SimulationStatus } from './lifecycle.js';
import { spanOf, totalModelDays } from './simulationPlan.js';
import type { RunSettings } from './simulationRun.js';

/**
 * A job as stored: one document type per kind, sharing a base. The record is created from its
 * workflow's input (the same pure functions below serve the API, which writes it once the workflow
 * exists, and the workflow's first activity, which writes it if the API could not), so both agree.
 */
interface JobBase<K extends JobKind, S extends string> {
  _id: string;
  kind: K;
  owner: string;
  status: S;
  /** What the job runs on, for listing filters: a simulation's models, an analysis' LLM. */
  models: string[];
  symbols: string[];
  /** The request as the client sent it. */
  request: unknown;
  workflowId: string;
  createdAt: Date;
  updatedAt: Date;
  startedAt?: Date;
  completedAt?: Date;
  error?: string;
  /** Where each end of the job is POSTed, signed (completion webhooks: activities/webhooks/). */
  callbackUrl?: string;
}

/** What a simulation job will run: models start at different dates when they catch up from different days. */
export interface SimulationPlan {
  dates: string[];
  /** Index into `dates` of each model's first day. */
  modelStart: Record<string, number>;
}

export interface ModelDayCounts {
  completed: number;
  failed: number;
  skipped: number;
  stopped: number;
  running: number;
}

export interface SimulationJob extends JobBase<'simulation', SimulationStatus>, RunSettings {
  idempotencyKey: string;
  dateRange: { start: string; end: string };
  plan: SimulationPlan;
  totalModelDays: number;
  /** Counts written when the job ends; live counts come from model_days. */
  summary?: ModelDayCounts;
  /** The market data source it was planned on; absent in jobs from before it was kept. */
  marketSource?: string;
}

/** Why an analysis job failed, for clients that branch on it (TradingAgents' `error_type`). */
export type AnalysisErrorType =
  | 'timeout'
  | 'oom'
  | 'llm_error'
  | 'llm_timeout'
  | 'data_error'
  | 'sandbox_error'
  | 'pipeline_error';

/** What an analysis runs: fixed when the job is created. */
export interface AnalysisSpec {
  ticker: string;
  company: string;
  pipeline: Pipeline;
  asOf: string;
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
  /** The limit the request asked for, if any. */
  timeoutMs?: number;
}

/** How one run of an analysis ended, kept in the job's history when it runs again. */
export interface AnalysisRunRecord {
  run: number;
  status: AnalysisStatus;
  error?: string;
  errorType?: AnalysisErrorType;
  startedAt?: Date;
  completedAt?: Date;
}

export interface AnalysisJobInfo extends AnalysisSpec {
  /** The pipeline's progress: its current stage, from the stage lines it prints. */
  stage?: string;
  attempts?: number;
  /** 1, then one more per retry: event keys are per run so a retry's events are not skipped. */
  runs: number;
  errorType?: AnalysisErrorType;
  exitCode?: number | null;
  manifest?: AnalysisManifest;
  usage?: LlmUsage;
  /** Milliseconds from starting the sandbox to its first output line. */
  firstOutputMs?: number | null;
  /** Earlier runs' outcomes, oldest first. */
  history?: AnalysisRunRecord[];
}

export interface AnalysisJob extends JobBase<'analysis', AnalysisStatus> {
  analysis: AnalysisJobInfo;
}

export type JobDoc = SimulationJob | AnalysisJob;

/** A job's current run: an analysis runs again under its id, a simulation runs once. */
export const runOf = (job: JobDoc) => (job.kind === 'analysis' ? job.analysis.runs : 1);
export type JobOfKind<K extends JobKind> = Extract<JobDoc, { kind: K }>;

/** The creation data a simulation workflow carries, so it can write its own record if the API could not. */
export interface SimulationJobSeed {
  idempotencyKey: string;
  request: unknown;
  /** ISO time the API accepted the job. */
  createdAt: string;
  callbackUrl?: string;
  /** The market data source the job was planned on (`synthetic-42`, `files`, `yahoo`). */
  marketSource?: string;
}

export function simulationJobRecord(
  input: {
    jobId: string;
    owner: string;
    models: string[];
    symbols: string[];
    dates: string[];
    modelStart: Record<string, number>;
    seed: SimulationJobSeed;
  } & RunSettings,
): SimulationJob {
  const plan = { dates: input.dates, modelStart: input.modelStart };
  const span = spanOf(plan, input.models)!;
  const createdAt = new Date(input.seed.createdAt);
  return {
    _id: input.jobId,
    kind: 'simulation',
    owner: input.owner,
    status: 'pending',
    idempotencyKey: input.seed.idempotencyKey,
    models: input.models,
    symbols: input.symbols,
    dateRange: span,
    plan,
    totalModelDays: totalModelDays(plan, input.models),
    request: input.seed.request,
    workflowId: input.jobId,
    createdAt,
    updatedAt: createdAt,
    ...(input.seed.callbackUrl ? { callbackUrl: input.seed.callbackUrl } : {}),
    ...(input.seed.marketSource ? { marketSource: input.seed.marketSource } : {}),
    ...(input.backtest ? { backtest: input.backtest } : {}),
    ...(input.costs ? { costs: input.costs } : {}),
    ...(input.interval ? { interval: input.interval } : {}),
  };
}

export interface AnalysisJobSeed {
  spec: AnalysisSpec;
  request: unknown;
  createdAt: string;
  callbackUrl?: string;
}

export const analysisWorkflowId = (jobId: string) => `analysis-${jobId}`;

export function analysisJobRecord(input: { jobId: string; owner: string; seed: AnalysisJobSeed }): AnalysisJob {
  const { spec } = input.seed;
  const createdAt = new Date(input.seed.createdAt);
  return {
    _id: input.jobId,
    kind: 'analysis',
    owner: input.owner,
    status: 'pending',
    models: [spec.llm],
    symbols: [spec.ticker],
    request: input.seed.request,
    workflowId: analysisWorkflowId(input.jobId),
    createdAt,
    updatedAt: createdAt,
    ...(input.seed.callbackUrl ? { callbackUrl: input.seed.callbackUrl } : {}),
    analysis: { ...spec, runs: 1 },
  };
}

/** What a job runs, without how its runs went: the seed of its next run. */
export function analysisSpecOf(info: AnalysisJobInfo): AnalysisSpec {
  return {
    ticker: info.ticker,
    company: info.company,
    pipeline: info.pipeline,
    asOf: info.asOf,
    ...(info.query !== undefined ? { query: info.query } : {}),
    analysts: info.analysts,
    debateRounds: info.debateRounds,
    riskRounds: info.riskRounds,
    llm: info.llm,
    sandbox: info.sandbox,
    runDir: info.runDir,
    ...(info.batchId !== undefined ? { batchId: info.batchId } : {}),
    ...(info.timeoutMs !== undefined ? { timeoutMs: info.timeoutMs } : {}),
  };
}
