import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { ParentClosePolicy, proxyActivities, startChild, uuid4, workflowInfo } from '@temporalio/workflow';
import type { ScheduleActivities } from '../activities/schedules.js';
import { analysisWorkflowId } from '../jobs/records.js';
import { analysisBatchWorkflow } from './analysis.js';
import {
  type AnalysisInput,
  BOOKKEEPING_RETRY,
  JOB_KIND,
  SYMBOLS,
  USER_ID,
  WORKER_SILENCE_TIMEOUT,
} from './definitions.js';
import type {
  DailyReportsInput,
  DailyReportsOutcome,
  SimulationCatchUpInput,
  SimulationCatchUpOutcome,
} from './scheduleContract.js';

const ALL_ANALYSTS = ['market', 'news', 'fundamentals', 'sentiment'] as const;

const { checkMarketDay, writeDailyDigest, triggerSimulationCatchUp } = proxyActivities<ScheduleActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: WORKER_SILENCE_TIMEOUT,
  retry: BOOKKEEPING_RETRY,
});

/** Set by Temporal on every workflow a schedule starts: the action's nominal time (a backfill's too). */
const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);
const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

/**
 * The instant this run stands for: the schedule's nominal time (so a backfilled day is that day, not
 * today), else, started by hand, the run's start. Both come from the history: replay sees the same.
 */
function scheduledInstant(): { at: string; scheduleId: string } {
  const info = workflowInfo();
  const typed = info.typedSearchAttributes.get(SCHEDULED_START);
  const legacy = (info.searchAttributes?.TemporalScheduledStartTime as unknown[] | undefined)?.[0];
  const raw = typed ?? legacy;
  const at = raw instanceof Date ? raw : raw ? new Date(String(raw)) : info.runStartTime;
  const by = info.typedSearchAttributes.get(SCHEDULED_BY);
  const legacyBy = (info.searchAttributes?.TemporalScheduledById as unknown[] | undefined)?.[0];
  return { at: at.toISOString(), scheduleId: String(by ?? legacyBy ?? info.workflowId) };
}

/**
 * The daily pre-market reports of a watchlist (seed 1's 08:30 America/New_York, Monday to Friday). The
 * first step asks the exchange calendar: a holiday or a special closure ends the run `skipped` with its
 * reason. Otherwise one analysis per ticker runs as a child of one batch (the batch `POST /run` starts),
 * then the digest of the day's decisions and one report per sector are written.
 */
export async function dailyReportsWorkflow(input: DailyReportsInput): Promise<DailyReportsOutcome> {
  const { at, scheduleId } = scheduledInstant();
  const day = await checkMarketDay({ at });
  if (!day.open && input.skipClosedDays) {
    return { status: 'skipped', date: day.date, reason: day.reason ?? 'NYSE closed' };
  }
  const info = workflowInfo();
  // Not from the workflow id: a replay (or a reset run) under another id still starts the same child.
  const batchId = `batch-daily-${day.date}-${uuid4().slice(0, 8)}`;
  const createdAt = info.runStartTime.toISOString();
  const { sandbox, ...options } = input.analysis;
  const tickers = [...new Map(input.watchlist.map((w) => [w.ticker, w])).values()];
  const jobs = tickers.map(({ ticker, sector }) => {
    const jobId = uuid4();
    const job: AnalysisInput & { workflowId: string } = {
      jobId,
      owner: input.owner,
      run: 1,
      options,
      workflowId: analysisWorkflowId(jobId),
      seed: {
        spec: {
          ticker,
          company: ticker,
          pipeline: input.pipeline,
          asOf: day.asOf,
          analysts: input.analysts ?? [...ALL_ANALYSTS],
          debateRounds: input.debateRounds,
          riskRounds: input.riskRounds,
          llm: input.llm,
          sandbox,
          runDir: `analysis/${input.owner.replace(/[^A-Za-z0-9._@-]/g, '_')}/${ticker}/${day.asOf}_${jobId}`,
          batchId,
        },
        request: { schedule_id: scheduleId, date: day.date, ticker, sector, pipeline: input.pipeline },
        createdAt,
        ...(input.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
      },
    };
    return job;
  });
  const batch = await startChild(analysisBatchWorkflow, {
    workflowId: batchId,
    args: [{ batchId, jobs }],
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    typedSearchAttributes: [
      { key: JOB_KIND, value: 'analysis-batch' },
      { key: USER_ID, value: input.owner },
      { key: SYMBOLS, value: tickers.map((t) => t.ticker) },
    ],
  });
  const outcomes = await batch.result();
  return writeDailyDigest({
    date: day.date,
    asOf: day.asOf,
    batchId,
    scheduleId,
    watchlist: tickers,
    jobs: jobs.map((j, i) => ({
      jobId: j.jobId,
      ticker: tickers[i]!.ticker,
      sector: tickers[i]!.sector,
      status: outcomes[i]?.status ?? 'failed',
      ...(outcomes[i]?.error ? { error: outcomes[i]!.error } : {}),
    })),
  });
}

/**
 * The daily simulation catch-up after the close: on a trading day, what `POST /simulate/trigger` with no
 * dates does (each model from the day after its last simulated day), keyed by this run so a retry finds
 * the job it started. A day the exchange is closed ends `skipped` with its reason.
 */
export async function simulationCatchUpWorkflow(input: SimulationCatchUpInput): Promise<SimulationCatchUpOutcome> {
  const { at } = scheduledInstant();
  const day = await checkMarketDay({ at });
  if (!day.open && input.skipClosedDays) {
    return { status: 'skipped', date: day.date, reason: day.reason ?? 'NYSE closed' };
  }
  return triggerSimulationCatchUp({
    idempotencyKey: `schedule:${workflowInfo().workflowId}`,
    ...(input.owner ? { owner: input.owner } : {}),
    date: day.date,
    ...(input.models ? { models: input.models } : {}),
    ...(input.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
  });
}
