import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../test/paths.js';
import type { Harness } from '../test/service.js';

/** Worker processes as `npm start` runs them, on the service's database and task queues; each one's end is awaited. */
export async function startWorkerProcesses(
  svc: Harness,
  count: number,
  simulationConcurrency: number,
): Promise<() => Promise<void>> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...svc.env, SIMULATION_CONCURRENCY: String(simulationConcurrency), LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    }),
  );
  // Polling when every one of them shows as a poller on the model-day queue.
  const queue = svc.settings.taskQueues.simulation;
  for (let pollers = 0; pollers < count; await new Promise((r) => setTimeout(r, 250))) {
    const d = await svc.temporal.workflowService.describeTaskQueue({
      namespace: svc.settings.temporal.namespace,
      taskQueue: { name: queue },
      taskQueueType: 2,
    });
    pollers = new Set((d.pollers ?? []).map((p) => p.identity)).size;
  }
  return async () => {
    await Promise.all(
      children.map((c) => {
        if (c.exitCode !== null) return undefined;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        return exited;
      }),
    );
  };
}
