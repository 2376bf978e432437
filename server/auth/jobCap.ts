import { ANALYSIS_LIFECYCLE, SIMULATION_LIFECYCLE } from '../../jobs/lifecycle.js';
import type { JobStore } from '../../storage/jobStore.js';
import { ApiError } from '../http/errors.js';

const ACTIVE = [...new Set<string>([...SIMULATION_LIFECYCLE.active, ...ANALYSIS_LIFECYCLE.active])];
/** What a 429 for a full cap tells the client to wait: jobs take minutes, not seconds. */
const CAP_RETRY_AFTER_S = 30;

interface Place {
  adding: number;
}

interface Waiter {
  adding: number;
  limit: number;
  admitted: (place: Place) => void;
  refused: (err: unknown) => void;
}

interface OwnerAdmissions {
  /** Places held by starts admitted whose records may not be written yet. */
  reserved: Set<Place>;
  waiting: Waiter[];
  counting: boolean;
}

/**
 * Admission against a per-owner cap without a read-then-write race. Decisions for one owner are made one
 * count at a time: every start waiting when a count begins is decided by it, in arrival order, against the
 * jobs counted plus the places held by starts admitted earlier (a place is held until the start returns,
 * its record written). A start is then in the count or in the places, never in neither, so starts fired
 * together never pass the cap, and a burst costs one count, not one each. Per API process: N replicas
 * may together admit up to N times the cap at once.
 */
export class AdmissionGate {
  private readonly owners = new Map<string, OwnerAdmissions>();

  async admit<T>(
    owner: string,
    adding: number,
    limit: number,
    countActive: () => Promise<number>,
    start: () => Promise<T>,
  ): Promise<T> {
    const q = this.owners.get(owner) ?? { reserved: new Set(), waiting: [], counting: false };
    this.owners.set(owner, q);
    let place: Place;
    try {
      place = await new Promise<Place>((admitted, refused) => {
        q.waiting.push({ adding, limit, admitted, refused });
        if (!q.counting) void this.decide(owner, q, countActive);
      });
    } catch (err) {
      this.forget(owner, q);
      throw err;
    }
    try {
      return await start();
    } finally {
      q.reserved.delete(place);
      this.forget(owner, q);
    }
  }

  private async decide(owner: string, q: OwnerAdmissions, countActive: () => Promise<number>) {
    q.counting = true;
    while (q.waiting.length > 0) {
      const batch = q.waiting.splice(0);
      // Nothing is admitted while this count runs, so the places held now are all there are.
      let used = [...q.reserved].reduce((n, r) => n + r.adding, 0);
      let active: number;
      try {
        active = await countActive();
      } catch (err) {
        for (const w of batch) w.refused(err);
        continue;
      }
      used += active;
      for (const w of batch) {
        if (used + w.adding > w.limit) {
          w.refused(
            new ApiError(
              'too_many_active_jobs',
              `${used} of your jobs are still running or starting, and at most ${w.limit} may be at once: wait for some to end${w.adding > 1 ? ` (this request would start ${w.adding})` : ''}`,
              { active_jobs: used, limit: w.limit },
              { 'Retry-After': String(CAP_RETRY_AFTER_S) },
            ),
          );
        } else {
          used += w.adding;
          const place = { adding: w.adding };
          q.reserved.add(place);
          w.admitted(place);
        }
      }
    }
    q.counting = false;
    this.forget(owner, q);
  }

  private forget(owner: string, q: OwnerAdmissions) {
    if (!q.counting && q.waiting.length === 0 && q.reserved.size === 0) this.owners.delete(owner);
  }
}

/** The owner's unfinished jobs, every kind: one count (it was a count and a read per status). */
export function countActiveJobs(deps: { jobs: Pick<JobStore, 'countInStatuses'> }, owner: string): Promise<number> {
  return deps.jobs.countInStatuses(owner, ACTIVE);
}

/** Starts `adding` jobs for `owner` through `start` unless its unfinished jobs would then be over the cap. */
export function withJobCapacity<T>(
  deps: { jobs: Pick<JobStore, 'countInStatuses'>; auth: { maxActiveJobsPerUser: number }; admission: AdmissionGate },
  owner: string,
  adding: number,
  start: () => Promise<T>,
): Promise<T> {
  return deps.admission.admit(owner, adding, deps.auth.maxActiveJobsPerUser, () => countActiveJobs(deps, owner), start);
}
