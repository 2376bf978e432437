import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
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

describe('simulationWorkflow', () => {
  it('a model that fails for good is asked once, its later days are skipped, the others go on', async () => {
    const calls: Calls = [];
    const attempts = new Map<string, number>();
    const outcome = await withWorker(
      {
        startSimulationJob: async (i) => {
          calls.push(['start', i.jobId]);
          return { bars: 1 };
        },
        runModelDay: async (ref) => {
          const key = `${ref.model}|${ref.date}`;
          attempts.set(key, (attempts.get(key) ?? 0) + 1);
          if (ref.model === 'bad') throw jobFailure('AgentConfigurationError', 'rejected key');
          return { model: ref.model, date: ref.date, portfolioValue: 1, profit: 0, trades: 0, written: true };
        },
        recordModelDayFailures: async (i) => void calls.push(['failures', i]),
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

  it('a stop cancels the running model-days, records stopping, then the end with what was left', async () => {
    const calls: Calls = [];
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    await withWorker(
      {
        startSimulationJob: async () => ({ bars: 1 }),
        runModelDay: async () => {
          started();
          // Runs until cancelled, as a slow LLM model-day would, heartbeating so the cancel reaches it.
          const ctx = Context.current();
          for (;;) {
            ctx.heartbeat();
            await Promise.race([sleep(100), ctx.cancelled]);
          }
        },
        recordStopping: async (i) => {
          calls.push(['stopping', i.reason]);
          return true;
        },
        finishSimulationJob: async (i) => {
          calls.push(['finish', { stopped: i.stopped, remaining: i.remaining.length }]);
          return { jobId: i.jobId, status: 'stopped', completed: 0, failed: 0, skipped: 0, stopped: 4 };
        },
      },
      async (taskQueue) => {
        const handle = await env.client.workflow.start(simulationWorkflow, {
          taskQueue,
          workflowId: `wf-${randomUUID()}`,
          args: [simulationInput(taskQueue, ['2025-03-03', '2025-03-04'], ['a', 'b'])],
        });
        await running;
        expect((await handle.query(simulationProgressQuery)).currentModels).toEqual(['a', 'b']);
        await handle.signal(stopSignal, { reason: 'enough' });
        expect((await handle.result()).status).toBe('stopped');
      },
    );
    expect(calls).toEqual([
      ['stopping', 'enough'],
      ['finish', { stopped: true, remaining: 4 }],
    ]);
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
        for (const kind of ['simulation', 'analysis'] as const) {
          await env.client.workflow.execute(closeAbandonedJobWorkflow, {
            taskQueue,
            workflowId: `wf-${randomUUID()}`,
            args: [
              {
                jobId: 'j',
                kind,
                owner: 'local',
                status: kind === 'simulation' ? 'failed' : 'stopped',
                reason: 'gone',
              },
            ],
          });
        }
      },
    );
    expect(calls).toEqual([
      ['simulation', { stopped: false, error: 'gone', fromPlan: true }],
      ['analysis', { status: 'stopped', errorType: undefined, error: 'gone' }],
    ]);
  });
});
