import { jobEvents } from '../jobs/events.js';
import type { JobKind } from '../jobs/lifecycle.js';
import { createJobRecorder, type JobRecorderDeps } from './jobRecorder.js';

/** Bookkeeping every kind of job shares. */
export function createJobActivities(d: JobRecorderDeps) {
  const recorder = createJobRecorder(d);

  /** A stop was asked for: the job shows `stopping` until its workflow records how it ended. */
  async function recordStopping(input: { kind: JobKind; jobId: string; run?: number; reason: string }) {
    return recorder.move(input.kind, input.jobId, 'stopping', {
      ...(input.run !== undefined ? { run: input.run } : {}),
      event: jobEvents.stopping(input.run ?? 1, input.reason),
    });
  }

  return { recordStopping };
}

export type JobActivities = ReturnType<typeof createJobActivities>;
