import { Context } from '@temporalio/activity';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Logger } from 'pino';
import { isActiveStatus, isTerminalStatus } from '../jobs/lifecycle.js';
import { analysisWorkflowId, type JobDoc } from '../jobs/records.js';
import type { JobStore } from '../storage/jobStore.js';
import type { ModelLocks } from '../storage/modelLocks.js';
import type { CloseAbandonedJobInput } from '../workflows/definitions.js';
import type { AbandonedJobsFound } from '../workflows/reconcileContract.js';

/**
 * How long a job (or a lock) may exist without its workflow before it counts as lost: the API writes
 * the lock, starts the workflow, then writes the record, and may be slow in between. The API's own
 * check (server/jobControl.ts) waits as long.
 */
export const START_GRACE_MS = 60_000;
/** Visibility is eventually consistent: each look at ended workflows overlaps the last one by this much. */
const LOOK_OVERLAP_MS = 60_000;
/** The first look at ended workflows (a reconciler that just started) goes back this far. */
export const FIRST_LOOK_BACK_MS = 7 * 24 * 3600_000;

export type WorkflowState = { state: 'running' } | { state: 'closed'; status: string } | { state: 'missing' };

/** What the reconciler asks Temporal. */
export interface WorkflowLookup {
  /** The state of a workflow id's latest run. */
  state(workflowId: string): Promise<WorkflowState>;
  /** Job workflows whose last run ended without completing after `since` (epoch ms). */
  endedSince(since: number): Promise<Array<{ workflowId: string; type: string }>>;
}

/** Workflow types whose runs are jobs, and how their ids name the job. */
const JOB_WORKFLOWS: Record<string, (workflowId: string) => string> = {
  simulationWorkflow: (id) => id,
  analysisWorkflow: (id) => (id.startsWith(analysisWorkflowId('')) ? id.slice(analysisWorkflowId('').length) : id),
};

export function temporalLookup(client: Client): WorkflowLookup {
  return {
    async state(workflowId) {
      try {
        const { status } = await client.workflow.getHandle(workflowId).describe();
        return status.name === 'RUNNING' ? { state: 'running' } : { state: 'closed', status: status.name };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { state: 'missing' };
        throw err;
      }
    },
    async endedSince(since) {
      const types = Object.keys(JOB_WORKFLOWS)
        .map((t) => `'${t}'`)
        .join(', ');
      // Continued-as-new and completed runs are not ends nobody recorded: a completed run records its end first.
      const query =
        `WorkflowType IN (${types}) AND ExecutionStatus IN ('Terminated', 'TimedOut', 'Failed', 'Canceled') ` +
        `AND CloseTime > '${new Date(since).toISOString()}'`;
      const ended: Array<{ workflowId: string; type: string }> = [];
      for await (const wf of client.workflow.list({ query, pageSize: 500 })) {
        ended.push({ workflowId: wf.workflowId, type: wf.type });
      }
      return ended;
    },
  };
}

/** Why a job whose workflow is in this state is over, in words for its record. */
function whyOver(workflowId: string, wf: Exclude<WorkflowState, { state: 'running' }>): string {
  if (wf.state === 'missing') {
    return `its workflow ${workflowId} does not exist (never started, or lost); closed by the job reconciler`;
  }
  const how = wf.status.toLowerCase().replace(/_/g, ' ');
  const by = wf.status === 'TERMINATED' ? ' (from the Web UI, the CLI or a reset)' : '';
  return `its workflow ${workflowId} was ${how}${by} without recording the job's end; closed by the job reconciler`;
}

export interface ReconcilerDeps {
  jobs: JobStore;
  locks: ModelLocks;
  logger: Logger;
  /** Temporal as the activity sees it; the worker's own client by default. */
  lookup?: () => WorkflowLookup;
  now?: () => number;
}

export function createReconcilerActivities(d: ReconcilerDeps) {
  const lookup = d.lookup ?? (() => temporalLookup(Context.current().client));
  const now = d.now ?? Date.now;

  /** A job that should be going and whose workflow will never end it, with how to close it; else null. */
  async function abandonment(job: JobDoc, wf: WorkflowState): Promise<CloseAbandonedJobInput | null> {
    if (!isActiveStatus(job) || wf.state === 'running') return null;
    if (wf.state === 'missing' && now() - job.createdAt.getTime() <= START_GRACE_MS) return null;
    if (wf.state === 'closed') {
      // A workflow records its job's end just before it closes: a fresh read tells a finished job from a lost one.
      const fresh = await d.jobs.get(job._id);
      if (!fresh || !isActiveStatus(fresh)) return null;
    }
    return {
      jobId: job._id,
      kind: job.kind,
      owner: job.owner,
      // A job asked to stop ends as stopped, as its workflow would have ended it.
      status: job.status === 'stopping' ? 'stopped' : 'failed',
      reason: whyOver(job.workflowId, wf),
    };
  }

  /**
   * One look: the jobs that hold models' locks (every running simulation does; read whole, the lock
   * collection is small) and the jobs whose workflow ended without completing since the last look
   * (from Temporal's visibility, which covers analyses too), each job then read by key and its
   * workflow described. Only what is going with no workflow to end it is returned. Locks whose job
   * ended, or never got a record or a workflow, are released here.
   */
  async function findAbandonedJobs(input: { since?: number }): Promise<AbandonedJobsFound> {
    const temporal = lookup();
    const checkedUntil = now();
    const candidates = new Map<string, { lockedAt?: Date }>();
    for (const lock of await d.locks.held()) {
      const seen = candidates.get(lock.jobId);
      if (!seen?.lockedAt || lock.acquiredAt < seen.lockedAt) candidates.set(lock.jobId, { lockedAt: lock.acquiredAt });
    }
    let lookedUntil = checkedUntil;
    try {
      const since = input.since === undefined ? checkedUntil - FIRST_LOOK_BACK_MS : input.since - LOOK_OVERLAP_MS;
      for (const wf of await temporal.endedSince(since)) {
        const jobId = JOB_WORKFLOWS[wf.type]?.(wf.workflowId);
        if (jobId && !candidates.has(jobId)) candidates.set(jobId, {});
      }
    } catch (err) {
      // The locks still cover every simulation; the ended workflows are looked at again next time.
      lookedUntil = input.since ?? checkedUntil - FIRST_LOOK_BACK_MS;
      d.logger.warn({ err: (err as Error).message }, 'job reconciler: cannot list ended workflows');
    }

    const abandoned: CloseAbandonedJobInput[] = [];
    for (const [jobId, { lockedAt }] of candidates) {
      const job = await d.jobs.get(jobId);
      if (!job) {
        // A lock with no record: a trigger between its lock and its record, unless its workflow never came.
        if (lockedAt && now() - lockedAt.getTime() > START_GRACE_MS) {
          const wf = await temporal.state(jobId);
          if (wf.state !== 'running' && !(await d.jobs.get(jobId))) {
            d.logger.warn({ jobId, workflow: wf }, 'job reconciler: releasing the locks of a job that never started');
            await d.locks.release(jobId);
          }
        }
        continue;
      }
      if (isTerminalStatus(job)) {
        // Its end was recorded but its locks were not released (the end's activity died in between).
        if (lockedAt) await d.locks.release(jobId);
        continue;
      }
      const close = await abandonment(job, await temporal.state(job.workflowId));
      if (close) {
        d.logger.warn({ jobId, kind: job.kind, reason: close.reason }, 'job reconciler: closing an abandoned job');
        abandoned.push(close);
      }
    }
    return { abandoned, checkedUntil: lookedUntil };
  }

  return { findAbandonedJobs };
}

export type ReconcilerActivities = ReturnType<typeof createReconcilerActivities>;
