import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { ModelRegistry } from '../../config/models.js';
import { type JobEventDraft, jobEvents, modelDayEventKey } from '../../jobs/events.js';
import { jobFailure } from '../../jobs/failures.js';
import { isActiveStatus } from '../../jobs/lifecycle.js';
import { type ModelDayCounts, type SimulationJobSeed, simulationJobRecord } from '../../jobs/records.js';
import { modelDaysOf } from '../../jobs/simulationPlan.js';
import { ledgerOwnerOf, type RunSettings } from '../../jobs/simulationRun.js';
import type { BarCache } from '../../storage/barCache.js';
import type { JobEventLog } from '../../storage/jobEvents.js';
import type { JobStore } from '../../storage/jobStore.js';
import { countModelDays } from '../../storage/jobStore.js';
import type { ModelLedgers } from '../../storage/modelLedgers.js';
import type { ModelLocks } from '../../storage/modelLocks.js';
import type { TradingDays } from '../../storage/tradingDays.js';
import { tradingDayId } from '../../storage/tradingDays.js';
import type { PositionRecord, TradingDayDoc } from '../../storage/types.js';
import { untilReachable } from '../../storage/unreachable.js';
import type { AgentFactory } from '../../trading/agents/factory.js';
import { AgentConfigurationError, LlmUnavailableError } from '../../trading/agents/types.js';
import type { BarSeries } from '../../trading/bars.js';
import { dayOf, isBarKey, nextBarKey } from '../../trading/barTime.js';
import { addDays, nextTradingDay } from '../../trading/calendar.js';
import type { TradingCosts } from '../../trading/costs.js';
import type { IntradaySource } from '../../trading/market-data/hourlyFiles.js';
import { YahooError } from '../../trading/market-data/yahoo.js';
import { MarketView } from '../../trading/marketView.js';
import { toUnits } from '../../trading/money.js';
import { decisionTimeOf, type NewsSource, newsVisibleAt } from '../../trading/news.js';
import { Portfolio } from '../../trading/portfolio.js';
import { TradingDesk } from '../../trading/tradingDesk.js';
import type { ModelDayRef, SimulationOutcome } from '../../workflows/definitions.js';
import { checkpoint } from '../checkpoint.js';
import { createJobRecorder } from '../jobRecorder.js';
import { closeOfDay } from './closeOfDay.js';
import { type ModelOutcome, runDateBatch } from './dateBatch.js';

/** Calendar days of history loaded before a job's first date, for signals and the agents' price look-ups. */
export const HISTORY_DAYS = 180;
/** Calendar days of hourly bars an hourly session sees before its own. */
const HOURLY_HISTORY_DAYS = 30;
/** Reasoning longer than this (JSON) is written apart and referenced, not carried in workflow history. */
const INLINE_REASONING_BYTES = 8_192;

/** The last day of a model's ledger and the position it ended with. */
export interface LedgerEnd {
  lastDate: string;
  position: PositionRecord;
}

/** A model-day's outcome as the workflow carries it to the date's commit: small, and JSON (no Dates). */
export interface ComputedModelDay {
  model: string;
  date: string;
  attempt: number;
  /** Epoch milliseconds. */
  startedAt: number;
  fromLlm: boolean;
  phasesMs: Record<string, number>;
  day: Omit<TradingDayDoc, '_id' | 'owner' | 'jobId' | 'createdAt'>;
}

/** One date's part of a commit: its finished days, days found in the ledger, failures and what they skip. */
export interface DateCommit {
  date: string;
  days: ComputedModelDay[];
  /** Models whose day is already in their ledger: recorded as completed, not run again. */
  existing?: string[];
  failures: Array<{ model: string; error: string }>;
  laterDates: string[];
}

/** A model-day's input: where it starts and how it trades. */
export type ModelDayInput = ModelDayRef & {
  /** Where the day starts (the workflow carries each model's ledger end): null for a model's first day. */
  start: PositionRecord | null;
  /** The job's initial cash for a model's first day, when the job names one. */
  initialCash?: number;
  /** The run's trading costs; absent: free fills at the open. */
  costs?: TradingCosts;
  /** `1h`: `date` is an hourly bar key. */
  interval?: '1h';
};

/** A date of a job: its models, each from its ledger's end, with the attempts each may take. */
export type DateInput = Omit<ModelDayInput, 'model' | 'start'> & {
  models: Array<{ model: string; start: PositionRecord | null }>;
  maxAttempts: number;
};

/** What a date's activity returns: the finished days, the models failed for good, the ones a stop cut. */
export interface ComputedDate {
  days: ComputedModelDay[];
  failures: Array<{ model: string; error: string }>;
  cancelled: string[];
}

type Heartbeat = (details?: unknown) => void;

/** Which attempt of a model-day this is, and where its heartbeats go (a date batch keeps its own details). */
interface AttemptOf {
  number: number;
  /** Unique per attempt of the activity and of the model, for the reasoning's key. */
  key: string;
  beat?: Heartbeat;
  /** The date's bars, read once for all its models. */
  market?: () => Promise<BarSeries>;
}

/** Models of one date run at once inside its activity. */
const DATE_CONCURRENCY = 16;

/** A backoff that keeps heartbeating, and ends (rejects) when the activity is cancelled. */
function heartbeatingSleep(ms: number, beat: Heartbeat, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CancelledFailure('cancelled'));
    const tick = setInterval(() => beat(), 1_000);
    const done = setTimeout(finish, ms);
    function finish(err?: unknown) {
      clearInterval(tick);
      clearTimeout(done);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    }
    function onAbort() {
      finish(new CancelledFailure('cancelled'));
    }
    signal.addEventListener('abort', onAbort);
  });
}

export interface SimulationDeps {
  jobs: JobStore;
  locks: ModelLocks;
  tradingDays: TradingDays;
  ledgers: ModelLedgers;
  events: JobEventLog;
  bars: BarCache;
  /** Hourly bars, for hourly runs (`interval: '1h'`); absent: none can be run here. */
  hourly?: IntradaySource;
  /** News the agents may read, point in time; absent: they have no news tool. */
  news?: NewsSource;
  models: ModelRegistry;
  agents: AgentFactory;
  logger: Logger;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createSimulationActivities(deps: SimulationDeps) {
  const { jobs, locks, tradingDays, ledgers, events, bars, models, agents, logger } = deps;
  const recorder = createJobRecorder({ jobs, events, logger });

  async function startSimulationJob(input: {
    jobId: string;
    symbols: string[];
    firstDate: string;
    lastDate: string;
    /** `1h`: the dates are hourly bar keys, priced from the hourly source. */
    interval?: '1h';
    /** The job's creation data: its record is written here if the API could not write it after the start. */
    register?: {
      owner: string;
      models: string[];
      dates: string[];
      modelStart: Record<string, number>;
      seed: SimulationJobSeed;
    } & RunSettings;
    /** Models whose ledgers the workflow carries from here: where each one's ledger ends now. */
    ledgersOf?: { owner: string; models: string[]; firstDate: Record<string, string> };
    /** `replace_existing`: each model's days from its date on are replaced by this job's (kept as history). */
    replace?: { owner: string; from: Record<string, string> };
  }): Promise<{ bars: number; ledgers?: Record<string, LedgerEnd | null> }> {
    if (input.register) {
      const job = simulationJobRecord({ ...input.register, jobId: input.jobId, symbols: input.symbols });
      await jobs.insertIfAbsent(job);
      await events.append(
        input.jobId,
        jobEvents.accepted(1, `simulation of ${job.totalModelDays} model-day(s) accepted`),
      );
    }
    await recorder.move('simulation', input.jobId, 'running', {
      fields: { startedAt: new Date() },
      event: jobEvents.running(1, 1, 'preparing market data'),
    });
    // A job that already ended (closed as abandoned, say) is not run by a workflow that outlived it.
    const current = await jobs.get(input.jobId);
    if (current && !isActiveStatus(current)) {
      throw jobFailure('JobMissing', `job ${input.jobId} already ended: ${current.status}`);
    }
    const count =
      input.interval === '1h'
        ? [...(await hourlyBars(input.symbols, input.firstDate, input.lastDate)).values()].reduce(
            (n, b) => n + b.length,
            0,
          )
        : await bars
            .prepare(input.symbols, addDays(input.firstDate, -HISTORY_DAYS), input.lastDate)
            .catch(finalMarketFailure);
    await events.append(
      input.jobId,
      jobEvents.log(
        { type: 'LOG', message: `market data ready: ${count} bars for ${input.symbols.length} symbols` },
        modelDayEventKey.barsReady,
      ),
    );
    if (input.replace) await replaceDays(input.jobId, input.replace.owner, input.replace.from);
    if (!input.ledgersOf) return { bars: count };
    const { owner, models: carried, firstDate } = input.ledgersOf;
    const ends = await Promise.all(carried.map((m) => ledgerEnd(owner, m, firstDate[m] ?? input.firstDate)));
    return { bars: count, ledgers: Object.fromEntries(carried.map((m, i) => [m, ends[i] ?? null])) };
  }

  /**
   * Takes each model's days from its date on out of its ledger (into the ledger's history) and moves its
   * head back to the day before, so this job's days become the ledger from that date on. Idempotent.
   */
  async function replaceDays(jobId: string, owner: string, from: Record<string, string>): Promise<void> {
    for (const [model, date] of Object.entries(from)) {
      const last = await tradingDays.replaceFrom(owner, model, date, jobId);
      await ledgers.rewindTo(owner, model, last ? { lastDate: last.date, position: last.endingPosition } : null);
      logger.info({ jobId, model, date, ledgerEndsAt: last?.date ?? null }, 'replacing days from this date on');
      await events.append(
        jobId,
        jobEvents.log(
          {
            type: 'LOG',
            model,
            date,
            message: `${model}: days from ${date} on are run again (the earlier ones kept as history)`,
          },
          `replace|${model}`,
        ),
      );
    }
  }

  /**
   * Where a model's ledger ends before the job's days for it: its head (read by key), then any days
   * written past the head (a job whose workflow was terminated writes days but never moves the head),
   * read by key one after the other. A search of the ledger only when the model has no head.
   */
  async function ledgerEnd(owner: string, model: string, firstDate: string): Promise<LedgerEnd | null> {
    const head = await ledgers.head(owner, model);
    let end: LedgerEnd | null = head ? { lastDate: head.lastDate, position: head.position } : null;
    if (!end) {
      const before = await tradingDays.before(owner, model, firstDate);
      end = before ? { lastDate: before.date, position: before.endingPosition } : null;
    }
    // An hourly run's days are bars: the next after a bar is the next session's.
    const after = (d: string) => (isBarKey(d) ? nextBarKey(d) : nextTradingDay(d));
    for (let next = end ? after(end.lastDate) : firstDate; ; next = after(next)) {
      const day = await tradingDays.get(owner, model, next);
      if (!day) return end;
      end = { lastDate: day.date, position: day.endingPosition };
    }
  }

  /** The day's lines in the job's live log: an LLM's own words go out as `NL`, ours as `LOG`. */
  function dayEvents(day: TradingDayDoc, fromLlm: boolean): JobEventDraft[] {
    const key = modelDayEventKey.day(day.model, day.date);
    const nl =
      fromLlm && day.summary
        ? [jobEvents.log({ type: 'NL', model: day.model, date: day.date, message: day.summary }, `${key}|nl`)]
        : [];
    return [
      ...nl,
      jobEvents.log(
        {
          type: 'LOG',
          model: day.model,
          date: day.date,
          message: `${day.model} ${day.date}: ${day.trades.length} trade(s), value ${day.endingPosition.portfolioValue} (${day.dailyPnl.profit >= 0 ? '+' : ''}${day.dailyPnl.profit})`,
          portfolio_value: day.endingPosition.portfolioValue,
          profit: day.dailyPnl.profit,
        },
        key,
      ),
    ];
  }

  /**
   * A model-day's database call, with an outage waited out (heartbeating) rather than spent as one of the
   * day's attempts: only the agent's own failures count against those.
   */
  function reachable<T>(f: () => Promise<T>, beat?: Heartbeat): Promise<T> {
    const ctx = Context.current();
    const heartbeat = beat ?? ((d: unknown) => ctx.heartbeat(d));
    return untilReachable(f, {
      signal: ctx.cancellationSignal,
      onWait: (err, waitedMs) => {
        heartbeat({ waitingFor: 'database', waitedMs });
        if (waitedMs === 0) logger.warn({ err: errorMessage(err) }, 'database unreachable: a model-day waits');
      },
    });
  }

  /** What a model-day's clock says, phase by phase: the agent versus our own bookkeeping. */
  function stopwatch() {
    const phases: Record<string, number> = {};
    let mark = performance.now();
    return {
      phases,
      lap(name: string) {
        const now = performance.now();
        phases[name] = Math.round((now - mark) * 10) / 10;
        mark = now;
      },
    };
  }

  /**
   * One model's trading day, decided and valued, written nowhere: the agent trades from `start` on the
   * market as of the day's open, and the day is valued at its close, which the agent never saw.
   */
  /**
   * A market source's failure no retry can fix (Yahoo does not know a ticker, or its answers changed)
   * ends the job with its reason; a rate limit or an outage is thrown as it is, for Temporal to retry.
   */
  function finalMarketFailure(err: unknown): never {
    if (err instanceof YahooError && !err.retryable) throw jobFailure('MissingMarketData', err.message);
    throw err;
  }

  /** Hourly bars from a month before `first`'s day through `last`'s day (the view cuts them at the bar). */
  async function hourlyBars(symbols: readonly string[], first: string, last: string) {
    if (!deps.hourly) {
      throw jobFailure('MissingMarketData', 'this worker has no hourly market data: set MARKET_HOURLY_FILES');
    }
    return deps.hourly.loadHourly(symbols, addDays(dayOf(first), -HOURLY_HISTORY_DAYS), dayOf(last));
  }

  /** The bars a model-day of `ref`'s date trades on: the same for every model of the date. */
  function marketFor(ref: { symbols: readonly string[]; date: string; interval?: '1h' }, beat?: Heartbeat) {
    return ref.interval === '1h'
      ? hourlyBars(ref.symbols, ref.date, ref.date)
      : reachable(() => bars.load(ref.symbols, addDays(ref.date, -HISTORY_DAYS), ref.date), beat).catch(
          finalMarketFailure,
        );
  }

  async function tradeDay(
    ref: ModelDayRef & { costs?: TradingCosts; interval?: '1h' },
    start: PositionRecord,
    clock: ReturnType<typeof stopwatch>,
    attempt: AttemptOf,
  ) {
    const { jobId, model, date, symbols } = ref;
    const log = logger.child({ jobId, model, date });
    const ctx = Context.current();
    const heartbeat = attempt.beat ?? ((d: unknown) => ctx.heartbeat(d));
    const spec = models.get(model);
    if (!spec) throw jobFailure('UnknownModel', `model '${model}' is not configured`);
    const started = Date.now();
    const series = attempt.market ? await attempt.market() : await marketFor(ref, attempt.beat);
    const view = new MarketView(date, series);
    clock.lap('market');
    if (!symbols.some((s) => view.openToday(s) !== undefined)) {
      throw jobFailure('MissingMarketData', `no market data for ${date} for any of ${symbols.length} symbols`);
    }
    const portfolio = new Portfolio({ cash: toUnits(start.cash), holdings: start.holdings });
    const desk = new TradingDesk(view, portfolio, ref.costs);

    // LLM calls can outlast the heartbeat timeout, so the activity heartbeats on a clock while the agent
    // works; none at the start, since a short model-day would pay a server round trip for nothing.
    const beat = setInterval(() => heartbeat({ model, date }), 1000);
    let run: Awaited<ReturnType<ReturnType<AgentFactory>['run']>>;
    try {
      run = await agents(spec).run({
        date,
        symbols,
        view,
        desk,
        // Only what was published before the decision: the day's open, or the bar's start.
        ...(deps.news ? { news: (symbol: string) => newsVisibleAt(deps.news!, [symbol], decisionTimeOf(date)) } : {}),
        signal: ctx.cancellationSignal,
        heartbeat: (d) => heartbeat(d ?? { model, date }),
      });
    } catch (err) {
      if (ctx.cancellationSignal.aborted) throw new CancelledFailure(`model-day ${model} ${date} cancelled`);
      const message = errorMessage(err);
      log.warn({ err: message, attempt: attempt.number }, 'model-day attempt failed');
      // Shown while the day waits for its next attempt; the attempt's own failure matters more than this write.
      await jobs
        .setModelDay(jobId, model, date, 'running', { error: message, attempts: attempt.number })
        .catch((writeErr) => log.warn({ err: errorMessage(writeErr) }, 'could not record the failed attempt'));
      if (err instanceof AgentConfigurationError) throw jobFailure('AgentConfigurationError', message);
      if (err instanceof LlmUnavailableError) throw jobFailure('LlmUnavailable', message);
      throw err;
    } finally {
      clearInterval(beat);
    }
    clock.lap('agent');

    const { doc, valuedAtPreviousClose } = closeOfDay({
      ref,
      start,
      series,
      portfolio,
      run,
      toolUsage: desk.toolUsage,
      durationMs: Date.now() - started,
      createdAt: new Date(),
    });
    if (valuedAtPreviousClose.length > 0) {
      log.warn({ symbols: valuedAtPreviousClose }, 'no bar today: valued at the previous close');
    }
    clock.lap('valuation');
    return { doc, fromLlm: spec.kind === 'llm', startedAt: started };
  }

  /** A model's first day: the job's initial cash (an AI-Trader config's) if it names one, else the model's. */
  function initialPosition(model: string, jobInitialCash?: number): PositionRecord {
    const spec = models.get(model);
    if (!spec) throw jobFailure('UnknownModel', `model '${model}' is not configured`);
    const cash = jobInitialCash ?? spec.initialCash;
    return { cash, holdings: {}, portfolioValue: cash };
  }

  /**
   * A model-day that writes nothing on the date's critical path: it trades from the position the
   * workflow hands it and returns the day, which Temporal keeps; the date's commit writes it. Only
   * reasoning too large for workflow history is written here, once per attempt, and referenced.
   */
  /** One attempt of one model's day, as the workflow carries it: the day and its phases. */
  async function computeOne(input: ModelDayInput, attempt: AttemptOf): Promise<ComputedModelDay> {
    const clock = stopwatch();
    const start = input.start ?? initialPosition(input.model, input.initialCash);
    clock.lap('position');
    const { doc, fromLlm, startedAt } = await tradeDay(input, start, clock, attempt);
    const { _id, owner: _o, jobId: _j, createdAt: _c, reasoning, ...day } = doc;
    let reasoningRef: string | undefined;
    if (JSON.stringify(reasoning).length > INLINE_REASONING_BYTES) {
      // The job is in the key: a run replacing this day (replace_existing) keeps its own reasoning.
      reasoningRef = `${_id}|${input.jobId}|attempt-${attempt.key}`;
      const ref = reasoningRef;
      await reachable(() => tradingDays.saveReasoning(ref, reasoning), attempt.beat);
      clock.lap('write');
    }
    return {
      model: input.model,
      date: input.date,
      attempt: attempt.number,
      startedAt,
      fromLlm,
      phasesMs: clock.phases,
      day: { ...day, ...(reasoningRef ? { reasoning: [], reasoningRef } : { reasoning }) },
    };
  }

  /**
   * A model-day that writes nothing on the date's critical path: it trades from the position the
   * workflow hands it and returns the day, which Temporal keeps; the date's commit writes it. Only
   * reasoning too large for workflow history is written here, once per attempt, and referenced. (Runs
   * recorded before the date batch; new runs use computeDate.)
   */
  async function computeModelDay(input: ModelDayInput): Promise<ComputedModelDay> {
    const attempt = Context.current().info.attempt;
    return computeOne(input, { number: attempt, key: String(attempt) });
  }

  /**
   * A whole date's model-days in one activity: the models run concurrently, each with its own attempts
   * (an agent's error costs only that model one; a model that fails for good is in the result, not a
   * failed activity). Each model's result goes into the heartbeat details the moment it is done, so an
   * attempt after a crash runs only the models that had not finished, and no finished day's agent is
   * paid twice. A stop ends the running models and returns the finished ones.
   */
  async function computeDate(input: DateInput): Promise<ComputedDate> {
    const ctx = Context.current();
    const resumed = (ctx.info.heartbeatDetails as { done?: Record<string, ModelOutcome<ComputedModelDay>> } | undefined)
      ?.done;
    const done = new Map<string, ModelOutcome<ComputedModelDay>>(Object.entries(resumed ?? {}));
    const beat: Heartbeat = (current) =>
      checkpoint(ctx, { done: Object.fromEntries(done), ...(current === undefined ? {} : { current }) });
    const starts = new Map(input.models.map((m) => [m.model, m.start]));
    const { models: _m, maxAttempts, ...common } = input;
    // Read once for the date: every model trades the same symbols on the same day (ten slices of 101
    // symbols' history were 5 ms of CPU each). A failed read is read again by the next model's attempt.
    let market: Promise<BarSeries> | undefined;
    const shared = () => {
      market ??= marketFor(common, beat);
      return market.catch((err: unknown) => {
        market = undefined;
        throw err;
      });
    };
    const batch = await runDateBatch<ComputedModelDay>({
      models: input.models.map((m) => m.model),
      done: Object.fromEntries(done),
      run: (model, attempt) =>
        computeOne(
          { ...common, model, start: starts.get(model) ?? null },
          // Counted as a model-day's attempts always were: a day cut off by a lost worker ran once more.
          { number: ctx.info.attempt - 1 + attempt, key: `${ctx.info.attempt}.${attempt}`, beat, market: shared },
        ),
      maxAttempts,
      backoffMs: (n) => Math.min(2_000 * 2 ** (n - 1), 120_000),
      isFinal: (err) =>
        err instanceof CancelledFailure || (err instanceof ApplicationFailure && err.nonRetryable === true),
      onDone: (model, outcome) => {
        done.set(model, outcome);
        beat();
      },
      sleep: (ms) => heartbeatingSleep(ms, beat, ctx.cancellationSignal),
      signal: ctx.cancellationSignal,
      concurrency: DATE_CONCURRENCY,
      describe: errorMessage,
    });
    const days: ComputedModelDay[] = [];
    const failures: Array<{ model: string; error: string }> = [];
    for (const { model } of input.models) {
      const o = Object.hasOwn(batch.outcomes, model) ? batch.outcomes[model] : undefined;
      if (o?.ok) days.push(o.value);
      else if (o) failures.push({ model, error: o.error });
    }
    return { days, failures, cancelled: batch.cancelled };
  }

  /**
   * Writes one date of a job, off the critical path of the next: the days its model-days returned
   * (each at most once: a day already in the ledger keeps its stored version), their statuses, the
   * failures of the date with the later days of the failed models skipped, and the live-log lines, each
   * keyed so a retried commit repeats none. (Runs recorded before commit batches; new runs use
   * commitSimulationDates.)
   */
  async function commitSimulationDate(
    input: DateCommit & { jobId: string; owner: string },
  ): Promise<{ written: number }> {
    const { jobId, owner, ...date } = input;
    return commitSimulationDates({ jobId, owner, dates: [date] });
  }

  /**
   * Writes several dates of a job at once, in date order, as commitSimulationDate writes one: the same
   * documents and keys, so a retry repeats nothing, in one round trip per kind of document instead of
   * one per date.
   */
  async function commitSimulationDates(input: {
    jobId: string;
    owner: string;
    dates: DateCommit[];
  }): Promise<{ written: number }> {
    const { jobId, owner } = input;
    const docs: TradingDayDoc[] = input.dates.flatMap(({ date, days }) =>
      days.map((d) => ({
        ...d.day,
        _id: tradingDayId(owner, d.model, date),
        owner,
        jobId,
        model: d.model,
        date,
        createdAt: new Date(),
      })),
    );
    const written = await tradingDays.insertMany(docs);
    const now = new Date();
    const statuses: Array<Parameters<JobStore['recordModelDays']>[1][number]> = [];
    const lines: JobEventDraft[] = [];
    for (const one of input.dates) {
      const { date } = one;
      // A day already in the ledger was run by the job that wrote it, which counts it: here it is skipped.
      const writers = await Promise.all(
        (one.existing ?? []).map(async (model) => (await tradingDays.get(owner, model, date))?.jobId),
      );
      statuses.push(
        ...one.days.map((d) => ({
          model: d.model,
          date,
          status: 'completed' as const,
          patch: {
            phasesMs: d.phasesMs,
            startedAt: new Date(d.startedAt),
            completedAt: now,
            durationMs: d.day.durationMs,
            tokenUsage: d.day.tokenUsage,
            attempts: d.attempt,
            error: '',
          },
        })),
        ...(one.existing ?? []).map((model, i) => ({
          model,
          date,
          status: 'skipped' as const,
          patch: {
            error: `already in the ledger, written by job ${writers[i] ?? 'unknown'}`,
            note: 'already in the ledger: not run again',
          },
        })),
        ...one.failures.map((f) => ({
          model: f.model,
          date,
          status: 'failed' as const,
          patch: { error: f.error, completedAt: now },
        })),
        ...one.failures.flatMap((f) =>
          one.laterDates.map((later) => ({
            model: f.model,
            date: later,
            status: 'skipped' as const,
            patch: { error: `not run: ${f.model} failed on ${date}` },
          })),
        ),
      );
      for (const f of one.failures) logger.error({ jobId, model: f.model, date, err: f.error }, 'model-day failed');
      const dateDocs = docs.filter((d) => d.date === date);
      lines.push(
        ...dateDocs.flatMap((doc) => dayEvents(doc, one.days.find((d) => d.model === doc.model)!.fromLlm)),
        ...one.failures.map((f) =>
          jobEvents.log(
            { type: 'LOG', level: 'error', model: f.model, date, message: `${f.model} ${date} failed: ${f.error}` },
            modelDayEventKey.failed(f.model, date),
          ),
        ),
      );
    }
    await jobs.recordModelDays(jobId, statuses);
    await events.appendMany(jobId, lines);
    return { written };
  }

  async function recordModelDayFailures(input: {
    jobId: string;
    date: string;
    failures: Array<{ model: string; error: string }>;
    laterDates: string[];
  }): Promise<void> {
    for (const f of input.failures) {
      logger.error({ jobId: input.jobId, model: f.model, date: input.date, err: f.error }, 'model-day failed');
      await jobs.setModelDay(input.jobId, f.model, input.date, 'failed', { error: f.error, completedAt: new Date() });
      await events.append(
        input.jobId,
        jobEvents.log(
          {
            type: 'LOG',
            level: 'error',
            model: f.model,
            date: input.date,
            message: `${f.model} ${input.date} failed: ${f.error}`,
          },
          modelDayEventKey.failed(f.model, input.date),
        ),
      );
      await jobs.markModelDaysMany(
        input.jobId,
        input.laterDates.map((date) => ({ model: f.model, date })),
        'skipped',
        `not run: ${f.model} failed on ${input.date}`,
      );
    }
  }

  /**
   * Moves each model's ledger head to its last day completed in this job, once at the end rather than
   * per model-day: the head only serves the next trigger's catch-up, and a lost update (a terminated
   * workflow) costs reruns that find their days already written, never a wrong ledger. Jobs ending at
   * once cannot move a head backwards (`advanceTo` only moves it forward, under a unique key).
   */
  async function advanceLedgerHeads(
    owner: string,
    days: ReadonlyArray<{ model: string; date: string; status: string }>,
  ) {
    const last = new Map<string, string>();
    for (const d of days) if (d.status === 'completed' && d.date > (last.get(d.model) ?? '')) last.set(d.model, d.date);
    for (const [model, date] of last) {
      const head = await ledgers.head(owner, model);
      if (head && head.lastDate >= date) continue;
      const day = await tradingDays.get(owner, model, date);
      if (day) await ledgers.advanceTo(owner, model, date, day.endingPosition);
    }
  }

  async function finishSimulationJob(input: {
    jobId: string;
    owner: string;
    stopped: boolean;
    /** Set when the job could not go on (e.g. its market data could not be prepared). */
    error?: string;
    remaining: Array<{ model: string; date: string }>;
    /** Every planned model-day without a final record is remaining (a job whose workflow vanished). */
    remainingFromPlan?: boolean;
    /**
     * From runs that commit per date, which know their counts and ledgers: then nothing is read back,
     * the days left undone get no record (the job's end says what they are), and the end takes the
     * same few writes for a job of any size.
     */
    tally?: {
      total: number;
      completed: number;
      failed: number;
      skipped: number;
      ledgers: Record<string, LedgerEnd | null>;
    };
  }): Promise<SimulationOutcome> {
    if (input.tally) return finishTallied(input, input.tally);
    const job = await jobs.get(input.jobId);
    let remainingDays = input.remaining;
    if (input.remainingFromPlan && job?.kind === 'simulation') {
      remainingDays = modelDaysOf(job.plan, job.models);
    }
    // Model-days that already ended keep their record (the store skips them).
    if (input.stopped) await jobs.markModelDaysMany(input.jobId, remainingDays, 'stopped', 'job stopped');
    else if (input.error) {
      logger.error({ jobId: input.jobId, err: input.error }, 'simulation job failed');
      await jobs.markModelDaysMany(input.jobId, remainingDays, 'skipped', `not run: ${input.error}`);
    }
    const days = await jobs.modelDays(input.jobId);
    const counts = countModelDays(days);
    // The job's record names its ledger book (a backtest's own): a closer that only knows the owner asks it.
    await advanceLedgerHeads(job?.kind === 'simulation' ? ledgerOwnerOf(job) : input.owner, days);
    return recordEnd(input, counts);
  }

  async function finishTallied(
    input: { jobId: string; owner: string; stopped: boolean; error?: string },
    tally: NonNullable<Parameters<typeof finishSimulationJob>[0]['tally']>,
  ): Promise<SimulationOutcome> {
    if (input.error) logger.error({ jobId: input.jobId, err: input.error }, 'simulation job failed');
    const left = Math.max(0, tally.total - tally.completed - tally.failed - tally.skipped);
    const counts = {
      completed: tally.completed,
      failed: tally.failed,
      skipped: tally.skipped + (input.stopped ? 0 : left),
      stopped: input.stopped ? left : 0,
      running: 0,
    };
    await Promise.all(
      Object.entries(tally.ledgers).map(async ([model, end]) => {
        if (end) await ledgers.advanceTo(input.owner, model, end.lastDate, end.position);
      }),
    );
    return recordEnd(input, counts);
  }

  /** The job's end: its status from how it went, the move, the models' locks freed, the last event. */
  async function recordEnd(
    input: { jobId: string; stopped: boolean; error?: string },
    counts: ModelDayCounts,
  ): Promise<SimulationOutcome> {
    const status: SimulationOutcome['status'] = input.stopped
      ? 'stopped'
      : input.error
        ? 'failed'
        : counts.failed === 0
          ? 'completed'
          : counts.completed === 0
            ? 'failed'
            : 'partial';
    const error = input.error ?? (counts.failed > 0 ? `${counts.failed} model-day(s) failed` : undefined);
    const moved = await recorder.move('simulation', input.jobId, status, {
      fields: { summary: counts, completedAt: new Date(), ...(error ? { error } : {}) },
      event: jobEvents.finished(1, { status, ...counts, message: `simulation ${status}` }, status === 'failed'),
    });
    await locks.release(input.jobId);
    if (!moved) {
      // Ended already (e.g. closed as abandoned): its recorded outcome stands.
      const final = await jobs.get(input.jobId);
      const recorded = final?.kind === 'simulation' ? final.status : status;
      logger.warn({ jobId: input.jobId, outcome: status, recorded }, 'simulation job had already ended');
      if (recorded === 'completed' || recorded === 'partial' || recorded === 'failed' || recorded === 'stopped') {
        return { jobId: input.jobId, status: recorded, ...counts };
      }
    }
    logger.info({ jobId: input.jobId, status, ...counts }, 'simulation job finished');
    return { jobId: input.jobId, status, ...counts };
  }

  return {
    startSimulationJob,
    computeModelDay,
    computeDate,
    commitSimulationDate,
    commitSimulationDates,
    recordModelDayFailures,
    finishSimulationJob,
  };
}

export type SimulationActivities = ReturnType<typeof createSimulationActivities>;
