import type { Filter } from 'mongodb';
import type { IsoDate } from '../trading/calendar.js';
import type { Collections } from './db.js';
import type { AnalysisJobInfo, JobDoc, JobStatus, ModelDayCounts, ModelDayDoc, ModelDayStatus } from './types.js';
import { TERMINAL_JOB_STATUSES } from './types.js';

export const modelDayId = (jobId: string, model: string, date: IsoDate) => `${jobId}|${model}|${date}`;

export interface JobListFilter {
  owner?: string;
  kind?: string;
  status?: JobStatus;
  model?: string;
  batchId?: string;
}

/** Jobs and their per-model-day status records. */
export class JobStore {
  constructor(private readonly c: Pick<Collections, 'jobs' | 'modelDays' | 'jobKeys'>) {}

  async create(job: JobDoc): Promise<void> {
    await this.c.jobs.insertOne(job);
  }

  /** Makes `job` the one its idempotency key points to, once it holds its models' locks. */
  async rememberKey(job: JobDoc): Promise<void> {
    await this.c.jobKeys.updateOne(
      { _id: `${job.owner}|${job.idempotencyKey}` },
      { $set: { jobId: job._id } },
      { upsert: true },
    );
  }

  get(jobId: string): Promise<JobDoc | null> {
    return this.c.jobs.findOne({ _id: jobId });
  }

  async delete(jobId: string): Promise<void> {
    await this.c.jobs.deleteOne({ _id: jobId });
  }

  async latestWithKey(owner: string, idempotencyKey: string): Promise<JobDoc | null> {
    const pointer = await this.c.jobKeys.findOne({ _id: `${owner}|${idempotencyKey}` });
    return pointer ? this.get(pointer.jobId) : null;
  }

  latest(owner?: string): Promise<JobDoc | null> {
    return this.c.jobs.findOne(owner ? { owner } : {}, { sort: { createdAt: -1 } });
  }

  async list(filter: JobListFilter, limit: number, offset: number): Promise<{ jobs: JobDoc[]; total: number }> {
    const q: Filter<JobDoc> = {};
    if (filter.owner) q.owner = filter.owner;
    if (filter.kind) q.kind = filter.kind as JobDoc['kind'];
    if (filter.status) q.status = filter.status;
    if (filter.model) q.models = filter.model;
    if (filter.batchId) q['analysis.batchId'] = filter.batchId;
    const [jobs, total] = await Promise.all([
      this.c.jobs.find(q, { sort: { createdAt: -1 }, skip: offset, limit, projection: { plan: 0 } }).toArray(),
      this.c.jobs.countDocuments(q),
    ]);
    return { jobs, total };
  }

  /** Moves a job to `status` unless it already ended; returns whether it moved. */
  async setStatus(jobId: string, status: JobStatus, extra: Partial<JobDoc> = {}): Promise<boolean> {
    const now = new Date();
    const r = await this.c.jobs.updateOne(
      { _id: jobId, status: { $nin: [...TERMINAL_JOB_STATUSES] } },
      { $set: { ...extra, status, updatedAt: now } },
    );
    return r.modifiedCount > 0;
  }

  /** Sets fields of an analysis job's `analysis` block without touching its status. */
  async updateAnalysis(jobId: string, patch: Partial<AnalysisJobInfo>): Promise<void> {
    const set: Record<string, unknown> = { updatedAt: new Date() };
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) set[`analysis.${k}`] = v;
    await this.c.jobs.updateOne({ _id: jobId }, { $set: set });
  }

  /** Puts an ended analysis job back to pending for another run; the previous run's outcome is cleared. */
  async resetForRetry(jobId: string, runs: number): Promise<void> {
    await this.c.jobs.updateOne(
      { _id: jobId },
      {
        $set: { status: 'pending', updatedAt: new Date(), 'analysis.runs': runs, 'analysis.stage': 'queued' },
        $unset: {
          completedAt: '',
          error: '',
          'analysis.errorType': '',
          'analysis.manifest': '',
          'analysis.usage': '',
          'analysis.exitCode': '',
        },
      },
    );
  }

  async markRunning(jobId: string): Promise<void> {
    const now = new Date();
    await this.c.jobs.updateOne(
      { _id: jobId, status: 'pending' },
      { $set: { status: 'running', startedAt: now, updatedAt: now } },
    );
  }

  async finish(jobId: string, status: JobStatus, summary: ModelDayCounts, error?: string): Promise<void> {
    const now = new Date();
    await this.c.jobs.updateOne(
      { _id: jobId },
      { $set: { status, summary, completedAt: now, updatedAt: now, ...(error ? { error } : {}) } },
    );
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
    entries: Array<{ model: string; date: IsoDate }>,
    status: ModelDayStatus,
    error?: string,
  ) {
    if (entries.length === 0) return;
    await this.c.modelDays
      .bulkWrite(
        entries.map(({ model, date }) => ({
          updateOne: {
            filter: { _id: modelDayId(jobId, model, date), status: { $in: ['pending', 'running'] } },
            update: { $set: { status, ...(error ? { error } : {}) }, $setOnInsert: { jobId, model, date } },
            upsert: true,
          },
        })),
        { ordered: false },
      )
      .catch((err: { code?: number }) => {
        // A record that already ended does not match the filter, so its upsert collides with it: that is fine.
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
