/**
 * The one owner of a job's lifecycle: per kind of job, its statuses, the moves allowed between them
 * and the named subsets the rest of the code asks about. Pure data and functions, so workflows,
 * activities, storage and the API all read the same table.
 *
 * Rules every kind keeps: a job is created `pending`; after creation only its workflow moves it (through
 * an activity, see activities/jobRecorder.ts); a final status is never overwritten. A kind that can run
 * again under the same id (an analysis retry) does so through an explicit `rerun`, which starts a new run
 * and keeps the ended run's outcome in the job's history.
 */

export const JOB_KINDS = ['simulation', 'analysis'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

interface LifecycleSpec<S extends string> {
  statuses: readonly S[];
  /** Where each status may go next; a status with no moves is final. */
  moves: { readonly [From in S]: readonly S[] };
  /** Final statuses `POST /jobs/{id}/retry` accepts. */
  retryable: readonly S[];
  /** Statuses in which a repeated identical request is answered with this job instead of a new one. */
  reusable: readonly S[];
  /** Whether a retry runs the same job again (same id, next run) rather than starting a new job. */
  rerunsInPlace: boolean;
}

export interface Lifecycle<S extends string> extends LifecycleSpec<S> {
  /** Statuses from which nothing moves on: the job ended. */
  terminal: readonly S[];
  /** Statuses of a job that is still going (its workflow should be running). */
  active: readonly S[];
  isStatus(value: string): value is S;
  isTerminal(status: S): boolean;
  isActive(status: S): boolean;
  isRetryable(status: S): boolean;
  isReusable(status: S): boolean;
  canMove(from: S, to: S): boolean;
  /** The statuses a job may be in to move to `to`: the guard of the atomic update that moves it. */
  sourcesOf(to: S): S[];
}

function defineLifecycle<const S extends string>(spec: LifecycleSpec<S>): Lifecycle<S> {
  const terminal = spec.statuses.filter((s) => spec.moves[s].length === 0);
  const active = spec.statuses.filter((s) => spec.moves[s].length > 0);
  const has = (list: readonly S[], s: S) => list.includes(s);
  for (const s of spec.retryable) {
    if (!terminal.includes(s)) throw new Error(`lifecycle: retryable status ${s} is not final`);
  }
  return {
    ...spec,
    terminal,
    active,
    isStatus: (value: string): value is S => (spec.statuses as readonly string[]).includes(value),
    isTerminal: (s) => has(terminal, s),
    isActive: (s) => has(active, s),
    isRetryable: (s) => has(spec.retryable, s),
    isReusable: (s) => has(spec.reusable, s),
    canMove: (from, to) => spec.moves[from].includes(to),
    sourcesOf: (to) => spec.statuses.filter((from) => spec.moves[from].includes(to)),
  };
}

/** A multi-model simulation over a date range. A retry is a new job that resumes where this one ended. */
export const SIMULATION_LIFECYCLE = defineLifecycle({
  statuses: ['pending', 'running', 'stopping', 'completed', 'partial', 'failed', 'stopped'],
  moves: {
    // From pending straight to an end: stopped before it started, or abandoned (its workflow vanished).
    pending: ['running', 'stopping', 'failed', 'stopped'],
    running: ['stopping', 'completed', 'partial', 'failed', 'stopped'],
    // A stop that lands while the last date finishes still lets the job end on its own outcome.
    stopping: ['stopped', 'completed', 'partial', 'failed'],
    completed: [],
    partial: [],
    failed: [],
    stopped: [],
  },
  retryable: ['failed', 'partial', 'stopped'],
  reusable: ['pending', 'running', 'stopping', 'completed'],
  rerunsInPlace: false,
});

/** One analysis of one ticker in a sandbox. A retry runs the same job again as its next run. */
export const ANALYSIS_LIFECYCLE = defineLifecycle({
  statuses: ['pending', 'running', 'stopping', 'completed', 'failed', 'llm_timeout', 'stopped'],
  moves: {
    pending: ['running', 'stopping', 'completed', 'failed', 'llm_timeout', 'stopped'],
    running: ['stopping', 'completed', 'failed', 'llm_timeout', 'stopped'],
    stopping: ['stopped', 'completed', 'failed', 'llm_timeout'],
    completed: [],
    failed: [],
    llm_timeout: [],
    stopped: [],
  },
  retryable: ['failed', 'llm_timeout', 'stopped'],
  reusable: ['pending', 'running', 'stopping', 'completed'],
  rerunsInPlace: true,
});

export type SimulationStatus = (typeof SIMULATION_LIFECYCLE.statuses)[number];
export type AnalysisStatus = (typeof ANALYSIS_LIFECYCLE.statuses)[number];
export type JobStatus = SimulationStatus | AnalysisStatus;

export interface StatusOfKind {
  simulation: SimulationStatus;
  analysis: AnalysisStatus;
}

export const LIFECYCLES: { readonly [K in JobKind]: Lifecycle<StatusOfKind[K]> } = {
  simulation: SIMULATION_LIFECYCLE,
  analysis: ANALYSIS_LIFECYCLE,
};

export function lifecycleOf<K extends JobKind>(kind: K): Lifecycle<StatusOfKind[K]> {
  return LIFECYCLES[kind];
}

/** Every status any kind uses, for filters that span kinds (`GET /jobs?status=`). */
export const JOB_STATUSES = [
  ...new Set<JobStatus>([...SIMULATION_LIFECYCLE.statuses, ...ANALYSIS_LIFECYCLE.statuses]),
] as unknown as readonly [JobStatus, ...JobStatus[]];

/** Ended, for a job of any kind: the test a stream, a lock or a stop makes without knowing the kind. */
export function isTerminalStatus(job: { kind: JobKind; status: string }): boolean {
  const lifecycle: Lifecycle<string> = LIFECYCLES[job.kind];
  return lifecycle.isStatus(job.status) && lifecycle.isTerminal(job.status);
}

/** Ended in a status its kind may run again from. */
export function isRetryable(job: { kind: JobKind; status: string }): boolean {
  const lifecycle: Lifecycle<string> = LIFECYCLES[job.kind];
  return lifecycle.isStatus(job.status) && lifecycle.isRetryable(job.status);
}

/** Still going, for a job of any kind: its workflow should be running. */
export function isActiveStatus(job: { kind: JobKind; status: string }): boolean {
  const lifecycle: Lifecycle<string> = LIFECYCLES[job.kind];
  return lifecycle.isStatus(job.status) && lifecycle.isActive(job.status);
}

/** A simulation's unit of work: one model's trading day. */
export const MODEL_DAY_STATUSES = ['pending', 'running', 'completed', 'failed', 'skipped', 'stopped'] as const;
export type ModelDayStatus = (typeof MODEL_DAY_STATUSES)[number];
/** Model-day statuses a later write may still change (a retry, a stop); the others are final. */
export const OPEN_MODEL_DAY_STATUSES: readonly ModelDayStatus[] = ['pending', 'running'];
