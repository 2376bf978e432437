import {
  type Client,
  isGrpcServiceError,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type ScheduleOptions,
  type ScheduleOverlapPolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { ModelRegistry } from '../../config/models.js';
import { endOfDayIn, startOfDayIn } from '../../trading/marketDay.js';
import { JOB_KIND, USER_ID } from '../../workflows/definitions.js';
import {
  type DailyReportsInput,
  SCHEDULED_WORKFLOWS,
  type SimulationCatchUpInput,
} from '../../workflows/scheduleContract.js';
import type { AnalysisService } from '../analysis/service.js';
import { ApiError } from '../http/errors.js';
import { type CreateScheduleRequest, InvalidScheduleError, type OverlapPolicy, toScheduleSpec } from './spec.js';

/** The memo key holding the request a schedule was made from: GET answers with it, as the client wrote it. */
const MEMO_KEY = 'tradeflow_schedule';
/** Days a backfill may cover: each day may start a batch of analyses. */
export const MAX_BACKFILL_DAYS = 400;
/** Runs one `GET /schedules/{id}/runs` lists at most (each ended one is read for its result). */
export const MAX_RUNS = 50;

export interface ScheduleServiceDeps {
  temporal: Client;
  /** The queue the scheduled workflows run on (the orchestrator's). */
  taskQueue: string;
  /** How analyses run, as this API's settings say (frozen into a daily-reports schedule's action). */
  analysis: () => DailyReportsInput['analysis'];
  /** Refuses (ApiError) an action naming an unknown LLM model or ticker, before the schedule exists. */
  checkAction?: (action: CreateScheduleRequest['action']) => Promise<void>;
  temporalUiUrl?: string;
  namespace: string;
}

const overlap = (p: OverlapPolicy) => p.toUpperCase() as ScheduleOverlapPolicy;
const lower = (p: string | undefined) => (p ? p.toLowerCase() : undefined);

/** Temporal's answer to a spec it refuses (INVALID_ARGUMENT): a 422 with its words. */
function mapTemporalError(err: unknown, scheduleId: string): never {
  if (err instanceof ScheduleNotFoundError) throw new ApiError('not_found', `no schedule ${scheduleId}`);
  if (err instanceof ScheduleAlreadyRunning) {
    throw new ApiError('conflict', `schedule ${scheduleId} exists already`, { schedule_id: scheduleId });
  }
  const cause = (err as { cause?: unknown })?.cause ?? err;
  if (isGrpcServiceError(cause) && cause.code === 3) {
    throw new ApiError('invalid_schedule', `Temporal refused the schedule: ${cause.details || cause.message}`);
  }
  if (isGrpcServiceError(cause) && cause.code === 5) throw new ApiError('not_found', `no schedule ${scheduleId}`);
  throw err;
}

export class ScheduleService {
  constructor(private readonly d: ScheduleServiceDeps) {}

  private webUi(scheduleId: string) {
    if (!this.d.temporalUiUrl) return undefined;
    return `${this.d.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(this.d.namespace)}/schedules/${encodeURIComponent(scheduleId)}`;
  }

  /** What Temporal gets for a request: checked first, so a bad spec never reaches it half-made. */
  options(owner: string, req: CreateScheduleRequest): ScheduleOptions {
    let spec: ScheduleOptions['spec'];
    try {
      spec = toScheduleSpec(req.spec, req.time_zone);
    } catch (err) {
      if (err instanceof InvalidScheduleError) throw new ApiError('invalid_schedule', err.message);
      throw err;
    }
    const a = req.action;
    const args: [DailyReportsInput] | [SimulationCatchUpInput] =
      a.kind === 'daily_reports'
        ? [
            {
              owner,
              watchlist: a.watchlist,
              pipeline: a.pipeline,
              llm: a.llm,
              ...(a.analysts ? { analysts: a.analysts } : {}),
              debateRounds: a.debate_rounds,
              riskRounds: a.risk_rounds,
              skipClosedDays: a.skip_closed_days,
              ...(a.callback_url ? { callbackUrl: a.callback_url } : {}),
              analysis: this.d.analysis(),
            },
          ]
        : [
            {
              owner,
              ...(a.models ? { models: a.models } : {}),
              skipClosedDays: a.skip_closed_days,
              ...(a.callback_url ? { callbackUrl: a.callback_url } : {}),
            },
          ];
    return {
      scheduleId: req.schedule_id,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: SCHEDULED_WORKFLOWS[a.kind],
        // Temporal appends each action's nominal time to this prefix.
        workflowId: req.schedule_id,
        taskQueue: this.d.taskQueue,
        args,
        typedSearchAttributes: [
          { key: JOB_KIND, value: a.kind === 'daily_reports' ? 'daily-reports' : 'simulation-catch-up' },
          { key: USER_ID, value: owner },
        ],
        staticSummary:
          a.kind === 'daily_reports'
            ? `daily reports of ${a.watchlist.map((w) => w.ticker).join(', ')}`
            : 'simulation catch-up',
      },
      policies: { overlap: overlap(req.overlap_policy), catchupWindow: req.catchup_window_s * 1000 },
      state: { paused: req.paused, ...(req.note ? { note: req.note } : {}) },
      memo: { [MEMO_KEY]: { ...req, owner } },
    };
  }

  async create(owner: string, req: CreateScheduleRequest) {
    const options = this.options(owner, req);
    await this.d.checkAction?.(req.action);
    try {
      await this.d.temporal.schedule.create(options);
    } catch (err) {
      mapTemporalError(err, req.schedule_id);
    }
    return this.get(req.schedule_id);
  }

  /** Who made a schedule through this API (null: made elsewhere, e.g. the Web UI or the CLI). */
  async ownerOf(scheduleId: string): Promise<string | null> {
    const d = await this.d.temporal.schedule
      .getHandle(scheduleId)
      .describe()
      .catch((err) => mapTemporalError(err, scheduleId));
    return (d.memo?.[MEMO_KEY] as { owner?: string } | undefined)?.owner ?? null;
  }

  /**
   * Tradeflow's own schedules (those made through this API), with what Temporal says of each; with an
   * owner, only that owner's (schedules made elsewhere have none and are an admin's to see).
   */
  async list(limit: number, owner?: string) {
    const out = [];
    for await (const s of this.d.temporal.schedule.list({ pageSize: 100 })) {
      const request = s.memo?.[MEMO_KEY] as (CreateScheduleRequest & { owner: string }) | undefined;
      if (owner !== undefined && request?.owner !== owner) continue;
      out.push({
        schedule_id: s.scheduleId,
        managed: request !== undefined,
        action: request?.action.kind ?? null,
        description: request?.description ?? null,
        time_zone: request?.time_zone ?? null,
        workflow_type: s.action?.workflowType ?? null,
        paused: s.state.paused,
        note: s.state.note ?? null,
        next_action_times: s.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
        recent_actions: s.info.recentActions.slice(-3).map(actionView),
        web_ui: this.webUi(s.scheduleId) ?? null,
      });
      if (out.length >= limit) break;
    }
    return out.sort((a, b) => a.schedule_id.localeCompare(b.schedule_id));
  }

  async get(scheduleId: string) {
    const d = await this.d.temporal.schedule
      .getHandle(scheduleId)
      .describe()
      .catch((err) => mapTemporalError(err, scheduleId));
    const request = d.memo?.[MEMO_KEY] as (CreateScheduleRequest & { owner: string }) | undefined;
    return {
      schedule_id: d.scheduleId,
      managed: request !== undefined,
      description: request?.description ?? null,
      spec: request?.spec ?? null,
      time_zone: request?.time_zone ?? d.spec.timezone ?? null,
      action: request?.action ?? null,
      workflow_type: d.action.workflowType,
      task_queue: d.action.taskQueue,
      overlap_policy: lower(d.policies.overlap) ?? null,
      catchup_window_s: Math.round(d.policies.catchupWindow / 1000),
      paused: d.state.paused,
      note: d.state.note ?? null,
      next_action_times: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
      recent_actions: d.info.recentActions.map(actionView),
      running: d.info.runningActions.map((r) => r.workflow.workflowId),
      actions_taken: d.info.numActionsTaken,
      actions_skipped_overlap: d.info.numActionsSkippedOverlap,
      actions_missed_catchup_window: d.info.numActionsMissedCatchupWindow,
      created_at: d.info.createdAt.toISOString(),
      updated_at: d.info.lastUpdatedAt?.toISOString() ?? null,
      web_ui: this.webUi(d.scheduleId) ?? null,
    };
  }

  private handle(scheduleId: string) {
    return this.d.temporal.schedule.getHandle(scheduleId);
  }

  async pause(scheduleId: string, note?: string) {
    await this.handle(scheduleId)
      .pause(note ?? 'paused through the API')
      .catch((err) => mapTemporalError(err, scheduleId));
    return this.get(scheduleId);
  }

  async resume(scheduleId: string, note?: string) {
    await this.handle(scheduleId)
      .unpause(note ?? 'resumed through the API')
      .catch((err) => mapTemporalError(err, scheduleId));
    return this.get(scheduleId);
  }

  async trigger(scheduleId: string, policy?: OverlapPolicy) {
    await this.handle(scheduleId)
      .trigger(policy ? overlap(policy) : undefined)
      .catch((err) => mapTemporalError(err, scheduleId));
  }

  /**
   * Runs the actions the spec would have taken in [start, end]: dates are whole days in the schedule's
   * time zone (end included), instants are taken as written.
   */
  async backfill(scheduleId: string, start: string, end: string, policy: OverlapPolicy) {
    const current = await this.get(scheduleId);
    const zone = current.time_zone ?? 'UTC';
    const isDate = (s: string) => s.length === 10;
    const startAt = isDate(start) ? startOfDayIn(start, zone) : new Date(start);
    const endAt = isDate(end) ? endOfDayIn(end, zone) : new Date(end);
    if (endAt <= startAt) throw new ApiError('validation_error', `end ${end} is not after start ${start}`);
    if (endAt.getTime() - startAt.getTime() > MAX_BACKFILL_DAYS * 86_400_000) {
      throw new ApiError('validation_error', `a backfill covers at most ${MAX_BACKFILL_DAYS} days`);
    }
    await this.handle(scheduleId)
      .backfill({ start: startAt, end: endAt, overlap: overlap(policy) })
      .catch((err) => mapTemporalError(err, scheduleId));
    return { start_at: startAt.toISOString(), end_at: endAt.toISOString(), time_zone: zone };
  }

  async delete(scheduleId: string) {
    await this.handle(scheduleId)
      .delete()
      .catch((err) => mapTemporalError(err, scheduleId));
  }

  /**
   * The digest of one run of a daily-reports schedule: 409 while it runs, 404 (with the reason) for a
   * run that was skipped or wrote none.
   */
  async digest(scheduleId: string, workflowId: string): Promise<RunDigest> {
    // Temporal names each run `<schedule id>-<nominal time>`: a run of another schedule is not this one's.
    if (!workflowId.startsWith(`${scheduleId}-`)) {
      throw new ApiError('not_found', `${workflowId} is not a run of schedule ${scheduleId}`);
    }
    const handle = this.d.temporal.workflow.getHandle(workflowId);
    const status = await handle.describe().then(
      (d) => d.status.name,
      (err) => {
        if (err instanceof WorkflowNotFoundError) throw new ApiError('not_found', `no run ${workflowId}`);
        throw err;
      },
    );
    if (status === 'RUNNING') throw new ApiError('not_completed', `run ${workflowId} is still running`);
    if (status !== 'COMPLETED') {
      throw new ApiError('file_not_available', `run ${workflowId} ended ${status.toLowerCase()}: it wrote no digest`);
    }
    const result = (await handle.result()) as { status?: string; reason?: string; digest?: RunDigest } | null;
    if (!result?.digest) {
      const why = result?.status === 'skipped' ? `it was skipped: ${result.reason}` : 'it is not a daily-reports run';
      throw new ApiError('file_not_available', `run ${workflowId} has no digest: ${why}`);
    }
    return result.digest;
  }

  /** The workflows the schedule started, newest first, with each ended one's result (a skip and its reason, the batch's status). */
  async runs(scheduleId: string, limit: number) {
    await this.get(scheduleId);
    const out = [];
    const query = `TemporalScheduledById = '${scheduleId.replace(/'/g, '')}'`;
    for await (const w of this.d.temporal.workflow.list({ query, pageSize: limit })) {
      const scheduledAt = w.typedSearchAttributes?.getAll().find((p) => p.key.name === 'TemporalScheduledStartTime')
        ?.value as Date | undefined;
      const ended = w.status.name === 'COMPLETED';
      out.push({
        workflow_id: w.workflowId,
        run_id: w.runId,
        workflow_type: w.type,
        status: w.status.name.toLowerCase(),
        scheduled_at: scheduledAt instanceof Date ? scheduledAt.toISOString() : null,
        started_at: w.startTime.toISOString(),
        closed_at: w.closeTime?.toISOString() ?? null,
        result: ended
          ? await this.d.temporal.workflow
              .getHandle(w.workflowId, w.runId)
              .result()
              .catch(() => null)
          : null,
      });
      if (out.length >= limit) break;
    }
    return out;
  }
}

/** A completed daily-reports run's digest files, relative to the data directory. */
export interface RunDigest {
  markdown: string;
  pdf: string;
}

function actionView(a: { scheduledAt: Date; takenAt: Date; action: { workflow: { workflowId: string } } }) {
  return {
    scheduled_at: a.scheduledAt.toISOString(),
    taken_at: a.takenAt.toISOString(),
    workflow_id: a.action.workflow.workflowId,
  };
}

/**
 * What a schedule's action names, checked as a request naming it now would be: a daily-reports
 * watchlist against the market data and LLM models (`POST /run`'s checks), catch-up models against the
 * configured ones. A bad name is refused when the schedule is made, not every day it fires.
 */
export function actionCheck(
  analyses: Pick<AnalysisService, 'validate'>,
  models: Pick<ModelRegistry, 'get' | 'list'>,
): (action: CreateScheduleRequest['action']) => Promise<void> {
  return async (action) => {
    if (action.kind === 'daily_reports') {
      await analyses.validate(
        action.watchlist.map((w) => ({
          ticker: w.ticker,
          pipeline: action.pipeline,
          llm: action.llm,
          debateRounds: action.debate_rounds,
          riskRounds: action.risk_rounds,
          raw: action,
        })),
      );
      return;
    }
    const unknown = (action.models ?? []).filter((m) => !models.get(m));
    if (unknown.length) {
      throw new ApiError('unknown_model', `no configured model ${unknown.join(', ')}`, {
        available: models.list().map((m) => m.id),
      });
    }
  };
}
