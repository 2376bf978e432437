import type { Client } from '@temporalio/client';
import { type SimulationProgress, simulationProgressQuery } from '../../workflows/definitions.js';
import { temporalDeadline, withDeadline } from '../deadline.js';

/** How long one answer of a workflow's progress query serves every status request of that job. */
const FRESH_MS = 250;
/** How long a status request waits for the query before answering without it. */
const WAIT_MS = 2_000;

/**
 * A running simulation's live progress, asked of its workflow at most once per quarter second however
 * many clients poll its status: fifty clients watching one job cost Temporal one query, not fifty.
 * Entries are dropped once stale (on the next look-up), so the cache holds only jobs being watched.
 */
export class LiveProgressCache {
  private readonly entries = new Map<string, { at: number; answer: Promise<SimulationProgress | undefined> }>();

  constructor(private readonly temporal: Client) {}

  get(workflowId: string): Promise<SimulationProgress | undefined> {
    const now = Date.now();
    const hit = this.entries.get(workflowId);
    if (hit && now - hit.at < FRESH_MS) return hit.answer;
    for (const [id, e] of this.entries) if (now - e.at >= FRESH_MS) this.entries.delete(id);
    // The gRPC deadline ends the call itself (a frozen server would otherwise keep it pending for long after).
    const answer = withDeadline(
      temporalDeadline(
        this.temporal,
        () => this.temporal.workflow.getHandle(workflowId).query(simulationProgressQuery),
        WAIT_MS,
      ),
      WAIT_MS,
      undefined,
    ).catch(() => undefined); // between runs (continue-as-new) or not started: no answer, the records stand
    this.entries.set(workflowId, { at: now, answer });
    return answer;
  }
}
