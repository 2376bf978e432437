// `npm run bench`: 10 built-in-strategy models over the 2025 daily NASDAQ-100 data in ../shared/data,
// on a private Temporal dev server and FerretDB. Prints wall time, model-days per second, and the ratio
// of wall time to the ideal date-sequential time when every agent call takes a fixed delay.
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { binariesFromEnv, type LocalStack, startLocalStack } from '../devstack/stack.js';
import { DAILY_H1, DAILY_H2 } from '../test/paths.js';
import { type Harness, startService } from '../test/service.js';
import { tradingDaysBetween } from '../trading/calendar.js';
import { analysisBenchmark } from './analysis.js';
import { API_BACKGROUND_MODELS, API_BENCH_MODELS, apiBenchmark, compareBenchmark, tearSheetBenchmark } from './api.js';
import { realtimeBenchmark } from './realtime.js';
import { smallJobsBenchmark } from './smallJobs.js';
import { streamBenchmark } from './streams.js';
import { startWorkerProcesses } from './workerProcesses.js';

const START = '2025-01-02';
const END = '2025-10-30';
const DELAY_MS = Number(process.env.BENCH_AGENT_DELAY_MS ?? 200);
const MODEL_COUNT = 10;

function models(delayMs: number) {
  const strategies = ['buy-and-hold', 'momentum', 'mean-reversion'] as const;
  return {
    models: [...API_BENCH_MODELS, ...API_BACKGROUND_MODELS, ...benchModels(delayMs, strategies)],
  };
}

function benchModels(delayMs: number, strategies: readonly string[]) {
  return Array.from({ length: MODEL_COUNT }, (_, i) => ({
    id: `bench-${i}`,
    strategy: strategies[i % 3],
    params: {
      ...(i % 3 === 0 ? {} : { lookback: 5 + i }),
      ...(delayMs ? { decision_delay_ms: delayMs } : {}),
    },
  }));
}
const BENCH_MODEL_IDS = Array.from({ length: MODEL_COUNT }, (_, i) => `bench-${i}`);

type HistoryEvent = Record<string, any>;

const eventMs = (e: HistoryEvent) => {
  const t = e.eventTime as { seconds?: { toNumber(): number } | number; nanos?: number } | undefined;
  const sec = typeof t?.seconds === 'number' ? t.seconds : (t?.seconds?.toNumber() ?? 0);
  return sec * 1000 + (t?.nanos ?? 0) / 1e6;
};
const eventId = (v: unknown) => String((v as { toString(): string } | undefined)?.toString() ?? v);

/** Each activity of a history by type: when it was scheduled, started and completed, and by which task. */
function activitiesOf(events: HistoryEvent[]) {
  const all = new Map<
    string,
    { type: string; batch: string; scheduled: number; started?: number; completed?: number }
  >();
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s)
      all.set(eventId(e.eventId), {
        type: s.activityType?.name,
        batch: eventId(s.workflowTaskCompletedEventId),
        scheduled: eventMs(e),
      });
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const a = all.get(eventId(started.scheduledEventId));
      if (a) a.started = eventMs(e);
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const a = all.get(eventId(done.scheduledEventId));
      if (a) a.completed = eventMs(e);
    }
  }
  return [...all.values()];
}

const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * Where a date's time goes, from every run's history: the model-days a workflow task scheduled together
 * (one `computeDate`, or a date's `computeModelDay`s in runs from before it) are one date. Dispatch is
 * schedule to the last start, the completion is the last completion beyond the agent's delay, the gap is
 * the last completion to the next date's schedule; the commit lag is a commit's schedule to completion.
 * Apart: a job's fixed costs (its start, each continue-as-new's hand-over, its finish) and the workflow
 * tasks per date.
 */
function budgetOf(histories: HistoryEvent[][], delayMs: number) {
  const MODEL_DAY = new Set(['computeModelDay', 'computeDate']);
  const dates: Array<{ scheduled: number; lastStart: number; lastDone: number }> = [];
  const commits: number[] = [];
  let workflowTasks = 0;
  let startMs = 0;
  let finishMs = 0;
  const handOvers: number[] = [];
  let previousRunEnd: number | undefined;
  for (const events of histories) {
    const acts = activitiesOf(events);
    workflowTasks += events.filter((e) => e.workflowTaskCompletedEventAttributes).length;
    const batches = new Map<string, typeof acts>();
    for (const a of acts) if (MODEL_DAY.has(a.type)) batches.set(a.batch, [...(batches.get(a.batch) ?? []), a]);
    const runDates = [...batches.values()]
      .filter((b) => b.every((a) => a.started !== undefined && a.completed !== undefined))
      .map((b) => ({
        scheduled: Math.min(...b.map((a) => a.scheduled)),
        lastStart: Math.max(...b.map((a) => a.started!)),
        lastDone: Math.max(...b.map((a) => a.completed!)),
      }))
      .sort((a, b) => a.scheduled - b.scheduled);
    dates.push(...runDates);
    for (const a of acts) {
      if (a.completed === undefined) continue;
      if (a.type === 'commitSimulationDate' || a.type === 'commitSimulationDates')
        commits.push(a.completed - a.scheduled);
      if (a.type === 'startSimulationJob') startMs += a.completed - a.scheduled;
      if (a.type === 'finishSimulationJob') finishMs += a.completed - a.scheduled;
    }
    // A continue-as-new's hand-over: the last date of a run to the first date of the next.
    if (previousRunEnd !== undefined && runDates[0]) handOvers.push(runDates[0].scheduled - previousRunEnd);
    previousRunEnd = runDates.at(-1)?.lastDone;
  }
  dates.sort((a, b) => a.scheduled - b.scheduled);
  const gaps = dates
    .slice(1)
    .map((d, i) => d.scheduled - dates[i]!.lastDone)
    .filter((g) => g < 5_000);
  return {
    dates: dates.length,
    runs: histories.length,
    dispatchMs: avg(dates.map((d) => d.lastStart - d.scheduled)),
    lastCompletionBeyondDelayMs: avg(dates.map((d) => d.lastDone - d.scheduled - delayMs)),
    gapToNextDateMs: avg(gaps),
    commitLagMs: avg(commits),
    commitsPerDate: dates.length ? commits.length / dates.length : 0,
    workflowTasksPerDate: dates.length ? workflowTasks / dates.length : 0,
    fixed: { startMs, finishMs, handOverMs: handOvers.reduce((a, b) => a + b, 0), handOvers: handOvers.length },
  };
}

/** Every run of a job's workflow (it continues as new), oldest first, each with its whole history. */
async function runHistories(svc: Harness, jobId: string): Promise<HistoryEvent[][]> {
  const runs: Array<{ runId: string; startTime: Date }> = [];
  for await (const r of svc.temporal.workflow.list({ query: `WorkflowId = '${jobId}'` })) runs.push(r);
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  return Promise.all(
    runs.map(
      async (r) =>
        ((await svc.temporal.workflow.getHandle(jobId, r.runId).fetchHistory()).events ?? []) as HistoryEvent[],
    ),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'tradeflow-bench-'));
let started: LocalStack | undefined;
let cleaning: Promise<void> | undefined;
/** Stops the Temporal dev server and FerretDB this run started; once, whoever asks first. */
const cleanUp = () => {
  cleaning ??= (async () => {
    await started?.stop();
    rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
};
// Ctrl-C, a kill or a crash outside the main flow: the services go first, then the process. Repeated
// signals (the terminal, npm and the set-up each pass Ctrl-C on) wait for the same clean-up.
const exitAfterCleanUp = (code: number) => void cleanUp().finally(() => process.exit(code));
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => exitAfterCleanUp(128 + constants.signals[signal]));
}
process.on('uncaughtException', (err) => {
  console.error(err);
  exitAfterCleanUp(1);
});

const stack = await startLocalStack({
  dataDir: dir,
  ...binariesFromEnv(),
  headless: true,
  temporalInMemory: Boolean(process.env.BENCH_TEMPORAL_IN_MEMORY),
  // An external MongoDB-protocol server to compare with the embedded FerretDB-on-SQLite.
  ...(process.env.BENCH_MONGODB_URI ? { mongoUri: process.env.BENCH_MONGODB_URI } : {}),
  // The embedded FerretDB on a PostgreSQL database instead of SQLite files.
  ...(process.env.TRADEFLOW_FERRETDB_POSTGRES_URL
    ? { ferretdbPostgresUrl: process.env.TRADEFLOW_FERRETDB_POSTGRES_URL }
    : {}),
});
started = stack;

/** A job on the service with `workerProcesses` worker processes, as `npm start` runs its one (0: in the bench's process). */
async function runOnce(delayMs: number, workerProcesses = 1) {
  const svc = await startService({
    models: models(delayMs),
    temporalAddress: stack.temporalAddress,
    mongoUri: stack.mongoUri,
    env: { MARKET_DATA_FILES: `${DAILY_H1},${DAILY_H2}`, MARKET_SYMBOLS: '' },
    simulationConcurrency: MODEL_COUNT * 2,
    worker: workerProcesses === 0,
  });
  const stopWorkers = workerProcesses
    ? await startWorkerProcesses(svc, workerProcesses, MODEL_COUNT * 2)
    : async () => {};
  try {
    const ids = BENCH_MODEL_IDS;
    const t0 = performance.now();
    const res = await svc.api('/simulate/trigger', {
      method: 'POST',
      json: { start_date: START, end_date: END, models: ids },
    });
    if (res.status !== 202) throw new Error(`trigger failed: ${res.status} ${JSON.stringify(res.body)}`);
    const rssBefore = process.memoryUsage().rss;
    // Polls the job record by key: cheap, so the benchmark measures the job, not its own polling.
    let job = await svc.db.collections.jobs.findOne({ _id: res.body.job_id });
    while (job && !['completed', 'partial', 'failed', 'stopped'].includes(job.status)) {
      await new Promise((r) => setTimeout(r, 50));
      job = await svc.db.collections.jobs.findOne({ _id: res.body.job_id });
    }
    const wallMs = performance.now() - t0;
    const done = await svc.waitForJob(res.body.job_id);
    if (done.status !== 'completed') throw new Error(`job ended ${done.status}`);
    const histories = await runHistories(svc, res.body.job_id);
    const days = await svc.db.collections.modelDays.find({ jobId: res.body.job_id }).toArray();
    const phaseTotals: Record<string, number> = {};
    for (const d of days)
      for (const [k, v] of Object.entries(d.phasesMs ?? {})) phaseTotals[k] = (phaseTotals[k] ?? 0) + v;
    const activityPhases = Object.fromEntries(
      Object.entries(phaseTotals).map(([k, v]) => [k, Math.round((v / days.length) * 10) / 10]),
    );
    if (!delayMs && !process.env.BENCH_SKIP_API) {
      // The computations first: the trigger load below leaves hundreds of jobs running on the database.
      await compareBenchmark(svc, { jobId: res.body.job_id, models: ids, from: START });
      await tearSheetBenchmark(svc, { jobId: res.body.job_id, models: ids });
      await apiBenchmark(svc, { jobId: res.body.job_id, models: ids, from: START, to: '2025-12-31', latest: END });
    }
    return {
      phases: budgetOf(histories, delayMs),
      activityPhases,
      wallMs,
      modelDays: done.progress.completed as number,
      rssMiB: Math.max(rssBefore, process.memoryUsage().rss) / 2 ** 20,
    };
  } finally {
    await stopWorkers();
    await svc.stop();
  }
}

function printBudget(b: ReturnType<typeof budgetOf>) {
  console.log(
    `  a date's budget (${b.dates} dates over ${b.runs} runs): dispatch ${b.dispatchMs.toFixed(1)} ms, last completion ${b.lastCompletionBeyondDelayMs.toFixed(1)} ms after schedule + agent delay, next date ${b.gapToNextDateMs.toFixed(1)} ms after it; a commit ${b.commitLagMs.toFixed(1)} ms schedule to completion (${b.commitsPerDate.toFixed(2)} commits a date); ${b.workflowTasksPerDate.toFixed(2)} workflow tasks a date`,
  );
  console.log(
    `  the job's fixed costs: start ${b.fixed.startMs.toFixed(0)} ms, finish ${b.fixed.finishMs.toFixed(0)} ms, ${b.fixed.handOvers} continue-as-new hand-over(s) ${b.fixed.handOverMs.toFixed(0)} ms in all`,
  );
}

try {
  const dates = tradingDaysBetween(START, END).length;
  console.log(`tradeflow benchmark: ${MODEL_COUNT} models x ${dates} trading days (${START}..${END}), 101 symbols`);
  if (!process.env.BENCH_SKIP_REALTIME && !process.env.BENCH_ONLY_SMALL_JOBS) {
    const svc = await startService({
      models: { models: [{ id: 'realtime-bench', strategy: 'momentum', params: { lookback: 5 } }] },
      temporalAddress: stack.temporalAddress,
      mongoUri: stack.mongoUri,
      env: {
        MARKET_DATA_FILES: `${DAILY_H1},${DAILY_H2}`,
        REALTIME_PRICE_POLL_MS: '1000',
        REALTIME_TAIL_MS: '250',
      },
    });
    try {
      await realtimeBenchmark(svc);
    } finally {
      await svc.stop();
    }
    if (process.env.BENCH_ONLY_REALTIME) {
      await cleanUp();
      process.exit(0);
    }
  }
  const fast =
    process.env.BENCH_ONLY_DELAY || process.env.BENCH_ONLY_STREAMS || process.env.BENCH_ONLY_SMALL_JOBS
      ? undefined
      : await runOnce(0);
  if (fast) printBudget(fast.phases);
  if (fast)
    console.log(
      `no agent delay:   wall ${(fast.wallMs / 1000).toFixed(1)} s, ${fast.modelDays} model-days, ${(fast.modelDays / (fast.wallMs / 1000)).toFixed(1)} model-days/s, process RSS ${fast.rssMiB.toFixed(0)} MiB`,
    );
  // Issue 22 §2: 50 small jobs triggered at once, on a service of their own, against the rate above.
  if (
    process.env.BENCH_ONLY_SMALL_JOBS ||
    !(process.env.BENCH_SKIP_SMALL_JOBS || process.env.BENCH_ONLY_DELAY || process.env.BENCH_ONLY_STREAMS)
  ) {
    await smallJobsBenchmark(stack, {
      range: { start: START, end: END },
      simulationConcurrency: MODEL_COUNT * 2,
      ...(fast ? { largeJobRate: fast.modelDays / (fast.wallMs / 1000) } : {}),
    });
    if (process.env.BENCH_ONLY_SMALL_JOBS) {
      await cleanUp();
      process.exit(0);
    }
  }
  const slow = process.env.BENCH_ONLY_STREAMS || process.env.BENCH_SKIP_DELAY ? undefined : await runOnce(DELAY_MS);
  if (slow) {
    const ideal = dates * DELAY_MS;
    console.log(
      `${DELAY_MS} ms per agent call: wall ${(slow.wallMs / 1000).toFixed(1)} s, ideal date-sequential ${(ideal / 1000).toFixed(1)} s, ratio ${(slow.wallMs / ideal).toFixed(3)} (goal <= 1.15), ${(slow.modelDays / (slow.wallMs / 1000)).toFixed(1)} model-days/s`,
    );
    console.log(`model-day phases, mean ms: ${JSON.stringify(slow.activityPhases)}`);
    console.log(`orchestration overhead per date: ${((slow.wallMs - ideal) / dates).toFixed(1)} ms`);
    printBudget(slow.phases);
  }
  if (slow && !process.env.BENCH_SKIP_SCALE_OUT) {
    // The same job on two worker processes: model-days spread over both (on two cores, they share them).
    const two = await runOnce(DELAY_MS, 2);
    const ideal = dates * DELAY_MS;
    console.log(
      `${DELAY_MS} ms per agent call, two worker processes: wall ${(two.wallMs / 1000).toFixed(1)} s, ratio ${(two.wallMs / ideal).toFixed(3)}, ${(two.modelDays / (two.wallMs / 1000)).toFixed(1)} model-days/s (one worker process: ratio ${(slow.wallMs / ideal).toFixed(3)})`,
    );
  }
  if (!process.env.BENCH_SKIP_ANALYSIS) await analysisBenchmark(stack, `${DAILY_H1},${DAILY_H2}`);
  if (!process.env.BENCH_SKIP_STREAMS) {
    const svc = await startService({
      models: {
        models: [{ id: 'stream-bench', strategy: 'momentum', params: { lookback: 5, decision_delay_ms: 100 } }],
      },
      temporalAddress: stack.temporalAddress,
      mongoUri: stack.mongoUri,
      env: { MARKET_DATA_FILES: `${DAILY_H1},${DAILY_H2}` },
    });
    try {
      await streamBenchmark(svc, [
        ['2025-03-03', '2025-03-07'],
        ['2025-04-01', '2025-04-30'],
        ['2025-05-01', '2025-05-30'],
        ['2025-06-02', '2025-06-30'],
      ]);
    } finally {
      await svc.stop();
    }
  }
} finally {
  await cleanUp();
}
