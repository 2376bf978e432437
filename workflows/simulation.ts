import {
  ActivityCancellationType,
  allHandlersFinished,
  CancellationScope,
  CancelledFailure,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { JobActivities } from '../activities/jobs.js';
import type { SimulationActivities } from '../activities/simulation.js';
import { NON_RETRYABLE_FAILURES } from '../jobs/failures.js';
import type { SimulationCursor, SimulationInput, SimulationOutcome, SimulationProgress } from './definitions.js';
import { simulationProgressQuery, stopSignal } from './definitions.js';
import { failureMessage } from './failures.js';

/**
 * A multi-model trading simulation: dates run in sequence, the models of each date in parallel, one
 * activity per model-day. Progress is in MongoDB (written by activities) and in the `progress` query.
 */
export async function simulationWorkflow(input: SimulationInput): Promise<SimulationOutcome> {
  const { jobId, owner, dates, models, symbols, modelStart, options } = input;
  const cursor: SimulationCursor = input.cursor ?? {
    dateIndex: 0,
    failedModels: [],
    completed: 0,
    failed: 0,
    skipped: 0,
    prepared: false,
  };
  const failedModels = new Set(cursor.failedModels);
  const totalModelDays = models.reduce((n, m) => n + dates.length - (modelStart[m] ?? 0), 0);

  // Bounded retries: a bookkeeping step that keeps failing (e.g. market data that cannot be fetched)
  // ends the job as failed instead of holding its models' locks forever.
  const bookkeeping = proxyActivities<SimulationActivities & JobActivities>({
    startToCloseTimeout: '10 minutes',
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 8 },
  });
  const { runModelDay } = proxyActivities<SimulationActivities>({
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
  let stopRequested = false;
  let stopRecorded: Promise<unknown> | undefined;
  setHandler(stopSignal, (req) => {
    if (stopRequested) return;
    stopRequested = true;
    // Once cleanup runs the job is recording its end: a `stopping` now would only land after it.
    const ending = progress.phase === 'finishing' || progress.phase === 'done';
    progress.phase = 'stopping';
    work.cancel();
    // The job shows `stopping` while model-days in flight wind down. Patched: older histories did not record it.
    if (!ending && patched('record-stopping')) {
      stopRecorded = CancellationScope.nonCancellable(() =>
        bookkeeping.recordStopping({ kind: 'simulation', jobId, reason: req?.reason ?? 'stop requested' }),
      ).catch(() => undefined);
    }
  });

  let cancelled: unknown;
  let fatal: string | undefined;
  let continueRun = false;
  try {
    await work.run(async () => {
      if (!cursor.prepared) {
        await bookkeeping.startSimulationJob({
          jobId,
          symbols,
          firstDate: dates[0]!,
          lastDate: dates.at(-1)!,
          ...(input.seed ? { register: { owner, models, dates, modelStart, seed: input.seed } } : {}),
        });
        cursor.prepared = true;
        progress.phase = 'running';
      }
      for (; cursor.dateIndex < dates.length; cursor.dateIndex++) {
        const i = cursor.dateIndex;
        const date = dates[i]!;
        const todays = models.filter((m) => (modelStart[m] ?? 0) <= i && !failedModels.has(m));
        progress.dateIndex = i;
        progress.currentDate = date;
        progress.currentModels = todays;
        const outcomes = await Promise.allSettled(
          todays.map((model) => runModelDay({ jobId, owner, model, date, symbols })),
        );
        const failures: Array<{ model: string; error: string }> = [];
        outcomes.forEach((o, k) => {
          if (o.status === 'fulfilled') cursor.completed++;
          else if (isCancellation(o.reason)) throw o.reason;
          else failures.push({ model: todays[k]!, error: failureMessage(o.reason) });
        });

        if (failures.length > 0) {
          const later = dates.slice(i + 1);
          await bookkeeping.recordModelDayFailures({ jobId, date, failures, laterDates: later });
          for (const f of failures) failedModels.add(f.model);
          cursor.failed += failures.length;
          cursor.skipped += failures.length * later.length;
        }
        progress.completed = cursor.completed;
        progress.failed = cursor.failed;
        progress.skipped = cursor.skipped;
        // Model-days that finished after a stop still count, but the job stops here: no next date, no
        // continue-as-new. (The cleanup marks whatever of this date has no record as stopped.)
        // Patched: histories recorded before this check scheduled the next date first (replay test).
        if (work.consideredCancelled && patched('stop-after-each-date')) {
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

  if (continueRun && !stopRequested && !work.consideredCancelled) {
    await condition(allHandlersFinished);
    await continueAsNew<typeof simulationWorkflow>({
      ...input,
      cursor: { ...cursor, failedModels: [...failedModels] },
    });
  }

  progress.phase = 'finishing';
  progress.currentModels = [];
  // Cleanup must run even when the whole workflow was cancelled from the Web UI; `stopping` is
  // recorded before the end, never after it.
  const outcome = await CancellationScope.nonCancellable(async () => {
    await stopRecorded;
    return bookkeeping.finishSimulationJob({
      jobId,
      owner,
      stopped: cancelled !== undefined,
      ...(fatal ? { error: fatal } : {}),
      remaining: cancelled === undefined && !fatal ? [] : remainingModelDays(input, cursor.dateIndex, failedModels),
    });
  });
  progress.phase = 'done';
  if (cancelled !== undefined && !stopRequested) throw cancelled;
  // A job whose every model-day failed still completes as a workflow: the job record carries the errors.
  return outcome;
}

function remainingModelDays(input: SimulationInput, fromIndex: number, failedModels: Set<string>) {
  const out: Array<{ model: string; date: string }> = [];
  for (let i = fromIndex; i < input.dates.length; i++) {
    for (const model of input.models) {
      if ((input.modelStart[model] ?? 0) <= i && !failedModels.has(model)) out.push({ model, date: input.dates[i]! });
    }
  }
  return out;
}
