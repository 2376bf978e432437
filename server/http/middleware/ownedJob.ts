import type { MiddlewareHandler } from 'hono';
import type { JobKind } from '../../../jobs/lifecycle.js';
import type { JobDoc, JobOfKind } from '../../../jobs/records.js';
import type { JobStore } from '../../../storage/jobStore.js';
import { type JobEnv, maySee } from '../../context.js';
import { ApiError } from '../errors.js';
import type { ResponseCache } from '../responseCache.js';

const MAX_JOB_ID = 200;

/**
 * Loads the job a `/jobs/{jobId}/…` route names and checks that the caller owns it (or is an admin);
 * anyone else's job answers exactly like a job that does not exist. Routes then read it as `c.var.job`.
 */
export function ownedJob(jobs: Pick<JobStore, 'get'>, reads?: ResponseCache<unknown>): MiddlewareHandler<JobEnv> {
  // Reads may share a record a quarter second old (many clients polling one job cost one look-up);
  // writes (stop, retry) always read it afresh.
  const load = (jobId: string, write: boolean) =>
    write || !reads
      ? jobs.get(jobId)
      : (reads.get(`job|${jobId}`, 250, () => jobs.get(jobId)) as Promise<JobDoc | null>);
  return async (c, next) => {
    const jobId = c.req.param('jobId') ?? '';
    // Several route groups share `/jobs/{jobId}/…`, each with this middleware: the job is loaded once.
    if (c.get('job')?._id === jobId) return next();
    // No job id is that long: answer without a look-up, and without echoing kilobytes back.
    const job = jobId.length <= MAX_JOB_ID ? await load(jobId, c.req.method !== 'GET') : null;
    if (!job || !maySee(c, job.owner)) throw new ApiError('not_found', `no job ${jobId.slice(0, MAX_JOB_ID)}`);
    c.set('job', job);
    await next();
  };
}

/** The loaded job when it is of `kind`; a job of another kind has nothing here (404 that says so). */
export function jobOfKind<K extends JobKind>(job: JobDoc, kind: K, what: string): JobOfKind<K> {
  if (job.kind !== kind) {
    throw new ApiError('not_found', `job ${job._id} is of kind ${job.kind} and has no ${what}: see /jobs/${job._id}`, {
      kind: job.kind,
      status_url: `/jobs/${job._id}`,
    });
  }
  return job as JobOfKind<K>;
}
