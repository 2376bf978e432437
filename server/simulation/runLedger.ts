import { ledgerOwnerOf } from '../../jobs/simulationRun.js';
import type { JobStore } from '../../storage/jobStore.js';
import { BENCHMARK_SYMBOL } from '../../trading/market-data/alphaVantageFiles.js';
import { ApiError } from '../http/errors.js';

/** Which ledger a question about a run reads, and what that run is measured against by default. */
export interface RunLedger {
  /** The owner key the ledger's days are stored under: the owner's, or a backtest's own book. */
  ledgerOwner: string;
  /** The benchmark when the request names none: the backtest's, else QQQ; null: none. */
  benchmark: string | null;
  mode: 'paper' | 'backtest';
}

/**
 * The ledger `jobId` traded, for `owner`. No job: the owner's paper ledgers (a job id nobody has simply
 * matches no day). Another owner's job is not found, the same as one that does not exist.
 */
export async function runLedger(jobs: Pick<JobStore, 'get'>, owner: string, jobId?: string): Promise<RunLedger> {
  const paper: RunLedger = { ledgerOwner: owner, benchmark: BENCHMARK_SYMBOL, mode: 'paper' };
  if (!jobId) return paper;
  const job = jobId.length <= 200 ? await jobs.get(jobId) : null;
  if (!job || job.owner !== owner || job.kind !== 'simulation' || !job.backtest) return paper;
  return { ledgerOwner: ledgerOwnerOf(job), benchmark: job.backtest.benchmark, mode: 'backtest' };
}

/** A run that must exist (its tear sheet, its comparison): 404 otherwise. */
export async function existingRun(jobs: Pick<JobStore, 'get'>, owner: string, jobId: string) {
  const job = jobId.length <= 200 ? await jobs.get(jobId) : null;
  if (!job || job.owner !== owner) throw new ApiError('not_found', `no simulation job ${jobId}`);
  if (job.kind !== 'simulation') throw new ApiError('not_found', `job ${jobId} is an analysis, not a simulation`);
  return { job, ...(await runLedger(jobs, owner, jobId)) };
}
