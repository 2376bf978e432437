// In-memory implementations of the store interfaces, for the unit layer: the same contracts as the
// MongoDB ones (test/support/storeContracts.ts runs the same checks against both), nothing started.
import type { JobEventDraft } from '../../jobs/events.js';
import {
  ANALYSIS_LIFECYCLE,
  type JobKind,
  lifecycleOf,
  type ModelDayStatus,
  OPEN_MODEL_DAY_STATUSES,
  type StatusOfKind,
} from '../../jobs/lifecycle.js';
import type { JobDoc } from '../../jobs/records.js';
import { type JobEventDoc, type JobEventLog, type PageOptions, pageOfSlots } from '../../storage/jobEvents.js';
import {
  type AnalysisProgressFields,
  endedRun,
  type JobListFilter,
  type JobStore,
  modelDayId,
  type TransitionFields,
} from '../../storage/jobStore.js';
import { type DayValue, dayValueOf } from '../../storage/ledgerSummaries.js';
import type { TradingDayQuery, TradingDayReader } from '../../storage/tradingDays.js';
import type { ModelDayDoc, TradingDayDoc } from '../../storage/types.js';

const copy = <T>(v: T): T => structuredClone(v);

export class MemoryJobStore implements JobStore {
  readonly docs = new Map<string, JobDoc>();
  private readonly keys = new Map<string, string>();
  private readonly days = new Map<string, ModelDayDoc>();
  /** Reads served, for tests that check what a path costs the database. */
  reads = 0;

  async insertIfAbsent(job: JobDoc): Promise<boolean> {
    if (this.docs.has(job._id)) return false;
    this.docs.set(job._id, copy(job));
    return true;
  }

  async get(jobId: string): Promise<JobDoc | null> {
    this.reads += 1;
    const job = this.docs.get(jobId);
    return job ? copy(job) : null;
  }

  async rememberKey(owner: string, idempotencyKey: string, jobId: string): Promise<void> {
    this.keys.set(`${owner}|${idempotencyKey}`, jobId);
  }

  async keyHolder(owner: string, idempotencyKey: string) {
    const jobId = this.keys.get(`${owner}|${idempotencyKey}`);
    return jobId ? { jobId, job: await this.get(jobId) } : null;
  }

  async latest(owner: string, kind: JobKind): Promise<JobDoc | null> {
    const mine = [...this.docs.values()].filter((j) => j.owner === owner && j.kind === kind);
    mine.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    return mine[0] ? copy(mine[0]) : null;
  }

  async countInStatuses(owner: string, statuses: readonly string[]) {
    return [...this.docs.values()].filter((j) => j.owner === owner && statuses.includes(j.status)).length;
  }

  async list(filter: JobListFilter, limit: number, offset: number) {
    const all = [...this.docs.values()]
      .filter(
        (j) =>
          (!filter.owner || j.owner === filter.owner) &&
          (!filter.kind || j.kind === filter.kind) &&
          (!filter.status || j.status === filter.status) &&
          (!filter.model || j.models.includes(filter.model)) &&
          (!filter.batchId || (j.kind === 'analysis' && j.analysis.batchId === filter.batchId)),
      )
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    return { jobs: all.slice(offset, offset + limit).map(copy), total: all.length };
  }

  async transition<K extends JobKind>(
    kind: K,
    jobId: string,
    to: StatusOfKind[K],
    fields: TransitionFields = {},
    run?: number,
  ): Promise<boolean> {
    const job = this.docs.get(jobId);
    if (!job || job.kind !== kind) return false;
    if (!(lifecycleOf(kind).sourcesOf(to) as string[]).includes(job.status)) return false;
    if (run !== undefined && job.kind === 'analysis' && job.analysis.runs !== run) return false;
    const { errorType, ...rest } = fields;
    Object.assign(job, copy(rest), { status: to, updatedAt: new Date() });
    if (errorType && job.kind === 'analysis') job.analysis.errorType = errorType;
    return true;
  }

  private readonly openers = new Map<string, string>();

  async rerun(jobId: string, run: number, opener: string): Promise<boolean> {
    const job = this.docs.get(jobId);
    if (job?.kind !== 'analysis') return false;
    const key = `${jobId}|${run}`;
    if ((this.openers.get(key) ?? opener) !== opener) return false;
    this.openers.set(key, opener);
    if (job.analysis.runs === run) return true;
    if (job.analysis.runs !== run - 1 || !ANALYSIS_LIFECYCLE.isRetryable(job.status)) return false;
    const ended = endedRun(job);
    const { startedAt: _s, completedAt: _c, error: _e, ...rest } = job;
    const {
      errorType: _t,
      manifest: _m,
      usage: _u,
      exitCode: _x,
      attempts: _a,
      firstOutputMs: _f,
      ...info
    } = job.analysis;
    this.docs.set(jobId, {
      ...rest,
      status: 'pending',
      updatedAt: new Date(),
      analysis: { ...info, runs: run, stage: 'queued', history: [...(info.history ?? []), ended] },
    });
    return true;
  }

  async updateAnalysis(jobId: string, run: number, patch: AnalysisProgressFields): Promise<void> {
    const job = this.docs.get(jobId);
    if (job?.kind !== 'analysis' || job.analysis.runs !== run) return;
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) Object.assign(job.analysis, { [k]: copy(v) });
    job.updatedAt = new Date();
  }

  async setModelDay(
    jobId: string,
    model: string,
    date: string,
    status: ModelDayStatus,
    patch: Partial<ModelDayDoc> = {},
  ) {
    const _id = modelDayId(jobId, model, date);
    const existing = this.days.get(_id) ?? { _id, jobId, model, date, status };
    this.days.set(_id, { ...existing, ...copy(patch), status });
  }

  async recordModelDays(
    jobId: string,
    entries: ReadonlyArray<{ model: string; date: string; status: ModelDayStatus; patch?: Partial<ModelDayDoc> }>,
  ) {
    for (const e of entries) await this.setModelDay(jobId, e.model, e.date, e.status, e.patch ?? {});
  }

  async markModelDaysMany(
    jobId: string,
    entries: ReadonlyArray<{ model: string; date: string }>,
    status: ModelDayStatus,
    error?: string,
  ) {
    for (const { model, date } of entries) {
      const _id = modelDayId(jobId, model, date);
      const existing = this.days.get(_id);
      if (existing && !OPEN_MODEL_DAY_STATUSES.includes(existing.status)) continue;
      this.days.set(_id, { ...(existing ?? { _id, jobId, model, date }), status, ...(error ? { error } : {}) });
    }
  }

  async modelDaysByKeys(jobId: string, keys: ReadonlyArray<{ model: string; date: string }>) {
    const out = new Map<string, ModelDayDoc>();
    for (const k of keys) {
      const d = this.days.get(modelDayId(jobId, k.model, k.date));
      if (d) out.set(`${k.model}|${k.date}`, copy(d));
    }
    return out;
  }

  async modelDays(jobId: string): Promise<ModelDayDoc[]> {
    return [...this.days.values()]
      .filter((d) => d.jobId === jobId)
      .sort((a, b) => a.date.localeCompare(b.date) || a.model.localeCompare(b.model))
      .map(copy);
  }
}

export class MemoryJobEvents implements JobEventLog {
  /** Each job's numbered slots; null is a number handed out but not written (a writer mid-write, or gone). */
  private readonly events = new Map<string, Array<JobEventDoc | null>>();
  private readonly keys = new Set<string>();
  /** Lookups served, for tests that check what an idle stream costs. */
  reads = 0;

  async append(jobId: string, event: JobEventDraft): Promise<number | null> {
    if (event.key) {
      if (this.keys.has(`${jobId}|${event.key}`)) return null;
      this.keys.add(`${jobId}|${event.key}`);
    }
    const seq = this.reserve(jobId);
    this.fill(jobId, seq, event);
    return seq;
  }

  /** Hands out the next number without writing its event, as a writer does between the two. */
  reserve(jobId: string): number {
    const list = this.events.get(jobId) ?? [];
    list.push(null);
    this.events.set(jobId, list);
    return list.length;
  }

  /** Writes the event of a reserved number. */
  fill(jobId: string, seq: number, event: JobEventDraft, at = new Date()): void {
    const list = this.events.get(jobId) ?? [];
    list[seq - 1] = {
      _id: `${jobId}|${seq}`,
      jobId,
      seq,
      type: event.type,
      data: copy(event.data) as unknown as Record<string, unknown>,
      at,
    };
    this.events.set(jobId, list);
  }

  async appendMany(jobId: string, events: readonly JobEventDraft[]): Promise<void> {
    for (const e of events) await this.append(jobId, e);
  }

  async get(jobId: string, seq: number): Promise<JobEventDoc | null> {
    this.reads += 1;
    return this.events.get(jobId)?.[seq - 1] ?? null;
  }

  async lastSeq(jobId: string): Promise<number> {
    this.reads += 1;
    return this.events.get(jobId)?.length ?? 0;
  }

  async page(jobId: string, afterSeq: number, limit: number, options: PageOptions = {}): Promise<JobEventDoc[]> {
    this.reads += 1;
    return pageOfSlots((this.events.get(jobId) ?? []).slice(afterSeq), limit, options);
  }

  all(jobId: string): JobEventDoc[] {
    return (this.events.get(jobId) ?? []).filter((e): e is JobEventDoc => e !== null);
  }
}

export class MemoryTradingDays implements TradingDayReader {
  readonly days: TradingDayDoc[] = [];

  /** As the real store: each day once by owner, model and date; how many were new. */
  async insertMany(docs: readonly TradingDayDoc[]): Promise<number> {
    let written = 0;
    for (const doc of docs) {
      if (await this.dayOf(doc.owner, doc.model, doc.date)) continue;
      this.days.push(copy(doc));
      written += 1;
    }
    return written;
  }

  get(owner: string, model: string, date: string) {
    return this.dayOf(owner, model, date);
  }

  async dayOf(owner: string, model: string, date: string) {
    const d = this.days.find((x) => x.owner === owner && x.model === model && x.date === date);
    return d ? copy(d) : null;
  }

  async values(owner: string, model: string, from: string, to: string): Promise<DayValue[]> {
    return (await this.find({ owner, models: [model], from, to, full: false })).map(dayValueOf);
  }

  async lastDate(owner: string, model: string) {
    return (
      this.days
        .filter((d) => d.owner === owner && d.model === model)
        .map((d) => d.date)
        .sort()
        .at(-1) ?? null
    );
  }

  async find(q: TradingDayQuery): Promise<TradingDayDoc[]> {
    return this.days
      .filter(
        (d) =>
          d.owner === q.owner &&
          d.date >= q.from &&
          d.date <= q.to &&
          (!q.models || q.models.includes(d.model)) &&
          (!q.jobId || d.jobId === q.jobId),
      )
      .sort((a, b) => a.date.localeCompare(b.date) || a.model.localeCompare(b.model))
      .map(copy);
  }
}
