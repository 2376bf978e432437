import { SIMULATION_LIFECYCLE } from '../jobs/lifecycle.js';
import { DAILY_H1, DAILY_H2 } from '../test/paths.js';
import { startService } from '../test/service.js';
import { tradingDaysBetween } from '../trading/calendar.js';
import { startWorkerProcesses } from './workerProcesses.js';

const JOBS = 50;
const MODELS_PER_JOB = 2;
const DAYS_PER_JOB = 10;
const POLL_MS = 250;

/**
 * Models only this case uses, two per job, so no job waits on another's ledger lock; built like the
 * large job's bench models without agent delay.
 */
export const SMALL_JOB_MODELS = Array.from({ length: JOBS * MODELS_PER_JOB }, (_, i) => ({
  id: `small-bench-${i}`,
  strategy: (['buy-and-hold', 'momentum', 'mean-reversion'] as const)[i % 3],
  ...(i % 3 === 0 ? {} : { params: { lookback: 5 + (i % 10) } }),
}));

const at = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/**
 * Issue 22 §2, many small jobs at once as automation fires them: 50 clients each trigger a job of 2
 * models x 10 trading days (no agent delay) at the same moment, on a service of its own; each job's
 * record is polled by key until it ends. `largeJobRate`: the no-agent-delay large job's model-days/s
 * in this bench, when it ran (the goal is half of it).
 */
export async function smallJobsBenchmark(
  stack: { temporalAddress: string; mongoUri: string },
  o: { range: { start: string; end: string }; simulationConcurrency: number; largeJobRate?: number },
) {
  const days = tradingDaysBetween(o.range.start, o.range.end);
  // Ten trading days in the middle of the data, so every strategy's lookback has bars before them.
  const first = Math.floor(days.length / 2);
  const [start, end] = [days[first]!, days[first + DAYS_PER_JOB - 1]!];
  if (tradingDaysBetween(start, end).length !== DAYS_PER_JOB)
    throw new Error(`not ${DAYS_PER_JOB} days: ${start}..${end}`);
  const svc = await startService({
    models: { models: SMALL_JOB_MODELS },
    temporalAddress: stack.temporalAddress,
    mongoUri: stack.mongoUri,
    env: { MARKET_DATA_FILES: `${DAILY_H1},${DAILY_H2}`, MARKET_SYMBOLS: '' },
    simulationConcurrency: o.simulationConcurrency,
    worker: false,
  });
  // The worker in a process of its own, as `npm start` runs it: the API's event loop is not the jobs'.
  const stopWorkers = await startWorkerProcesses(svc, 1, o.simulationConcurrency);
  try {
    // One read of every unfinished job a poll, as an automation watching its jobs would do: fifty readers
    // polling by key would be the database's heaviest load here, and not the jobs'.
    const waiting = new Map<string, (at: number) => void>();
    const endOf = (jobId: string) => new Promise<number>((resolve) => waiting.set(jobId, resolve));
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (waiting.size === 0) continue;
        const done = await svc.db.collections.jobs
          .find(
            { _id: { $in: [...waiting.keys()] }, status: { $in: [...SIMULATION_LIFECYCLE.terminal] } },
            { projection: { _id: 1 } },
          )
          .toArray();
        const at = performance.now();
        for (const d of done) {
          waiting.get(d._id)?.(at);
          waiting.delete(d._id);
        }
      }
    })();
    const t0 = performance.now();
    const jobs = await Promise.all(
      Array.from({ length: JOBS }, async (_, j) => {
        const models = SMALL_JOB_MODELS.slice(j * MODELS_PER_JOB, (j + 1) * MODELS_PER_JOB).map((m) => m.id);
        const sent = performance.now();
        const res = await svc.api('/simulate/trigger', {
          method: 'POST',
          json: { start_date: start, end_date: end, models },
        });
        const answered = performance.now();
        if (res.status !== 202) return { models, sent, triggerMs: answered - sent, refused: res };
        const jobId: string = res.body.job_id;
        return { models, sent, triggerMs: answered - sent, jobId, endedMs: await endOf(jobId).then((at) => at - sent) };
      }),
    );
    const wallMs = performance.now() - t0;
    watching = false;
    await watcher;
    const refused = jobs.filter((j) => j.refused);
    for (const j of refused)
      console.log(
        `  small job trigger of ${j.models.join(',')} refused: ${j.refused!.status} ${JSON.stringify(j.refused!.body)}`,
      );
    const ended = await Promise.all(
      jobs.flatMap((j) => (j.jobId ? [svc.api(`/jobs/${j.jobId}`).then((r) => ({ id: j.jobId, body: r.body }))] : [])),
    );
    const modelDays = ended.reduce((n, e) => n + (e.body.progress?.completed ?? 0), 0);
    const notCompleted = ended.filter((e) => e.body.status !== 'completed');
    for (const e of notCompleted)
      console.log(`  small job ${e.id} ended ${e.body.status}: ${JSON.stringify(e.body).slice(0, 500)}`);
    const triggers = jobs.map((j) => j.triggerMs).sort((a, b) => a - b);
    const durations = jobs.flatMap((j) => (j.endedMs === undefined ? [] : [j.endedMs]));
    const halfGoal = o.largeJobRate === undefined ? 'n/a' : `${(o.largeJobRate / 2).toFixed(1)} model-days/s`;
    console.log(
      `${JOBS} concurrent small jobs (${MODELS_PER_JOB * DAYS_PER_JOB} model-days each): wall ${(wallMs / 1000).toFixed(1)} s, ${modelDays} model-days, ${(modelDays / (wallMs / 1000)).toFixed(1)} model-days/s (goal >= half of one large job's no-agent-delay rate: ${halfGoal})`,
    );
    console.log(
      `  ${start}..${end}, ${MODELS_PER_JOB} models each; trigger p50/p99 ${at(triggers, 0.5).toFixed(0)}/${at(triggers, 0.99).toFixed(0)} ms; job trigger to end mean ${(durations.reduce((a, b) => a + b, 0) / (durations.length || 1) / 1000).toFixed(2)} s, max ${(Math.max(0, ...durations) / 1000).toFixed(2)} s (polled every ${POLL_MS} ms)`,
    );
    const expected = JOBS * MODELS_PER_JOB * DAYS_PER_JOB;
    if (refused.length || notCompleted.length || modelDays !== expected)
      throw new Error(
        `small jobs: ${refused.length} triggers refused, ${notCompleted.length} jobs not completed, ${modelDays} of ${expected} model-days`,
      );
  } finally {
    await stopWorkers();
    await svc.stop();
  }
}
