import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  ComputedDate,
  ComputedModelDay,
  DateCommit,
  DateInput,
  ModelDayInput,
} from '../activities/simulation/activities.js';
import { runDateBatch } from '../activities/simulation/dateBatch.js';
import { jobFailure } from '../jobs/failures.js';
import { workflowBundle } from '../test/support/workflowBundle.js';
import type { WorkerActivities } from '../worker/buildActivities.js';
import { analysisWorkflow } from './analysis.js';
import { closeAbandonedJobWorkflow } from './closeAbandonedJob.js';
import { DEFAULT_SIMULATION_OPTIONS, simulationProgressQuery, stopSignal } from './definitions.js';
import { simulationWorkflow } from './simulation.js';

// The workflows alone, with their activities mocked, on the run's real Temporal dev server (the
// time-skipping test server is a download this machine cannot make). Each test records what its
// workflow asked of its activities, in order.

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Installed already in this worker.
  }
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
});
afterAll(async () => env?.teardown());

type Calls = Array<[string, unknown]>;

/** Runs `body` with a worker whose activities are `mocks` (any activity not given fails the test). */
async function withWorker<T>(mocks: Partial<WorkerActivities>, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `wf-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: mocks,
  });
  return worker.runUntil(body(taskQueue));
}

const simulationInput = (taskQueue: string, dates: string[], models: string[]) => ({
  jobId: `sim-${randomUUID()}`,
  owner: 'local',
  models,
  symbols: ['AAPL'],
  dates,
  modelStart: Object.fromEntries(models.map((m) => [m, 0])),
  options: { ...DEFAULT_SIMULATION_OPTIONS, modelDayTaskQueue: taskQueue, maxAttempts: 3, heartbeatTimeoutMs: 5000 },
});

/**
 * computeDate as the worker runs it (the real batch runner: each model's attempts, failures for good
 * reported, a stop keeping what finished) over a mocked model-day.
 */
function dateBatchOf(modelDay: (i: ModelDayInput) => Promise<ComputedModelDay>) {
  return async (i: DateInput): Promise<ComputedDate> => {
    const ctx = Context.current();
    const { models, maxAttempts, ...common } = i;
    const starts = new Map(models.map((m) => [m.model, m.start]));
    const r = await runDateBatch<ComputedModelDay>({
      models: models.map((m) => m.model),
      done: {},
      run: (model) => modelDay({ ...common, model, start: starts.get(model) ?? null }),
      maxAttempts,
      backoffMs: () => 10,
      isFinal: (err) => err instanceof ApplicationFailure && err.nonRetryable === true,
      onDone: () => ctx.heartbeat(),
      sleep: (ms) => sleep(ms),
      signal: ctx.cancellationSignal,
      concurrency: 16,
      describe: (err) => (err as Error).message,
    });
    const days = models.flatMap(({ model }) => {
      const o = r.outcomes[model];
      return o?.ok ? [o.value] : [];
    });
    const failures = models.flatMap(({ model }) => {
      const o = r.outcomes[model];
      return o && !o.ok ? [{ model, error: o.error }] : [];
    });
    return { days, failures, cancelled: r.cancelled };
  };
}

/** Both commit activities over one per-date mock: runs before commit batches send a date, later ones several. */
function commitsTo(onDate: (i: DateCommit & { jobId: string; owner: string }) => Promise<{ written: number }>) {
  return {
    commitSimulationDate: onDate,
    commitSimulationDates: async (i: { jobId: string; owner: string; dates: DateCommit[] }) => {
      let written = 0;
      for (const d of i.dates) written += (await onDate({ jobId: i.jobId, owner: i.owner, ...d })).written;
      return { written };
    },
  };
}

/** A finish that reports the job completed with `completed` model-days. */
const completedFinish = (completed: number) => async (i: { jobId: string }) => ({
  jobId: i.jobId,
  status: 'completed' as const,
  completed,
  failed: 0,
  skipped: 0,
  stopped: 0,
});

/** Runs a simulation of `models` over `dates` on the worker's queue to its end. */
const simulate = (dates: string[], models: string[]) => (taskQueue: string) =>
  env.client.workflow.execute(simulationWorkflow, {
    taskQueue,
    workflowId: `wf-${randomUUID()}`,
    args: [simulationInput(taskQueue, dates, models)],
  });

describe('simulationWorkflow', () => {
  /** A model-day's result as the worker returns it, ending with `cash` dollars. */
  const computed = (model: string, date: string, cash: number) => ({
    model,
    date,
    attempt: 1,
    startedAt: 0,
    fromLlm: false,
    phasesMs: {},
    day: {
      model,
      date,
      startingPosition: { cash: 0, holdings: {}, portfolioValue: 0 },
      endingPosition: { cash, holdings: {}, portfolioValue: cash },
      trades: [],
      dailyPnl: { profit: 0, returnPct: 0 },
      summary: '',
      reasoning: [],
      finished: true,
      toolUsage: {},
      tokenUsage: { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      durationMs: 1,
    },
  });

  it('hands each model-day the position the day before ended with, and commits each date once, in order', async () => {
    const starts: Array<[string, string, number | null]> = [];
    const commits: Array<[string, string[], string[]]> = [];
    await withWorker(
      {
        startSimulationJob: async () => ({
          bars: 1,
          ledgers: { a: null, b: { lastDate: '2025-02-28', position: { cash: 7, holdings: {}, portfolioValue: 7 } } },
        }),
        computeDate: dateBatchOf(async (i) => {
          starts.push([i.model, i.date, i.start ? i.start.cash : null]);
          return computed(i.model, i.date, (i.start?.cash ?? 100) + 1);
        }),
        ...commitsTo(async (i) => {
          commits.push([i.date, i.days.map((d) => d.model), i.failures.map((f) => f.model)]);
          return { written: i.days.length };
        }),
        finishSimulationJob: completedFinish(4),
      },
      simulate(['2025-03-03', '2025-03-04'], ['a', 'b']),
    );
    expect(starts.sort()).toEqual([
      ['a', '2025-03-03', null],
      ['a', '2025-03-04', 101],
      ['b', '2025-03-03', 7],
      ['b', '2025-03-04', 8],
    ]);
    expect(commits).toEqual([
      ['2025-03-03', ['a', 'b'], []],
      ['2025-03-04', ['a', 'b'], []],
    ]);
  });

  it('writes fast dates four at a time and a slow date at once', async () => {
    const dates = ['2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06', '2025-03-07', '2025-03-10'];
    const commits: string[][] = [];
    await withWorker(
      {
        startSimulationJob: async () => ({ bars: 1, ledgers: { a: null } }),
        computeDate: dateBatchOf(async (i) => {
          // The fifth date takes longer than a slow date's second.
          if (i.date === '2025-03-07') await sleep(1_500);
          return computed(i.model, i.date, 1);
        }),
        commitSimulationDates: async (i: { dates: DateCommit[] }) => {
          commits.push(i.dates.map((d) => d.date));
          return { written: i.dates.length };
        },
        finishSimulationJob: completedFinish(6),
      },
      simulate(dates, ['a']),
    );
    // Every date exactly once, in order.
    expect(commits.flat()).toEqual(dates);
    // The slow date went alone, as soon as it was done; the fast ones before it together.
    expect(commits).toContainEqual(['2025-03-07']);
    expect(commits.length).toBeLessThan(dates.length);
  });

  it('a model that fails for good is asked once, its later days are skipped, the others go on', async () => {
    const calls: Calls = [];
    const attempts = new Map<string, number>();
    const outcome = await withWorker(
      {
        startSimulationJob: async (i) => {
          calls.push(['start', i.jobId]);
          return { bars: 1, ledgers: { good: null, bad: null } };
        },
        computeDate: dateBatchOf(async (ref) => {
          const key = `${ref.model}|${ref.date}`;
          attempts.set(key, (attempts.get(key) ?? 0) + 1);
          if (ref.model === 'bad') throw jobFailure('AgentConfigurationError', 'rejected key');
          return computed(ref.model, ref.date, 1);
        }),
        ...commitsTo(async (i) => {
          if (i.failures.length) calls.push(['failures', i]);
          return { written: i.days.length };
        }),
        finishSimulationJob: async (i) => {
          calls.push(['finish', { stopped: i.stopped, error: i.error ?? null }]);
          return { jobId: i.jobId, status: 'partial', completed: 3, failed: 1, skipped: 2, stopped: 0 };
        },
      },
      (taskQueue) =>
        env.client.workflow.execute(simulationWorkflow, {
          taskQueue,
          workflowId: `wf-${randomUUID()}`,
          args: [simulationInput(taskQueue, ['2025-03-03', '2025-03-04', '2025-03-05'], ['good', 'bad'])],
        }),
    );
    expect(outcome.status).toBe('partial');
    expect(attempts.get('bad|2025-03-03')).toBe(1);
    expect(attempts.has('bad|2025-03-04')).toBe(false);
    expect([...attempts.keys()].filter((k) => k.startsWith('good'))).toHaveLength(3);
    expect(calls.map(([name]) => name)).toEqual(['start', 'failures', 'finish']);
    expect(calls[1]![1]).toMatchObject({
      date: '2025-03-03',
      failures: [{ model: 'bad', error: 'rejected key' }],
      laterDates: ['2025-03-04', '2025-03-05'],
    });
  });

  it('a stop cancels the running model-days, commits what finished, records stopping, then the end', async () => {
    const calls: Calls = [];
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    await withWorker(
      {
        startSimulationJob: async () => ({ bars: 1, ledgers: { fast: null, slow: null } }),
        computeDate: dateBatchOf(async (i) => {
          if (i.model === 'fast') return computed(i.model, i.date, 1);
          started();
          // Runs until cancelled, as a slow LLM model-day would, heartbeating so the cancel reaches it.
          const ctx = Context.current();
          for (;;) {
            ctx.heartbeat();
            await Promise.race([sleep(100), ctx.cancelled]);
          }
        }),
        ...commitsTo(async (i) => {
          calls.push(['commit', i.days.map((d) => d.model)]);
          return { written: i.days.length };
        }),
        recordStopping: async (i) => {
          calls.push(['stopping', i.reason]);
          return true;
        },
        finishSimulationJob: async (i) => {
          calls.push(['finish', { stopped: i.stopped, total: i.tally?.total, completed: i.tally?.completed }]);
          return { jobId: i.jobId, status: 'stopped', completed: 1, failed: 0, skipped: 0, stopped: 3 };
        },
      },
      async (taskQueue) => {
        const handle = await env.client.workflow.start(simulationWorkflow, {
          taskQueue,
          workflowId: `wf-${randomUUID()}`,
          args: [simulationInput(taskQueue, ['2025-03-03', '2025-03-04'], ['fast', 'slow'])],
        });
        await running;
        expect((await handle.query(simulationProgressQuery)).currentModels).toEqual(['fast', 'slow']);
        await handle.signal(stopSignal, { reason: 'enough' });
        expect((await handle.result()).status).toBe('stopped');
      },
    );
    // The finished model-day of the stopped date is written before the end.
    expect(calls.slice(0, 2)).toEqual(
      expect.arrayContaining([
        ['stopping', 'enough'],
        ['commit', ['fast']],
      ]),
    );
    // The end is told the counts: the three days not run get no record of their own.
    expect(calls.at(-1)).toEqual(['finish', { stopped: true, total: 4, completed: 1 }]);
    expect(calls).toHaveLength(3);
  });

  it('a stop that comes while a run hands over to the next ends the job there', async () => {
    const computed_: string[] = [];
    const calls: Calls = [];
    let signalled = false;
    await withWorker(
      {
        startSimulationJob: async () => ({ bars: 1, ledgers: { a: null } }),
        computeDate: dateBatchOf(async (i) => {
          computed_.push(i.date);
          return computed(i.model, i.date, 1);
        }),
        commitSimulationDates: async (i: { dates: DateCommit[] }) => {
          // The hand-over waits for this commit: the stop comes now, and lands before the commit ends.
          if (!signalled) {
            signalled = true;
            const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
            await env.client.workflow.getHandle(workflowId).signal(stopSignal, { reason: 'at the hand-over' });
            await sleep(1_000);
          }
          calls.push(['commit', i.dates.map((d) => d.date)]);
          return { written: i.dates.length };
        },
        recordStopping: async (i) => {
          calls.push(['stopping', i.reason]);
          return true;
        },
        finishSimulationJob: async (i) => {
          calls.push(['finish', { stopped: i.stopped, completed: i.tally?.completed }]);
          return { jobId: i.jobId, status: 'stopped', completed: 1, failed: 0, skipped: 0, stopped: 2 };
        },
      },
      (taskQueue) => {
        const input = simulationInput(taskQueue, ['2025-03-03', '2025-03-04', '2025-03-05'], ['a']);
        return env.client.workflow.execute(simulationWorkflow, {
          taskQueue,
          workflowId: `wf-${randomUUID()}`,
          // Every date hands over to a new run.
          args: [{ ...input, options: { ...input.options, continueAsNewAfterEvents: 1 } }],
        });
      },
    );
    // The first date only: the next run, which would have run the others, never starts.
    expect(computed_).toEqual(['2025-03-03']);
    expect(calls).toEqual(
      expect.arrayContaining([
        ['commit', ['2025-03-03']],
        ['stopping', 'at the hand-over'],
      ]),
    );
    expect(calls.at(-1)).toEqual(['finish', { stopped: true, completed: 1 }]);
  });
});

describe('analysisWorkflow', () => {
  it('opens its run, retries a lost sandbox, and records the outcome of the same run', async () => {
    const calls: Calls = [];
    let tries = 0;
    const outcome = await withWorker(
      {
        beginAnalysisRun: async (i) => void calls.push(['begin', i.run]),
        runAnalysisSandbox: async (i) => {
          tries += 1;
          if (tries < 3) throw new Error('engine unreachable');
          calls.push(['sandbox', i.run]);
          return { status: 'completed' };
        },
        finishAnalysisJob: async (i) => {
          calls.push(['finish', { run: i.run, status: i.status }]);
          return { jobId: i.jobId, status: i.status };
        },
      },
      (taskQueue) =>
        env.client.workflow.execute(analysisWorkflow, {
          taskQueue,
          workflowId: `wf-${randomUUID()}`,
          args: [
            {
              jobId: 'a1',
              owner: 'local',
              run: 2,
              seed: { spec: {} as never, request: {}, createdAt: new Date().toISOString() },
              options: { sandboxTaskQueue: taskQueue, timeoutMs: 30_000, heartbeatTimeoutMs: 5000, maxAttempts: 3 },
            },
          ],
        }),
    );
    expect(outcome.status).toBe('completed');
    expect(tries).toBe(3);
    expect(calls).toEqual([
      ['begin', 2],
      ['sandbox', 2],
      ['finish', { run: 2, status: 'completed' }],
    ]);
  });
});

describe('closeAbandonedJobWorkflow', () => {
  it('ends each kind through its own finish', async () => {
    const calls: Calls = [];
    await withWorker(
      {
        finishSimulationJob: async (i) => {
          calls.push(['simulation', { stopped: i.stopped, error: i.error, fromPlan: i.remainingFromPlan }]);
          return { jobId: i.jobId, status: 'failed', completed: 0, failed: 0, skipped: 0, stopped: 0 };
        },
        finishAnalysisJob: async (i) => {
          calls.push(['analysis', { status: i.status, errorType: i.errorType, error: i.error }]);
          return { jobId: i.jobId, status: i.status };
        },
      },
      async (taskQueue) => {
        const cases = [
          ['simulation', 'failed'],
          ['simulation', 'stopped'],
          ['analysis', 'stopped'],
        ] as const;
        for (const [kind, status] of cases) {
          await env.client.workflow.execute(closeAbandonedJobWorkflow, {
            taskQueue,
            workflowId: `wf-${randomUUID()}`,
            args: [{ jobId: 'j', kind, owner: 'local', status, reason: 'gone' }],
          });
        }
      },
    );
    expect(calls).toEqual([
      ['simulation', { stopped: false, error: 'gone', fromPlan: true }],
      // Why it ended is recorded also when it ends stopped.
      ['simulation', { stopped: true, error: 'gone', fromPlan: true }],
      ['analysis', { status: 'stopped', errorType: undefined, error: 'gone' }],
    ]);
  });
});
