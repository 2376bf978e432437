import { randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Logger } from 'pino';
import { ANALYSTS, type Analyst, type Pipeline } from '../analysis/contract.js';
import type { ModelRegistry } from '../config/models.js';
import type { Settings } from '../config/settings.js';
import { ANALYSIS_LIFECYCLE } from '../jobs/lifecycle.js';
import {
  type AnalysisJob,
  type AnalysisJobSeed,
  analysisJobRecord,
  analysisSpecOf,
  analysisWorkflowId,
} from '../jobs/records.js';
import type { JobStore } from '../storage/jobStore.js';
import type { MarketDataSource } from '../trading/bars.js';
import { todayInNewYork } from '../trading/calendar.js';
import { analysisBatchWorkflow, analysisWorkflow } from '../workflows/analysis.js';
import {
  type AnalysisInput,
  type AnalysisOptions,
  JOB_KIND,
  MODELS,
  SYMBOLS,
  USER_ID,
} from '../workflows/definitions.js';
import { withDeadline } from './deadline.js';
import { ApiError } from './errors.js';

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

export class AnalysisService {
  constructor(private readonly d: AnalysisServiceDeps) {}

  /** The workflow's options; a job's own time limit is capped by the service's. */
  private options(ownTimeoutMs?: number): AnalysisOptions {
    const options = {
      sandboxTaskQueue: this.d.settings.taskQueues.analysis,
      timeoutMs: this.d.settings.analysis.timeoutMs,
      heartbeatTimeoutMs: 30_000,
      maxAttempts: 3,
      ...this.d.analysisOptions,
    };
    return { ...options, timeoutMs: ownTimeoutMs ? Math.min(ownTimeoutMs, options.timeoutMs) : options.timeoutMs };
  }

  /** Checks what a request names against what exists, so a bad one is a 422 now, not a failed job later. */
  private async validate(requests: readonly AnalysisRequest[]): Promise<string> {
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
  ): AnalysisInput & { seed: AnalysisJobSeed } {
    const jobId = randomUUID();
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
  async start(owner: string, requests: readonly AnalysisRequest[]): Promise<{ jobs: AnalysisJob[]; batchId?: string }> {
    const defaultDate = await this.validate(requests);
    const batchId = requests.length > 1 ? `batch-${randomUUID()}` : undefined;
    const inputs = requests.map((r) => this.seedOf(owner, r, r.date ?? defaultDate, batchId));
    const jobs = inputs.map((i) => analysisJobRecord(i));
    try {
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
        });
      } else {
        await this.d.temporal.workflow.start(analysisWorkflow, {
          ...this.workflowOptions(jobs[0]!),
          args: [inputs[0]!],
        });
      }
    } catch (err) {
      throw new ApiError('service_unavailable', `cannot start the analysis workflow: ${(err as Error).message}`);
    }
    for (const job of jobs) await this.d.jobs.insertIfAbsent(job);
    return { jobs, ...(batchId ? { batchId } : {}) };
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
    const run = job.analysis.runs + 1;
    const spec = analysisSpecOf(job.analysis);
    const input: AnalysisInput = {
      jobId: job._id,
      owner: job.owner,
      run,
      options: this.options(spec.timeoutMs),
      seed: { spec, request: job.request, createdAt: job.createdAt.toISOString() },
    };
    try {
      await this.d.temporal.workflow.start(analysisWorkflow, { ...this.workflowOptions(job), args: [input] });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new ApiError('conflict', `job ${job._id} is being retried already`, { status: job.status });
      }
      throw new ApiError('service_unavailable', `cannot start the analysis workflow: ${(err as Error).message}`);
    }
    return { run };
  }
}
