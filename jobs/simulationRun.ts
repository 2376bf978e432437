import type { TradingCosts } from '../trading/costs.js';

/**
 * How a simulation trades. A paper run trades each model's continuing ledger (the AI-Trader contract:
 * one ledger per owner and model, only ever growing forward). A backtest trades a fresh portfolio of its
 * own, kept in a ledger book no other run writes, so any period can be run any number of times and the
 * runs compared; the owner's paper ledgers never see it.
 */
export type SimulationMode = 'paper' | 'backtest';

export interface BacktestSettings {
  /**
   * The ledger book the backtest's days are kept under, in place of the owner (storage keys every
   * ledger by `book|model`): `${owner}~bt-${hash}`. User ids never hold `~`, so no book is anyone's owner.
   */
  book: string;
  /** Cash each model starts with; null: each model's configured initial cash. */
  initialCash: number | null;
  /** The ticker results and tear sheets measure the run against; null: none. */
  benchmark: string | null;
}

/** The part of a run's input that says how it trades (the workflow input and the job record both carry it). */
export interface RunSettings {
  backtest?: BacktestSettings;
  /** Trading costs; absent: free fills at the open. */
  costs?: TradingCosts;
  /**
   * `1h`: a session per hourly bar (trading/barTime.ts), each filled at the bar's open and valued at its
   * close; the plan's dates are bar keys. Absent: daily. Backtests only, so a ledger holds one interval.
   */
  interval?: '1h';
}

export const BACKTEST_BOOK_SEPARATOR = '~bt-';

/** The owner whose ledgers a run reads and writes: the job's owner, or its backtest's own book. */
export function ledgerOwnerOf(run: { owner: string } & RunSettings): string {
  return run.backtest?.book ?? run.owner;
}

export function modeOf(run: RunSettings): SimulationMode {
  return run.backtest ? 'backtest' : 'paper';
}
