import {
  DefaultLogger,
  makeTelemetryFilterString,
  type NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import type { Settings } from '../config/settings.js';
import type { WorkerActivities } from './buildActivities.js';
import { heartbeatClock } from './heartbeatClock.js';
import { workflowsPath } from './workflowsPath.js';

let runtimeInstalled = false;

/** Keeps the SDK's own logging to warnings; call once per process before any worker exists. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
  });
}

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueues: Settings['taskQueues'];
  activities: WorkerActivities;
  /** Sandboxes run at once by this process: each is a whole pipeline (a process or a container). */
  analysisConcurrency: number;
  /** Model-days run at once by this process; LLM-bound models want more, CPU-bound strategies fewer. */
  simulationConcurrency: number;
  /**
   * A simulation's own writes (its commits and end) this process runs at once, on their own queue:
   * the database has one writer, so more at once only queue inside it, where the API's requests then
   * wait behind them. Jobs beyond what it sustains wait in Temporal instead.
   */
  jobWritesConcurrency: number;
  /** The live hubs' pollers: their queue, and how many one process runs at once (each mostly sleeps). */
  realtime: { taskQueue: string; pollers: number };
  /** A prebuilt bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundle?: { code: string };
}

export interface Workers {
  run(): Promise<void>;
  /** True while both task queues are being polled. */
  running(): boolean;
  shutdown(): void;
}

/**
 * One process, six task queues: `orchestrator` runs workflows, their bookkeeping and a simulation's dates,
 * `job-writes` a simulation's commits and end a few at a time, `simulation` older runs' dates and
 * model-days, `analysis` sandboxes, `realtime` the live hubs' pollers and `chat` the chat's answers, so
 * each kind of work has its own concurrency.
 */
export async function createWorkers(s: WorkerSetup): Promise<Workers> {
  const { computeModelDay, computeDate, runAnalysisSandbox, pollFeed, answerChatMessage, ...bookkeeping } =
    s.activities;
  const common = {
    connection: s.connection,
    namespace: s.namespace,
    shutdownGraceTime: '10s',
    interceptors: { activity: [heartbeatClock] },
    // Heartbeats reach the server every 2 s (not 80% of the 15 s timeout, the default), so a worker
    // whose event loop stalls for a few seconds on a busy machine is not taken for a dead one.
    maxHeartbeatThrottleInterval: '2s',
  } satisfies Partial<WorkerOptions>;
  const orchestrator = await Worker.create({
    ...common,
    taskQueue: s.taskQueues.orchestrator,
    ...(s.workflowBundle ? { workflowBundle: s.workflowBundle } : { workflowsPath }),
    // A date's model-days run here too: a simulation started since `paced-commits` schedules them on its own
    // queue, so the server hands them over with the workflow task (eager dispatch, which needs a free slot).
    // Dates and bookkeeping share these slots: more running simulations than SIMULATION_CONCURRENCY + 20
    // make the bookkeeping wait for a date to end (README, SIMULATION_CONCURRENCY).
    activities: { ...bookkeeping, computeDate },
    maxConcurrentActivityTaskExecutions: 20 + s.simulationConcurrency,
  });
  const simulation = await Worker.create({
    ...common,
    taskQueue: s.taskQueues.simulation,
    // Runs recorded before `paced-commits` schedule their dates here, and before the date batch their
    // model-days (workflows/PATCHES.md).
    activities: { computeModelDay, computeDate },
    maxConcurrentActivityTaskExecutions: s.simulationConcurrency,
  });
  const analysis = await Worker.create({
    ...common,
    taskQueue: s.taskQueues.analysis,
    activities: { runAnalysisSandbox },
    maxConcurrentActivityTaskExecutions: s.analysisConcurrency,
  });
  // A poller's activity lasts a window of polls: on the orchestrator's queue, fifty symbols would hold
  // every slot its bookkeeping needs.
  const realtime = await Worker.create({
    ...common,
    taskQueue: s.realtime.taskQueue,
    activities: { pollFeed },
    maxConcurrentActivityTaskExecutions: s.realtime.pollers,
  });
  // A chat answer waits on an LLM for up to minutes: its own queue, so answers never hold bookkeeping slots.
  const chat = await Worker.create({
    ...common,
    taskQueue: s.taskQueues.chat,
    activities: { answerChatMessage },
    maxConcurrentActivityTaskExecutions: 20,
  });
  // Runs started before this queue existed schedule these on the orchestrator's queue, which keeps them
  // (startSimulationJob is here for runs recorded while it ran here too: it now runs on the orchestrator's).
  const { startSimulationJob, commitSimulationDates, commitSimulationDate, finishSimulationJob } = bookkeeping;
  const jobWrites = await Worker.create({
    ...common,
    taskQueue: s.taskQueues.jobWrites,
    activities: { startSimulationJob, commitSimulationDates, commitSimulationDate, finishSimulationJob },
    maxConcurrentActivityTaskExecutions: s.jobWritesConcurrency,
  });
  const all = [orchestrator, simulation, jobWrites, analysis, realtime, chat];
  return {
    run: async () => {
      await Promise.all(all.map((w) => w.run()));
    },
    running: () => all.every((w) => w.getState() === 'RUNNING'),
    shutdown: () => {
      for (const w of all) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}
