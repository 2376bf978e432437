import { ANALYSIS_LIFECYCLE, SIMULATION_LIFECYCLE } from '../../jobs/lifecycle.js';
import type { AppDeps } from '../context.js';
import { ApiError } from '../errors.js';

const ACTIVE = [...new Set<string>([...SIMULATION_LIFECYCLE.active, ...ANALYSIS_LIFECYCLE.active])];
/** What a 429 for a full cap tells the client to wait: jobs take minutes, not seconds. */
const CAP_RETRY_AFTER_S = 30;

/**
 * Refuses to start `adding` more jobs for `owner` when its unfinished ones would then be over the cap. A
 * count, then a start: two requests racing may both pass (the cap is a bound on abuse, not a quota).
 */
export async function assertJobCapacity(deps: Pick<AppDeps, 'jobs' | 'auth'>, owner: string, adding = 1) {
  const limit = deps.auth.maxActiveJobsPerUser;
  const totals = await Promise.all(
    ACTIVE.map((status) => deps.jobs.list({ owner, status: status as never }, 1, 0).then((r) => r.total)),
  );
  const active = totals.reduce((a, b) => a + b, 0);
  if (active + adding > limit) {
    throw new ApiError(
      'too_many_active_jobs',
      `${active} of your jobs are still running or pending, and at most ${limit} may be at once: wait for some to end${adding > 1 ? ` (this request would start ${adding})` : ''}`,
      { active_jobs: active, limit },
      { 'Retry-After': String(CAP_RETRY_AFTER_S) },
    );
  }
}
