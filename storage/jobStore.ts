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
import type { AnalysisJob, AnalysisJobInfo, JobDoc, JobOfKind, ModelDayCounts } from '../jobs/records.js';
import { runOf } from '../jobs/records.js';
import type { IsoDate } from '../trading/calendar.js';
import type { Collections } from './db.js';
import type { JobTransitionDoc, ModelDayDoc, TransitionFields } from './types.js';

export const modelDayId = (jobId: string, model: string, date: IsoDate) => `${jobId}|${model}|${date}`;

export interface JobListFilter {
  owner?: string;
  kind?: JobKind;
  status?: JobStatus;
  model?: string;
  batchId?: string;
}

export type { TransitionFields } from './types.js';

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
  /** How many of `owner`'s jobs are in one of `statuses`: one count, whatever their number. */
  countInStatuses(owner: string, statuses: readonly string[]): Promise<number>;
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
  /**
   * Starts run `run` of an ended, retryable analysis: back to pending, the ended run kept in its history.
   * `opener` names who opens it (a workflow run id): only one opener ever gets a given run, and the same
   * opener asking again (a retried activity) is told yes.
   */
  rerun(jobId: string, run: number, opener: string): Promise<boolean>;
  /** Records how an analysis run is going (stage, attempts, manifest...), never its status. */
  updateAnalysis(jobId: string, run: number, patch: AnalysisProgressFields): Promise<void>;
  setModelDay(
    jobId: string,
    model: string,
    date: IsoDate,
    status: ModelDayStatus,
    patch?: Partial<ModelDayDoc>,
  ): Promise<void>;
  /** Writes model-days' records as a date's commit decided them, in one round trip. */
  recordModelDays(
    jobId: string,
    entries: ReadonlyArray<{ model: string; date: IsoDate; status: ModelDayStatus; patch?: Partial<ModelDayDoc> }>,
  ): Promise<void>;
  /** Marks model-days that have no final record yet; ended ones keep theirs. */
  markModelDaysMany(
    jobId: string,
    entries: ReadonlyArray<{ model: string; date: IsoDate }>,
    status: ModelDayStatus,
    error?: string,
  ): Promise<void>;
  modelDays(jobId: string): Promise<ModelDayDoc[]>;
  /** The records of these model-days, by `model|date`, each read by its key. */
  modelDaysByKeys(
    jobId: string,
    keys: ReadonlyArray<{ model: string; date: IsoDate }>,
  ): Promise<Map<string, ModelDayDoc>>;
}

/**
 * A decided step of a job's lifecycle, written once: `job|run|end` holds the run's outcome (and the fields
 * that went with it), `job|run|open` who opened the run. An insert of an existing `_id` fails in every
 * MongoDB-protocol server, FerretDB included, whose conditional updates are not atomic: these are what
 * make racing writers agree.
 */
export type { JobTransitionDoc } from './types.js';

const endKey = (jobId: string, run: number) => `${jobId}|${run}|end`;
const openKey = (jobId: string, run: number) => `${jobId}|${run}|open`;

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
  constructor(private readonly c: Pick<Collections, 'jobs' | 'modelDays' | 'jobKeys' | 'jobTransitions'>) {}

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

  countInStatuses(owner: string, statuses: readonly string[]): Promise<number> {
    return this.c.jobs.countDocuments({ owner, status: { $in: [...statuses] } } as Filter<JobDoc>);
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
    const job = await this.get(jobId);
    if (!job || job.kind !== kind) return false;
    const current = runOf(job);
    if (run !== undefined && run !== current) return false;
    const lifecycle = lifecycleOf(kind);
    const sources: string[] = lifecycle.sourcesOf(to);
    if (!sources.includes(job.status)) return false;
    if (lifecycle.isTerminal(to)) {
      // One end per run: the first writer of the marker decides; the same end again is a retry of it.
      const claimed = await this.claim({ _id: endKey(jobId, current), status: to, fields, at: new Date() });
      if (claimed.status !== to) {
        await this.repair(jobId, current);
        return false;
      }
    }
    const filter: Record<string, unknown> = { _id: jobId, kind, status: { $in: sources } };
    if (kind === 'analysis') filter['analysis.runs'] = current;
    const r = await this.c.jobs.updateOne(filter as Filter<JobDoc>, { $set: statusUpdate(to, fields) });
    if (lifecycle.isTerminal(to)) {
      if (r.modifiedCount > 0) return true;
      // The end is this move's (its marker stands), but a racing loser's repair may have written it
      // first, and then this write matched nothing: the end is still this one, and says so once.
      await this.repair(jobId, current);
      const now = await this.get(jobId);
      return now !== null && runOf(now) === current && now.status === to;
    }
    // An end decided meanwhile wins over this move, whatever order the writes landed in.
    await this.repair(jobId, current);
    return r.modifiedCount > 0;
  }

  /** Inserts a marker unless one exists; returns the marker that stands (this one, or the earlier one). */
  private async claim(doc: JobTransitionDoc): Promise<JobTransitionDoc> {
    try {
      await this.c.jobTransitions.insertOne(doc);
      return doc;
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      const existing = await this.c.jobTransitions.findOne({ _id: doc._id });
      if (!existing) throw err;
      return existing;
    }
  }

  /** Puts a run's decided end back on the job if a racing write covered it. */
  private async repair(jobId: string, run: number): Promise<void> {
    const end = await this.c.jobTransitions.findOne({ _id: endKey(jobId, run) });
    if (!end?.status) return;
    const job = await this.get(jobId);
    if (!job || runOf(job) !== run || job.status === end.status) return;
    await this.c.jobs.updateOne({ _id: jobId }, { $set: statusUpdate(end.status, end.fields ?? {}) });
  }

  async rerun(jobId: string, run: number, opener: string): Promise<boolean> {
    const job = await this.get(jobId);
    if (job?.kind !== 'analysis') return false;
    const open = await this.claim({ _id: openKey(jobId, run), opener, at: new Date() });
    if (open.opener !== opener) return false;
    // Ours: opened now, or by an earlier attempt of the same opener that may have died before the write.
    if (job.analysis.runs === run) return true;
    if (job.analysis.runs !== run - 1 || !ANALYSIS_LIFECYCLE.isRetryable(job.status)) return false;
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

  async recordModelDays(
    jobId: string,
    entries: ReadonlyArray<{ model: string; date: IsoDate; status: ModelDayStatus; patch?: Partial<ModelDayDoc> }>,
  ): Promise<void> {
    if (entries.length === 0) return;
    await this.c.modelDays.bulkWrite(
      entries.map(({ model, date, status, patch }) => ({
        updateOne: {
          filter: { _id: modelDayId(jobId, model, date) },
          update: { $set: { ...patch, status }, $setOnInsert: { jobId, model, date } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  async markModelDaysMany(
    jobId: string,
    entries: ReadonlyArray<{ model: string; date: IsoDate }>,
    status: ModelDayStatus,
    error?: string,
  ): Promise<void> {
    if (entries.length === 0) return;
    // Ended ones are left out before the write. Callers mark what no activity is still writing (a job's
    // end, a failed model's later days), so nothing ends between this read and the write.
    const ended = new Set(
      (await this.modelDays(jobId)).filter((d) => !OPEN_MODEL_DAY_STATUSES.includes(d.status)).map((d) => d._id),
    );
    const open = entries.filter(({ model, date }) => !ended.has(modelDayId(jobId, model, date)));
    if (open.length === 0) return;
    await this.c.modelDays
      .bulkWrite(
        open.map(({ model, date }) => ({
          updateOne: {
            // By `_id` alone: anything more and FerretDB scans the collection for each entry.
            filter: { _id: modelDayId(jobId, model, date) },
            update: { $set: { status, ...(error ? { error } : {}) }, $setOnInsert: { jobId, model, date } },
            upsert: true,
          },
        })),
        { ordered: false },
      )
      .catch((err: { code?: number }) => {
        // Two writers upserting one new record: the loser collides with it, and the record is there.
        if (err.code !== 11000) throw err;
      });
  }

  modelDays(jobId: string): Promise<ModelDayDoc[]> {
    return this.c.modelDays.find({ jobId }, { sort: { date: 1, model: 1 } }).toArray();
  }

  async modelDaysByKeys(jobId: string, keys: ReadonlyArray<{ model: string; date: IsoDate }>) {
    const found = await Promise.all(
      keys.map((k) => this.c.modelDays.findOne({ _id: modelDayId(jobId, k.model, k.date) })),
    );
    return new Map(found.flatMap((d) => (d ? [[`${d.model}|${d.date}`, d] as const] : [])));
  }
}

function statusUpdate(status: string, fields: TransitionFields): Record<string, unknown> {
  const { errorType, ...rest } = fields;
  return { ...rest, status, updatedAt: new Date(), ...(errorType ? { 'analysis.errorType': errorType } : {}) };
}

export function countModelDays(days: readonly ModelDayDoc[]): ModelDayCounts {
  const counts: ModelDayCounts = { completed: 0, failed: 0, skipped: 0, stopped: 0, running: 0 };
  for (const d of days) if (d.status !== 'pending') counts[d.status] += 1;
  return counts;
}
