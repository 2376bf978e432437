import {
  ActivityCancellationType,
  ActivityFailure,
  CancellationScope,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import type { AnalysisActivities } from '../activities/analysis.js';
import type { JobActivities } from '../activities/jobs.js';
import { NON_RETRYABLE_FAILURES } from '../jobs/failures.js';
import {
  type AnalysisBatchInput,
  type AnalysisInput,
  type AnalysisOutcome,
  type AnalysisProgress,
  type AnalysisRunOutcome,
  analysisProgressQuery,
  BOOKKEEPING_RETRY,
  stopSignal,
  WORKER_SILENCE_TIMEOUT,
} from './definitions.js';
import { failureMessage, failureType } from './failures.js';
import { startJobEndWebhook } from './jobWebhook.js';
import { WEBHOOK_PATCH } from './webhookContract.js';

/**
 * One analysis job: the pipeline runs in a sandbox (child process or container) inside a single
 * long activity that streams its log; a stop (signal or the Web UI's Cancel) cancels that activity,
 * whose sandbox gets SIGTERM, a grace period, then a kill, before the job is recorded as stopped.
 */
export async function analysisWorkflow(input: AnalysisInput): Promise<AnalysisOutcome> {
  const { jobId, options } = input;
  const progress: AnalysisProgress = { jobId, phase: 'preparing' };
  setHandler(analysisProgressQuery, () => progress);

  const bookkeeping = proxyActivities<AnalysisActivities & JobActivities>({
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: WORKER_SILENCE_TIMEOUT,
    retry: BOOKKEEPING_RETRY,
  });
  const { runAnalysisSandbox } = proxyActivities<AnalysisActivities>({
    taskQueue: options.sandboxTaskQueue,
    // The activity enforces the job's own timeout by killing the sandbox; this bound is a backstop.
    startToCloseTimeout: options.timeoutMs + 120_000,
    heartbeatTimeout: options.heartbeatTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '2s',
      maximumInterval: '1 minute',
      maximumAttempts: options.maxAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
    },
  });

  // Patched: histories from before runs were opened by the workflow have no such step.
  if (input.seed && patched('open-run')) {
    const seed = input.seed;
    await CancellationScope.nonCancellable(() =>
      bookkeeping.beginAnalysisRun({ jobId, owner: input.owner, run: input.run ?? 1, seed }),
    );
  }
  const runArgs = input.run !== undefined ? { run: input.run } : {};

  const work = new CancellationScope();
  let stopReason: string | undefined;
  let stopRecorded: Promise<unknown> | undefined;
  setHandler(stopSignal, (req) => {
    if (stopReason !== undefined) return;
    stopReason = req?.reason ?? 'stopped by user';
    // Once cleanup runs the job is recording its end: a `stopping` now would only land after it.
    const ending = progress.phase === 'finishing' || progress.phase === 'done';
    progress.phase = 'stopping';
    work.cancel();
    if (!ending && patched('record-stopping')) {
      stopRecorded = CancellationScope.nonCancellable(() =>
        bookkeeping.recordStopping({ kind: 'analysis', jobId, reason: stopReason!, ...runArgs }),
      ).catch(() => undefined);
    }
  });

  let outcome: AnalysisRunOutcome | 'stopped';
  try {
    outcome = await work.run(async () => {
      progress.phase = 'running';
      return runAnalysisSandbox({ jobId, timeoutMs: options.timeoutMs, ...runArgs });
    });
  } catch (err) {
    if (isCancellation(err)) {
      outcome = 'stopped';
      stopReason ??= 'cancelled from Temporal';
    } else {
      const dataMissing = err instanceof ActivityFailure && failureType(err) === 'MissingMarketData';
      outcome = {
        status: 'failed',
        errorType: dataMissing ? 'data_error' : 'sandbox_error',
        error: failureMessage(err),
      };
    }
  }
  progress.phase = 'finishing';
  // The job is recorded even when the workflow itself is being cancelled, and `stopping` before its end.
  const result = await CancellationScope.nonCancellable(async () => {
    await stopRecorded;
    return bookkeeping.finishAnalysisJob({
      jobId,
      ...runArgs,
      ...(outcome === 'stopped' ? { status: 'stopped' as const, error: stopReason } : outcome),
    });
  });
  // Patched: histories from before completion webhooks start no delivery.
  if (input.seed?.callbackUrl && patched(WEBHOOK_PATCH)) {
    await CancellationScope.nonCancellable(() => startJobEndWebhook(jobId));
  }
  progress.phase = 'done';
  return result;
}

/** Several tickers in one request: one child workflow per job, so each can be watched, stopped and retried alone. */
export async function analysisBatchWorkflow(input: AnalysisBatchInput): Promise<AnalysisOutcome[]> {
  const children = await Promise.all(
    input.jobs.map(({ workflowId, ...job }) =>
      startChild(analysisWorkflow, {
        workflowId,
        args: [job],
        // A child outlives a cancelled batch only to record its own end; stopping is per job.
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      }),
    ),
  );
  // Each child's fate is its own: one that fails or is terminated does not end (and cancel) its siblings.
  const ends = await Promise.allSettled(children.map((c) => c.result()));
  return ends.map((end, i) =>
    end.status === 'fulfilled'
      ? end.value
      : { jobId: input.jobs[i]!.jobId, status: 'failed' as const, error: failureMessage(end.reason) },
  );
}
