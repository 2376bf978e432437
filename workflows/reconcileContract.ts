import type { CloseAbandonedJobInput } from './definitions.js';

/**
 * The job reconciler's contract, shared by its workflow (workflows/reconcileJobs.ts), its activity
 * (activities/jobReconciler.ts) and the worker that makes sure it runs (worker/jobReconciler.ts).
 *
 * A job's record says `running` until its workflow records the end. A workflow that never will
 * (terminated from the Web UI or the CLI, reset away, lost with Temporal's data, never started) leaves
 * the job going forever and its models locked. The reconciler looks every `intervalMs` and closes such
 * jobs through closeAbandonedJobWorkflow, as the API does when it stumbles on one.
 */
export interface ReconcileJobsInput {
  /** Pause between two looks. */
  intervalMs: number;
  /** Looks in one run before it continues as new, so its history stays short. */
  roundsPerRun: number;
  /**
   * Where the last look at ended workflows stopped (epoch ms, from the activity's clock). Absent on the
   * first look, which goes back `FIRST_LOOK_BACK_MS`.
   */
  since?: number;
}

export interface AbandonedJobsFound {
  /** Jobs to close, with why. */
  abandoned: CloseAbandonedJobInput[];
  /** Pass as `since` to the next look. */
  checkedUntil: number;
}

/** A terminated job is closed within this plus a round's own time: the product's goal is a minute. */
export const DEFAULT_RECONCILE_INTERVAL_MS = 15_000;
export const DEFAULT_RECONCILE_ROUNDS_PER_RUN = 200;

/** One reconciler per orchestrator task queue: the deployment whose jobs it closes (tests have their own). */
export const reconcilerWorkflowId = (orchestratorTaskQueue: string) => `job-reconciler-${orchestratorTaskQueue}`;
