import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, isGrpcDeadlineError, WorkflowIdReusePolicy } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ModelRegistry } from '../../config/models.js';
import type { Settings } from '../../config/settings.js';
import { isTerminalStatus, SIMULATION_LIFECYCLE } from '../../jobs/lifecycle.js';
import { type SimulationJob, type SimulationJobSeed, simulationJobRecord } from '../../jobs/records.js';
import { firstDateOf } from '../../jobs/simulationPlan.js';
import { BACKTEST_BOOK_SEPARATOR, type BacktestSettings } from '../../jobs/simulationRun.js';
import type { JobStore } from '../../storage/jobStore.js';
import type { ModelLocks } from '../../storage/modelLocks.js';
import type { TradingDayReader } from '../../storage/tradingDays.js';
import type { ModelLockDoc } from '../../storage/types.js';
import type { MarketDataSource } from '../../trading/bars.js';
import { nextTradingDay, todayInNewYork } from '../../trading/calendar.js';
import type { IntradaySource } from '../../trading/market-data/hourlyFiles.js';
import {
  DEFAULT_SIMULATION_OPTIONS,
  JOB_KIND,
  MODELS,
  type SimulationInput,
  type SimulationOptions,
  SYMBOLS,
  USER_ID,
} from '../../workflows/definitions.js';
import { simulationWorkflow } from '../../workflows/simulation.js';
import { temporalDeadline } from '../deadline.js';
import { ApiError } from '../http/errors.js';
import type { JobControl } from '../jobControl.js';
import type { ResolvedTrigger, TriggerSimulationBody } from '../schemas.js';
import { planSimulation } from './planner.js';
import { resolveTrigger } from './triggerRequest.js';

export interface SimulationServiceDeps {
  jobs: JobStore;
  locks: ModelLocks;
  /**
   * Where each model's ledger ends: the same reader `/results` asks, so a trigger plans from the day after
   * the last one written, also while a job is writing (its days are summarized as they commit; the
   * ledger head moves only when a job ends).
   */
  ledgerDays: Pick<TradingDayReader, 'lastDate'>;
  models: ModelRegistry;
  market: MarketDataSource;
  /** Hourly bars: hourly backtests are planned on their sessions. */
  hourly?: IntradaySource;
  defaultSymbols: () => Promise<string[]>;
  temporal: Client;
  control: JobControl;
  settings: Pick<Settings, 'maxSimulationDays' | 'taskQueues' | 'configDir'>;
  logger: Logger;
  /** Overrides for workflow timeouts (tests shorten heartbeats to see crash recovery quickly). */
  simulationOptions?: Partial<SimulationOptions>;
  now?: () => Date;
}

export type TriggerResult =
  | { kind: 'started'; job: SimulationJob }
  | { kind: 'existing'; job: SimulationJob }
  | { kind: 'current'; lastSimulationDate: string | null; nextTradingDay: string; models: string[] };

/** How long a trigger waits for a twin request's job record (written just after its workflow starts). */
const TWIN_RECORD_WAIT_MS = 5_000;

/**
 * Starts simulations: checks the request, plans the dates, takes the models' locks and starts the
 * workflow, then writes the job's record (the workflow's first activity writes it too if this process
 * dies in between). Statuses are the workflow's business: nothing here moves one.
 */
export class SimulationService {
  constructor(private readonly d: SimulationServiceDeps) {}

  private idempotencyKey(owner: string, body: ResolvedTrigger, models: string[], symbols: string[], end: string) {
    const canonical = JSON.stringify({
      owner,
      models: [...models].sort(),
      symbols: [...symbols].sort(),
      start: body.start_date ?? null,
      end,
      // Only when a config names it, so keys of requests without one stay what they were.
      ...(body.initial_cash !== undefined ? { initialCash: body.initial_cash } : {}),
      ...(body.replace ? { replace: true } : {}),
      ...(body.costs ? { costs: body.costs } : {}),
      ...(body.hourly ? { interval: '1h' } : {}),
    });
    return `sha256:${createHash('sha256').update(canonical).digest('hex').slice(0, 32)}`;
  }

  async trigger(owner: string, request: TriggerSimulationBody, headerKey?: string): Promise<TriggerResult> {
    const { models: registry, market } = this.d;
    // The request is kept as sent (a retry resolves it again); what is planned comes from its resolved form.
    const body = await resolveTrigger(request, this.d.settings.configDir);
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
    const hourly = body.hourly ? this.d.hourly : undefined;
    if (body.hourly && !hourly) {
      throw new ApiError('validation_error', 'no hourly market data here: the service needs MARKET_HOURLY_FILES', {
        field: 'interval',
      });
    }
    const latest = hourly ? await hourly.latestDate() : await market.latestDate();
    if (body.end_date && body.end_date > latest) {
      throw new ApiError(
        'validation_error',
        `end_date ${body.end_date} is after the last day with market data (${latest})`,
        { latest_market_date: latest },
      );
    }
    const end = body.end_date ?? latest;
    const symbols = [...new Set(body.symbols ?? (await this.d.defaultSymbols()))].sort();
    // A backtest is a new run each time it is asked for, unless an Idempotency-Key says it is a retry.
    const key = headerKey
      ? `header:${headerKey}`
      : body.mode === 'backtest'
        ? `backtest:${randomUUID()}`
        : this.idempotencyKey(owner, body, models, symbols, end);
    const backtest: BacktestSettings | undefined =
      body.mode === 'backtest'
        ? {
            // From the key: a retry of the same backtest finds its book (and its locks) again.
            book: `${owner}${BACKTEST_BOOK_SEPARATOR}${createHash('sha256').update(`${owner}|${key}`).digest('hex').slice(0, 16)}`,
            initialCash: body.initial_cash ?? null,
            benchmark: body.benchmark ?? null,
          }
        : undefined;
    // Whose ledgers the run trades: a backtest's own book, else the owner's.
    const ledgerOwner = backtest?.book ?? owner;

    const previous = (await this.d.jobs.keyHolder(owner, key))?.job;
    if (headerKey && previous) this.sameRequest(previous, request, headerKey);
    if (previous?.kind === 'simulation' && SIMULATION_LIFECYCLE.isReusable(previous.status)) {
      // A job recorded as live whose workflow is gone is closed, not reused.
      if (previous.status === 'completed' || !(await this.unavailable(() => this.d.control.isAbandoned(previous)))) {
        return { kind: 'existing', job: previous };
      }
      await this.d.control.closeAbandoned(previous, 'failed', 'its workflow is no longer running');
    }

    const lastSimulated: Record<string, string | undefined> = {};
    await Promise.all(
      models.map(async (m) => {
        lastSimulated[m] = (await this.d.ledgerDays.lastDate(ledgerOwner, m)) ?? undefined;
      }),
    );
    const plan = planSimulation({
      models,
      start: body.start_date ?? null,
      end,
      // Replacing: the days the models have are run again, so none counts as done. An hourly run plans its
      // days whole: bars a retried run already has are found in its book and skipped by the workflow.
      lastSimulated: body.replace || hourly ? {} : lastSimulated,
      maxTradingDays: this.d.settings.maxSimulationDays,
    });
    if (plan.totalModelDays === 0 && backtest) {
      throw new ApiError('validation_error', `no trading days in ${body.start_date}..${end} to backtest`, {
        field: 'start_date',
      });
    }
    if (plan.totalModelDays === 0) {
      const last = Object.values(lastSimulated).filter(Boolean).sort().at(0) ?? null;
      return { kind: 'current', lastSimulationDate: last, nextTradingDay: nextTradingDay(last ?? end), models };
    }

    if (hourly) {
      // Each day's sessions, the hourly file's bars 10:00..15:00.
      const sessions = await hourly.sessions(plan.dates[0]!, plan.dates.at(-1)!);
      if (sessions.length === 0) {
        throw new ApiError('validation_error', `no hourly bars in ${plan.dates[0]}..${plan.dates.at(-1)}`, {
          field: 'start_date',
        });
      }
      plan.dates = sessions;
      plan.totalModelDays = sessions.length * Object.keys(plan.modelStart).length;
    }

    let jobId = `sim-${randomUUID()}`;
    const planned = Object.keys(plan.modelStart);
    const lock = await this.unavailable(() =>
      this.d.locks.acquire(ledgerOwner, planned, jobId, key, (holder) => this.holderIsOver(holder)),
    ).catch(async (err) => {
      await this.d.locks.release(jobId);
      throw err;
    });
    if (!lock.ok && lock.holderKey === key) {
      // The same request, a moment earlier: that job is this one.
      const twin = await this.waitForRecord(lock.holderJobId);
      if (twin && headerKey) this.sameRequest(twin, request, headerKey);
      if (twin?.kind === 'simulation') return { kind: 'existing', job: twin };
      if (await this.startedButUnrecorded(ledgerOwner, planned, lock.holderJobId)) {
        // Its start hit Temporal's deadline and kept the models: start it again under the same id. Should
        // the earlier start land after all, Temporal takes only one of the two.
        jobId = lock.holderJobId;
      }
    }
    if (!lock.ok && jobId !== lock.holderJobId) {
      const holder = await this.d.jobs.get(lock.holderJobId);
      throw new ApiError('conflict', `another simulation over the same models is running: ${lock.holderJobId}`, {
        current_job_id: lock.holderJobId,
        current_date_range: holder?.kind === 'simulation' ? [holder.dateRange.start, holder.dateRange.end] : null,
        current_models: holder?.models ?? [],
      });
    }

    const seed: SimulationJobSeed = {
      idempotencyKey: key,
      request,
      createdAt: new Date().toISOString(),
      ...(request.callback_url ? { callbackUrl: request.callback_url } : {}),
      marketSource: hourly ? hourly.name : market.name,
    };
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
        jobWritesTaskQueue: this.d.settings.taskQueues.jobWrites,
        ...this.d.simulationOptions,
      },
      seed,
      ...(body.initial_cash !== undefined ? { initialCash: body.initial_cash } : {}),
      ...(body.replace ? { replaceFrom: Object.fromEntries(planned.map((m) => [m, firstDateOf(plan, m)!])) } : {}),
      ...(backtest ? { backtest } : {}),
      ...(body.costs ? { costs: body.costs } : {}),
      ...(hourly ? { interval: '1h' as const } : {}),
    };
    const job = simulationJobRecord({ ...input, seed });
    // The key names the job before its workflow exists: nothing writes it later, and a key pointing at a
    // job that never started is passed over (no record). Unwritten, nothing has started yet.
    await this.d.jobs.rememberKey(owner, key, jobId).catch(async (err) => {
      await this.d.locks.release(jobId).catch(() => undefined);
      throw err;
    });
    try {
      await temporalDeadline(this.d.temporal, () =>
        this.d.temporal.workflow.start(simulationWorkflow, {
          workflowId: jobId,
          taskQueue: this.d.settings.taskQueues.orchestrator,
          args: [input],
          typedSearchAttributes: [
            { key: JOB_KIND, value: 'simulation' },
            { key: USER_ID, value: owner },
            { key: MODELS, value: planned },
            { key: SYMBOLS, value: symbols.slice(0, 100) },
          ],
          staticSummary: `${backtest ? 'backtest' : 'simulation'} of ${planned.join(', ')} over ${job.dateRange.start}..${end}`,
          // A job's workflow runs once: a start again under its id (above) must not run an ended one anew.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        }),
      );
    } catch (err) {
      const message = (err as Error).message;
      // A start that timed out may still have started: then the job is running and keeps its models.
      // Past its deadline Temporal is frozen or overloaded: asking it again would only wait as long again.
      const state = isGrpcDeadlineError(err)
        ? ('unknown' as const)
        : await this.d.control.workflowState(jobId).catch(() => 'unknown' as const);
      if (state !== 'running' && state !== 'closed') {
        this.d.logger.error({ jobId, models: planned, err: message, workflow: state }, 'workflow start failed');
        // A frozen Temporal may still take the start later: then the locks stay with its job, and the same
        // request again finds that job through them. Without a workflow they lapse a minute after this.
        if (state === 'missing') await this.d.locks.release(jobId);
        throw new ApiError('service_unavailable', `Temporal is unavailable; could not start the workflow: ${message}`);
      }
      this.d.logger.warn({ jobId, err: message }, 'workflow start reported an error, but the workflow exists');
    }
    // The record just written is the answer (the workflow has not moved it yet, or has only marked it
    // running, which the next read shows).
    try {
      await this.d.jobs.insertIfAbsent(job);
    } catch (err) {
      // The job runs: its workflow's first activity writes the record too, and the same request again finds
      // it through the models' locks. A 503 here would tell the client that a running job did not start.
      this.d.logger.warn(
        { jobId, models: planned, err: (err as Error).message },
        "the job's record was not written at its trigger: its workflow writes it",
      );
    }
    return { kind: 'started', job };
  }

  /**
   * Whether `holderJobId` holds every planned model with no record and no workflow Temporal knows of: an
   * earlier start of the same request whose answer never came (a frozen Temporal), which left its locks.
   */
  private async startedButUnrecorded(ledgerOwner: string, planned: string[], holderJobId: string): Promise<boolean> {
    if (!holderJobId.startsWith('sim-') || (await this.d.jobs.get(holderJobId))) return false;
    const holders = await this.d.locks.holders(ledgerOwner, planned);
    if (holders.length !== 1 || holders[0] !== holderJobId) return false;
    return (await this.unavailable(() => this.d.control.workflowState(holderJobId))) === 'missing';
  }

  /** An Idempotency-Key names one request: sent again with another body, it is a client's mistake. */
  private sameRequest(job: { _id: string; request: unknown }, body: TriggerSimulationBody, headerKey: string) {
    if (canonicalJson(job.request) !== canonicalJson(body)) {
      throw new ApiError(
        'idempotency_key_reused',
        `Idempotency-Key ${headerKey} was sent before with another request (job ${job._id})`,
        { job_id: job._id },
      );
    }
  }

  /**
   * Whether a lock's holder is done with it: its job ended, or its workflow is gone. A holder with no
   * record yet is a trigger between its lock and its record, unless its workflow never appeared.
   */
  private async holderIsOver(holder: ModelLockDoc): Promise<boolean> {
    const job = await this.d.jobs.get(holder.jobId);
    if (job) {
      if (isTerminalStatus(job)) return true;
      if (!(await this.d.control.isAbandoned(job))) return false;
      await this.d.control.closeAbandoned(job, 'failed', 'its workflow is no longer running');
      return true;
    }
    const state = await this.d.control.workflowState(holder.jobId);
    if (state === 'running') return false;
    if (state === 'closed') return true;
    return (this.d.now?.() ?? new Date()).getTime() - holder.acquiredAt.getTime() > 60_000;
  }

  private async waitForRecord(jobId: string) {
    const deadline = Date.now() + TWIN_RECORD_WAIT_MS;
    for (;;) {
      const job = await this.d.jobs.get(jobId);
      if (job || Date.now() > deadline) return job;
      await sleep(50);
    }
  }

  /** Deciding whether a job is over needs Temporal: without it, the request cannot be answered. */
  private async unavailable<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError('service_unavailable', `cannot check the running jobs: ${(err as Error).message}`);
    }
  }
}

/** JSON with object keys sorted, so two equal requests compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
