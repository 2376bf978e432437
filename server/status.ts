import type { JobDoc } from '../storage/types.js';
import { TERMINAL_JOB_STATUSES } from '../storage/types.js';
import { progressQuery } from '../workflows/definitions.js';
import { type AppDeps, workflowUiLink } from './context.js';
import { jobStatus, type LiveProgress } from './presenters.js';

/** The stored record of a job plus, while it runs, what its workflow is doing right now. */
export async function statusOf(deps: AppDeps, job: JobDoc) {
  let live: LiveProgress | undefined;
  if (!TERMINAL_JOB_STATUSES.includes(job.status)) {
    try {
      live = await Promise.race([
        deps.temporal.workflow.getHandle(job.workflowId).query(progressQuery),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2000).unref()),
      ]);
    } catch {
      // A workflow between runs (continue-as-new) or not yet started has no answer: the stored record stands.
    }
  }
  return jobStatus(job, await deps.jobs.modelDays(job._id), { webUi: workflowUiLink(deps, job.workflowId) }, live);
}
