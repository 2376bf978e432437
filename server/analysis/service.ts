import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import type { Logger } from 'pino';
import { ANALYSTS, type Analyst, type Pipeline } from '../../analysis/contract.js';
import type { ModelRegistry } from '../../config/models.js';
import type { Settings } from '../../config/settings.js';
import { ANALYSIS_LIFECYCLE } from '../../jobs/lifecycle.js';
import {
  type AnalysisJob,
  type AnalysisJobSeed,
  analysisJobRecord,
  analysisSpecOf,
  analysisWorkflowId,
  type JobDoc,
} from '../../jobs/records.js';
import type { JobStore } from '../../storage/jobStore.js';
import type { MarketDataSource } from '../../trading/bars.js';
import { todayInNewYork } from '../../trading/calendar.js';
import { analysisBatchWorkflow, analysisWorkflow } from '../../workflows/analysis.js';
import {
  type AnalysisInput,
  type AnalysisOptions,
  JOB_KIND,
  MODELS,
  SYMBOLS,
  USER_ID,
} from '../../workflows/definitions.js';
import { temporalDeadline, withDeadline } from '../deadline.js';
import { ApiError } from '../http/errors.js';

export interface AnalysisRequest {
  ticker: string;
  company?: string;
  pipeline: Pipeline;
  date?: string;
  query?: string;
  llm: string;
  analysts?: Analyst[];
  debateRounds: number;
  riskRounds: number;
  timeoutS?: number;
  /** Checked already (server/callbackUrl.ts). */
  callbackUrl?: string;
  /** The request as the client sent it, kept on the job. */
  raw: unknown;
}

export interface AnalysisServiceDeps {
  jobs: JobStore;
  models: ModelRegistry;
  market: MarketDataSource;
  defaultSymbols: () => Promise<string[]>;
  /** False for sources that can fetch any symbol (yahoo): tickers are then checked when the job runs. */
  closedUniverse: boolean;
  temporal: Client;
  settings: Pick<Settings, 'taskQueues' | 'analysis' | 'sandbox'>;
  logger: Logger;
  analysisOptions?: Partial<AnalysisOptions>;
  now?: () => Date;
}

const safeSegment = (s: string) => s.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 100) || '_';

/** A UUID-shaped id that is the same for the same inputs: a keyed request names its jobs before it starts them. */
function stableId(...parts: string[]): string {
  const h = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** How long a keyed start that finds its workflow already started waits for that job's record. */
const RECORD_WAIT_MS = 5_000;

export interface StartedAnalyses {
  jobs: AnalysisJob[];
  batchId?: string;
  /** The jobs an earlier request with the same Idempotency-Key started (nothing new was started). */
  existing?: boolean;
}

/** JSON with object keys sorted, so two equal requests compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

export class AnalysisService {
  constructor(private readonly d: AnalysisServiceDeps) {}

  /** The workflow's options; a job's own time limit is capped by the service's. */
  options(ownTimeoutMs?: number): AnalysisOptions {
    const options = {
      sandboxTaskQueue: this.d.settings.taskQueues.analysis,
      timeoutMs: this.d.settings.analysis.timeoutMs,
      heartbeatTimeoutMs: 15_000,
      maxAttempts: 3,
      ...this.d.analysisOptions,
    };
    return { ...options, timeoutMs: ownTimeoutMs ? Math.min(ownTimeoutMs, options.timeoutMs) : options.timeoutMs };
  }

  /** Checks what a request names against what exists, so a bad one is a 422 now, not a failed job later. */
  async validate(requests: readonly AnalysisRequest[]): Promise<string> {
    const latest = await this.d.market.latestDate();
    const today = todayInNewYork(this.d.now?.() ?? new Date());
    // ISO dates order as strings.
    const defaultDate = [latest, today].sort()[0]!;
    for (const r of requests) {
      if (r.date && r.date > today) {
        throw new ApiError('validation_error', `date ${r.date} is in the future (today is ${today} in New York)`);
      }
      if (r.llm !== 'deterministic') {
        const model = this.d.models.get(r.llm);
        if (model?.kind !== 'llm') {
          const llms = this.d.models
            .list()
            .filter((m) => m.kind === 'llm')
            .map((m) => m.id);
          throw new ApiError('unknown_model', `llm ${r.llm} is not a configured LLM model`, {
            available: ['deterministic', ...llms],
          });
        }
      }
    }
    if (this.d.closedUniverse) {
      const known = new Set(await this.d.defaultSymbols());
      const unknown = requests.map((r) => r.ticker).filter((t) => !known.has(t));
      if (unknown.length) {
        throw new ApiError('unknown_ticker', `no market data for ${[...new Set(unknown)].join(', ')}`, {
          available: [...known].sort(),
        });
      }
    }
    return defaultDate;
  }

  private seedOf(
    owner: string,
    r: AnalysisRequest,
    asOf: string,
    batchId?: string,
    jobId: string = randomUUID(),
  ): AnalysisInput & { seed: AnalysisJobSeed } {
    return {
      jobId,
      owner,
      run: 1,
      options: this.options(r.timeoutS ? r.timeoutS * 1000 : undefined),
      seed: {
        spec: {
          ticker: r.ticker,
          company: r.company ?? r.ticker,
          pipeline: r.pipeline,
          asOf,
          ...(r.query ? { query: r.query } : {}),
          analysts: r.analysts ?? [...ANALYSTS],
          debateRounds: r.debateRounds,
          riskRounds: r.riskRounds,
          llm: r.llm,
          sandbox: this.d.settings.sandbox.mode,
          runDir: `analysis/${safeSegment(owner)}/${r.ticker}/${asOf}_${jobId}`,
          ...(batchId ? { batchId } : {}),
          ...(r.timeoutS ? { timeoutMs: r.timeoutS * 1000 } : {}),
        },
        request: r.raw,
        createdAt: (this.d.now?.() ?? new Date()).toISOString(),
        ...(r.callbackUrl ? { callbackUrl: r.callbackUrl } : {}),
      },
    };
  }

  private workflowOptions(job: AnalysisJob) {
    return {
      workflowId: job.workflowId,
      taskQueue: this.d.settings.taskQueues.orchestrator,
      typedSearchAttributes: [
        { key: JOB_KIND, value: 'analysis' },
        { key: USER_ID, value: job.owner },
        { key: MODELS, value: job.models },
        { key: SYMBOLS, value: job.symbols },
      ],
      staticSummary: `${job.analysis.pipeline} analysis of ${job.analysis.ticker} as of ${job.analysis.asOf}`,
    };
  }

  /**
   * One job per ticker; several tickers run as children of one batch workflow. The records are written
   * once the workflows exist, so a failed start leaves nothing behind.
   */
  /**
   * With an Idempotency-Key (`key`), the same key and request again answer with the jobs the first
   * started, and the key with another request is refused. A keyed request's job and batch ids derive
   * from the key, and its workflows may not run twice under one id: a retry after a start that answered
   * 503 but went through (a frozen Temporal takes it later) finds that job instead of starting another.
   */
  async start(owner: string, requests: readonly AnalysisRequest[], key?: string): Promise<StartedAnalyses> {
    const defaultDate = await this.validate(requests);
    const raw = requests[0]?.raw;
    const keyId = key ? `run:${key}` : undefined;
    if (keyId) {
      const previous = await this.d.jobs.keyHolder(owner, keyId);
      if (previous?.job) return this.earlier(owner, previous.job, raw, key!);
    }
    const batched = requests.length > 1;
    const batchId = batched ? `batch-${key ? stableId(owner, key, 'batch') : randomUUID()}` : undefined;
    const inputs = requests.map((r, i) =>
      this.seedOf(owner, r, r.date ?? defaultDate, batchId, key ? stableId(owner, key, String(i)) : undefined),
    );
    const jobs = inputs.map((i) => analysisJobRecord(i));
    const once = key ? { workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE } : {};
    try {
      await temporalDeadline(this.d.temporal, async () => {
        if (batchId) {
          await this.d.temporal.workflow.start(analysisBatchWorkflow, {
            workflowId: batchId,
            taskQueue: this.d.settings.taskQueues.orchestrator,
            args: [{ batchId, jobs: inputs.map((i) => ({ ...i, workflowId: analysisWorkflowId(i.jobId) })) }],
            typedSearchAttributes: [
              { key: JOB_KIND, value: 'analysis-batch' },
              { key: USER_ID, value: owner },
              { key: SYMBOLS, value: jobs.map((j) => j.analysis.ticker) },
            ],
            ...once,
          });
        } else {
          await this.d.temporal.workflow.start(analysisWorkflow, {
            ...this.workflowOptions(jobs[0]!),
            args: [inputs[0]!],
            ...once,
          });
        }
      });
    } catch (err) {
      if (key && err instanceof WorkflowExecutionAlreadyStartedError) {
        // This key's workflow exists: a request before this one started it (its own answer may have been a 503).
        const first = await this.recordOf(jobs[0]!._id);
        if (first) return this.earlier(owner, first, raw, key);
        throw new ApiError(
          'service_unavailable',
          `a request with Idempotency-Key ${key} is being started; try again in a moment`,
        );
      }
      this.d.logger.warn({ owner, err: (err as Error).message }, 'analysis workflow start failed');
      throw new ApiError('service_unavailable', `cannot start the analysis workflow: ${(err as Error).message}`);
    }
    for (const job of jobs) await this.d.jobs.insertIfAbsent(job);
    if (keyId) await this.d.jobs.rememberKey(owner, keyId, jobs[0]!._id);
    return { jobs, ...(batchId ? { batchId } : {}) };
  }

  /** The jobs an earlier request with this key started, if this request is that one. */
  private async earlier(owner: string, job: JobDoc, raw: unknown, key: string): Promise<StartedAnalyses> {
    if (job.kind !== 'analysis' || canonicalJson(job.request) !== canonicalJson(raw)) {
      throw new ApiError(
        'idempotency_key_reused',
        `Idempotency-Key ${key} was sent before with another request (job ${job._id})`,
        { job_id: job._id },
      );
    }
    const batchId = job.analysis.batchId;
    if (!batchId) return { jobs: [job], existing: true };
    const { jobs } = await this.d.jobs.list({ owner, kind: 'analysis', batchId }, 200, 0);
    return { jobs: jobs.filter((j): j is AnalysisJob => j.kind === 'analysis'), batchId, existing: true };
  }

  private async recordOf(jobId: string): Promise<JobDoc | null> {
    const deadline = Date.now() + RECORD_WAIT_MS;
    for (;;) {
      const job = await this.d.jobs.get(jobId);
      if (job || Date.now() > deadline) return job;
      await sleep(100);
    }
  }

  /**
   * Runs an ended analysis again under the same job id (and the same live stream): a new run of its
   * workflow, whose first activity moves the job back to pending and keeps the ended run in its history.
   */
  async retry(job: AnalysisJob): Promise<{ run: number }> {
    if (!ANALYSIS_LIFECYCLE.isRetryable(job.status)) {
      throw new ApiError(
        'not_retryable',
        `job ${job._id} is ${job.status}; only ${ANALYSIS_LIFECYCLE.retryable.join(', ')} analysis jobs can be retried`,
        { status: job.status },
      );
    }
    // The previous run's workflow records the job's end just before it closes: let it close first.
    await withDeadline(
      this.d.temporal.workflow
        .getHandle(job.workflowId)
        .result()
        .catch(() => undefined),
      10_000,
      undefined,
    );
    // A retry fired together with this one may have started its run, and that run may even have ended
    // while this one waited on it (the handle follows the latest run): then this retry is too late.
    const now = await this.d.jobs.get(job._id);
    if (now?.kind !== 'analysis' || now.analysis.runs !== job.analysis.runs) {
      throw new ApiError('conflict', `job ${job._id} is being retried already`, { status: now?.status ?? job.status });
    }
    const run = job.analysis.runs + 1;
    const spec = analysisSpecOf(job.analysis);
    const input: AnalysisInput = {
      jobId: job._id,
      owner: job.owner,
      run,
      options: this.options(spec.timeoutMs),
      seed: {
        spec,
        request: job.request,
        createdAt: job.createdAt.toISOString(),
        ...(job.callbackUrl ? { callbackUrl: job.callbackUrl } : {}),
      },
    };
    try {
      await temporalDeadline(this.d.temporal, () =>
        this.d.temporal.workflow.start(analysisWorkflow, { ...this.workflowOptions(job), args: [input] }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new ApiError('conflict', `job ${job._id} is being retried already`, { status: job.status });
      }
      throw new ApiError('service_unavailable', `cannot start the analysis workflow: ${(err as Error).message}`);
    }
    return { run };
  }
}
