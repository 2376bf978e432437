import type { SimulationJob } from '../../jobs/records.js';
import { ledgerOwnerOf, modeOf } from '../../jobs/simulationRun.js';
import type { JobStore } from '../../storage/jobStore.js';
import { BENCHMARK_SYMBOL } from '../../trading/market-data/alphaVantageFiles.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../http/errors.js';

/** Which ledger a question about a run reads, and what that run is measured against by default. */
export interface RunLedger {
  /** The owner key the ledger's days are stored under: the job owner's, or a backtest's own book. */
  ledgerOwner: string;
  /** The benchmark when the request names none: the backtest's, else QQQ; null: none. */
  benchmark: string | null;
  mode: 'paper' | 'backtest';
}

/** The ledger a simulation job traded. */
export function ledgerOfJob(job: SimulationJob): RunLedger {
  return {
    ledgerOwner: ledgerOwnerOf(job),
    benchmark: job.backtest ? job.backtest.benchmark : BENCHMARK_SYMBOL,
    mode: modeOf(job),
  };
}

/** Who asks: their own ledgers are read without a job; a job is theirs, or any job for an admin. */
export interface Viewer {
  owner: string;
  principal: Pick<Principal, 'admin' | 'userId'>;
}

const mayRead = (v: Viewer, owner: string) => v.principal.admin || v.principal.userId === owner;

/**
 * The ledger a question reads: the job's when it names a simulation job the viewer may see, else the
 * viewer's own paper ledgers (a job id nobody has, or someone else's, matches no day there).
 */
export async function runLedger(jobs: Pick<JobStore, 'get'>, viewer: Viewer, jobId?: string): Promise<RunLedger> {
  const paper: RunLedger = { ledgerOwner: viewer.owner, benchmark: BENCHMARK_SYMBOL, mode: 'paper' };
  if (!jobId) return paper;
  const job = jobId.length <= 200 ? await jobs.get(jobId) : null;
  if (job?.kind !== 'simulation' || !mayRead(viewer, job.owner)) return paper;
  return ledgerOfJob(job);
}

/** A run that must exist (its comparison): 404 otherwise, the same for another owner's. */
export async function existingRun(jobs: Pick<JobStore, 'get'>, viewer: Viewer, jobId: string) {
  const job = jobId.length <= 200 ? await jobs.get(jobId) : null;
  if (!job || !mayRead(viewer, job.owner)) throw new ApiError('not_found', `no job ${jobId.slice(0, 200)}`);
  if (job.kind !== 'simulation') throw new ApiError('not_found', `job ${jobId} is an analysis, not a simulation`);
  return { job, ...ledgerOfJob(job) };
}
