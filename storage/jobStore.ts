import type { Filter, UpdateFilter } from 'mongodb';
import {
  ANALYSIS_LIFECYCLE,
  type JobKind,
  type JobStatus,
  lifecycleOf,
  type ModelDayStatus,
  OPEN_MODEL_DAY_STATUSES,
  type StatusOfKind,
} from '../jobs/lifecycle.js';
import type {
  AnalysisErrorType,
  AnalysisJob,
  AnalysisJobInfo,
  JobDoc,
  JobOfKind,
  ModelDayCounts,
} from '../jobs/records.js';
import type { IsoDate } from '../trading/calendar.js';
import type { Collections } from './db.js';
import type { ModelDayDoc } from './types.js';

export const modelDayId = (jobId: string, model: string, date: IsoDate) => `${jobId}|${model}|${date}`;

export interface JobListFilter {
  owner?: string;
  kind?: JobKind;
  status?: JobStatus;
  model?: string;
  batchId?: string;
}

/** What a move between statuses may also set, in the same atomic write. */
export interface TransitionFields {
  startedAt?: Date;
  completedAt?: Date;
  error?: string;
  summary?: ModelDayCounts;
  /** Analysis jobs: why the run failed. */
  errorType?: AnalysisErrorType;
}

/** Fields of an analysis run that change while it runs, none of them its status. */
export type AnalysisProgressFields = Partial<
  Pick<AnalysisJobInfo, 'stage' | 'attempts' | 'exitCode' | 'manifest' | 'usage' | 'firstOutputMs'>
>;

/**
 * Jobs and their per-model-day records. Statuses move only through `transition` (and `rerun`), whose
 * writes are guarded by the lifecycle's allowed moves, so a final status is never overwritten and two
 * writers racing on one job cannot both win. Callers: the workflows' activities (activities/jobRecorder.ts).
 */
export interface JobStore {
  /** Writes a new job's record unless it exists; returns whether this call wrote it. */
  insertIfAbsent(job: JobDoc): Promise<boolean>;
  get(jobId: string): Promise<JobDoc | null>;
  /** Makes `jobId` the one `owner`'s idempotency key points to. */
  rememberKey(owner: string, idempotencyKey: string, jobId: string): Promise<void>;
  /** The job the key points to, or null (also when the pointer's job has no record yet). */
  keyHolder(owner: string, idempotencyKey: string): Promise<{ jobId: string; job: JobDoc | null } | null>;
  latest(owner: string, kind: JobKind): Promise<JobDoc | null>;
  list(filter: JobListFilter, limit: number, offset: number): Promise<{ jobs: JobDoc[]; total: number }>;
  /**
   * Moves a job of `kind` to `to` if its lifecycle allows the move from its current status (and, for
   * a job that runs again, only within run `run`). Returns whether it moved.
   */
  transition<K extends JobKind>(
    kind: K,
    jobId: string,
    to: StatusOfKind[K],
    fields?: TransitionFields,
    run?: number,
  ): Promise<boolean>;
  /** Starts run `run` of an ended, retryable analysis: back to pending, the ended run kept in its history. */
  rerun(jobId: string, run: number): Promise<boolean>;
  /** Records how an analysis run is going (stage, attempts, manifest...), never its status. */
  updateAnalysis(jobId: string, run: number, patch: AnalysisProgressFields): Promise<void>;
  setModelDay(
    jobId: string,
    model: string,
    date: IsoDate,
    status: ModelDayStatus,
    patch?: Partial<ModelDayDoc>,
  ): Promise<void>;
  /** Marks model-days that have no final record yet; ended ones keep theirs. */
  markModelDaysMany(
    jobId: string,
    entries: ReadonlyArray<{ model: string; date: IsoDate }>,
    status: ModelDayStatus,
    error?: string,
  ): Promise<void>;
  modelDays(jobId: string): Promise<ModelDayDoc[]>;
}

/** The ended run an analysis rerun archives. */
export function endedRun(job: AnalysisJob) {
  return {
    run: job.analysis.runs,
    status: job.status,
    ...(job.error ? { error: job.error } : {}),
    ...(job.analysis.errorType ? { errorType: job.analysis.errorType } : {}),
    ...(job.startedAt ? { startedAt: job.startedAt } : {}),
    ...(job.completedAt ? { completedAt: job.completedAt } : {}),
  };
}

export class MongoJobStore implements JobStore {
  constructor(private readonly c: Pick<Collections, 'jobs' | 'modelDays' | 'jobKeys'>) {}

  async insertIfAbsent(job: JobDoc): Promise<boolean> {
    try {
      await this.c.jobs.insertOne(job);
      return true;
    } catch (err) {
      // The API and the workflow's first activity both write a new job's record: the second one finds it.
      if ((err as { code?: number }).code === 11000) return false;
      throw err;
    }
  }

  get(jobId: string): Promise<JobDoc | null> {
    return this.c.jobs.findOne({ _id: jobId });
  }

  async rememberKey(owner: string, idempotencyKey: string, jobId: string): Promise<void> {
    await this.c.jobKeys.updateOne({ _id: `${owner}|${idempotencyKey}` }, { $set: { jobId } }, { upsert: true });
  }

  async keyHolder(owner: string, idempotencyKey: string) {
    const pointer = await this.c.jobKeys.findOne({ _id: `${owner}|${idempotencyKey}` });
    return pointer ? { jobId: pointer.jobId, job: await this.get(pointer.jobId) } : null;
  }

  latest(owner: string, kind: JobKind): Promise<JobDoc | null> {
    return this.c.jobs.findOne({ owner, kind }, { sort: { createdAt: -1 } });
  }

  async list(filter: JobListFilter, limit: number, offset: number): Promise<{ jobs: JobDoc[]; total: number }> {
    const q: Filter<JobDoc> = {};
    if (filter.owner) q.owner = filter.owner;
    if (filter.kind) q.kind = filter.kind;
    if (filter.status) q.status = filter.status;
    if (filter.model) q.models = filter.model;
    if (filter.batchId) (q as Record<string, unknown>)['analysis.batchId'] = filter.batchId;
    const [jobs, total] = await Promise.all([
      this.c.jobs.find(q, { sort: { createdAt: -1 }, skip: offset, limit, projection: { plan: 0 } }).toArray(),
      this.c.jobs.countDocuments(q),
    ]);
    return { jobs, total };
  }

  async transition<K extends JobKind>(
    kind: K,
    jobId: string,
    to: StatusOfKind[K],
    fields: TransitionFields = {},
    run?: number,
  ): Promise<boolean> {
    const sources: string[] = lifecycleOf(kind).sourcesOf(to);
    const filter: Record<string, unknown> = { _id: jobId, kind, status: { $in: sources } };
    if (run !== undefined && kind === 'analysis') filter['analysis.runs'] = run;
    const { errorType, ...rest } = fields;
    const set: Record<string, unknown> = { ...rest, status: to, updatedAt: new Date() };
    if (errorType) set['analysis.errorType'] = errorType;
    const r = await this.c.jobs.updateOne(filter as Filter<JobDoc>, { $set: set });
    return r.modifiedCount > 0;
  }

  async rerun(jobId: string, run: number): Promise<boolean> {
    const job = await this.get(jobId);
    if (job?.kind !== 'analysis' || job.analysis.runs !== run - 1 || !ANALYSIS_LIFECYCLE.isRetryable(job.status)) {
      return false;
    }
    // Guarded by the status and run just read: a concurrent rerun or move makes this one a no-op.
    const update: UpdateFilter<JobOfKind<'analysis'>> = {
      $set: { status: 'pending', updatedAt: new Date(), 'analysis.runs': run, 'analysis.stage': 'queued' },
      $unset: {
        startedAt: '',
        completedAt: '',
        error: '',
        'analysis.errorType': '',
        'analysis.manifest': '',
        'analysis.usage': '',
        'analysis.exitCode': '',
        'analysis.attempts': '',
        'analysis.firstOutputMs': '',
      },
      $push: { 'analysis.history': endedRun(job) },
    };
    const r = await this.c.jobs.updateOne(
      { _id: jobId, kind: 'analysis', status: job.status, 'analysis.runs': run - 1 } as Filter<JobDoc>,
      update as UpdateFilter<JobDoc>,
    );
    return r.modifiedCount > 0;
  }

  async updateAnalysis(jobId: string, run: number, patch: AnalysisProgressFields): Promise<void> {
    const set: Record<string, unknown> = { updatedAt: new Date() };
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) set[`analysis.${k}`] = v;
    // A stale attempt of an earlier run never writes over the current run.
    await this.c.jobs.updateOne({ _id: jobId, 'analysis.runs': run } as Filter<JobDoc>, { $set: set });
  }

  async setModelDay(
    jobId: string,
    model: string,
    date: IsoDate,
    status: ModelDayStatus,
    patch: Partial<ModelDayDoc> = {},
  ): Promise<void> {
    const _id = modelDayId(jobId, model, date);
    await this.c.modelDays.updateOne(
      { _id },
      { $set: { ...patch, status }, $setOnInsert: { jobId, model, date } },
      { upsert: true },
    );
  }

  async markModelDaysMany(
    jobId: string,
    entries: ReadonlyArray<{ model: string; date: IsoDate }>,
    status: ModelDayStatus,
    error?: string,
  ): Promise<void> {
    if (entries.length === 0) return;
    // Ended ones are left out before the write: their upsert would collide, and FerretDB drops the rest of
    // an unordered bulk write after a collision, where MongoDB would go on.
    const ended = new Set(
      (await this.modelDays(jobId)).filter((d) => !OPEN_MODEL_DAY_STATUSES.includes(d.status)).map((d) => d._id),
    );
    const open = entries.filter(({ model, date }) => !ended.has(modelDayId(jobId, model, date)));
    if (open.length === 0) return;
    await this.c.modelDays
      .bulkWrite(
        open.map(({ model, date }) => ({
          updateOne: {
            filter: { _id: modelDayId(jobId, model, date), status: { $in: [...OPEN_MODEL_DAY_STATUSES] } },
            update: { $set: { status, ...(error ? { error } : {}) }, $setOnInsert: { jobId, model, date } },
            upsert: true,
          },
        })),
        { ordered: false },
      )
      .catch((err: { code?: number }) => {
        // A record that ended meanwhile does not match the filter, so its upsert collides with it: that is fine.
        if (err.code !== 11000) throw err;
      });
  }

  modelDays(jobId: string): Promise<ModelDayDoc[]> {
    return this.c.modelDays.find({ jobId }, { sort: { date: 1, model: 1 } }).toArray();
  }
}

export function countModelDays(days: readonly ModelDayDoc[]): ModelDayCounts {
  const counts: ModelDayCounts = { completed: 0, failed: 0, skipped: 0, stopped: 0, running: 0 };
  for (const d of days) if (d.status !== 'pending') counts[d.status] += 1;
  return counts;
}
