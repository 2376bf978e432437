import type { Logger } from 'pino';
import type { JobEventDraft } from '../jobs/events.js';
import type { JobKind, StatusOfKind } from '../jobs/lifecycle.js';
import type { JobEventLog } from '../storage/jobEvents.js';
import type { JobStore, TransitionFields } from '../storage/jobStore.js';

export interface JobRecorderDeps {
  jobs: JobStore;
  events: JobEventLog;
  logger: Logger;
}

export interface MoveOptions {
  fields?: TransitionFields;
  /** For a job that runs again under its id: the move applies only within this run. */
  run?: number;
  /** The event that tells streams about the move. */
  event?: JobEventDraft;
}

export type JobRecorder = ReturnType<typeof createJobRecorder>;

/**
 * The single function that moves a job between statuses, used only by the workflows' activities: the
 * lifecycle-guarded write, then the event that announces it. A retried activity whose first attempt
 * moved the job but died before the event still announces it (the event's key keeps it at one).
 */
export function createJobRecorder(d: JobRecorderDeps) {
  async function move<K extends JobKind>(
    kind: K,
    jobId: string,
    to: StatusOfKind[K],
    o: MoveOptions = {},
  ): Promise<boolean> {
    const moved = await d.jobs.transition(kind, jobId, to, o.fields, o.run);
    if (!moved) {
      const job = await d.jobs.get(jobId);
      if (!job) d.logger.warn({ jobId, to }, 'no record of the job to move');
      else if (job.status !== to)
        d.logger.debug({ jobId, from: job.status, to }, 'job not moved: not allowed from here');
      if (!(o.event?.key && job?.status === to)) return false;
    }
    if (o.event) await d.events.append(jobId, o.event);
    return moved;
  }
  return { move };
}
