import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { ANALYSTS, type Analyst, type Pipeline } from '../analysis/contract.js';
import type { ModelRegistry } from '../config/models.js';
import type { Settings } from '../config/settings.js';
import type { JobEvents } from '../storage/jobEvents.js';
import type { JobStore } from '../storage/jobStore.js';
import type { JobDoc } from '../storage/types.js';
import { RETRYABLE_JOB_STATUSES } from '../storage/types.js';
import type { MarketDataSource } from '../trading/bars.js';
import { todayInNewYork } from '../trading/calendar.js';
import {
  type AnalysisInput,
  type AnalysisOptions,
  JOB_KIND,
  MODELS,
  SYMBOLS,
  USER_ID,
} from '../workflows/definitions.js';
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
  events: JobEvents;
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

  private options(): AnalysisOptions {
    return {
      sandboxTaskQueue: this.d.settings.taskQueues.analysis,
      timeoutMs: this.d.settings.analysis.timeoutMs,
      heartbeatTimeoutMs: 30_000,
      maxAttempts: 3,
      ...this.d.analysisOptions,
    };
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

  private newJob(owner: string, r: AnalysisRequest, asOf: string, batchId?: string): JobDoc {
    const jobId = randomUUID();
    const now = this.d.now?.() ?? new Date();
    return {
      _id: jobId,
      kind: 'analysis',
      owner,
      status: 'pending',
      idempotencyKey: jobId,
      models: [r.llm],
      symbols: [r.ticker],
      dateRange: { start: asOf, end: asOf },
      plan: { dates: [asOf], modelStart: {} },
      totalModelDays: 0,
      request: r.raw,
      workflowId: `analysis-${jobId}`,
      createdAt: now,
      updatedAt: now,
      analysis: {
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
        runs: 1,
        ...(r.timeoutS ? { timeoutMs: r.timeoutS * 1000 } : {}),
      },
    };
  }

  private workflowOptions(job: JobDoc) {
    return {
      workflowId: job.workflowId,
      taskQueue: this.d.settings.taskQueues.orchestrator,
      typedSearchAttributes: [
        { key: JOB_KIND, value: 'analysis' },
        { key: USER_ID, value: job.owner },
        { key: MODELS, value: job.models },
        { key: SYMBOLS, value: job.symbols },
      ],
    };
  }

  private input(job: JobDoc): AnalysisInput {
    const options = this.options();
    const own = job.analysis?.timeoutMs;
    return {
      jobId: job._id,
      owner: job.owner,
      options: { ...options, timeoutMs: own ? Math.min(own, options.timeoutMs) : options.timeoutMs },
    };
  }

  /** One job per ticker; several tickers run as children of one batch workflow. */
  async start(owner: string, requests: readonly AnalysisRequest[]): Promise<{ jobs: JobDoc[]; batchId?: string }> {
    const defaultDate = await this.validate(requests);
    const batchId = requests.length > 1 ? `batch-${randomUUID()}` : undefined;
    const jobs = requests.map((r) => this.newJob(owner, r, r.date ?? defaultDate, batchId));
    for (const job of jobs) await this.d.jobs.create(job);
    try {
      if (batchId) {
        await this.d.temporal.workflow.start('analysisBatchWorkflow', {
          workflowId: batchId,
          taskQueue: this.d.settings.taskQueues.orchestrator,
          args: [{ batchId, jobs: jobs.map((j) => ({ ...this.input(j), workflowId: j.workflowId })) }],
          typedSearchAttributes: [
            { key: JOB_KIND, value: 'analysis-batch' },
            { key: USER_ID, value: owner },
            { key: SYMBOLS, value: jobs.map((j) => j.symbols[0]!) },
          ],
        });
      } else {
        await this.d.temporal.workflow.start('analysisWorkflow', {
          ...this.workflowOptions(jobs[0]!),
          args: [this.input(jobs[0]!)],
        });
      }
    } catch (err) {
      for (const job of jobs) await this.d.jobs.delete(job._id);
      throw new ApiError('service_unavailable', `cannot start the analysis workflow: ${(err as Error).message}`);
    }
    for (const job of jobs) {
      await this.d.events.append(job._id, 'status', { status: 'pending', message: 'Analysis queued' }, 'queued|1');
    }
    return { jobs, ...(batchId ? { batchId } : {}) };
  }

  /** Runs a failed, timed-out or stopped analysis again under the same job id (and the same live stream). */
  async retry(job: JobDoc): Promise<JobDoc> {
    if (!RETRYABLE_JOB_STATUSES.includes(job.status) || job.status === 'partial') {
      throw new ApiError(
        'not_retryable',
        `job ${job._id} is ${job.status}; only failed, llm_timeout or stopped analysis jobs can be retried`,
        {
          status: job.status,
        },
      );
    }
    // The previous run's workflow records the job's end just before it closes: let it close first.
    await Promise.race([
      this.d.temporal.workflow
        .getHandle(job.workflowId)
        .result()
        .catch(() => undefined),
      new Promise((r) => setTimeout(r, 10_000).unref()),
    ]);
    const runs = (job.analysis?.runs ?? 1) + 1;
    await this.d.jobs.resetForRetry(job._id, runs);
    try {
      await this.d.temporal.workflow.start('analysisWorkflow', {
        ...this.workflowOptions(job),
        args: [this.input(job)],
      });
    } catch (err) {
      throw new ApiError('service_unavailable', `cannot start the analysis workflow: ${(err as Error).message}`);
    }
    await this.d.events.append(
      job._id,
      'status',
      { status: 'pending', message: `retry ${runs - 1} queued` },
      `queued|${runs}`,
    );
    return (await this.d.jobs.get(job._id)) ?? job;
  }
}
