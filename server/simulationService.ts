import { createHash, randomUUID } from 'node:crypto';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ModelRegistry } from '../config/models.js';
import type { Settings } from '../config/settings.js';
import type { JobEvents } from '../storage/jobEvents.js';
import type { JobStore } from '../storage/jobStore.js';
import type { ModelLedgers } from '../storage/modelLedgers.js';
import type { ModelLocks } from '../storage/modelLocks.js';
import type { JobDoc } from '../storage/types.js';
import { TERMINAL_JOB_STATUSES } from '../storage/types.js';
import type { MarketDataSource } from '../trading/bars.js';
import { nextTradingDay, todayInNewYork } from '../trading/calendar.js';
import {
  DEFAULT_SIMULATION_OPTIONS,
  JOB_KIND,
  MODELS,
  type SimulationInput,
  type SimulationOptions,
  SYMBOLS,
  stopSignal,
  USER_ID,
} from '../workflows/definitions.js';
import { ApiError } from './errors.js';
import type { TriggerSimulationBody } from './schemas.js';
import { planSimulation } from './simulationPlanner.js';

export interface SimulationServiceDeps {
  jobs: JobStore;
  locks: ModelLocks;
  events: JobEvents;
  ledgers: ModelLedgers;
  models: ModelRegistry;
  market: MarketDataSource;
  defaultSymbols: () => Promise<string[]>;
  temporal: Client;
  settings: Pick<Settings, 'maxSimulationDays' | 'taskQueues'>;
  logger: Logger;
  /** Overrides for workflow timeouts (tests shorten heartbeats to see crash recovery quickly). */
  simulationOptions?: Partial<SimulationOptions>;
  now?: () => Date;
}

export type TriggerResult =
  | { kind: 'started'; job: JobDoc }
  | { kind: 'existing'; job: JobDoc }
  | { kind: 'current'; lastSimulationDate: string | null; nextTradingDay: string; models: string[] };

/** Jobs that are still going or that finished cleanly answer a repeated trigger; others are resumed by it. */
const REUSABLE = new Set(['pending', 'running', 'stopping', 'completed']);

export class SimulationService {
  constructor(private readonly d: SimulationServiceDeps) {}

  private idempotencyKey(owner: string, body: TriggerSimulationBody, models: string[], symbols: string[], end: string) {
    const canonical = JSON.stringify({
      owner,
      models: [...models].sort(),
      symbols: [...symbols].sort(),
      start: body.start_date ?? null,
      end,
    });
    return `sha256:${createHash('sha256').update(canonical).digest('hex').slice(0, 32)}`;
  }

  async trigger(owner: string, body: TriggerSimulationBody, headerKey?: string): Promise<TriggerResult> {
    const { models: registry, market } = this.d;
    const models = [...new Set(body.models ?? registry.ids())];
    const unknown = models.filter((m) => !registry.get(m));
    if (unknown.length) {
      throw new ApiError('unknown_model', `unknown model(s): ${unknown.join(', ')}`, { available: registry.ids() });
    }
    const today = todayInNewYork(this.d.now?.() ?? new Date());
    for (const [name, value] of [
      ['start_date', body.start_date],
      ['end_date', body.end_date],
    ] as const) {
      if (value && value > today)
        throw new ApiError('validation_error', `${name} ${value} is in the future (today is ${today} in New York)`);
    }
    const latest = await market.latestDate();
    if (body.end_date && body.end_date > latest) {
      throw new ApiError(
        'validation_error',
        `end_date ${body.end_date} is after the last day with market data (${latest})`,
        {
          latest_market_date: latest,
        },
      );
    }
    const end = body.end_date ?? latest;
    const symbols = [...new Set(body.symbols ?? (await this.d.defaultSymbols()))].sort();
    const key = headerKey ? `header:${headerKey}` : this.idempotencyKey(owner, body, models, symbols, end);

    const previous = await this.d.jobs.latestWithKey(owner, key);
    if (previous && REUSABLE.has(previous.status)) {
      // A job recorded as live whose workflow is gone (terminated, or never started) is closed, not reused.
      if (previous.status === 'completed' || !(await this.isStale(previous._id)))
        return { kind: 'existing', job: previous };
      await this.abandon(previous, 'its workflow is no longer running');
    }

    const lastSimulated: Record<string, string | undefined> = {};
    await Promise.all(
      models.map(async (m) => {
        lastSimulated[m] = (await this.d.ledgers.head(owner, m))?.lastDate;
      }),
    );
    const plan = planSimulation({
      models,
      start: body.start_date ?? null,
      end,
      lastSimulated,
      maxTradingDays: this.d.settings.maxSimulationDays,
    });
    if (plan.totalModelDays === 0) {
      const last = Object.values(lastSimulated).filter(Boolean).sort().at(0) ?? null;
      return { kind: 'current', lastSimulationDate: last, nextTradingDay: nextTradingDay(last ?? end), models };
    }

    const now = new Date();
    const jobId = `sim-${randomUUID()}`;
    const planned = Object.keys(plan.modelStart);
    const job: JobDoc = {
      _id: jobId,
      kind: 'simulation',
      owner,
      status: 'pending',
      idempotencyKey: key,
      models: planned,
      symbols,
      dateRange: { start: plan.dates[Math.min(...Object.values(plan.modelStart))]!, end },
      plan: { dates: plan.dates, modelStart: plan.modelStart },
      totalModelDays: plan.totalModelDays,
      request: body,
      workflowId: jobId,
      createdAt: now,
      updatedAt: now,
    };
    await this.d.jobs.create(job);
    let lock: Awaited<ReturnType<ModelLocks['acquire']>>;
    try {
      lock = await this.d.locks.acquire(owner, planned, jobId, key, (holder) => this.isStale(holder));
    } catch (err) {
      // Deciding whether a holder is stale needs Temporal: without it, leave nothing of this attempt behind.
      await this.d.locks.release(jobId);
      await this.d.jobs.delete(jobId);
      throw new ApiError('service_unavailable', `cannot check the running jobs: ${(err as Error).message}`);
    }
    if (!lock.ok) {
      await this.d.jobs.delete(jobId);
      const holder = await this.d.jobs.get(lock.holderJobId);
      if (holder && lock.holderKey === key) return { kind: 'existing', job: holder };
      throw new ApiError('conflict', `another simulation over the same models is running: ${lock.holderJobId}`, {
        current_job_id: lock.holderJobId,
        current_date_range: holder?.dateRange ?? null,
        current_models: holder?.models ?? [],
      });
    }

    await this.d.jobs.rememberKey(job);

    const input: SimulationInput = {
      jobId,
      owner,
      models: planned,
      symbols,
      dates: plan.dates,
      modelStart: plan.modelStart,
      options: {
        ...DEFAULT_SIMULATION_OPTIONS,
        modelDayTaskQueue: this.d.settings.taskQueues.simulation,
        ...this.d.simulationOptions,
      },
    };
    try {
      await this.d.temporal.workflow.start('simulationWorkflow', {
        workflowId: jobId,
        taskQueue: this.d.settings.taskQueues.orchestrator,
        args: [input],
        typedSearchAttributes: [
          { key: JOB_KIND, value: 'simulation' },
          { key: USER_ID, value: owner },
          { key: MODELS, value: planned },
          { key: SYMBOLS, value: symbols.slice(0, 100) },
        ],
        staticSummary: `simulation of ${planned.join(', ')} over ${job.dateRange.start}..${end}`,
      });
    } catch (err) {
      const message = `could not start the workflow: ${(err as Error).message}`;
      this.d.logger.error({ jobId, models: planned, err: (err as Error).message }, 'workflow start failed');
      await this.d.jobs.finish(
        jobId,
        'failed',
        { completed: 0, failed: 0, skipped: 0, stopped: 0, running: 0 },
        message,
      );
      await this.d.locks.release(jobId);
      throw new ApiError('service_unavailable', `Temporal is unavailable; ${message}`, { job_id: jobId });
    }
    await this.d.events.append(
      jobId,
      'status',
      { status: 'pending', message: `simulation of ${plan.totalModelDays} model-day(s) accepted` },
      'accepted',
    );
    return { kind: 'started', job };
  }

  /** Ends a job whose workflow is gone, so its models are free and its record tells what happened. */
  private async abandon(job: JobDoc, why: string, status: 'failed' | 'stopped' = 'failed'): Promise<void> {
    this.d.logger.warn({ jobId: job._id, models: job.models }, `closing job: ${why}`);
    await this.d.jobs.finish(job._id, status, { completed: 0, failed: 0, skipped: 0, stopped: 0, running: 0 }, why);
    await this.d.locks.release(job._id);
  }

  /** A lock is stale when its job ended, vanished, or never got a workflow (the server died in between). */
  private async isStale(jobId: string): Promise<boolean> {
    const job = await this.d.jobs.get(jobId);
    if (!job || TERMINAL_JOB_STATUSES.includes(job.status)) return true;
    try {
      const desc = await this.d.temporal.workflow.getHandle(job.workflowId).describe();
      return desc.status.name !== 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return Date.now() - job.createdAt.getTime() > 60_000;
      throw err;
    }
  }

  async stop(jobId: string, reason?: string): Promise<JobDoc> {
    const job = await this.d.jobs.get(jobId);
    if (!job) throw new ApiError('not_found', `no job ${jobId}`);
    if (TERMINAL_JOB_STATUSES.includes(job.status)) {
      throw new ApiError('not_running', `job ${jobId} already ended with status ${job.status}`, { status: job.status });
    }
    if (await this.d.jobs.setStatus(jobId, 'stopping')) {
      await this.d.events.append(
        jobId,
        'status',
        { status: 'stopping', message: reason ?? 'stop requested' },
        'stopping',
      );
    }
    try {
      await this.d.temporal.workflow
        .getHandle(job.workflowId)
        .signal(stopSignal, { reason: reason ?? 'stopped by request' });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // No workflow to stop it (terminated, or it never started): close the job here.
      if (await this.isStale(jobId)) await this.abandon(job, 'stopped; its workflow was no longer running', 'stopped');
    }
    return (await this.d.jobs.get(jobId)) ?? job;
  }
}
