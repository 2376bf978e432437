import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Logger } from 'pino';
import { isActiveStatus, isRetryable, isTerminalStatus, lifecycleOf } from '../jobs/lifecycle.js';
import type { JobDoc } from '../jobs/records.js';
import type { JobStore } from '../storage/jobStore.js';
import { closeAbandonedJobWorkflow } from '../workflows/closeAbandonedJob.js';
import { closeJobWorkflowId, stopSignal } from '../workflows/definitions.js';
import { temporalDeadline } from './deadline.js';
import { ApiError } from './http/errors.js';

/** How long a job may have a record but no workflow before it counts as abandoned (the start is in between). */
const START_GRACE_MS = 60_000;

export type WorkflowState = 'running' | 'closed' | 'missing';

export interface JobControlDeps {
  jobs: JobStore;
  temporal: Client;
  /** Task queue of the workers that run workflows and their bookkeeping. */
  taskQueue: string;
  logger: Logger;
  now?: () => number;
}

/**
 * What the API does to a job's workflow, for every kind alike: stop it, and notice when it is gone.
 * The API never writes a status: a stop is a signal, and a job whose workflow vanished is ended by a
 * small workflow of its own (closeAbandonedJobWorkflow), whose activity records the end.
 */
export class JobControl {
  constructor(private readonly d: JobControlDeps) {}

  async workflowState(workflowId: string): Promise<WorkflowState> {
    try {
      const desc = await temporalDeadline(this.d.temporal, () =>
        this.d.temporal.workflow.getHandle(workflowId).describe(),
      );
      return desc.status.name === 'RUNNING' ? 'running' : 'closed';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'missing';
      throw err;
    }
  }

  /** A job whose record says it is going while its workflow is not (terminated, or never started). */
  async isAbandoned(job: JobDoc): Promise<boolean> {
    if (!isActiveStatus(job)) return false;
    const state = await this.workflowState(job.workflowId);
    if (state === 'running') return false;
    if (state === 'closed') {
      // The workflow records the end just before it closes: a fresh read tells a finished job from a lost one.
      const fresh = await this.d.jobs.get(job._id);
      return fresh !== null && isActiveStatus(fresh);
    }
    return (this.d.now?.() ?? Date.now()) - job.createdAt.getTime() > START_GRACE_MS;
  }

  /** Starts the workflow that records an abandoned job's end; a second call for the same job is a no-op. */
  async closeAbandoned(job: JobDoc, status: 'failed' | 'stopped', reason: string): Promise<void> {
    this.d.logger.warn({ jobId: job._id, kind: job.kind, models: job.models }, `closing abandoned job: ${reason}`);
    try {
      await temporalDeadline(this.d.temporal, () =>
        this.d.temporal.workflow.start(closeAbandonedJobWorkflow, {
          workflowId: closeJobWorkflowId(job._id),
          taskQueue: this.d.taskQueue,
          args: [{ jobId: job._id, kind: job.kind, owner: job.owner, status, reason }],
        }),
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /**
   * Asks a job's workflow to stop. The job then shows `stopping` (recorded by the workflow) and ends
   * `stopped`; a job whose workflow is gone is closed as stopped instead.
   */
  async stop(job: JobDoc, reason: string): Promise<void> {
    // An ended job that runs again in place may have a new run whose workflow has not opened it yet: that
    // run is what a stop means.
    const mayRunAgain = lifecycleOf(job.kind).rerunsInPlace && isRetryable(job);
    if (
      isTerminalStatus(job) &&
      (!mayRunAgain || (await this.workflowState(job.workflowId).catch(() => 'missing')) !== 'running')
    ) {
      throw new ApiError('not_running', `job ${job._id} already ended with status ${job.status}`, {
        status: job.status,
      });
    }
    try {
      await temporalDeadline(this.d.temporal, () =>
        this.d.temporal.workflow.getHandle(job.workflowId).signal(stopSignal, { reason }),
      );
      return;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) {
        throw new ApiError(
          'service_unavailable',
          `cannot reach Temporal to stop job ${job._id}: ${(err as Error).message}`,
        );
      }
    }
    // No workflow to signal: it ended meanwhile, or it is gone and someone must record the end.
    const fresh = (await this.d.jobs.get(job._id)) ?? job;
    if (isTerminalStatus(fresh)) {
      throw new ApiError('not_running', `job ${job._id} already ended with status ${fresh.status}`, {
        status: fresh.status,
      });
    }
    await this.closeAbandoned(fresh, 'stopped', `stopped (${reason}); its workflow was no longer running`);
  }
}
