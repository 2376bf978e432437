import type { JobStatus } from './lifecycle.js';

/**
 * The events of a job's live log (SSE `event:` names), with what each carries and the key that makes
 * it at-most-once: activities run at least once, so an event that a retried activity would repeat has
 * a key, and a second append of the same key is skipped. Keys are per run where a job can run again.
 */
export const JOB_EVENT_TYPES = ['log', 'status', 'completed', 'error'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];
/** The events after which a job's stream has nothing more to say. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<JobEventType> = new Set(['completed', 'error']);

export interface StatusEventData {
  status: JobStatus;
  message: string;
  stage?: string;
}

export interface LogEventData {
  /** `NL`: a model's own words; `LOG`: a system line. */
  type: 'NL' | 'LOG';
  message: string;
  level?: 'error';
  model?: string;
  date?: string;
  step?: string;
  stream?: 'stderr';
  portfolio_value?: number;
  profit?: number;
}

export interface EndEventData {
  status: JobStatus;
  message: string;
  /** The run it ends (absent in events written before runs were numbered: run 1). */
  run?: number;
  [detail: string]: unknown;
}

export type JobEvent =
  | { type: 'status'; data: StatusEventData }
  | { type: 'log'; data: LogEventData }
  | { type: 'completed'; data: EndEventData }
  | { type: 'error'; data: EndEventData & { error_type?: string | null } };

/** An event to append, with its dedup key when a retry could repeat it. */
export type JobEventDraft = JobEvent & { key?: string };

export const jobEvents = {
  accepted: (run: number, message: string): JobEventDraft => ({
    type: 'status',
    data: { status: 'pending', message },
    key: `accepted|${run}`,
  }),
  running: (run: number, attempt: number, message: string): JobEventDraft => ({
    type: 'status',
    data: { status: 'running', message },
    key: `running|${run}|${attempt}`,
  }),
  stopping: (run: number, reason: string): JobEventDraft => ({
    type: 'status',
    data: { status: 'stopping', message: reason },
    key: `stopping|${run}`,
  }),
  stage: (stage: string): JobEventDraft => ({
    type: 'status',
    data: { status: 'running', message: `STAGE: ${stage}`, stage },
  }),
  log: (data: LogEventData, key?: string): JobEventDraft => ({ type: 'log', data, ...(key ? { key } : {}) }),
  /**
   * A run's last event: `completed` when it ended as it should or was stopped, `error` otherwise. It names
   * its run, so a stream of a job that ran again ends at the current run's end, not at an earlier one's.
   */
  finished: (run: number, data: EndEventData & { error_type?: string | null }, failed: boolean): JobEventDraft => {
    const withRun = { ...data, run };
    return failed
      ? { type: 'error', data: withRun, key: `finished|${run}` }
      : { type: 'completed', data: withRun, key: `finished|${run}` };
  },
};

/** Keys of a simulation's per model-day lines (a job runs once, so no run number). */
export const modelDayEventKey = {
  day: (model: string, date: string) => `day|${model}|${date}`,
  failed: (model: string, date: string) => `failed|${model}|${date}`,
  barsReady: 'bars-ready',
};

/** Whether `event` ends the stream of a client that is following run `run` (or a later one). */
export function endsRun(event: { type: string; data: Record<string, unknown> }, run: number): boolean {
  if (!TERMINAL_EVENT_TYPES.has(event.type as JobEventType)) return false;
  const ended = typeof event.data.run === 'number' ? event.data.run : 1;
  return ended >= run;
}
