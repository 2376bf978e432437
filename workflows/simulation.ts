import {
  ActivityCancellationType,
  type ActivityOptions,
  allHandlersFinished,
  CancellationScope,
  CancelledFailure,
  condition,
  continueAsNew,
  deprecatePatch,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { JobActivities } from '../activities/jobs.js';
import type { ComputedModelDay, DateCommit, SimulationActivities } from '../activities/simulation/activities.js';
import { NON_RETRYABLE_FAILURES } from '../jobs/failures.js';
import { firstDateOf, modelsOn, totalModelDays as totalModelDaysOf } from '../jobs/simulationPlan.js';
import { ledgerOwnerOf, type RunSettings } from '../jobs/simulationRun.js';
import type {
  Ledgers,
  SimulationCursor,
  SimulationInput,
  SimulationOutcome,
  SimulationProgress,
} from './definitions.js';
import { BOOKKEEPING_RETRY, simulationProgressQuery, stopSignal, WORKER_SILENCE_TIMEOUT } from './definitions.js';
import { failureMessage } from './failures.js';
import { startJobEndWebhook } from './jobWebhook.js';
import { WEBHOOK_PATCH } from './webhookContract.js';

/**
 * A multi-model trading simulation: dates run in sequence, the models of each date in parallel inside
 * one activity per date (`computeDate`; runs recorded before its patch used one per model-day, whose
 * scheduling and completion through the dev server's one shard cost more than a 200 ms agent call's
 * margin). A model-day only computes (from the position this workflow hands it) and
 * returns its day, which Temporal keeps; one activity per date writes that date's days, statuses and
 * live-log lines, chained behind the dates being computed, so the database is off the critical path. A
 * model-day's result is committed exactly once (its day's key is unique), also when a stop lands
 * mid-date: what finished is committed before the job ends.
 */
export async function simulationWorkflow(input: SimulationInput): Promise<SimulationOutcome> {
  // Deprecated patch (workflows/PATCHES.md): runs recorded while the loop before per-date commits still
  // existed carry this marker; the loop itself is gone.
  deprecatePatch('commit-per-date');
  return committedSimulation(input);
}

/** Runs from this patch on compute a date's model-days in one activity (`computeDate`). */
const DATE_BATCH_PATCH = 'date-batch';

/** Runs from this patch write the dates finished while a commit is on its way in one commit. */
const COMMIT_BATCH_PATCH = 'commit-batch';
/** Runs from this patch end at a stop that comes while a run hands over to the next. */
const STOP_AT_HAND_OVER_PATCH = 'stop-at-hand-over';

/** Dates one commit writes at most. */
const MAX_DATES_PER_COMMIT = 8;
/** Dates the computing may be ahead of what is written (batched commits). */
const MAX_UNCOMMITTED_DATES = 12;

/**
 * Runs from this patch commit fast dates in fours and run a date's activity on the workflow's own task
 * queue, where the server hands it to this worker with the workflow task's completion (eager dispatch):
 * a commit's own workflow task and a dispatch hop came to about a tenth of a 200 ms date.
 */
const PACED_COMMIT_PATCH = 'paced-commits';
/** Fast dates are written this many at a time. */
const DATES_PER_FAST_COMMIT = 4;
/** A date that took this long (workflow time) is written at once: the next one will not come soon. */
const SLOW_DATE_MS = 1_000;

/** How many dates' commits may be in flight behind the date being computed (runs before commit batches). */
const COMMIT_LAG_DATES = 3;

async function committedSimulation(input: SimulationInput): Promise<SimulationOutcome> {
  const { jobId, owner, dates, models, symbols, modelStart, options } = input;
  // A backtest keeps its days in a book of its own; a paper run in the owner's ledgers.
  const book = ledgerOwnerOf(input);
  const run: RunSettings = {
    ...(input.backtest ? { backtest: input.backtest } : {}),
    ...(input.costs ? { costs: input.costs } : {}),
    ...(input.interval ? { interval: input.interval } : {}),
  };
  const setup = setUp(input);
  const { cursor, failedModels, totalModelDays, bookkeeping, jobWrites, writesQueue, progress, work, stop } = setup;
  const { computeModelDay } = setup.modelDays;
  const { computeDate } = setup.dateBatches;
  const { computeDate: computeDateHere } = setup.dateBatchesHere;
  // A commit is retried for minutes: its work is done and only needs the database back. It goes to the
  // queue of the job's writes, when the run names one.
  const { commitSimulationDate, commitSimulationDates } = proxyActivities<SimulationActivities>({
    ...writesQueue,
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: WORKER_SILENCE_TIMEOUT,
    retry: BOOKKEEPING_RETRY,
  });

  // Patched (workflows/PATCHES.md): runs recorded before it sent one commit per date.
  const batchCommits = patched(COMMIT_BATCH_PATCH);
  // Patched (workflows/PATCHES.md): runs recorded before it sent what waited as soon as a commit ended.
  const paced = batchCommits && patched(PACED_COMMIT_PATCH);
  // Commits run one after another, behind the computing; a commit that fails for good ends the job. A
  // date finished while a commit is on its way waits for it and goes with the dates after it, in one
  // commit: slow dates are each written at once, fast ones in batches the database keeps up with.
  let committing: Promise<void> = Promise.resolve();
  let commitsInFlight = 0;
  /** Dates sent in commits not yet done, and waiting to be sent. */
  let uncommittedDates = 0;
  let commitError: unknown;
  const pending: DateCommit[] = [];
  const send = (dates: DateCommit[]) => {
    commitsInFlight += 1;
    committing = committing
      .then(() =>
        CancellationScope.nonCancellable(() =>
          batchCommits
            ? commitSimulationDates({ jobId, owner: book, dates })
            : commitSimulationDate({ jobId, owner: book, ...dates[0]! }),
        ),
      )
      .then(
        () => undefined,
        (err) => {
          commitError ??= err;
        },
      )
      .finally(() => {
        commitsInFlight -= 1;
        uncommittedDates -= dates.length;
        if (!paced || slowDateWaiting || pending.length >= DATES_PER_FAST_COMMIT) flush();
      });
  };
  /** A slow date waits in `pending`: it goes with the next commit, whatever their number. */
  let slowDateWaiting = false;
  const flush = () => {
    slowDateWaiting = false;
    if (pending.length > 0) send(pending.splice(0));
  };
  const commit = (date: DateCommit, tookMs: number) => {
    uncommittedDates += 1;
    if (!batchCommits) return send([date]);
    pending.push(date);
    if (paced) {
      // Slow dates are each written at once (the live log keeps up); fast ones in fours, one commit at a time.
      if (tookMs >= SLOW_DATE_MS) slowDateWaiting = true;
      if (commitsInFlight === 0 && (slowDateWaiting || pending.length >= DATES_PER_FAST_COMMIT)) flush();
      return;
    }
    if (commitsInFlight === 0 || pending.length >= MAX_DATES_PER_COMMIT) flush();
  };
  /** Every date finished so far, written: what waits is sent first. */
  const allCommitted = async () => {
    flush();
    await committing;
    // A batch sent as the last one ended.
    while (pending.length > 0 || commitsInFlight > 0) {
      flush();
      await committing;
    }
  };
  const commitsDone = async () => {
    await allCommitted();
    if (commitError !== undefined) throw commitError;
  };

  let ledgers: Ledgers = cursor.ledgers ?? {};
  let cancelled: unknown;
  let fatal: string | undefined;
  let continueRun = false;
  try {
    await work.run(async () => {
      // A run continued from the retired loop carries no ledger ends: trading on would start every model
      // from its initial cash. It ends with the reason; a new trigger goes on from the ledgers.
      if (cursor.prepared && cursor.ledgers === undefined) {
        throw new Error(
          'this run was continued by a tradeflow version before per-date commits, which this version no longer runs: trigger the simulation again, and it goes on from where each model ledger ends',
        );
      }
      if (!cursor.prepared) {
        const firstDate = Object.fromEntries(models.map((m) => [m, firstDateOf(input, m)!]));
        // On the orchestrator's queue: it may fetch market data, which must not hold the writes' few slots.
        const started = await bookkeeping.startSimulationJob({
          jobId,
          symbols,
          firstDate: dates[0]!,
          lastDate: dates.at(-1)!,
          ...(input.interval ? { interval: input.interval } : {}),
          ...(input.seed ? { register: { owner, models, dates, modelStart, seed: input.seed, ...run } } : {}),
          ledgersOf: { owner: book, models, firstDate },
          ...(input.replaceFrom ? { replace: { owner: book, from: input.replaceFrom } } : {}),
        });
        ledgers = started.ledgers ?? {};
        cursor.prepared = true;
        progress.phase = 'running';
      }
      for (; cursor.dateIndex < dates.length; cursor.dateIndex++) {
        const i = cursor.dateIndex;
        const date = dates[i]!;
        const due = modelsOn(input, models, i).filter((m) => !failedModels.has(m));
        // Days already in a ledger (written by a job whose workflow was terminated) are not run again.
        const existing = due.filter((m) => (ledgers[m]?.lastDate ?? '') >= date);
        const todays = due.filter((m) => !existing.includes(m));
        progress.dateIndex = i;
        progress.currentDate = date;
        progress.currentModels = todays;
        if (commitError !== undefined) throw commitError;
        // The computing may run ahead of the writing by a few dates, not more.
        if (batchCommits ? uncommittedDates >= MAX_UNCOMMITTED_DATES : commitsInFlight >= COMMIT_LAG_DATES) {
          await commitsDone();
        }
        const common = {
          jobId,
          owner: book,
          date,
          symbols,
          ...(input.initialCash !== undefined ? { initialCash: input.initialCash } : {}),
          ...(input.costs ? { costs: input.costs } : {}),
          ...(input.interval ? { interval: input.interval } : {}),
        };
        const days: ComputedModelDay[] = [];
        const failures: Array<{ model: string; error: string }> = [];
        let stopped: unknown;
        const began = Date.now();
        // Patched (workflows/PATCHES.md): runs recorded before it scheduled one activity per model-day.
        if (todays.length > 0 && patched(DATE_BATCH_PATCH)) {
          const computed = await (paced ? computeDateHere : computeDate)({
            ...common,
            models: todays.map((model) => ({ model, start: ledgers[model]?.position ?? null })),
            maxAttempts: options.maxAttempts,
          });
          days.push(...computed.days);
          failures.push(...computed.failures);
          // A stop ended the models still running: the finished ones are kept and committed.
          if (computed.cancelled.length > 0) stopped = new CancelledFailure('stopped');
        } else {
          const outcomes = await Promise.allSettled(
            todays.map((model) => computeModelDay({ ...common, model, start: ledgers[model]?.position ?? null })),
          );
          outcomes.forEach((o, k) => {
            const model = todays[k]!;
            if (o.status === 'fulfilled') days.push(o.value);
            else if (isCancellation(o.reason)) stopped ??= o.reason;
            else failures.push({ model, error: failureMessage(o.reason) });
          });
        }
        for (const d of days) ledgers[d.model] = { lastDate: date, position: d.day.endingPosition };
        const later = dates.slice(i + 1);
        // What finished is committed, also when a stop cancelled the rest of the date.
        commit({ date, days, existing, failures: stopped ? [] : failures, laterDates: later }, Date.now() - began);
        // Days found in the ledger count as the job's that wrote them, not this one's: skipped here.
        cursor.completed += days.length;
        cursor.skipped += existing.length;
        if (!stopped) {
          for (const f of failures) failedModels.add(f.model);
          cursor.failed += failures.length;
          cursor.skipped += failures.length * later.length;
        }
        progress.completed = cursor.completed;
        progress.failed = cursor.failed;
        progress.skipped = cursor.skipped;
        // The date's cancelled model-days stay in what remains, and are marked stopped at the end.
        if (stopped) throw stopped;
        if (work.consideredCancelled) {
          cursor.dateIndex++;
          throw new CancelledFailure('stopped');
        }
        const info = workflowInfo();
        if (
          cursor.dateIndex + 1 < dates.length &&
          (info.continueAsNewSuggested || info.historyLength > options.continueAsNewAfterEvents)
        ) {
          cursor.dateIndex++;
          continueRun = true;
          return;
        }
      }
    });
  } catch (err) {
    if (isCancellation(err)) cancelled = err;
    else fatal = failureMessage(err);
  }

  if (continueRun && !stop.requested && !work.consideredCancelled) {
    // The next run starts from what is written: this run's commits land first.
    await allCommitted();
    // Patched (workflows/PATCHES.md): a stop that came while the commits drained was carried by nobody
    // into the next run, which then ran to its end. Now it ends this run, as a stop between dates does.
    const stopAtHandOver = patched(STOP_AT_HAND_OVER_PATCH);
    if (commitError === undefined && !(stopAtHandOver && stop.requested)) {
      await condition(allHandlersFinished);
      if (!(stopAtHandOver && stop.requested)) {
        // Throws ContinueAsNew, which ends this run: nothing after it runs.
        await continueAsNew<typeof simulationWorkflow>({
          ...input,
          cursor: { ...cursor, failedModels: [...failedModels], ledgers },
        });
      }
    }
    if (stopAtHandOver && stop.requested) cancelled ??= new CancelledFailure('stopped');
  }

  progress.phase = 'finishing';
  progress.currentModels = [];
  const outcome = await CancellationScope.nonCancellable(async () => {
    // Every finished model-day is written before the end is recorded, and `stopping` before the end.
    await allCommitted();
    if (commitError !== undefined && !fatal) fatal = `could not write the job's days: ${failureMessage(commitError)}`;
    await stop.recorded;
    return jobWrites.finishSimulationJob({
      jobId,
      owner: book,
      stopped: cancelled !== undefined,
      ...(fatal ? { error: fatal } : {}),
      remaining: [],
      tally: {
        total: totalModelDays,
        completed: cursor.completed,
        failed: cursor.failed,
        skipped: cursor.skipped,
        ledgers,
      },
    });
  });
  // Patched: histories from before completion webhooks start no delivery.
  if (input.seed?.callbackUrl && patched(WEBHOOK_PATCH)) {
    await CancellationScope.nonCancellable(() => startJobEndWebhook(jobId));
  }
  progress.phase = 'done';
  if (cancelled !== undefined && !stop.requested) throw cancelled;
  return outcome;
}

/**
 * What a run starts from: the cursor, the activities (bookkeeping retried for about a quarter hour,
 * model-days per the job's options), the `progress` query, the work scope and the `stop` signal. A stop
 * cancels the work; `stopping` is recorded unless the end already is being recorded (then it would land
 * after it).
 */
function setUp(input: SimulationInput) {
  const { jobId, dates, models, options } = input;
  const cursor: SimulationCursor = input.cursor ?? {
    dateIndex: 0,
    failedModels: [],
    completed: 0,
    failed: 0,
    skipped: 0,
    prepared: false,
  };
  const failedModels = new Set(cursor.failedModels);
  const totalModelDays = totalModelDaysOf(input, models);
  const bookkeeping = proxyActivities<SimulationActivities & JobActivities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: WORKER_SILENCE_TIMEOUT,
    retry: BOOKKEEPING_RETRY,
  });
  // The queue of the job's writes (its commits and end), when the run names one; else the workflow's own.
  const writesQueue = options.jobWritesTaskQueue ? { taskQueue: options.jobWritesTaskQueue } : {};
  const jobWrites = proxyActivities<SimulationActivities>({
    ...writesQueue,
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: WORKER_SILENCE_TIMEOUT,
    retry: BOOKKEEPING_RETRY,
  });
  const modelDays = proxyActivities<SimulationActivities>({
    taskQueue: options.modelDayTaskQueue,
    startToCloseTimeout: options.modelDayTimeoutMs,
    heartbeatTimeout: options.heartbeatTimeoutMs,
    // On stop, wait until each running model-day has finished or rolled back before cleaning up.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      maximumAttempts: options.maxAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
    },
  });

  // A date's model-days in one activity: its attempts are the worker's (a crash, a lost heartbeat); each
  // model's own attempts are counted inside it, against `maxAttempts`.
  const dateBatchOptions = {
    startToCloseTimeout: options.modelDayTimeoutMs * options.maxAttempts + 10 * 60_000,
    heartbeatTimeout: options.heartbeatTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      maximumAttempts: 10,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
    },
  } satisfies ActivityOptions;
  const dateBatches = proxyActivities<SimulationActivities>({
    ...dateBatchOptions,
    taskQueue: options.modelDayTaskQueue,
  });
  // On the workflow's own queue: the server may hand it straight to this worker (eager dispatch).
  const dateBatchesHere = proxyActivities<SimulationActivities>(dateBatchOptions);

  const progress: SimulationProgress = {
    jobId,
    phase: cursor.prepared ? 'running' : 'preparing',
    totalDates: dates.length,
    dateIndex: cursor.dateIndex,
    currentDate: null,
    currentModels: [],
    totalModelDays,
    completed: cursor.completed,
    failed: cursor.failed,
    skipped: cursor.skipped,
  };
  setHandler(simulationProgressQuery, () => progress);

  const work = new CancellationScope();
  const stop: { requested: boolean; recorded?: Promise<unknown> } = { requested: false };
  setHandler(stopSignal, (req) => {
    if (stop.requested) return;
    stop.requested = true;
    const ending = progress.phase === 'finishing' || progress.phase === 'done';
    progress.phase = 'stopping';
    work.cancel();
    if (!ending) {
      stop.recorded = CancellationScope.nonCancellable(() =>
        bookkeeping.recordStopping({ kind: 'simulation', jobId, reason: req?.reason ?? 'stop requested' }),
      ).catch(() => undefined);
    }
  });
  return {
    cursor,
    failedModels,
    totalModelDays,
    bookkeeping,
    jobWrites,
    writesQueue,
    modelDays,
    dateBatches,
    dateBatchesHere,
    progress,
    work,
    stop,
  };
}
